import logging
import shutil
import struct

import pytest

from exchange.journal import JournalError, JournalReader, JournalWriter, recover
from journal_helpers import CONFIG, read_all, sample, segments, write
from journal_layout import first_record_offset, record_offsets

N = 8


@pytest.fixture()
def journal(tmp_path):
    """A one-segment journal of N records; returns (dir, start offset of the last record, size)."""
    d = tmp_path / "j"
    w = JournalWriter(d, CONFIG, fsync="never")
    for i in range(1, N):
        w.append(*sample(i))
    w.commit()
    last_start = w.segment_path.stat().st_size
    w.append(N, sample(N)[1], 1001, {"fills": [[1, 2, 3]] * 3, "note": "last record"})
    w.commit()
    w.close()
    return d, last_start, segments(d)[0].stat().st_size


def test_torn_tail_every_offset_of_last_record(journal, tmp_path, caplog):
    d, last_start, size = journal
    seg_name = segments(d)[0].name
    good = [sample(i) for i in range(1, N)]
    for cut in range(last_start, size):
        c = tmp_path / f"c{cut}"
        shutil.copytree(d, c)
        seg = c / seg_name
        with open(seg, "r+b") as f:
            f.truncate(cut)
        # a reader stops before the torn tail and reports it, without modifying the file
        r = JournalReader(c)
        assert [tuple(x) for x in r] == good
        if cut > last_start:
            assert r.torn_tail is not None and r.torn_tail.offset == last_start
            assert r.torn_tail.action == "ignored"
        assert seg.stat().st_size == cut
        # opening for append cuts it and reports file, offset and bytes cut
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="exchange.journal"):
            w = JournalWriter(c, CONFIG)
        assert w.last_seq == N - 1
        if cut > last_start:
            (t,) = w.torn_tails
            assert (t.file, t.offset, t.cut_bytes, t.action) == (str(seg), last_start,
                                                                  cut - last_start, "cut")
            msg = str(t)
            assert str(seg) in msg and f"byte offset {last_start}" in msg
            assert f"{cut - last_start} bytes" in msg and f"last good seq {N - 1}" in msg
            assert msg in caplog.text
        else:
            assert w.torn_tails == []
        w.append(N, 5, 3, ["again"])
        w.close()
        assert seg.stat().st_size > last_start
        assert read_all(c) == good + [(N, 5, 3, ["again"])]
        shutil.rmtree(c)


def test_final_record_crc_failure_is_refused_not_cut(journal):
    """A complete final record whose bytes changed is not what a crash leaves
    (a crash leaves a prefix of the last write): it may have been acknowledged."""
    d, last_start, size = journal
    seg = segments(d)[0]
    data = bytearray(seg.read_bytes())
    data[size - 3] ^= 0x40                         # inside the last body
    seg.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="complete final record") as ei:
        recover(d)
    assert ei.value.offset == last_start and ei.value.last_seq == N - 1
    assert "paperex journal repair" in str(ei.value)
    assert seg.read_bytes() == bytes(data)         # nothing cut


def test_final_record_zeroed_from_a_sector_boundary_is_torn(tmp_path):
    """Unsynced sectors lost by an OS crash come back as zeros: that is torn."""
    d = tmp_path / "j"
    w = JournalWriter(d, CONFIG, fsync="never")
    w.append(*sample(1))
    w.commit()
    last_start = w.segment_path.stat().st_size
    w.append(2, 5, 1001, {"blob": b"x" * 1500})
    w.close()
    seg = segments(d)[0]
    data = bytearray(seg.read_bytes())
    data[1024:] = bytes(len(data) - 1024)
    seg.write_bytes(bytes(data))
    rec = recover(d)
    assert rec.last_seq == 1 and rec.torn[0].offset == last_start
    assert seg.stat().st_size == last_start


