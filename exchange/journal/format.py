"""The journal's on-disk format: constants, the record type and the error.

This module is the specification. Everything else in ``exchange.journal`` only
implements what is written here.

Directory
=========

A journal is a directory of *segment* files. A segment is named after the seq
of its first record, zero padded to 20 digits::

    00000000000000000001.journal
    00000000000000052311.journal

Segments are read in name order (= seq order). Other files in the directory are
ignored. All records of one seq live in the same segment (the writer rolls only
between commit groups, and only when the next group starts a new seq), so the
segment holding seq ``s`` is the last one whose name is ``<= s``.

Segment header
==============

All integers are little-endian.

======  ======  ==========================================================
offset  size    field
======  ======  ==========================================================
0       8       magic ``b"PAPEREXJ"``
8       2       format version, u16 (this code writes and reads ``2``)
10      2       flags, u16, reserved, ``0``
12      4       ``H``: length of the header map in bytes, u32
16      4       CRC32 (``zlib.crc32``) of the header map bytes, u32
20      H       msgpack map ``{"first_seq": int, "config": <venue config>}``
======  ======  ==========================================================

``config`` is the caller's venue configuration (symbols and so on), stored as an
opaque msgpack value; every segment of a journal carries the same config.
``first_seq`` repeats the number in the file name and must agree with it.
Records start at byte ``20 + H``.

Record
======

======  ======  ==========================================================
offset  size    field
======  ======  ==========================================================
0       4       ``L``: body length in bytes, u32, ``1 <= L <= MAX_RECORD_BYTES``
4       4       CRC32 (``zlib.crc32``) of the body bytes, u32
8       L       body: msgpack array ``[seq, ts, kind, payload]``
======  ======  ==========================================================

* ``seq``  - int >= 0, stamped by the sequencer; non-decreasing through the
  journal. Several records may share a seq: a command record and the event
  records it produced.
* ``ts``   - int, milliseconds since the Unix epoch (the sequencer's clock).
* ``kind`` - int. ``kind < 1000`` is a *command* record, ``kind >= 1000`` an
  *event* record (:func:`is_command`, :func:`is_event`).
* ``payload`` - any msgpack value: ints, strings, bytes (bin type), lists,
  maps, bool, nil. Packed with ``use_bin_type=True``; read back with
  ``raw=False, strict_map_key=False``, so str stays str, bytes stays bytes and
  maps may have int keys. Lists come back as lists (tuples are written as lists).

Commit groups
=============

The writer buffers appended records and writes one commit group with a single
``write()``; a group never spans two segments. A crash can therefore leave at
most the tail of the last segment partly written.

Recovery rules (on open for append)
===================================

A crash leaves a *prefix* of the last commit group's single ``write()`` (and,
after an OS crash with unsynced data, zeros where pages never reached the disk).
Only that is a **torn tail**; scanning the last segment from its first record:

* fewer than 8 bytes left -> torn tail;
* a body that runs past the end of file (*incomplete record*) and no complete,
  CRC-valid, well-formed record anywhere after its start -> torn tail (if one
  parses after it, the length field is corrupt: **refused**);
* a bad record (zero/oversized length, CRC failure) where every byte from its
  start to end of file is ``0x00`` -> torn tail;
* a complete final record whose CRC fails -> torn tail only when its bytes are
  zero from a 512-byte sector boundary to the end of file (lost sectors);
  otherwise its bytes changed after they were written: **refused**;
* a last segment shorter than its header whose bytes are a prefix of a valid
  header (crash while creating the segment) -> torn tail (file removed).

Recovery checks the length and CRC of every record of the last segment and
decodes the last two (for the last seq and ts); earlier segments get a header
check only (start-up replays, and so fully checks, everything after the newest
snapshot). :class:`~exchange.journal.reader.JournalReader` checks and decodes
everything, so a full read - ``paperex journal check DIR`` - is the complete
verification.

A torn tail is cut (the file is truncated at the start of the bad record and
fsynced; the cut bytes, unless all zero, are kept in ``<segment>.torn-<offset>``)
and reported as a :class:`TornTail` naming the file, byte offset and number of
bytes cut, and logged on the ``exchange.journal`` logger. If that leaves a
segment with no records, the segment is removed (and recovery continues with
the segment before it, which is now the last). Given a
:class:`~exchange.journal.recovery.DurableMark` (the newest snapshot's: the seq,
segment and size the journal had been synced to when it was taken), recovery
refuses a cut before that mark: it would remove acknowledged data.

Everything else is refused with :class:`JournalError` naming the file, the byte
offset and the last good seq, with a hint to ``paperex journal check`` /
``paperex journal repair`` (the explicit truncation to the last good seq, which
keeps the removed bytes in side files): a CRC failure followed by more data
(corruption in the middle), a torn record in a segment that is not the last one,
bad magic, an unknown version, non-zero flags, a body that is not
``[int, int, int, any]``, seq going backwards, or a header ``first_seq`` that
disagrees with the name.

Known limit: a bit flip in the *length* field of the very last record that makes
it point past the end of file is indistinguishable from a torn write and is cut
as one (unless a snapshot's mark shows the record was durable). Everything
before that record is intact.

The format is unchanged by these rules (they came with version 1; version 2 changed
only the order events' payloads, version 3 added the PremiumSampled event).
"""
from __future__ import annotations

