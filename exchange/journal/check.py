"""``paperex journal check`` and ``paperex journal repair``: the full verification
of a journal and the one explicit way to cut acknowledged data out of it.

* :func:`check_journal` reads every record of every segment (length, CRC, body,
  seq order, header agreement) and reports the first problem: a torn tail (what
  start-up cuts by itself) or corruption (what start-up refuses), with file,
  byte offset and last good seq.
* :func:`repair_journal` is what a human runs after reading that report: it
  truncates the journal at the first bad record (the last good seq stays),
  keeps every removed byte (``<segment>.repair-<offset>`` side file for a cut,
  ``<segment>.repair-removed`` for a later segment taken out whole); the
  command then sets aside (renames) the snapshots ahead of the new end.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Callable, NamedTuple, Optional

from exchange.journal.format import JournalError, TornTail
from exchange.journal.recovery import _fsync_dir, cut_segment, recover
from exchange.journal.segment import SegmentScan, TornHeader, list_segments, parse_header

#: called with (bytes checked so far, total bytes)
Progress = Callable[[int, int], None]

REMOVED_SUFFIX = ".repair-removed"


class CheckReport(NamedTuple):
    """What :func:`check_journal` found."""
    path: str
    segments: int
    records: int
    bytes: int
    last_seq: Optional[int]          # last good seq (before any problem)
    torn: Optional[TornTail]         # a torn tail start-up would cut
    error: Optional[JournalError]    # corruption start-up refuses

    @property
    def ok(self) -> bool:
        """True when start-up may open the journal (clean, or only a torn tail)."""
        return self.error is None


def check_journal(path: "str | os.PathLike[str]", progress: Optional[Progress] = None) -> CheckReport:
    """Verify every record of every segment of the journal at ``path``; never
    modifies a file.  Corruption is reported (``error``), not raised."""
    root = Path(path)
    segs = list_segments(root)
    total = sum(p.stat().st_size for _, p in segs)
    done = records = 0
    last_seq: Optional[int] = None
    config = None
    torn = error = None
    for i, (name_seq, p) in enumerate(segs):
        file = str(p)
        is_last = i == len(segs) - 1
        data = p.read_bytes()
        try:
            try:
                _, seg_config, start = parse_header(data, file, name_seq, last_seq, is_last)
            except TornHeader as t:
                torn = TornTail(file, 0, len(data), t.reason, last_seq, "ignored")
                break
            if i == 0:
                config = seg_config
            elif seg_config != config:
                raise JournalError("segment header carries a different venue config than the "
                                   "segments before it", file=file, offset=0, last_seq=last_seq)
            scan = SegmentScan(data, file, start, last_seq, is_last)
            for _ in scan.records():
                records += 1
            last_seq = scan.last_seq
            if scan.torn is not None:
                off, reason = scan.torn
                torn = TornTail(file, off, len(data) - off, reason, last_seq, "ignored")
        except JournalError as err:
            error = err
            break
        done += len(data)
        if progress is not None:
            progress(done, total)
        del data
    return CheckReport(str(root), len(segs), records, total, last_seq, torn, error)


class RepairReport(NamedTuple):
    """What :func:`repair_journal` did."""
    last_seq: Optional[int]
    cut: Optional[tuple[str, int]]      # (segment, offset) truncated at, None if nothing
    kept: list[Path]                    # side files / renamed segments holding the removed bytes
    end: Optional[tuple[str, int]]      # (last segment name, its size) after the repair
    problem: str                        # what was repaired ("" when nothing was wrong)


def repair_journal(path: "str | os.PathLike[str]", progress: Optional[Progress] = None) -> RepairReport:
    """Truncate the journal at ``path`` to its last good seq, keeping what is
    removed.  Takes the journal's writer lock (a running server holds it: stop
    it first).  The caller sets aside the snapshots ahead of the new ``end``."""
    root = Path(path)
    dirfd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(dirfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise JournalError(f"journal {root} is open by a writer (stop paperex serve first)") from None
        report = check_journal(root, progress)
        kept: list[Path] = []
        cut = None
        problem = ""
        if report.error is not None:
            err = report.error
            problem = str(err)
            bad = Path(err.file) if err.file else None
            segs = list_segments(root)
            names = [p for _, p in segs]
            idx = names.index(bad) if bad in names else len(names)
            if bad is not None and idx < len(names):
                data = bad.read_bytes()
                offset = err.offset or 0
                try:
                    start = parse_header(data, str(bad), segs[idx][0], None, False)[2]
                except (JournalError, TornHeader):
                    start = None
                if start is None or offset <= start:
                    # nothing good in it: the whole file goes aside
                    target = bad.with_name(bad.name + REMOVED_SUFFIX)
                    os.replace(bad, target)
                    kept.append(target)
                else:
                    side = cut_segment(bad, offset, data[offset:], "repair")
                    if side is not None:
                        kept.append(side)
                    cut = (bad.name, offset)
                for p in names[idx + 1:]:
                    target = p.with_name(p.name + REMOVED_SUFFIX)
                    os.replace(p, target)
                    kept.append(target)
                _fsync_dir(root)
        elif report.torn is not None:
            problem = str(report.torn)
    finally:
        fcntl.flock(dirfd, fcntl.LOCK_UN)
        os.close(dirfd)
    # what is left is a journal whose end at most is torn: recovery cuts that (and keeps it)
    rec = recover(root)
    for t in rec.torn:
        kept.extend(sorted(Path(t.file).parent.glob(Path(t.file).name + f".torn-{t.offset}*")))
        if cut is None and t.action == "cut":
            cut = (Path(t.file).name, t.offset)
    end = (rec.segments[-1][1].name, rec.end_offset) if rec.segments else None
    return RepairReport(rec.last_seq, cut, kept, end, problem)


__all__ = ["CheckReport", "RepairReport", "check_journal", "repair_journal"]
