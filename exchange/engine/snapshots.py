"""Venue snapshots on disk: the state at a seq, so a restart replays only the tail.

A snapshot file ``DATA_DIR/snapshots/<seq:020d>.snapshot`` is msgpack:
``{"format": "paperex-snapshot/2", "seq", "ts", "digest", "crc", "venue": <bytes>}``
where ``venue`` is the msgpack of ``Venue.snapshot()`` and ``crc`` its CRC32;
``digest`` is the venue's state digest at that seq (``paperex replay`` prints the
same value).  It is written to a temporary name, fsynced and renamed, so a crash
leaves either the whole file or none.  A snapshot that fails to load (truncated,
another format, CRC mismatch) is skipped in favour of an older one, and with
none left the journal is replayed from the start - a snapshot only ever saves
time, it never decides the state.  ``verify=True`` also recomputes the digest
of the restored venue (tests do; start-up relies on the CRC).
"""
from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path
from typing import Any, Optional

import msgpack

log = logging.getLogger("paperex.snapshots")

FORMAT = "paperex-snapshot/2"
SUFFIX = ".snapshot"


def _name(seq: int) -> str:
    return f"{seq:020d}{SUFFIX}"


def write_snapshot(directory: "str | Path", venue: Any, seq: int, ts: int, *, keep: int = 3) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = msgpack.packb(venue.snapshot(), use_bin_type=True)
    body = msgpack.packb({"format": FORMAT, "seq": seq, "ts": ts, "digest": venue.state_digest(),
                          "crc": zlib.crc32(state), "venue": state}, use_bin_type=True)
    path = directory / _name(seq)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    for old in list_snapshots(directory)[:-keep]:
        old[1].unlink(missing_ok=True)
    return path


def list_snapshots(directory: "str | Path") -> list[tuple[int, Path]]:
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for p in directory.glob("*" + SUFFIX):
        stem = p.name[:-len(SUFFIX)]
        if stem.isdigit():
            out.append((int(stem), p))
    return sorted(out)


def load_latest(directory: "str | Path", max_seq: int, *,
                verify: bool = False) -> Optional[tuple[Any, int, int]]:
    """``(venue, seq, ts)`` of the newest usable snapshot at or before ``max_seq``."""
    from exchange.venue import Venue

    for seq, path in reversed(list_snapshots(directory)):
        if seq > max_seq:
            log.warning("snapshot %s is ahead of the journal (last seq %d): ignored", path, max_seq)
            continue
        try:
            data = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
            if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("seq") != seq:
                raise ValueError("not a paperex snapshot")
            if zlib.crc32(data["venue"]) != data["crc"]:
                raise ValueError("CRC mismatch")
            venue = Venue.restore(msgpack.unpackb(data["venue"], raw=False, strict_map_key=False))
            if verify and venue.state_digest() != data["digest"]:
                raise ValueError("restored state digest differs from the recorded one")
        except Exception as exc:  # a bad snapshot only costs replay time
            log.warning("snapshot %s unusable (%s): trying an older one", path, exc)
            continue
        return venue, seq, data["ts"]
    return None
