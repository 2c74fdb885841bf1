"""Read a journal: iterate its records across all segments, in order.

    reader = JournalReader("paperex-data/journal")
    for seq, ts, kind, payload in reader.records(from_seq=100, events=False):
        ...

Reading never modifies the files. A torn tail at the end of the last segment is
not parsed: iteration stops before it, ``reader.torn_tail`` describes it and a
warning is logged (opening the journal with :class:`JournalWriter` cuts it).
Corruption anywhere raises :class:`JournalError`.
"""
from __future__ import annotations

import bisect
import logging
import os
from pathlib import Path
from typing import Any, Iterator

from exchange.journal.format import JournalError, Record, TornTail
from exchange.journal.segment import (
    SegmentScan, TornHeader, list_segments, parse_header, read_header_bytes,
)

log = logging.getLogger("exchange.journal")

_UNSET = object()


class JournalReader:
    """Sequential reader over a journal directory (or one segment file)."""

    def __init__(self, path: "str | os.PathLike[str]"):
        self.path = Path(path)
        if not self.path.exists():
            raise JournalError(f"no journal at {self.path}")
        self._config: Any = _UNSET
        #: set when the last iteration stopped before a torn tail
        self.torn_tail: TornTail | None = None
        #: seq of the last record the last full iteration read (None if none)
        self.last_seq: int | None = None

    @property
    def segments(self) -> list[tuple[int, Path]]:
        """``(first_seq, path)`` of the segments, in order."""
        return list_segments(self.path)

    @property
    def config(self) -> Any:
        """The venue configuration stored in the first segment header (None if empty)."""
        if self._config is _UNSET:
            segs = self.segments
            if not segs:
                return None
            name_seq, p = segs[0]
            try:
                # the header alone (a start-up asks before anything else; the segment is 8 MiB)
                _, self._config, _ = parse_header(read_header_bytes(p), str(p), name_seq, None, False)
            except (TornHeader, JournalError):
                try:    # what the whole file says: a torn header, or which damage
                    _, self._config, _ = parse_header(p.read_bytes(), str(p), name_seq, None,
                                                      len(segs) == 1)
                except TornHeader:
                    return None
        return self._config

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def commands(self, from_seq: int | None = None) -> Iterator[Record]:
        """Only command records (``kind < 1000``)."""
        return self.records(from_seq, events=False)

    def events(self, from_seq: int | None = None) -> Iterator[Record]:
        """Only event records (``kind >= 1000``)."""
        return self.records(from_seq, commands=False)

    def records(self, from_seq: int | None = None, *, commands: bool = True,
                events: bool = True) -> Iterator[Record]:
        """Yield every :class:`Record` with ``seq >= from_seq``, in journal order.

        ``commands`` / ``events`` select the record classes. Every record read is
        CRC-checked (also the ones skipped by ``from_seq`` within the first segment).
        """
        if not (commands or events):
            raise ValueError("nothing to read: commands and events both False")
        segs = list_segments(self.path)
        self.torn_tail = None
        first = 0
        if from_seq is not None and segs:
            first = max(0, bisect.bisect_right([s for s, _ in segs], from_seq) - 1)
        last_seq: int | None = None
        config: Any = _UNSET
        nsegs = len(segs)
        for i in range(first, nsegs):
            name_seq, p = segs[i]
            file = str(p)
            is_last = i == nsegs - 1
            data = p.read_bytes()
            try:
                _, seg_config, start = parse_header(data, file, name_seq, last_seq, is_last)
            except TornHeader as t:
                self._torn(TornTail(file, 0, len(data), t.reason, last_seq, "ignored"))
                break
            if config is _UNSET:
                config = seg_config
                if self._config is _UNSET and i == 0:
                    self._config = seg_config
            elif seg_config != config:
                raise JournalError("segment header carries a different venue config than "
                                   "the segments before it", file=file, offset=0,
                                   last_seq=last_seq)
            scan = SegmentScan(data, file, start, last_seq, is_last)
            yield from scan.records(from_seq, commands, events)
            last_seq = scan.last_seq
            self.last_seq = last_seq
            if scan.torn is not None:
                off, reason = scan.torn
                self._torn(TornTail(file, off, len(data) - off, reason, last_seq, "ignored"))
            del data, scan

    def _torn(self, torn: TornTail) -> None:
        self.torn_tail = torn
        log.warning("%s", torn)


def read_records(path: "str | os.PathLike[str]", from_seq: int | None = None, *,
                 commands: bool = True, events: bool = True) -> Iterator[Record]:
    """Shorthand for ``JournalReader(path).records(...)``."""
    return JournalReader(path).records(from_seq, commands=commands, events=events)
