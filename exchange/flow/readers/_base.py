"""Shared machinery of the recording readers: transparent decompression,
progress, bad-row policy and the exchange-time reorder buffer."""
from __future__ import annotations

import gzip
import heapq
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional

__all__ = ["RecordingError", "UnknownFormatError", "ReaderStats", "Reader", "MergedReader", "Deferred",
           "open_binary", "read_head", "DEFAULT_REORDER_WINDOW_MS"]

#: How far (ms of exchange time) a record may arrive behind the newest one seen
#: and still be put back in order.  The hftbacktest tapes need 66 ms (their
#: lines are in local receive order, the streams interleave); 5 s is generous.
DEFAULT_REORDER_WINDOW_MS = 5_000

_READ_BUFFER = 1 << 20
_MAX_KEPT_ERRORS = 100


class RecordingError(ValueError):
    """A row of a recording that cannot be read.  ``str()`` names file and line."""

    def __init__(self, path, line: Optional[int], reason: str, text: Optional[str] = None):
        self.path = str(path)
        self.line = line
        self.reason = reason
        self.text = text
        where = f"{self.path}:{line}" if line is not None else self.path
        msg = f"{where}: {reason}"
        if text:
            msg += f" -- {text[:120]!r}"
        super().__init__(msg)


class UnknownFormatError(RecordingError):
    """The dispatcher could not tell what kind of recording a file is."""


@dataclass
class ReaderStats:
    lines: int = 0        # physical lines (or JSON rows) consumed
    records: int = 0      # records yielded
    skipped: int = 0      # bad rows skipped (on_error='skip')
    ignored: int = 0      # well-formed rows that carry no market data (headers,
                          # exchangeInfo, connect lines, unknown stream events)
    late: int = 0         # records that arrived more than the reorder window
                          # behind and were therefore yielded out of order


