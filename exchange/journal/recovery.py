"""Recovery: make a journal safe to append to again after a crash.

Only the last segment can have a torn tail (the writer fsyncs a segment before
it rolls to the next one), so recovery scans the last segment's records and
checks only the headers of the others. The rules are in ``format``'s docstring.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

from exchange.journal.format import (
    MAX_HEADER_BYTES, SEGMENT_HEADER, SEGMENT_HEADER_SIZE, JournalError, TornTail,
)
from exchange.journal.segment import SegmentScan, TornHeader, list_segments, parse_header

log = logging.getLogger("exchange.journal")

#: recovery checks record CRCs only in the last this many bytes of the last
#: segment (lengths everywhere): a crash tears only the end, and the reader
#: still refuses corruption further back when it reads those records.  This
#: keeps opening a journal fast whatever the segment size.
RECOVERY_CRC_TAIL = 4 * 1024 * 1024


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


def _read_header_bytes(p: Path) -> bytes:
    """The fixed header and the header map of a segment, without reading its records."""
    with open(p, "rb") as f:
        head = f.read(SEGMENT_HEADER_SIZE)
        if len(head) == SEGMENT_HEADER_SIZE:
            hlen = SEGMENT_HEADER.unpack_from(head, 0)[3]
            if hlen <= MAX_HEADER_BYTES:
                head += f.read(hlen)
    return head


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
    return JournalError(err.reason, file=err.file, offset=err.offset, last_seq=last)


def recover(path: "str | os.PathLike[str]", *, dry_run: bool = False) -> RecoveryResult:
    """Check a journal directory and cut a torn tail; return where appending resumes.

    Raises :class:`JournalError` for anything that is not a torn tail. With
    ``dry_run`` the files are not modified (the result describes what would be cut).
    """
    root = Path(path)
    segs = list_segments(root)
    # Headers of the earlier segments: magic, version, flags, name agreement.
    for i, (name_seq, p) in enumerate(segs[:-1]):
        try:
            parse_header(_read_header_bytes(p), str(p), name_seq, None, False)
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
            if not dry_run:
                os.unlink(p)
                _fsync_dir(root)
            segs.pop()
            continue
        except JournalError as err:
            raise _with_last_seq(err, segs[:-1]) from None
        scan = SegmentScan(data, file, start, None, True)
        try:
            scan.check(RECOVERY_CRC_TAIL)
        except JournalError as err:
            raise _with_last_seq(err, segs[:-1]) from None
        if scan.count == 0:
            # Nothing complete in it: the segment holds no acknowledged record.
            if scan.torn is not None:
                off, reason = scan.torn
                torn.append(TornTail(file, off, len(data) - off, reason,
                                     _last_seq_before(segs[:-1]), "removed"))
            if not dry_run:
                os.unlink(p)
                _fsync_dir(root)
            segs.pop()
            continue
        end = len(data)
        if scan.torn is not None:
            off, reason = scan.torn
            torn.append(TornTail(file, off, len(data) - off, reason, scan.last_seq, "cut"))
            end = off
            if not dry_run:
                fd = os.open(p, os.O_WRONLY)
                try:
                    os.ftruncate(fd, off)
                    os.fsync(fd)
                finally:
                    os.close(fd)
        for t in torn:
            log.warning("%s", t)
        return RecoveryResult(segs, scan.last_seq, scan.last_ts, config, end, torn)
    for t in torn:
        log.warning("%s", t)
    return RecoveryResult([], None, None, None, 0, torn)