def test_zero_filled_tail_is_torn(journal):
    d, last_start, size = journal
    seg = segments(d)[0]
    with open(seg, "ab") as f:
        f.write(b"\x00" * 4096)
    rec = recover(d)
    assert rec.last_seq == N and rec.torn[0].offset == size and rec.torn[0].cut_bytes == 4096
    assert read_all(d)[-1][0] == N


def test_corrupt_middle_record_is_refused(journal):
    d, last_start, size = journal
    seg = segments(d)[0]
    before = list(JournalReader(d))
    # find the offset of record 4 by walking the format
    data = bytearray(seg.read_bytes())
    off = record_offsets(data)[3]
    data[off + 10] ^= 0x01
    seg.write_bytes(bytes(data))
    for opener in (lambda: list(JournalReader(d)), lambda: JournalWriter(d, CONFIG),
                   lambda: recover(d)):
        with pytest.raises(JournalError) as ei:
            opener()
        msg = str(ei.value)
        assert str(seg) in msg and f"byte offset {off}" in msg and "last good seq 3" in msg
        assert "corrupt record" in msg
        assert ei.value.file == str(seg) and ei.value.offset == off and ei.value.last_seq == 3
    assert seg.read_bytes() == bytes(data)       # refusing never modifies the file
    assert len(before) == N


def test_corrupt_record_in_earlier_segment(tmp_path):
    d = tmp_path / "j"
    write(d, [sample(i) for i in range(1, 101)], segment_bytes=400, fsync="never")
    segs = segments(d)
    assert len(segs) >= 3
    first = segs[0]
    data = bytearray(first.read_bytes())
    data[-2] ^= 0xFF                               # last record of a non-last segment
    first.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="not the last") as ei:
        list(JournalReader(d))
    assert str(first) in str(ei.value)
    # recovery only scans the last segment; the reader's full pass is what catches this
    JournalWriter(d).close()
    # truncated earlier segment: also corruption, not a torn tail
    first.write_bytes(bytes(data[:-5]))
    with pytest.raises(JournalError, match="incomplete record"):
        list(JournalReader(d))


def test_corrupt_first_record_of_last_segment_names_previous_seq(tmp_path):
    d = tmp_path / "j"
    write(d, [sample(i) for i in range(1, 101)], segment_bytes=400, fsync="never")
    with JournalWriter(d) as w:          # more records into the last segment
        for i in range(101, 106):
            w.append(*sample(i))
    segs = segments(d)
    last = segs[-1]
    data = bytearray(last.read_bytes())
    off = first_record_offset(data)
    data[off + 9] ^= 0x01
    last.write_bytes(bytes(data))
    prev_seq = int(last.stem) - 1
    with pytest.raises(JournalError) as ei:
        JournalWriter(d)
    assert f"last good seq {prev_seq}" in str(ei.value) and f"byte offset {off}" in str(ei.value)
    with pytest.raises(JournalError) as ei:
        list(JournalReader(d))
    assert f"last good seq {prev_seq}" in str(ei.value)


def test_bad_magic_is_refused(tmp_path):
    d = tmp_path / "j"
    write(d, [sample(i) for i in range(1, 4)])
    (d / "00000000000000000004.journal").write_bytes(b"this is not a journal at all, really\n" * 3)
    for opener in (lambda: list(JournalReader(d)), lambda: JournalWriter(d)):
        with pytest.raises(JournalError, match="bad magic") as ei:
            opener()
        assert "00000000000000000004.journal" in str(ei.value)
        assert "byte offset 0" in str(ei.value) and "last good seq 3" in str(ei.value)


def test_short_non_journal_file_is_refused(tmp_path):
    d = tmp_path / "j"
    d.mkdir()
    (d / "00000000000000000001.journal").write_bytes(b"hello")
    with pytest.raises(JournalError, match="not a journal"):
        JournalWriter(d)