class _Source:
    """A file opened for binary reading; gzip and single-member zip are
    recognized by their magic bytes, not by the file name."""

    def __init__(self, path):
        self.path = Path(path)
        self.total_bytes = os.path.getsize(self.path)
        self._raw = open(self.path, "rb")
        self._zip = None
        magic = self._raw.read(4)
        self._raw.seek(0)
        if magic[:2] == b"\x1f\x8b":
            self.compression = "gzip"
            self.stream = io.BufferedReader(gzip.GzipFile(fileobj=self._raw, mode="rb"), _READ_BUFFER)
        elif magic == b"PK\x03\x04":
            self.compression = "zip"
            self._zip = zipfile.ZipFile(self._raw)
            members = [m for m in self._zip.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = [m.filename for m in members]
                self.close()
                raise RecordingError(path, None, f"zip must hold exactly one file, found {names}")
            self.member = members[0].filename
            self.stream = io.BufferedReader(self._zip.open(members[0]), _READ_BUFFER)
        else:
            self.compression = None
            self.stream = self._raw

    @property
    def bytes_read(self) -> int:
        """Position in the file on disk (compressed bytes for gzip/zip)."""
        try:
            return self._raw.tell()
        except ValueError:          # closed
            return self.total_bytes

    def close(self) -> None:
        for f in (getattr(self, "stream", None), self._zip, self._raw):
            if f is not None:
                try:
                    f.close()
                except Exception:
                    pass


def open_binary(path) -> _Source:
    return _Source(path)


def read_head(path, n: int = 65536) -> bytes:
    """The first ``n`` bytes of the (decompressed) content."""
    src = _Source(path)
    try:
        return src.stream.read(n)
    finally:
        src.close()


class Deferred:
    """A record a reader yields in compact form (e.g. the raw line of a depth
    diff: 1.5 kB of bytes instead of ~140 level strings and tuples) and builds
    with its ``_build`` only when the reorder buffer releases it.  The buffer
    holds several seconds of records; keeping it small keeps the replay's own
    data in the CPU caches."""
    __slots__ = ("ts_ms", "raw", "line_no")

    def __init__(self, ts_ms: int, raw, line_no: int) -> None:
        self.ts_ms = ts_ms
        self.raw = raw
        self.line_no = line_no


class Reader:
    """Base of every format reader.

    Iterating a reader yields records ordered by ``ts_ms`` (ties keep file
    order).  The file is read lazily, once; iterate a reader only once.

    * ``on_error='raise'`` stops at the first bad row with a
      :class:`RecordingError` naming file and line; ``'skip'`` counts it in
      ``stats.skipped``, keeps the first 100 errors in ``errors`` and goes on.
    * ``bytes_read`` / ``total_bytes`` / ``progress`` report how far through the
      file (on-disk bytes) the reader is.
    * ``reorder_window_ms``: records are held in a heap until the newest
      exchange time seen is this far past them; ``0`` disables reordering
      (file order).  Records later than the window are yielded anyway and
      counted in ``stats.late``.
    """

    format_name = "?"

    def __init__(self, path, *, on_error: str = "raise", symbol: Optional[str] = None,
                 reorder_window_ms: int = DEFAULT_REORDER_WINDOW_MS):
        if on_error not in ("raise", "skip"):
            raise ValueError("on_error must be 'raise' or 'skip'")
        self.path = Path(path)
        self.on_error = on_error
        self.symbol = symbol
        self.reorder_window_ms = reorder_window_ms
        self.stats = ReaderStats()
        self.errors: List[RecordingError] = []
        self.total_bytes = os.path.getsize(self.path)
        self._src: Optional[_Source] = None
        self._done = False
        self._started = False

    # -- progress ---------------------------------------------------------
    @property
    def bytes_read(self) -> int:
        if self._done:
            return self.total_bytes
        return self._src.bytes_read if self._src is not None else 0

    @property
    def progress(self) -> float:
        return 1.0 if self.total_bytes == 0 else min(1.0, self.bytes_read / self.total_bytes)

    # -- errors -----------------------------------------------------------
    def _bad(self, line: Optional[int], reason: str, text=None) -> None:
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8", "replace")
        err = RecordingError(self.path, line, reason, text.rstrip("\r\n") if text else None)
        if self.on_error == "raise":
            raise err
        self.stats.skipped += 1
        if len(self.errors) < _MAX_KEPT_ERRORS:
            self.errors.append(err)

    # -- iteration --------------------------------------------------------
    def _parse(self, src: _Source) -> Iterator:
        """Yield records (or :class:`Deferred`) in file order.  Subclasses implement this."""
        raise NotImplementedError

    def _build(self, item: Deferred):
        """The record of a :class:`Deferred` item, or None if it turned out bad
        (reported through :meth:`_bad`).  Readers that defer implement this."""
        raise NotImplementedError

    def _file_order(self) -> Iterator:
        if self._started:
            raise RuntimeError(f"{self.path}: a reader can be iterated only once")
        self._started = True
        self._src = _Source(self.path)
        try:
            yield from self._parse(self._src)
        except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as exc:
            # truncated or corrupt gzip/zip (e.g. a recording still being written)
            err = RecordingError(self.path, None, f"corrupt or truncated data after "
                                 f"{self.stats.lines} lines: {exc}")
            if self.on_error == "raise":
                raise err from exc
            self.stats.skipped += 1
            if len(self.errors) < _MAX_KEPT_ERRORS:
                self.errors.append(err)
        finally:
            self._src.close()
            self._done = True

    def __iter__(self) -> Iterator:
        stats = self.stats
        build = self._build
        for batch in self._in_order():
            # deferred records (raw lines held in the buffer) are parsed on the way out
            for rec in batch:
                if type(rec) is Deferred:
                    rec = build(rec)
                    if rec is None:
                        continue
                stats.records += 1
                yield rec

    def _in_order(self) -> Iterator[list]:
        """The records of :meth:`_file_order` in exchange-time order, in lists
        (one list per exchange millisecond; one per record without reordering)."""
        window = self.reorder_window_ms
        stats = self.stats
        if not window or window <= 0:
            for rec in self._file_order():
                yield [rec]
            return
        # Reorder buffer: one list per exchange millisecond (arrival order, so
        # ties keep file order) and a heap of those milliseconds; a millisecond
        # is released once the newest exchange time seen is `window` ms past
        # it.  Records of one ms are many (a tape has ~2 per ms), so this is
        # half the heap work of a heap of records, and no key tuple per record.
        buckets: dict = {}
        heap: list = []
        push, pop = heapq.heappush, heapq.heappop
        newest = -(1 << 62)
        last_out = -(1 << 62)
        for rec in self._file_order():
            ts = rec.ts_ms
            if ts < last_out:
                stats.late += 1
            b = buckets.get(ts)
            if b is None:
                buckets[ts] = [rec]
                push(heap, ts)
            else:
                b.append(rec)
            if ts > newest:
                newest = ts
                lim = newest - window
                while heap[0] <= lim:
                    last_out = t = pop(heap)
                    yield buckets.pop(t)
        while heap:
            yield buckets.pop(pop(heap))

    def close(self) -> None:
        if self._src is not None:
            self._src.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<{type(self).__name__} {str(self.path)!r} {self.stats}>"


class MergedReader:
    """Several readers merged into one stream ordered by ``ts_ms`` (ties: the
    earlier reader in the list first).  Progress and stats are summed."""

    format_name = "merged"

    def __init__(self, readers: Iterable[Reader]):
        self.readers = list(readers)

    @property
    def total_bytes(self) -> int:
        return sum(r.total_bytes for r in self.readers)

    @property
    def bytes_read(self) -> int:
        return sum(r.bytes_read for r in self.readers)

    @property
    def progress(self) -> float:
        total = self.total_bytes
        return 1.0 if total == 0 else min(1.0, self.bytes_read / total)

    @property
    def stats(self) -> ReaderStats:
        s = ReaderStats()
        for r in self.readers:
            for k in ("lines", "records", "skipped", "ignored", "late"):
                setattr(s, k, getattr(s, k) + getattr(r.stats, k))
        return s

    @property
    def errors(self) -> List[RecordingError]:
        return [e for r in self.readers for e in r.errors]

    def __iter__(self) -> Iterator:
        def keyed(i, r):
            for rec in r:
                yield (rec.ts_ms, i, rec)
        for _, _, rec in heapq.merge(*(keyed(i, r) for i, r in enumerate(self.readers))):
            yield rec

    def close(self) -> None:
        for r in self.readers:
            r.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
