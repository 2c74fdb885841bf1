import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.journal import (
    JournalError, JournalReader, JournalWriter, Record, is_command, is_event, read_records,
    recover, segment_name,
)
from journal_helpers import CONFIG, read_all, sample, segments, write


def test_kind_classes():
    assert is_command(0) and is_command(999) and not is_command(1000)
    assert is_event(1000) and is_event(5000) and not is_event(999)
    assert segment_name(1) == "00000000000000000001.journal"


def test_round_trip_with_events_and_filters(tmp_path):
    recs = []
    for seq in range(1, 51):
        recs.append((seq, 1_700_000_000_000 + seq, 3, [seq, 1, 0, 6_500_000, 10, 0]))
        recs.append((seq, 1_700_000_000_000 + seq, 1001, {"order": seq, "status": "NEW",
                                                        7: b"\x00\xff", "neg": -5}))
        recs.append((seq, 1_700_000_000_000 + seq, 1002, None))
    write(tmp_path, recs, group=3)
    assert read_all(tmp_path) == recs
    r = JournalReader(tmp_path)
    assert r.config == CONFIG
    got = list(r)
    assert all(isinstance(x, Record) for x in got)
    assert got[0].seq == 1 and got[0].kind == 3 and got[0].payload == [1, 1, 0, 6_500_000, 10, 0]
    assert [tuple(x) for x in r.commands()] == [x for x in recs if x[2] < 1000]
    assert [tuple(x) for x in r.events()] == [x for x in recs if x[2] >= 1000]
    assert [tuple(x) for x in read_records(tmp_path, 40)] == [x for x in recs if x[0] >= 40]
    assert [tuple(x) for x in r.records(40, events=False)] == \
        [x for x in recs if x[0] >= 40 and x[2] < 1000]
    assert r.torn_tail is None and r.last_seq == 50
    with pytest.raises(ValueError):
        list(r.records(commands=False, events=False))


def test_empty_journal(tmp_path):
    w = JournalWriter(tmp_path / "j", CONFIG)
    assert w.last_seq is None and w.last_ts is None
    w.commit()
    w.close()
    assert read_all(tmp_path / "j") == []
    assert JournalReader(tmp_path / "j").config is None
    w = JournalWriter(tmp_path / "j")
    assert w.last_seq is None
    w.close()


def test_group_commit_one_write(tmp_path, monkeypatch):
    w = JournalWriter(tmp_path, CONFIG, fsync="never")
    for i in range(1, 4):
        w.append(*sample(i))
    w.commit()                      # first group also creates the segment
    for i in range(4, 14):
        w.append(*sample(i))
    assert w.pending == 10
    assert len(read_all(tmp_path)) == 3         # nothing of the group before commit
    calls = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: calls.append(len(data)) or real_write(fd, data))
    assert w.commit() == 10
    monkeypatch.undo()
    assert len(calls) == 1
    assert w.pending == 0 and w.last_seq == 13
    assert len(read_all(tmp_path)) == 13
    assert w.commit() == 0
    w.close()


def test_discard_and_close_without_commit(tmp_path):
    w = JournalWriter(tmp_path, CONFIG)
    w.append(*sample(1))
    w.commit()
    w.append(*sample(2))
    assert w.discard() == 1
    w.append(*sample(2))            # seq 2 is free again after discard
    w.close(commit_pending=False)
    assert [r[0] for r in read_all(tmp_path)] == [1]
    with JournalWriter(tmp_path) as w:
        w.append(*sample(2))
    assert [r[0] for r in read_all(tmp_path)] == [1, 2]
    with pytest.raises(RuntimeError):
        with JournalWriter(tmp_path) as w:
            w.append(*sample(3))
            raise RuntimeError("venue blew up")
    assert [r[0] for r in read_all(tmp_path)] == [1, 2]   # uncommitted group dropped


def test_append_validation_leaves_buffer_clean(tmp_path):
    w = JournalWriter(tmp_path, CONFIG)
    w.append(*sample(5))
    with pytest.raises(ValueError):
        w.append(*sample(4))                  # seq going backwards
    with pytest.raises(TypeError):
        w.append(6, 1, 3, [object()])          # not msgpack-able
    with pytest.raises(TypeError):
        w.append(6, 1.5, 3, [])                # ts must be int
    w.append(6, 1, 1000, [1])
    w.close()
    assert read_all(tmp_path) == [sample(5), (6, 1, 1000, [1])]


