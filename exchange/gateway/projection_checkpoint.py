"""Projection checkpoints: the gateway's history at a seq, so a restart reads
only the journal after it (start-up O(snapshot + tail), not O(journal)).

``DATA_DIR/snapshots/<seq:020d>.projection`` is written beside each venue
snapshot (``Runtime.snapshot_companions``), atomically like it (temporary
name, fsync, rename).  Layout (little-endian)::

    magic b"PXPROJ01" | head length u32 | head CRC32 u32 | blobs length u64 | blobs CRC32 u32
    head:  msgpack {"format": "paperex-projection/5", "seq", "state"}
    blobs: every account's packed history, back to back

``state`` is :func:`projection_state` with each packed history replaced by its
``[offset, length]`` in the blob region.
On start the gateway restores the newest usable checkpoint at or below the
journal's last seq and feeds the projection the journal records after it; a
missing, damaged or foreign checkpoint only costs a full rebuild.

The state keeps the order of every ordered container (deques, and the dicts
that evict their oldest entry) as lists, and tuples come back as tuples, so a
restored projection answers exactly like one rebuilt from the whole journal.

The per-account histories (fills, income, margin changes, order ids) are most
of a checkpoint: each account's is packed on its own and stays packed in a
:class:`LazyHistory` until the account is first read or written, so start-up
does not unpack millions of rows nobody asks for (and an untouched account is
written into the next checkpoint as the very same bytes).

The book levels are not in a checkpoint: the gateway seeds them from the venue it
restored (snapshot + journal tail), which already holds the final books.

The projection's companions (``Projection.companions``: the leaderboard, the
dashboard's feed - candles, liquidation feed, insurance fund over time) are in
the same checkpoint (``state["companions"]``), at the same seq, and are fed the
same journal tail, so a restart shows the same ranking and dashboard history
without reading the journal before the checkpoint.  A checkpoint of an older
format, or one without a companion the gateway has, is refused with a log line
naming it and the history is rebuilt from the journal instead.
"""
from __future__ import annotations

import logging
import os
import struct
import zlib
from collections import deque
from pathlib import Path
from typing import Optional

import msgpack

from exchange.contract.commands import command_from_record
from exchange.contract.events import event_from_record
from exchange.engine.snapshots import numbered_files
from exchange.gateway import projection as P

log = logging.getLogger("paperex.projection")

# 2: open interest, funding and the seeded past; 3: what the fan-out reads from the
# projection instead of the venue (hedge mode, conditional orders, trigger times, marks);
# 4: the markPrice stream's index and funding estimate (premium samples are events now);
# 5: the companions (leaderboard, dashboard feed)
FORMAT = "paperex-projection/5"
SUFFIX = ".projection"
KEEP = 3

_MARKET_SCALARS = ("next_agg_id", "last_price", "last_qty", "update_id", "oi_bucket",
                   "mark_price", "index_price", "funding_rate")
_SCALARS = ("last_seq", "last_ts", "fills_total", "orders_total", "liquidations_total", "adl_total",
            "_next_oi", "_history_ts")


_MISSING = object()


class LazyHistory(dict):
    """``key -> deque`` whose values restored from a checkpoint stay msgpack bytes
    until first read (``get`` / ``[]``), then become the deque for good."""

    __slots__ = ("maxlen",)

    def __init__(self, maxlen: int, items=()) -> None:
        super().__init__(items)
        self.maxlen = maxlen

    def _open(self, key, packed) -> deque:
        rows = deque(msgpack.unpackb(packed, use_list=False, raw=False, strict_map_key=False),
                     maxlen=self.maxlen)
        dict.__setitem__(self, key, rows)
        return rows

    def get(self, key, default=None):
        v = dict.get(self, key, _MISSING)
        if v is _MISSING:
            return default
        return v if v.__class__ is deque else self._open(key, v)

    def __getitem__(self, key):
        v = dict.__getitem__(self, key)
        return v if v.__class__ is deque else self._open(key, v)

    def packed_items(self):
        """``(key, msgpack bytes)`` of every entry, in order (packed ones as they are)."""
        for k, v in dict.items(self):
            yield k, msgpack.packb(list(v), use_bin_type=True) if v.__class__ is deque else bytes(v)


def _packed(d: dict):
    if isinstance(d, LazyHistory):
        return list(d.packed_items())
    return [(k, msgpack.packb(list(v), use_bin_type=True)) for k, v in d.items()]


def _pairs(d: dict) -> list:
    return [[k, v] for k, v in d.items()]


