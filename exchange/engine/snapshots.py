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

A snapshot also records ``"journal_end": [segment file name, byte size]``, where
the journal ended (already synced) at its seq: recovery refuses to cut a "torn"
tail back before that mark (:class:`exchange.journal.DurableMark`), since the
bytes before it were acknowledged.  A snapshot the journal cannot reproduce (a
later seq than the journal's last good one) is never used: it is renamed
``*.ahead-of-journal`` (:func:`set_aside`) and logged, never deleted.
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


def write_snapshot(directory: "str | Path", venue: Any, seq: int, ts: int, *, keep: int = 3,
                   journal_end: Any = None) -> Path:
    """Write the snapshot of ``venue`` at ``seq``; ``journal_end`` is the journal's
    :class:`~exchange.journal.DurableMark` at that seq (already synced), stored so
    recovery can tell a crash's torn tail from damage to what was durable."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = msgpack.packb(venue.snapshot(), use_bin_type=True)
    doc = {"format": FORMAT, "seq": seq, "ts": ts, "digest": venue.state_digest(),
           "crc": zlib.crc32(state)}
    if journal_end is not None and journal_end.seq == seq and journal_end.segment is not None:
        doc["journal_end"] = [journal_end.segment, journal_end.offset]
    doc["venue"] = state
    body = msgpack.packb(doc, use_bin_type=True)
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


def numbered_files(directory: "str | Path", suffix: str) -> list[tuple[int, Path]]:
    """(seq, path) of the files named ``<20-digit seq><suffix>`` in ``directory``, oldest first
    (snapshots, projection checkpoints); anything else there is not ours and is passed over."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for p in directory.glob("*" + suffix):
        stem = p.name[:-len(suffix)]
        if len(stem) == 20 and stem.isascii() and stem.isdigit():
            out.append((int(stem), p))
    return sorted(out)


def list_snapshots(directory: "str | Path") -> list[tuple[int, Path]]:
    return numbered_files(directory, SUFFIX)


def read_mark(path: Path, seq: int) -> Any:
    """The :class:`~exchange.journal.DurableMark` recorded in the snapshot file
    ``path`` (named for ``seq``); just the seq when it has none or is unreadable."""
    from exchange.journal import DurableMark

    try:
        # the small fields only: start-up asks this of the newest snapshot, then loads
        # it in full (the venue's state is written last, so this reads a few KiB)
        data = {}
        with open(path, "rb") as f:
            fields = msgpack.Unpacker(f, raw=False, strict_map_key=False, read_size=4096)
            for _ in range(fields.read_map_header()):
                key = fields.unpack()
                if key == "venue":
                    fields.skip()
                else:
                    data[key] = fields.unpack()
                if "seq" in data and "journal_end" in data:
                    break
        segment, offset = data["journal_end"]
        if data.get("seq") == seq and isinstance(segment, str) and type(offset) is int:
            return DurableMark(seq, segment, offset)
    except Exception:   # an older snapshot without the mark, or an unreadable one
        pass
    return DurableMark(seq)


def snapshots_ahead(directory: "str | Path", last_seq: Optional[int],
                    end: Optional[tuple[str, int]] = None) -> list[Path]:
    """Snapshots that a journal ending at ``last_seq`` (last file name and size
    ``end``) cannot reproduce: a later seq, or the same seq when the journal was
    durable beyond ``end`` as it was taken (the end of that seq's group is lost)."""
    out = []
    for seq, p in list_snapshots(directory):
        if last_seq is None or seq > last_seq:
            out.append(p)
        elif seq == last_seq and end is not None:
            mark = read_mark(p, seq)
            if mark.segment is None or (mark.segment, mark.offset) > end:
                out.append(p)
    return out


def durable_mark(directory: "str | Path") -> Any:
    """The :class:`~exchange.journal.DurableMark` the newest snapshot proves (None
    without snapshots): its seq, and the journal file and size at that seq when it
    recorded them.  A snapshot that cannot be read still proves its seq (its name)."""
    found = list_snapshots(directory)
    return read_mark(found[-1][1], found[-1][0]) if found else None


AHEAD_SUFFIX = ".ahead-of-journal"


def set_aside(paths: list[Path], last_seq: Optional[int]) -> list[Path]:
    """Rename (never delete) snapshots the journal cannot reproduce - it ends at
    ``last_seq`` - so nobody starts from them; log each; return the new paths."""
    moved = []
    for path in paths:
        target = path.with_name(path.name + AHEAD_SUFFIX)
        n = 1
        while target.exists():
            target = path.with_name(f"{path.name}{AHEAD_SUFFIX}.{n}")
            n += 1
        os.replace(path, target)
        log.warning("snapshot %s is ahead of the journal (last good seq %s): set aside as %s",
                    path, last_seq, target.name)
        moved.append(target)
    return moved


def set_aside_ahead(directory: "str | Path", last_seq: int) -> list[Path]:
    """Set aside every snapshot after ``last_seq``, the journal's last good seq."""
    return set_aside([p for seq, p in list_snapshots(directory) if seq > last_seq], last_seq)


def load_latest(directory: "str | Path", max_seq: int, *,
                verify: bool = False) -> Optional[tuple[Any, int, int]]:
    """``(venue, seq, ts)`` of the newest usable snapshot at or before ``max_seq``
    (snapshots after it are set aside: see :func:`set_aside_ahead`)."""
    from exchange.venue import Venue

    set_aside_ahead(directory, max_seq)
    for seq, path in reversed(list_snapshots(directory)):
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