def test_segment_roll_tiny_limit(tmp_path):
    recs = []
    seq = 0
    for g in range(40):
        seq += 1
        recs.append((seq, 1000 + seq, 3, [g] * 5))
        recs.append((seq, 1000 + seq, 1001, "x" * 20))
    w = JournalWriter(tmp_path, CONFIG, segment_bytes=300, fsync="never")
    groups = []
    for k in range(0, len(recs), 2):
        w.append(*recs[k]); w.append(*recs[k + 1])
        w.commit()
        groups.append((recs[k][0], w.segment_path))
    # a group of the same seq as the previous one never starts a new segment
    w.append(seq, 9999, 1002, "y" * 400)
    w.commit()
    assert w.segment_path == groups[-1][1]
    w.close()
    recs.append((seq, 9999, 1002, "y" * 400))
    segs = segments(tmp_path)
    assert len(segs) > 5
    assert read_all(tmp_path) == recs
    # each segment is named by its first seq and holds whole groups only
    for p in segs:
        got = read_all(p)
        assert int(p.stem) == got[0][0]
        assert got[0][2] == 3 and got[-1][2] >= 1001   # starts with a command, ends a group
    for p in segs[:-1]:
        assert p.stat().st_size <= 300
    # from_seq starts in the right segment
    mid = recs[41][0]
    assert read_all(tmp_path, from_seq=mid) == [r for r in recs if r[0] >= mid]
    # reopen-and-append continues in the last segment
    w = JournalWriter(tmp_path, segment_bytes=300)
    assert w.last_seq == seq and w.last_ts == 9999
    w.close()


def test_reopen_and_append_continues_seq(tmp_path):
    write(tmp_path, [sample(i) for i in range(1, 11)], group=4)
    w = JournalWriter(tmp_path, CONFIG)
    assert w.last_seq == 10 and w.last_ts == sample(10)[1]
    assert w.torn_tails == []
    with pytest.raises(ValueError):
        w.append(*sample(9))
    for i in range(11, 21):
        w.append(*sample(i))
    w.commit()
    w.close()
    assert read_all(tmp_path) == [sample(i) for i in range(1, 21)]
    assert len(segments(tmp_path)) == 1
    assert recover(tmp_path).last_seq == 20


def test_config_mismatch_and_default(tmp_path):
    write(tmp_path, [sample(1)])
    with pytest.raises(JournalError, match="config differs"):
        JournalWriter(tmp_path, {"symbols": []})
    w = JournalWriter(tmp_path)          # None: use the stored config
    assert w.config == CONFIG
    w.close()


def test_second_writer_is_refused(tmp_path):
    w = JournalWriter(tmp_path, CONFIG)
    with pytest.raises(JournalError, match="another writer"):
        JournalWriter(tmp_path, CONFIG)
    w.close()
    JournalWriter(tmp_path, CONFIG).close()


def test_batch_sync_runs_off_the_committing_thread(tmp_path, monkeypatch):
    """A commit hands the group to the kernel and returns; the fdatasync it
    starts runs on the sync thread (the event loop never waits for the disk),
    and close() waits for it before the file is closed."""
    import threading
    from exchange.journal import writer as writer_mod
    release, started = threading.Event(), threading.Event()
    threads = []

    def slow_fdatasync(fd):
        threads.append(threading.get_ident())
        started.set()
        release.wait(5.0)

    monkeypatch.setattr(writer_mod, "_fdatasync", slow_fdatasync)
    now = [0.0]
    w = JournalWriter(tmp_path, CONFIG, fsync="batch", batch_ms=10, clock=lambda: now[0])
    w.append(*sample(1))
    w.commit()                          # segment created
    now[0] += 1.0
    w.append(*sample(2))
    w.commit()                          # due: a sync starts on the sync thread ...
    now[0] += 1.0
    w.append(*sample(3))
    assert w.commit() == 1              # ... and blocks there, not here
    assert started.wait(5.0)
    assert threads and threads[0] != threading.get_ident()
    assert w.wait_for_sync(0.05) is False
    release.set()
    assert w.wait_for_sync(5.0)
    w.segment_bytes = 4096
    for i in range(4, 200):             # segment rolls sync in the caller, after the thread
        w.append(*sample(i))
        w.commit()
        now[0] += 0.004
    assert len(segments(tmp_path)) > 1
    w.close()
    assert read_all(tmp_path) == [sample(i) for i in range(1, 200)]
    assert threads[-1] == threading.get_ident()     # close syncs in the caller's thread
    assert len(set(threads)) == 2


