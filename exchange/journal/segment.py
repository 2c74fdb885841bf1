"""Parse one segment file: its header and its records (see ``format`` for the layout).

This is the hot loop of every read, so it works on the whole segment in memory
with ``struct.unpack_from`` + ``zlib.crc32`` + ``msgpack.unpackb`` and touches
nothing else per record. Deciding *why* a record is bad (torn tail or
corruption) happens only off the fast path.
"""
from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Iterator

import msgpack

from exchange.contract.records import new_record
from exchange.journal.format import (
    MAGIC, MAX_HEADER_BYTES, MAX_RECORD_BYTES, RECORD_HEADER, RECORD_HEADER_SIZE,
    EVENT_KIND_BASE, SEGMENT_HEADER, SEGMENT_HEADER_SIZE, SEGMENT_NAME_RE,
    OLDER_VERSIONS, SUPPORTED_VERSIONS, UNPACK_OPTS, JournalError, Record,
)

_unpack_hdr = RECORD_HEADER.unpack_from
_crc32 = zlib.crc32
_unpackb = msgpack.unpackb
_new_record = new_record      # (a local name on the decode loop)


def list_segments(path: "str | os.PathLike[str]") -> list[tuple[int, Path]]:
    """``(first_seq, path)`` of every segment file in a journal directory, in seq order.

    A path to a single segment file is accepted too and yields just that file.
    """
    p = Path(path)
    if p.is_file():
        m = SEGMENT_NAME_RE.match(p.name)
        return [(int(m.group(1)) if m else 0, p)]
    if not p.is_dir():
        raise JournalError(f"no journal at {p}")
    out = []
    for entry in os.scandir(p):
        m = SEGMENT_NAME_RE.match(entry.name)
        if m and entry.is_file():
            out.append((int(m.group(1)), Path(entry.path)))
    out.sort()
    return out


def read_header_bytes(p: Path) -> bytes:
    """The fixed header and the header map of a segment, without reading its records."""
    with open(p, "rb") as f:
        head = f.read(SEGMENT_HEADER_SIZE)
        if len(head) == SEGMENT_HEADER_SIZE:
            hlen = SEGMENT_HEADER.unpack_from(head, 0)[3]
            if hlen <= MAX_HEADER_BYTES:
                head += f.read(hlen)
    return head


