"""Hypothesis: any list of records round-trips exactly, whatever the grouping and segment size."""
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from exchange.journal import JournalReader, JournalWriter
from journal_helpers import CONFIG

ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
scalars = st.none() | st.booleans() | ints | st.text(max_size=20) | st.binary(max_size=20)
payloads = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=8) | st.integers(-1000, 1000), inner, max_size=5),
    max_leaves=20,
)


@st.composite
def record_lists(draw):
    n = draw(st.integers(0, 40))
    seq = draw(st.integers(0, 2**40))
    out = []
    for _ in range(n):
        seq += draw(st.sampled_from([0, 0, 1, 1, 2, 1000]))
        ts = draw(st.integers(0, 2**62))
        kind = draw(st.integers(0, 999) | st.integers(1000, 70000))
        out.append((seq, ts, kind, draw(payloads)))
    return out


@settings(max_examples=60, deadline=None)
@given(records=record_lists(), group=st.integers(1, 7),
       segment_bytes=st.sampled_from([64, 512, 1 << 20]), reopen_at=st.integers(0, 40))
def test_records_round_trip_exactly(records, group, segment_bytes, reopen_at):
    d = Path(tempfile.mkdtemp()) / "j"
    try:
        w = JournalWriter(d, CONFIG, fsync="never", segment_bytes=segment_bytes)
        for k, r in enumerate(records, 1):
            w.append(*r)
            if k % group == 0:
                w.commit()
            if k == reopen_at:
                w.close()
                w = JournalWriter(d, segment_bytes=segment_bytes)
                assert w.last_seq == r[0]
        w.close()
        got = [tuple(x) for x in JournalReader(d)]
        assert got == records
        if records:
            mid = records[len(records) // 2][0]
            assert [tuple(x) for x in JournalReader(d).records(mid)] == \
                [r for r in records if r[0] >= mid]
    finally:
        shutil.rmtree(d.parent)