def test_failed_background_sync_refuses_the_next_commit(tmp_path, monkeypatch):
    from exchange.journal import writer as writer_mod

    def broken(fd):
        raise OSError(5, "Input/output error")

    now = [0.0]
    w = JournalWriter(tmp_path, CONFIG, fsync="batch", batch_ms=10, clock=lambda: now[0])
    w.append(*sample(1))
    w.commit()
    monkeypatch.setattr(writer_mod, "_fdatasync", broken)
    now[0] += 1.0
    w.append(*sample(2))
    w.commit()
    assert w.wait_for_sync(5.0)
    w.append(*sample(3))
    with pytest.raises(JournalError, match="fdatasync failed"):
        w.commit()
    w.close(commit_pending=False)


@pytest.mark.parametrize("policy", ["always", "batch", "never"])
def test_fsync_policies(tmp_path, policy):
    now = [0.0]
    w = JournalWriter(tmp_path, CONFIG, fsync=policy, batch_ms=10, clock=lambda: now[0])
    for i in range(1, 11):
        w.append(*sample(i))
        w.commit()
        assert w.wait_for_sync(5.0)          # "batch" syncs on its own thread
        now[0] += 0.004                      # one commit every 4 ms
    expected = {"always": 10, "batch": 3, "never": 0}[policy]   # batch: at most 1 per 10 ms
    assert w.syncs == expected
    w.append(*sample(11))
    w.commit()                               # 4 ms after the last batch sync: not synced
    if policy == "batch":
        assert w.sync_if_due() is False
        now[0] += 1.0
        assert w.sync_if_due() is True       # the timer bounds the loss window
        assert w.sync_if_due() is False      # nothing left to sync
        expected += 1
    elif policy == "never":
        now[0] += 1.0
        assert w.sync_if_due() is False
    else:
        expected += 1
    assert w.syncs == expected
    w.close()
    assert w.syncs == expected + 1           # close always fsyncs
    assert read_all(tmp_path) == [sample(i) for i in range(1, 12)]


def test_bad_fsync_policy(tmp_path):
    with pytest.raises(ValueError):
        JournalWriter(tmp_path, CONFIG, fsync="sometimes")


class _Rec:
    def __init__(self, kind, payload):
        self.kind, self.payload = kind, payload

    def to_record(self):
        return self.kind, self.payload


def test_append_command_writes_the_same_bytes_as_one_append_per_record(tmp_path):
    cmd = _Rec(3, [7, "BTCUSDT", 0, 1, 6_500_000, 10])
    events = [_Rec(1010, [7, 1, "pex1"]), _Rec(1012, {"qty": 10, "neg": -5}), _Rec(1002, None)]
    one = JournalWriter(tmp_path / "one", CONFIG, fsync="never")
    many = JournalWriter(tmp_path / "many", CONFIG, fsync="never")
    for seq in (1, 2):
        one.append_command(seq, 1_000 + seq, cmd, events)
        for r in [cmd] + events:
            many.append(seq, 1_000 + seq, *r.to_record())
    one.append_command(3, 1_003, cmd, [])
    many.append(3, 1_003, *cmd.to_record())
    assert one.pending == many.pending == 9
    one.close()
    many.close()
    assert [p.read_bytes() for p in segments(tmp_path / "one")] == \
        [p.read_bytes() for p in segments(tmp_path / "many")]


