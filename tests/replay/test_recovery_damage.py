"""Issue #18: start-up cuts only a crash's torn tail; damage to acknowledged data
is refused (file, offset, seq, a hint) until `paperex journal repair` is asked
for explicitly, which keeps every removed byte; snapshots ahead of the journal
are set aside, never used."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.journal import JournalError
from exchange.engine.offline import journal_main, replay_main
from exchange.engine.runtime import Runtime
from exchange.contract.commands import CreateAccount, Deposit
from journal_layout import record_offsets, record_seq

USDT = 100_000_000
T0 = 1_700_000_000_000
ROOT = Path(__file__).resolve().parents[2]


def run_session(data_dir, groups=12, *, clean=True, snapshot_at=None):
    """Journal ``groups`` commit groups (one account each + a deposit); a clean
    close writes a snapshot at the last seq, an unclean one (a crash) does not."""
    rt = Runtime.virtual(T0, data_dir=data_dir, timers=False)
    for i in range(1, groups + 1):
        rt.sequencer.execute([CreateAccount(i), Deposit(i, i * USDT)])
        if snapshot_at == i:
            rt.write_snapshot()
    last = rt.sequencer.seq
    rt.close(snapshot=clean)
    return last


def segment(data_dir) -> Path:
    (seg,) = sorted((Path(data_dir) / "journal").glob("*.journal"))
    return seg


def check(data_dir, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = journal_main(["check", str(data_dir), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out.strip().splitlines()[-1])


def verify_replay(data_dir, capsys) -> None:
    capsys.readouterr()
    assert replay_main([str(data_dir), "--verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["verified"] is True


def test_flipped_byte_at_every_position_of_a_middle_record_is_refused_never_cut(tmp_path, capsys):
    run_session(tmp_path)                                 # clean stop: snapshot at the last seq
    seg = segment(tmp_path)
    clean = seg.read_bytes()
    offsets = record_offsets(clean)
    mid = len(offsets) // 2
    start, end = offsets[mid], offsets[mid + 1]
    prev_seq = record_seq(clean, offsets[mid - 1])
    files_before = sorted(p.name for p in tmp_path.rglob("*"))
    for pos in range(start, end):
        for mask in (0x01, 0xFF):
            data = bytearray(clean)
            data[pos] ^= mask
            seg.write_bytes(bytes(data))
            with pytest.raises(JournalError) as ei:
                Runtime.virtual(T0, data_dir=tmp_path, timers=False)
            err = ei.value
            assert (err.file, err.offset, err.last_seq) == (str(seg), start, prev_seq), pos
            msg = str(err)
            assert f"byte offset {start}" in msg and f"last good seq {prev_seq}" in msg
            assert "paperex journal check" in msg and "paperex journal repair" in msg
            assert seg.read_bytes() == bytes(data)        # nothing cut
            assert sorted(p.name for p in tmp_path.rglob("*")) == files_before
            code, report = check(tmp_path, capsys)
            assert code == 1 and report["corruption"]["offset"] == start
            assert report["corruption"]["last_seq"] == prev_seq
    seg.write_bytes(clean)
    code, report = check(tmp_path, capsys)
    assert code == 0 and report["corruption"] is None


@pytest.mark.parametrize("snapshot_at", [None, 6])
def test_torn_tail_at_every_byte_of_the_last_record_is_cut_and_replays(tmp_path, capsys, snapshot_at):
    base = tmp_path / "base"
    last_seq = run_session(base, clean=False, snapshot_at=snapshot_at)   # a crash: no final snapshot
    seg_name = segment(base).name
    full = segment(base).read_bytes()
    last_start = record_offsets(full)[-1]
    for cut in range(last_start, len(full)):
        d = tmp_path / f"c{cut}"
        shutil.copytree(base, d)
        with open(d / "journal" / seg_name, "r+b") as f:
            f.truncate(cut)
        rt = Runtime.virtual(T0, data_dir=d, timers=False)
        # the torn group (the last command's events) was never acknowledged: it goes
        assert rt.sequencer.seq == last_seq - 1
        assert rt.venue.account(11)["wallet_balance"] == 11 * USDT
        assert rt.venue.account(12)["wallet_balance"] == 0      # its deposit was the torn command
        rt.close()
        verify_replay(d, capsys)
        assert check(d, capsys)[0] == 0
        # the cut bytes were kept aside
        assert sorted(p.name for p in (d / "journal").iterdir() if ".torn-" in p.name or ".cut-" in p.name)
        shutil.rmtree(d)


def test_torn_looking_tail_behind_a_snapshot_is_refused_then_repaired(tmp_path, capsys):
    """Issue #18 case 2: the snapshot at the last seq proves that seq's whole group
    was durable, so losing its end is damage, not a crash."""
    last_seq = run_session(tmp_path)
    seg = segment(tmp_path)
    size = seg.stat().st_size
    with open(seg, "r+b") as f:
        f.truncate(size - 5)
    damaged = seg.read_bytes()
    with pytest.raises(JournalError, match="snapshot at seq") as ei:
        Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    assert "paperex journal repair" in str(ei.value)
    assert seg.read_bytes() == damaged
    # the explicit repair: cut, keep the bytes, set the snapshot aside
    capsys.readouterr()
    assert journal_main(["repair", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["last_seq"] == last_seq
    (aside,) = report["snapshots_set_aside"]
    assert Path(aside).exists() and aside.endswith(".ahead-of-journal")
    kept = [Path(p) for p in report["kept"]]
    assert kept and damaged.endswith(b"".join(p.read_bytes() for p in kept))
    rt = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    # the last group lost an event record: start-up drops that unfinished group
    assert rt.sequencer.seq == last_seq - 1
    rt.close()
    verify_replay(tmp_path, capsys)
    assert check(tmp_path, capsys)[0] == 0


def test_snapshot_ahead_of_a_cleanly_ending_journal_is_set_aside(tmp_path, caplog):
    run_session(tmp_path, groups=5, clean=False)
    shutil.copytree(tmp_path / "journal", tmp_path / "journal-at-5")
    rt = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    rt.sequencer.execute([CreateAccount(99)])
    ahead_seq = rt.sequencer.seq
    rt.close()                                           # snapshot at ahead_seq
    shutil.rmtree(tmp_path / "journal")
    (tmp_path / "journal-at-5").rename(tmp_path / "journal")
    rt = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    assert rt.sequencer.seq == 10 and 99 not in rt.venue.accounts
    rt.close(snapshot=False)
    snap = tmp_path / "snapshots" / f"{ahead_seq:020d}.snapshot"
    assert not snap.exists()
    assert snap.with_name(snap.name + ".ahead-of-journal").exists()
    assert "ahead of the journal" in caplog.text and "set aside" in caplog.text


def test_journal_check_cli_reads_every_segment_with_a_progress_bar(tmp_path):
    from exchange.journal import JournalWriter
    d = tmp_path / "j"
    w = JournalWriter(d, {"v": 1}, fsync="never", segment_bytes=300)
    for i in range(1, 60):
        w.append(i, T0 + i, 3, [i, "x" * 20])
        w.commit()
    w.close()
    segs = sorted(d.glob("*.journal"))
    assert len(segs) > 3
    cmd = [sys.executable, "-m", "exchange.cli", "journal", "check", str(d)]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout and "100.0%" in ok.stderr and "checking journal" in ok.stderr
    # a flipped byte in the middle of an early segment: start-up never reads it
    # again after a clean stop, the full check does
    data = bytearray(segs[1].read_bytes())
    off = record_offsets(bytes(data))[1]
    data[off + 9] ^= 0x20
    segs[1].write_bytes(bytes(data))
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 1
    assert str(segs[1]) in bad.stderr and f"byte offset {off}" in bad.stderr
    assert "paperex journal repair" in bad.stderr
    # repair keeps the bad segment's tail and the later segments aside
    rep = subprocess.run([sys.executable, "-m", "exchange.cli", "journal", "repair", str(d)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert rep.returncode == 0, rep.stderr
    assert sorted(d.glob("*.repair-removed")) and sorted(d.glob("*.repair-*"))
    assert subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60).returncode == 0


def test_paperex_serve_refuses_a_damaged_journal_with_an_answer(tmp_path):
    """The user-facing form of the refusal: `paperex serve` stops with the file,
    offset, seq and the check/repair hint, exit code 2, no traceback, nothing cut."""
    run_session(tmp_path)
    seg = segment(tmp_path)
    data = bytearray(seg.read_bytes())
    start = record_offsets(bytes(data))[5]
    data[start + 2] ^= 0x10                       # the length field of a middle record
    seg.write_bytes(bytes(data))
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "exchange.cli", "serve", "--port", "0", "--flow", "none",
                           "--data-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert f"byte offset {start}" in proc.stderr and str(seg) in proc.stderr
    assert "paperex journal check" in proc.stderr and "Traceback" not in proc.stderr
    assert seg.read_bytes() == bytes(data)