import re
import struct
from typing import Any, NamedTuple

MAGIC = b"PAPEREXJ"
# 2: order events carry the order's fields (events.ORDER_STATE); a version-1 journal holds
# the shorter events, which this venue no longer produces, so its replay could not verify.
# 3: every premium sample is an event (PremiumSampled), so the premium candles are built from
# committed results; a version-2 journal lacks them and its replay could not verify either
VERSION = 3
SUPPORTED_VERSIONS = frozenset({3})
#: what an older journal lacks, for the refusal's message
OLDER_VERSIONS = {1: "order events without the order's fields", 2: "no premium-sample events"}

#: magic(8s) version(H) flags(H) header-map length(I) header-map crc32(I)
SEGMENT_HEADER = struct.Struct("<8sHHII")
#: body length(I) body crc32(I)
RECORD_HEADER = struct.Struct("<II")

SEGMENT_HEADER_SIZE = SEGMENT_HEADER.size   # 20
RECORD_HEADER_SIZE = RECORD_HEADER.size     # 8

#: Sanity bound on one record body; a larger length field is corruption.
MAX_RECORD_BYTES = 1 << 28
#: Sanity bound on the header map.
MAX_HEADER_BYTES = 1 << 28

DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024   # small enough that opening (a length walk of the last segment) stays fast

#: kinds below this are commands, at or above it events
EVENT_KIND_BASE = 1000

SEGMENT_SUFFIX = ".journal"
SEGMENT_NAME_RE = re.compile(r"^(\d{20})\.journal$")

#: msgpack options, one place
PACK_OPTS = {"use_bin_type": True}
UNPACK_OPTS = {"raw": False, "strict_map_key": False}

FSYNC_POLICIES = ("always", "batch", "never")


def is_command(kind: int) -> bool:
    """True for a command record kind (``kind < 1000``)."""
    return kind < EVENT_KIND_BASE


def is_event(kind: int) -> bool:
    """True for an event record kind (``kind >= 1000``)."""
    return kind >= EVENT_KIND_BASE


def segment_name(first_seq: int) -> str:
    """File name of the segment whose first record has seq ``first_seq``."""
    return f"{first_seq:020d}{SEGMENT_SUFFIX}"


class Record(NamedTuple):
    """One journal record as read back."""
    seq: int
    ts: int
    kind: int
    payload: Any


class JournalError(Exception):
    """The journal cannot be used: corrupt, not a journal, unknown version, locked.

    The message names the file, the byte offset and the last good seq where they
    are known; they are also attributes.
    """

    def __init__(self, message: str, *, file: str | None = None,
                 offset: int | None = None, last_seq: int | None = None,
                 hint: str | None = None):
        where = []
        if file is not None:
            where.append(f"file {file}")
        if offset is not None:
            where.append(f"byte offset {offset}")
        if file is not None or offset is not None or last_seq is not None:
            where.append(f"last good seq {last_seq if last_seq is not None else 'none'}")
        text = f"{message} ({', '.join(where)})" if where else message
        super().__init__(f"{text}; {hint}" if hint else text)
        self.reason = message
        self.hint = hint
        self.file = file
        self.offset = offset
        self.last_seq = last_seq


class TornTail(NamedTuple):
    """A torn tail found at the end of the journal, and what was done about it.

    ``action`` is ``"cut"`` (file truncated at ``offset``), ``"removed"`` (a
    segment with no complete record was deleted) or ``"ignored"`` (a reader
    stopped before it and left the file alone).
    """
    file: str
    offset: int        # byte offset of the first bad byte
    cut_bytes: int     # bytes from offset to the end of the file
    reason: str
    last_seq: int | None
    action: str = "cut"

    def __str__(self) -> str:
        verb = {"cut": "cut torn tail of", "removed": "removed torn segment",
                "ignored": "ignored (did not parse) torn tail of"}.get(self.action, self.action)
        return (f"journal: {verb} {self.file} at byte offset {self.offset}: "
                f"{self.cut_bytes} bytes ({self.reason}); "
                f"last good seq {self.last_seq if self.last_seq is not None else 'none'}")