class TornHeader(Exception):
    """Internal: the segment ends inside its header (crash while creating it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_header(data: bytes, file: str, name_seq: int | None, last_seq: int | None,
                 is_last: bool) -> tuple[int, object, int]:
    """Return ``(first_seq, config, records_offset)`` or raise.

    Raises :class:`TornHeader` when ``is_last`` and the file is a plausible
    prefix of a header (crash during segment creation), else :class:`JournalError`.
    """
    size = len(data)
    if size < SEGMENT_HEADER_SIZE:
        head = bytes(data[:len(MAGIC)])
        if is_last and (MAGIC.startswith(head) or not any(data)):
            raise TornHeader(f"segment ends inside its header ({size} of {SEGMENT_HEADER_SIZE} bytes)")
        raise JournalError("not a journal segment (bad magic or too short)",
                           file=file, offset=0, last_seq=last_seq)
    magic, version, flags, hlen, hcrc = SEGMENT_HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        if is_last and not any(data):
            raise TornHeader("segment is all zero bytes")
        raise JournalError(f"not a journal segment (bad magic {magic!r})",
                           file=file, offset=0, last_seq=last_seq)
    if version not in SUPPORTED_VERSIONS:
        older = (f" - written by an older paperex ({OLDER_VERSIONS[version]});"
                 " read it with that version" if version in OLDER_VERSIONS else "")
        raise JournalError(f"unknown journal format version {version} "
                           f"(this code reads {sorted(SUPPORTED_VERSIONS)}){older}",
                           file=file, offset=8, last_seq=last_seq)
    if flags != 0:
        raise JournalError(f"unknown segment flags {flags:#06x}", file=file, offset=10,
                           last_seq=last_seq)
    if hlen > MAX_HEADER_BYTES:
        raise JournalError(f"segment header length {hlen} is implausible", file=file,
                           offset=12, last_seq=last_seq)
    end = SEGMENT_HEADER_SIZE + hlen
    if end > size:
        if is_last:
            raise TornHeader(f"segment ends inside its header map ({size} of {end} bytes)")
        raise JournalError("segment ends inside its header map", file=file,
                           offset=SEGMENT_HEADER_SIZE, last_seq=last_seq)
    body = data[SEGMENT_HEADER_SIZE:end]
    if _crc32(body) != hcrc:
        if is_last and end == size:
            raise TornHeader("segment header map fails its CRC and nothing follows it")
        raise JournalError("segment header map fails its CRC", file=file,
                           offset=SEGMENT_HEADER_SIZE, last_seq=last_seq)
    try:
        hdr = _unpackb(body, **UNPACK_OPTS)
        first_seq = hdr["first_seq"]
        config = hdr.get("config")
        if type(first_seq) is not int:
            raise TypeError("first_seq is not an int")
    except Exception as exc:  # msgpack/type errors: a header we did not write
        raise JournalError(f"segment header map is malformed ({exc.__class__.__name__}: {exc})",
                           file=file, offset=SEGMENT_HEADER_SIZE, last_seq=last_seq) from None
    if name_seq is not None and first_seq != name_seq:
        raise JournalError(f"segment header says first seq {first_seq} but the file name "
                           f"says {name_seq}", file=file, offset=SEGMENT_HEADER_SIZE,
                           last_seq=last_seq)
    return first_seq, config, end


class SegmentScan:
    """Walks the records of one segment held in memory.

    After :meth:`records` is exhausted: ``end`` is the offset after the last good
    record, ``last_seq`` / ``last_ts`` describe that record (or stay as given when
    there was none), ``count`` is how many records were good and ``torn`` is
    ``None`` or ``(offset, reason)`` of a torn tail that was *not* parsed.
    """

    __slots__ = ("data", "file", "start", "is_last", "end", "last_seq", "last_ts",
                 "count", "torn")

    def __init__(self, data, file: str, start: int, last_seq: int | None, is_last: bool):
        self.data = data
        self.file = file
        self.start = start
        self.is_last = is_last
        self.end = start
        self.last_seq = last_seq
        self.last_ts: int | None = None
        self.count = 0
        self.torn: tuple[int, str] | None = None

    def records(self, from_seq: int | None = None, commands: bool = True,
                events: bool = True) -> Iterator[Record]:
        """Yield :class:`Record` s; raise :class:`JournalError` on corruption."""
        data = self.data
        size = len(data)
        off = self.start
        prev = self.last_seq if self.last_seq is not None else -1
        ts = None
        n = 0
        lo = from_seq if from_seq is not None else -1
        want_all = commands and events
        want_cmd = commands
        base = EVENT_KIND_BASE
        unpack_hdr = _unpack_hdr
        crc32 = _crc32
        unpackb = _unpackb
        new = _new_record
        try:
            while off < size:
                if size - off < RECORD_HEADER_SIZE:
                    self._bad(off, size, None, "incomplete record header", prev, n)
                    return
                length, crc = unpack_hdr(data, off)
                body_start = off + RECORD_HEADER_SIZE
                body_end = body_start + length
                if length == 0 or length > MAX_RECORD_BYTES:
                    self._bad(off, size, body_end, f"implausible record length {length}", prev, n)
                    return
                if body_end > size:
                    self._bad(off, size, body_end, "incomplete record", prev, n)
                    return
                body = data[body_start:body_end]   # a small bytes copy beats a memoryview here
                if crc32(body) != crc:
                    self._bad(off, size, body_end, "record CRC mismatch", prev, n)
                    return
                try:
                    rec = unpackb(body, raw=False, strict_map_key=False)
                    seq, ts, kind, _payload = rec
                    if rec.__class__ is not list:
                        raise TypeError("record body is not an array")
                    if seq < prev:
                        raise ValueError(f"seq {seq} goes backwards after seq {prev}")
                except Exception as exc:
                    raise JournalError(
                        f"malformed record body ({exc.__class__.__name__}: {exc})",
                        file=self.file, offset=off, last_seq=prev if prev >= 0 else None,
                    ) from None
                prev = seq
                off = body_end
                n += 1
                if seq >= lo:
                    if want_all:
                        yield new(Record, rec)
                    elif (kind < base) is want_cmd:
                        yield new(Record, rec)
        finally:
            self.end = off
            self.count = n
            if n:
                self.last_seq = prev
                self.last_ts = ts

    def check(self, crc_from: int = 0) -> None:
        """Walk the records checking lengths and CRCs only; decode just the last two.

        ``crc_from``: check CRCs only of records starting at or after this byte
        offset (lengths are walked everywhere); recovery checks them all.

        The fast path of recovery: it finds a torn tail or corruption exactly as
        :meth:`records` does (same rules, same errors) and sets ``end``,
        ``count``, ``last_seq``, ``last_ts`` and ``torn``, but does not decode the
        bodies before the last two (a CRC-valid but malformed body there, which
        only a foreign writer could produce, is left for the reader to refuse).
        """
        data = self.data
        size = len(data)
        off = self.start
        last_off = before_last_off = -1
        n = 0
        unpack_hdr = _unpack_hdr
        crc32 = _crc32
        prev = self.last_seq if self.last_seq is not None else -1
        while off < size:
            bad = None
            body_end = None
            if size - off < RECORD_HEADER_SIZE:
                bad = "incomplete record header"
            else:
                length, crc = unpack_hdr(data, off)
                body_end = off + RECORD_HEADER_SIZE + length
                if length == 0 or length > MAX_RECORD_BYTES:
                    bad = f"implausible record length {length}"
                elif body_end > size:
                    bad = "incomplete record"
                elif off >= crc_from and crc32(data[off + RECORD_HEADER_SIZE:body_end]) != crc:
                    bad = "record CRC mismatch"
            if bad is not None:
                if n:   # the seq before the bad record: for the message and the frame search
                    prev = self._decode_at(last_off, None)[0]
                self._bad(off, size, body_end, bad, prev, n)
                break
            before_last_off = last_off
            last_off = off
            off = body_end
            n += 1
        self.end = off
        self.count = n
        if n:
            before = None
            if n > 1:
                before = self._decode_at(before_last_off, None)[0]
            self.last_seq, self.last_ts = self._decode_at(last_off, before)

    def _decode_at(self, off: int, prev: int | None) -> tuple[int, int]:
        """``(seq, ts)`` of the CRC-valid record at ``off``, whose predecessor has seq
        ``prev`` (None: unknown); JournalError if malformed or out of order."""
        length = _unpack_hdr(self.data, off)[0]
        body = self.data[off + RECORD_HEADER_SIZE:off + RECORD_HEADER_SIZE + length]
        try:
            rec = _unpackb(body, **UNPACK_OPTS)
            seq, ts, _kind, _payload = rec
            if rec.__class__ is not list or seq.__class__ is not int \
                    or ts.__class__ is not int or _kind.__class__ is not int:
                raise TypeError("record body is not [int, int, int, any]")
            if prev is not None and seq < prev:
                raise ValueError(f"seq {seq} goes backwards after seq {prev}")
        except Exception as exc:
            raise JournalError(f"malformed record body ({exc.__class__.__name__}: {exc})",
                               file=self.file, offset=off, last_seq=prev) from None
        return seq, ts

    def _bad(self, off: int, size: int, body_end: int | None, reason: str,
             prev: int, n: int) -> None:
        """Classify a bad record at ``off``: note a torn tail, or raise JournalError.

        A torn tail is what a crash leaves: the last commit group written only in
        part (a prefix of it, so the final record runs past the end of the file and
        nothing complete follows it), or unsynced pages that came back as zeros.
        Anything else - a bad record with a complete record after it, a length
        that runs past records that still parse, a complete final record whose
        bytes changed - is corruption of data that may have been acknowledged."""
        data = self.data
        if self.is_last:
            if not any(bytes(data[off:size])):
                self.torn = (off, "zero-filled tail")
                return
            if not reason.startswith("implausible"):
                if body_end is None:
                    self.torn = (off, reason)
                    return
                if body_end > size:
                    found = next_record_frame(data, off + 1, size, prev)
                    if found is None:
                        self.torn = (off, reason)
                        return
                    raise JournalError(
                        f"corrupt record ({reason}: its length runs past the end of the file, "
                        f"but a complete record follows at byte offset {found})",
                        file=self.file, offset=off, last_seq=prev if prev >= 0 else None,
                        hint=repair_hint(self.file))
                if body_end == size and _zero_tail_from_sector(data, off, size):
                    self.torn = (off, reason + " in the final record (its end never reached the disk)")
                    return
                if body_end == size:
                    raise JournalError(
                        f"corrupt record ({reason} in the complete final record: its bytes "
                        "changed after they were written, which a crash does not do)",
                        file=self.file, offset=off, last_seq=prev if prev >= 0 else None,
                        hint=repair_hint(self.file))
            where = "followed by more data"
        else:
            where = "in a segment that is not the last"
        raise JournalError(f"corrupt record ({reason}) {where}", file=self.file,
                           offset=off, last_seq=prev if prev >= 0 else None,
                           hint=repair_hint(self.file))


#: the unit in which a disk persists a file's data; an OS crash can lose whole
#: sectors at the end of an unsynced write, leaving zeros from a sector boundary on
SECTOR_BYTES = 512


def _zero_tail_from_sector(data, off: int, size: int) -> bool:
    """True when the bytes from some sector boundary in ``[off, size)`` to the end
    of the file are all zero (the pattern of unsynced pages lost by an OS crash)."""
    zeros_from = off + len(bytes(data[off:size]).rstrip(b"\0"))
    boundary = -(-zeros_from // SECTOR_BYTES) * SECTOR_BYTES
    return boundary < size


def next_record_frame(data, start: int, size: int, prev: int) -> int | None:
    """Offset of the first complete, CRC-valid, well-formed record starting at or
    after ``start`` (with seq >= ``prev``), None if there is none.

    Tells a torn tail (nothing parses after the bad record: the crash cut the
    last write short) from a corrupt length field (the records after it are
    intact). A false match needs a CRC32 collision *and* a well-formed body."""
    unpack_hdr = _unpack_hdr
    crc32 = _crc32
    for p in range(start, size - RECORD_HEADER_SIZE + 1):
        length, crc = unpack_hdr(data, p)
        end = p + RECORD_HEADER_SIZE + length
        if length == 0 or end > size or crc32(data[p + RECORD_HEADER_SIZE:end]) != crc:
            continue
        try:
            rec = _unpackb(data[p + RECORD_HEADER_SIZE:end], **UNPACK_OPTS)
        except Exception:
            continue
        if (rec.__class__ is list and len(rec) == 4 and rec[0].__class__ is int
                and rec[1].__class__ is int and rec[2].__class__ is int and rec[0] >= prev):
            return p
    return None


def repair_hint(file: str) -> str:
    """What to run about corruption in the journal holding segment ``file``."""
    d = os.path.dirname(file) or "."
    return (f"inspect with `paperex journal check {d}`; `paperex journal repair {d}` "
            "truncates to the last good seq on your explicit request, keeping the removed "
            "bytes in a side file")