def projection_state(p: "P.Projection") -> dict:
    """Everything the projection has learnt from the journal, as plain msgpack values."""
    markets = {}
    for sym, m in p.markets.items():
        markets[sym] = {
            **{k: getattr(m, k) for k in _MARKET_SCALARS},
            "trades": list(m.trades), "aggs": list(m.aggs), "klines": _pairs(m.klines),
            "long_oi": m.oi.lots, "positions": [[a, s, q] for (a, s), q in m.oi.positions.items()],
            "mark_klines": _pairs(m.mark_klines), "index_klines": _pairs(m.index_klines),
            "premium_klines": _pairs(m.premium_klines),
            "funding": list(m.funding), "open_interest": list(m.open_interest),
        }
    return {
        **{k: getattr(p, k) for k in _SCALARS},
        "markets": markets,
        "fills": [[a, b] for a, b in _packed(p.fills)],
        "income": [[a, b] for a, b in _packed(p.income)],
        "order_ids": [[a, s, b] for (a, s), b in _packed(p.order_ids)],
        "algo_ids": sorted(p.algo_ids),
        "parent_of": _pairs(p.parent_of),
        "trigger_time": _pairs(p.trigger_time),
        "dual": _pairs(p.dual),
        # conditional order id -> its OrderAccepted (the event's journal record)
        "conditionals": [[oid, list(ev.to_record())] for oid, ev in p.conditionals.items()],
        "force_orders": [[a, _pairs(recs)] for a, recs in p.force_orders.items()],
        "margin_history": [[a, b] for a, b in _packed(p.margin_history)],
        # the SeedHistory the projection expanded (its record), None without a seeded past
        "history": None if p.history is None else list(p.history.to_record()),
        "companions": {name: c.checkpoint_state() for name, c in sorted(p.companions.items())},
    }


def restore_companions(p: "P.Projection", state: dict) -> list:
    """Check the companions' states of ``state`` against ``p``'s companions (ValueError if one
    is missing or bad); return what loads them (nothing is changed before all were read)."""
    stored = state.get("companions")
    if not isinstance(stored, dict):
        raise ValueError("no companion states")
    missing = sorted(set(p.companions) - set(stored))
    if missing:
        raise ValueError(f"no state of {', '.join(missing)}")
    return [c.restore_checkpoint(stored[name]) for name, c in sorted(p.companions.items())]


def restore_state(p: "P.Projection", state: dict) -> None:
    """Load :func:`projection_state` output into a fresh projection of the same venue
    (and its companions)."""
    if set(state["markets"]) != set(p.markets):
        raise ValueError("checkpoint symbols differ from the venue's")
    apply_companions = restore_companions(p, state)
    for sym, s in state["markets"].items():
        m = p.markets[sym]
        for k in _MARKET_SCALARS:
            setattr(m, k, s[k])
        m.trades = deque((tuple(t) for t in s["trades"]), maxlen=P.TRADES_KEEP)
        m.aggs = deque(s["aggs"], maxlen=P.AGG_KEEP)
        m.klines = {t: k for t, k in s["klines"]}
        m.oi.lots = s["long_oi"]
        m.oi.positions = {(a, side): q for a, side, q in s["positions"]}
        m.mark_klines = {t: k for t, k in s["mark_klines"]}
        m.index_klines = {t: k for t, k in s["index_klines"]}
        m.premium_klines = {t: k for t, k in s["premium_klines"]}
        m.funding = [tuple(r) for r in s["funding"]]
        m.open_interest = deque((tuple(r) for r in s["open_interest"]), maxlen=P.OI_KEEP)
    for k in _SCALARS:
        setattr(p, k, state[k])
    p.fills = LazyHistory(P.FILLS_KEEP, state["fills"])
    p.income = LazyHistory(P.INCOME_KEEP, state["income"])
    p.order_ids = LazyHistory(P.ORDERS_KEEP, (((a, s), b) for a, s, b in state["order_ids"]))
    p.algo_ids = set(state["algo_ids"])
    p.parent_of = {c: o for c, o in state["parent_of"]}
    p.trigger_time = {o: t for o, t in state["trigger_time"]}
    p.dual = {a: d for a, d in state["dual"]}
    p.conditionals = {oid: event_from_record(rec) for oid, rec in state["conditionals"]}
    p.force_orders = {a: {oid: rec for oid, rec in recs} for a, recs in state["force_orders"]}
    p.margin_history = LazyHistory(P.MARGIN_KEEP, state["margin_history"])
    p.history = None if state["history"] is None else command_from_record(state["history"])
    for apply in apply_companions:
        apply()


def _name(seq: int) -> str:
    return f"{seq:020d}{SUFFIX}"


def list_checkpoints(directory: "str | Path") -> list[tuple[int, Path]]:
    return numbered_files(directory, SUFFIX)


_HEADER = struct.Struct("<8sIIQI")
_MAGIC = b"PXPROJ01"
#: state keys holding ``[key..., packed history]`` rows
_HISTORIES = ("fills", "income", "order_ids", "margin_history")


