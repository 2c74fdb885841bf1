"""Recovery: make a journal safe to append to again after a crash.

Only the last segment can have a torn tail (the writer fsyncs a segment before
it rolls to the next one), so recovery checks every record (length and CRC) of
the last segment and only the headers of the others; the start-up replay after
the newest snapshot reads and checks the rest of the tail, and ``paperex journal
check`` everything. The rules are in ``format``'s docstring.

What a cut removes is kept next to the segment in a side file
``<segment>.torn-<offset>`` (a torn tail was never acknowledged, but a human may
still want to look at it).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

from exchange.journal.format import JournalError, TornTail
from exchange.journal.segment import (
    SegmentScan, TornHeader, list_segments, parse_header, read_header_bytes, repair_hint,
)

log = logging.getLogger("exchange.journal")

class DurableMark(NamedTuple):
    """How far a journal is known to have been durable (a snapshot is written only
    after the journal is synced): at least through ``seq``, and - when known -
    through byte ``offset`` of the segment file named ``segment``."""
    seq: int
    segment: str | None = None
    offset: int | None = None


class RecoveryResult(NamedTuple):
    """The state of a journal after :func:`recover`."""
    segments: list[tuple[int, Path]]   # (first_seq, path) after recovery
    last_seq: int | None               # seq of the last record, None when empty
    last_ts: int | None                # ts of the last record
    config: Any                        # venue config of the last segment, None when empty
    end_offset: int                    # byte size of the last segment (0 when empty)
    torn: list[TornTail]               # what was cut or removed, in order

    @property
    def messages(self) -> list[str]:
        return [str(t) for t in self.torn]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _last_seq_before(segs: list[tuple[int, Path]]) -> int | None:
    """Seq of the last record in ``segs`` (full scan, error path only)."""
    for name_seq, p in reversed(segs):
        data = p.read_bytes()
        try:
            _, _, start = parse_header(data, str(p), name_seq, None, False)
            scan = SegmentScan(data, str(p), start, None, True)
            scan.check()
        except (JournalError, TornHeader):
            return None
        if scan.count:
            return scan.last_seq
    return None


def _with_last_seq(err: JournalError, segs: list[tuple[int, Path]]) -> JournalError:
    if err.last_seq is not None:
        return err
    last = _last_seq_before(segs)
    if last is None:
        return err
    return JournalError(err.reason, file=err.file, offset=err.offset, last_seq=last, hint=err.hint)


def keep_side_file(p: Path, offset: int, data, tag: str) -> Path | None:
    """Write ``data`` (bytes removed from segment ``p`` at ``offset``) to a side
    file next to it, fsynced, and return its path (None for only zero bytes:
    nothing to keep)."""
    if not any(bytes(data)):
        return None
    side = p.with_name(f"{p.name}.{tag}-{offset}")
    n = 1
    while side.exists():
        side = p.with_name(f"{p.name}.{tag}-{offset}.{n}")
        n += 1
    with open(side, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return side


def cut_segment(p: Path, offset: int, data, tag: str) -> Path | None:
    """Truncate segment ``p`` at ``offset``, durably, after keeping the removed bytes
    ``data`` in a side file (:func:`keep_side_file`, whose path it returns)."""
    side = keep_side_file(p, offset, data, tag)
    fd = os.open(p, os.O_WRONLY)
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    return side


def _refuse_below(mark: "DurableMark | int | None", last_seq: int | None, t: TornTail) -> None:
    """Refuse a cut (``t``) that would end the journal before ``mark``: what was
    durable when a snapshot was taken was acknowledged, so losing it is damage,
    not a crash's torn write."""
    if mark is None:
        return
    if isinstance(mark, int):
        mark = DurableMark(mark)
    name = os.path.basename(t.file)
    if mark.segment is not None and mark.offset is not None:
        below = (name < mark.segment) or (name == mark.segment and t.offset < mark.offset)
    else:
        below = last_seq is None or last_seq < mark.seq
    if not below:
        return
    raise JournalError(
        f"corrupt journal: the end looks torn ({t.reason}), but a snapshot at seq "
        f"{mark.seq} shows the journal was durable beyond this point, so cutting would "
        f"remove acknowledged data", file=t.file, offset=t.offset, last_seq=last_seq,
        hint=repair_hint(t.file))


def recover(path: "str | os.PathLike[str]", *, dry_run: bool = False,
            must_reach: "DurableMark | int | None" = None) -> RecoveryResult:
    """Check a journal directory and cut a torn tail; return where appending resumes.

    Raises :class:`JournalError` for anything that is not a torn tail. With
    ``dry_run`` the files are not modified (the result describes what would be cut).
    ``must_reach``: how far the journal is known to have been durable (the newest
    snapshot's :class:`DurableMark`, or just a seq); a cut before it is refused.
    """
    root = Path(path)
    segs = list_segments(root)
    # Headers of the earlier segments: magic, version, flags, name agreement.
    for i, (name_seq, p) in enumerate(segs[:-1]):
        try:
            parse_header(read_header_bytes(p), str(p), name_seq, None, False)
        except JournalError as err:
            raise _with_last_seq(err, segs[:i]) from None
    torn: list[TornTail] = []
    while segs:
        name_seq, p = segs[-1]
        file = str(p)
        data = p.read_bytes()
        try:
            _, config, start = parse_header(data, file, name_seq, None, True)
        except TornHeader as t:
            torn.append(TornTail(file, 0, len(data), t.reason, _last_seq_before(segs[:-1]),
                                 "removed"))
            _refuse_below(must_reach, torn[-1].last_seq, torn[-1])
            if not dry_run:
                os.unlink(p)
                _fsync_dir(root)
            segs.pop()
            continue
        except JournalError as err:
            raise _with_last_seq(err, segs[:-1]) from None
        scan = SegmentScan(data, file, start, None, True)
        try:
            scan.check()   # every CRC of the segment being appended to (~50 ms for 8 MiB)
        except JournalError as err:
            raise _with_last_seq(err, segs[:-1]) from None
        if scan.count == 0:
            # Nothing complete in it: the segment holds no acknowledged record.
            if scan.torn is not None:
                off, reason = scan.torn
                torn.append(TornTail(file, off, len(data) - off, reason,
                                     _last_seq_before(segs[:-1]), "removed"))
                _refuse_below(must_reach, torn[-1].last_seq, torn[-1])
                if not dry_run:
                    keep_side_file(p, off, data[off:], "torn")
            if not dry_run:
                os.unlink(p)
                _fsync_dir(root)
            segs.pop()
            continue
        end = len(data)
        if scan.torn is not None:
            off, reason = scan.torn
            torn.append(TornTail(file, off, len(data) - off, reason, scan.last_seq, "cut"))
            _refuse_below(must_reach, scan.last_seq, torn[-1])
            end = off
            if not dry_run:
                cut_segment(p, off, data[off:], "torn")
        for t in torn:
            log.warning("%s", t)
        return RecoveryResult(segs, scan.last_seq, scan.last_ts, config, end, torn)
    for t in torn:
        log.warning("%s", t)
    return RecoveryResult([], None, None, None, 0, torn)
