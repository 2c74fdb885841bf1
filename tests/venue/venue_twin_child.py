"""The other build of the venue in a child process, for test_twin_properties.py.

Started with ``PAPEREX_PURE=1`` (the pure-Python venue and reference book) or
``0`` (the compiled ones).  Reads frames from stdin: a 4-byte big-endian length,
then a msgpack list of ``[ts_ms, command_record]``.  For each frame it applies the
commands to a fresh venue and writes one frame back: ``{"compiled": bool,
"log": [[event_record, ...] per command], "digests": [state digest per command]}``.
An empty frame ends it.
"""
from __future__ import annotations

import struct
import sys

import msgpack

from exchange._accelerated import compiled
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.contract.commands import command_from_record
from exchange.venue import Venue


def main() -> None:
    read, write = sys.stdin.buffer.read, sys.stdout.buffer
    while True:
        head = read(4)
        if len(head) < 4:
            return
        size = struct.unpack(">I", head)[0]
        if not size:
            return
        stamped = msgpack.unpackb(read(size), raw=False)
        v = Venue(DEFAULT_INSTRUMENTS, history_limit=40)
        log, digests = [], []
        for ts, rec in stamped:
            log.append([e.to_record() for e in v.apply(ts, command_from_record(rec))])
            digests.append(v.state_digest())
        out = msgpack.packb({"compiled": compiled(), "log": log, "digests": digests})
        write.write(struct.pack(">I", len(out)) + out)
        write.flush()


if __name__ == "__main__":
    main()
