"""The journal segment's byte layout, read here independently of exchange.journal, for the
tests that damage segments on purpose (tests/journal, tests/replay): a 20-byte fixed header
whose bytes 12..16 hold the length of the header's body, then records framed as
``<u32 length><u32 crc32><msgpack body>``, a body's first item being the record's seq."""
from __future__ import annotations

import struct

import msgpack


def first_record_offset(data: bytes) -> int:
    """Where the first record of a segment starts (past the header and its body)."""
    return 20 + struct.unpack_from("<I", data, 12)[0]


def record_offsets(data: bytes) -> list[int]:
    """The offset of every record frame in a segment, in file order."""
    off = first_record_offset(data)
    out = []
    while off < len(data):
        out.append(off)
        off += 8 + struct.unpack_from("<I", data, off)[0]
    return out


def record_seq(data: bytes, off: int) -> int:
    """The seq of the record framed at ``off``."""
    n = struct.unpack_from("<I", data, off)[0]
    return msgpack.unpackb(data[off + 8:off + 8 + n])[0]