def _split_blobs(state: dict) -> list:
    """Move every packed history out of ``state`` (in place: ``[offset, length]``
    instead); return the blobs in region order."""
    blobs, off = [], 0
    for name in _HISTORIES:
        for row in state[name]:
            blob = row[-1]
            row[-1] = [off, len(blob)]
            blobs.append(blob)
            off += len(blob)
    return blobs


def _join_blobs(state: dict, region: memoryview) -> None:
    for name in _HISTORIES:
        for row in state[name]:
            off, n = row[-1]
            if off < 0 or n < 0 or off + n > len(region):
                raise ValueError("history outside the blob region")
            row[-1] = region[off:off + n]


def write_checkpoint(directory: "str | Path", p: "P.Projection", seq: int) -> Optional[Path]:
    """Write the projection's checkpoint at ``seq`` (it must have seen exactly
    the commands up to ``seq``; otherwise nothing is written)."""
    if p.last_seq != seq:
        log.warning("projection at seq %d, snapshot at seq %d: no projection checkpoint",
                    p.last_seq, seq)
        return None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = projection_state(p)
    blobs = b"".join(_split_blobs(state))
    head = msgpack.packb({"format": FORMAT, "seq": seq, "state": state}, use_bin_type=True)
    path = directory / _name(seq)
    tmp = path.with_suffix(".projection-tmp")
    with open(tmp, "wb") as f:
        f.write(_HEADER.pack(_MAGIC, len(head), zlib.crc32(head), len(blobs), zlib.crc32(blobs)))
        f.write(head)
        f.write(blobs)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    for _, old in list_checkpoints(directory)[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


def read_checkpoint(path: Path, seq: int) -> dict:
    """The state stored in checkpoint ``path`` (named for ``seq``), every CRC
    checked; histories are memoryviews into the file's bytes.  ValueError if bad."""
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        raise ValueError("too short")
    magic, hlen, hcrc, blen, bcrc = _HEADER.unpack_from(data, 0)
    if magic != _MAGIC:
        raise ValueError("not a paperex projection checkpoint")
    view = memoryview(data)
    head = view[_HEADER.size:_HEADER.size + hlen]
    region = view[_HEADER.size + hlen:]
    if len(head) != hlen or len(region) != blen:
        raise ValueError("truncated")
    if zlib.crc32(head) != hcrc or zlib.crc32(region) != bcrc:
        raise ValueError("CRC mismatch")
    doc = msgpack.unpackb(head, raw=False, strict_map_key=False)
    if not isinstance(doc, dict):
        raise ValueError("not a paperex projection checkpoint")
    if doc.get("format") != FORMAT:
        raise ValueError(f"format {doc.get('format')!r}, this version reads {FORMAT!r} only "
                         f"(the history is rebuilt from the journal)")
    if doc.get("seq") != seq:
        raise ValueError("not a paperex projection checkpoint of this seq")
    state = doc["state"]
    _join_blobs(state, region)
    return state


def load_checkpoint(directory: "str | Path", p: "P.Projection", max_seq: int) -> Optional[int]:
    """Restore the newest usable checkpoint at or below ``max_seq`` into ``p``;
    return its seq (None: none usable, ``p`` untouched)."""
    for seq, path in reversed(list_checkpoints(directory)):
        if seq > max_seq:
            # ahead of the journal (after a repair): it describes commands the journal
            # no longer has, and would be taken for the new ones at that seq later
            aside = path.with_name(path.name + ".ahead-of-journal")
            os.replace(path, aside)
            log.warning("projection checkpoint %s is ahead of the journal (last seq %d): set aside as %s",
                        path, max_seq, aside.name)
            continue
        try:
            state = read_checkpoint(path, seq)
            trial = p.blank()
            trial.companions = p.companions     # their restore only reads until applied
            restore_companions(trial, state)
            trial.companions = {}
            restore_state(trial, state)         # all or nothing for ``p``
        except Exception as exc:  # a bad checkpoint only costs rebuild time
            log.warning("projection checkpoint %s unusable (%s): trying an older one", path, exc)
            continue
        restore_state(p, state)     # the same (cheap: histories stay packed) into the gateway's
        return seq
    return None


def restore(p: "P.Projection", data_dir: "str | Path", last_seq: int) -> int:
    """Before serving: the newest checkpoint at or below the journal's ``last_seq``
    (in ``DATA_DIR/snapshots``), then the journal after it (all of it without a
    checkpoint).  Returns the commands read from the journal."""
    seq = load_checkpoint(Path(data_dir) / "snapshots", p, last_seq)
    if seq is not None and seq >= last_seq:
        return 0
    return p.rebuild(Path(data_dir) / "journal", after_seq=seq)


__all__ = ["restore", "projection_state", "restore_state", "restore_companions", "write_checkpoint",
           "load_checkpoint", "list_checkpoints", "FORMAT"]