def test_append_command_writes_venue_records_as_their_to_record(tmp_path):
    # venue records are packed as (slices of) the tuples they are; with an optional field set, as to_record()
    from exchange.contract.commands import CancelOrder, NewOrder
    from exchange.contract.events import OrderCanceled
    plain_new = NewOrder(7, "BTCUSDT", 0, 0, 3, 10, 6_500_000, 0, 0, "c1")
    cmds = [plain_new, plain_new._replace(**{NewOrder._fields[-2]: 1}), CancelOrder(7, "BTCUSDT", 0, "c1")]
    events = [OrderCanceled(9, 7, "BTCUSDT", 10, 0, 0, 0, 0, 0, "c1", 0, 3, 6_500_000, 10, 0, 0)]
    one = JournalWriter(tmp_path / "one", CONFIG, fsync="never")
    many = JournalWriter(tmp_path / "many", CONFIG, fsync="never")
    for seq, cmd in enumerate(cmds, 1):
        one.append_command(seq, 1_000, cmd, events)
        for r in [cmd] + events:
            many.append(seq, 1_000, *r.to_record())
    one.close()
    many.close()
    assert [p.read_bytes() for p in segments(tmp_path / "one")] == \
        [p.read_bytes() for p in segments(tmp_path / "many")]


def test_append_command_with_a_bad_record_buffers_nothing_of_it(tmp_path):
    w = JournalWriter(tmp_path, CONFIG, fsync="never")
    w.append(*sample(1))
    with pytest.raises(TypeError):
        w.append_command(2, 5, _Rec(3, [1]), [_Rec(1001, [2]), _Rec("x", [3])])
    with pytest.raises(ValueError):
        w.append_command(0, 5, _Rec(3, [1]), [])          # seq going back
    assert w.pending == 1
    w.append_command(2, 5, _Rec(3, [1]), [_Rec(1001, [2])])
    w.commit()
    w.close()
    assert read_all(tmp_path) == [sample(1), (2, 5, 3, [1]), (2, 5, 1001, [2])]


@pytest.mark.parametrize("older, lacks", [(1, "order events without the order's fields"),
                                          (2, "no premium-sample events")])
def test_an_older_format_is_refused_with_what_it_lacks(tmp_path, older, lacks):
    write(tmp_path, [sample(i) for i in range(1, 4)])
    seg = segments(tmp_path)[0]
    data = bytearray(seg.read_bytes())
    data[8:10] = older.to_bytes(2, "little")           # the version field of the segment header
    seg.write_bytes(bytes(data))
    with pytest.raises(JournalError) as e:
        list(JournalReader(tmp_path))
    assert f"unknown journal format version {older}" in str(e.value) and lacks in str(e.value)
    assert "read it with that version" in str(e.value)


def _record_of(cls, draw):
    """A record of ``cls``: random int/str fields; optional fields now default, now set."""
    from hypothesis import strategies as st
    core = getattr(cls, "CORE_FIELDS", None)
    values = []
    for i, (name, t) in enumerate(zip(cls._fields, cls._field_types)):
        value = st.integers(-2**63, 2**63 - 1) if t is int else st.text(max_size=12)
        if core is not None and i >= core:
            value = st.one_of(st.just(cls._field_defaults[name]), value)
        values.append(draw(value))
    return cls(*values)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_append_command_packs_every_venue_record_class_as_its_to_record(data):
    # the differential test of the writer's JOURNAL_SHAPE packing (BENCHMARKS.md, "Compiled
    # twins and fast paths"): every command and event class, optional fields set or not,
    # gives the bytes of one append(seq, ts, *to_record()) per record
    import tempfile
    from pathlib import Path

    from exchange.contract.commands import COMMANDS
    from exchange.contract.events import EVENTS
    cmds = [_record_of(cls, data.draw) for cls in COMMANDS.by_kind.values()]
    events = [_record_of(cls, data.draw) for cls in EVENTS.by_kind.values()]
    with tempfile.TemporaryDirectory() as tmp:
        one = JournalWriter(os.path.join(tmp, "one"), CONFIG, fsync="never")
        many = JournalWriter(os.path.join(tmp, "many"), CONFIG, fsync="never")
        for seq, cmd in enumerate(cmds, 1):
            one.append_command(seq, 1_000 + seq, cmd, events)
            for r in [cmd] + events:
                many.append(seq, 1_000 + seq, *r.to_record())
        one.close()
        many.close()
        assert [p.read_bytes() for p in segments(Path(tmp) / "one")] == \
            [p.read_bytes() for p in segments(Path(tmp) / "many")]