def test_unknown_version_is_refused(tmp_path):
    d = tmp_path / "j"
    write(d, [sample(i) for i in range(1, 4)])
    seg = segments(d)[0]
    data = bytearray(seg.read_bytes())
    struct.pack_into("<H", data, 8, 99)
    seg.write_bytes(bytes(data))
    for opener in (lambda: list(JournalReader(d)), lambda: JournalWriter(d),
                   lambda: JournalReader(d).config):
        with pytest.raises(JournalError, match="unknown journal format version 99") as ei:
            opener()
        assert str(seg) in str(ei.value) and "byte offset 8" in str(ei.value)


def test_valid_crc_but_malformed_body_is_journal_error(tmp_path):
    import zlib
    d = tmp_path / "j"
    write(d, [sample(1)])
    seg = segments(d)[0]
    for body in (b"\xc1", b"\x93\x01\x02\x03", b"\x94\xa1x\x01\x02\x03", b"\x94\x00\x01\x02\x03"):
        c = tmp_path / "c"
        shutil.copytree(d, c)
        with open(c / seg.name, "ab") as f:
            f.write(struct.pack("<II", len(body), zlib.crc32(body)) + body)
        with pytest.raises(JournalError, match="malformed record body"):
            JournalWriter(c)
        shutil.rmtree(c)


def test_torn_segment_header_removes_segment(tmp_path):
    d = tmp_path / "j"
    write(d, [sample(i) for i in range(1, 101)], segment_bytes=400, fsync="never")
    segs = segments(d)
    last = segs[-1]
    full = last.read_bytes()
    last_seq_before = int(last.stem) - 1
    for cut in (0, 3, 19, 25):
        last.write_bytes(full[:cut])
        w = JournalWriter(d)
        assert w.last_seq == last_seq_before
        (t,) = w.torn_tails
        assert t.action == "removed" and t.file == str(last)
        w.close()
        assert not last.exists()
    # a last segment whose only record is torn is removed too
    last.write_bytes(full[:first_record_offset(full) + 5])
    w = JournalWriter(d)
    assert w.last_seq == last_seq_before and w.torn_tails[0].action == "removed"
    w.append(*sample(last_seq_before + 1))
    w.close()
    assert read_all(d)[-1] == sample(last_seq_before + 1)


def test_seq_going_backwards_across_segments(tmp_path):
    d = tmp_path / "j"
    write(d, [sample(i) for i in range(10, 13)])
    w = JournalWriter(tmp_path / "other", CONFIG)
    w.append(*sample(5))
    w.close()
    (tmp_path / "other" / "00000000000000000005.journal").rename(d / "00000000000000000020.journal")
    with pytest.raises(JournalError):
        list(JournalReader(d))


@pytest.mark.parametrize("mask", [0x01, 0x04, 0x80, 0xFF])
def test_flipped_byte_anywhere_in_a_middle_record_is_refused_never_cut(journal, tmp_path, mask):
    """Issue #18: a corrupt length (or CRC, or body byte) in the middle of the last
    segment must not pass for a torn tail: recovery refuses and the file stays."""
    d, _, _ = journal
    seg = segments(d)[0]
    clean = seg.read_bytes()
    offsets = record_offsets(clean)
    start, end = offsets[3], offsets[4]             # record seq 4 of 8
    for pos in range(start, end):
        data = bytearray(clean)
        data[pos] ^= mask
        seg.write_bytes(bytes(data))
        for opener in (lambda: recover(d), lambda: JournalWriter(d, CONFIG),
                       lambda: list(JournalReader(d))):
            with pytest.raises(JournalError) as ei:
                opener()
            err = ei.value
            assert (err.file, err.offset, err.last_seq) == (str(seg), start, 3), (pos, str(err))
            assert f"byte offset {start}" in str(err) and "last good seq 3" in str(err)
            assert f"paperex journal repair {d}" in str(err)
        assert seg.read_bytes() == bytes(data), pos      # never cut
        assert not [p for p in d.iterdir() if p.name != seg.name]   # no side file either
    seg.write_bytes(clean)
