"""Reader for tardis.dev downloadable CSV datasets.

Every file starts ``exchange,symbol,timestamp,local_timestamp,...``;
``timestamp`` (exchange time) and ``local_timestamp`` are µs.  Records get
``ts_ms = timestamp // 1000``.  The dataset type is told by the remaining
columns:

=========================  ==================================================  ===========================
dataset                    columns after the common four                       records
=========================  ==================================================  ===========================
``trades``                 ``id,side,price,amount`` (side = taker side)       Trade
``liquidations``           same columns; told by ``liquidation`` in the name   Trade(kind="liquidation")
``incremental_book_L2``    ``is_snapshot,side,price,amount``                   DepthSnapshot / DepthDiff
``book_snapshot_N``        ``asks[0].price,asks[0].amount,bids[0].price,...``  DepthSnapshot(top_n=N)
``quotes``/``book_ticker`` ``ask_amount,ask_price,bid_price,bid_amount``       BookTicker
``derivative_ticker``      ``funding_timestamp,funding_rate,...,mark_price``   MarkPrice, IndexPrice, FundingRate
=========================  ==================================================  ===========================

Incremental L2 rows of one message (same symbol, timestamp, local timestamp
and ``is_snapshot``) are grouped into one record; tardis sends absolute
amounts, 0 deletes, and has no update ids (``first_id`` etc. are None).
A tardis trade side ``unknown`` gives ``taker_side=None``.  Empty fields
(a quote with an empty side, a ticker row without a funding rate) give
``None`` sides / no record for that value.
"""
from __future__ import annotations

import csv
from typing import Optional

from exchange.flow.records import (BookTicker, DepthDiff, DepthSnapshot, FundingRate, IndexPrice, MarkPrice,
                       Trade, dec, dec_qty)
from exchange.flow.readers._base import Reader

__all__ = ["TardisCsvReader", "detect_tardis_csv", "TARDIS_PREFIX"]

TARDIS_PREFIX = ("exchange", "symbol", "timestamp", "local_timestamp")

_TRADES = ("id", "side", "price", "amount")
_L2 = ("is_snapshot", "side", "price", "amount")
_QUOTES = ("ask_amount", "ask_price", "bid_price", "bid_amount")
_SIDES = {"buy": "BUY", "sell": "SELL", "unknown": None}


def detect_tardis_csv(first_line: str, name: str = "") -> Optional[str]:
    cols = tuple(c.strip() for c in first_line.strip().lstrip("\ufeff").split(","))
    if cols[:4] != TARDIS_PREFIX:
        return None
    rest = cols[4:]
    if rest == _TRADES:
        return "liquidations" if "liquidation" in name.lower() else "trades"
    if rest == _L2:
        return "incremental_book_L2"
    if rest == _QUOTES:
        return "quotes"
    if rest and rest[0] == "asks[0].price":
        return "book_snapshot"
    if "mark_price" in rest or "funding_rate" in rest:
        return "derivative_ticker"
    return None


def _us_to_ms(s: str) -> int:
    return int(s) // 1000


def _opt(s: str):
    return dec(s) if s else None


class TardisCsvReader(Reader):
    format_name = "tardis_csv"

    def _parse(self, src):
        stats = self.stats
        line_no = 0
        header = None
        for raw in src.stream:
            line_no += 1
            stats.lines = line_no
            header = raw.decode("utf-8", "replace")
            if header.strip():
                break
            stats.ignored += 1
        if not header or not header.strip():
            stats.lines = line_no
            return
        dataset = detect_tardis_csv(header, self.path.name)
        if dataset is None:
            self._bad(line_no, "unrecognized tardis CSV header", header)
            stats.lines = line_no
            return
        stats.ignored += 1          # the header
        self.dataset = dataset
        cols = [c.strip() for c in header.strip().lstrip("\ufeff").split(",")]
        ncols = len(cols)
        row_fn = getattr(self, "_row_" + dataset)
        self._init_dataset(dataset, cols)
        bad = self._bad
        sym_override = self.symbol
        for raw in src.stream:
            line_no += 1
            stats.lines = line_no
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                bad(line_no, "not UTF-8 text", raw)
                continue
            if not text:
                stats.ignored += 1
                continue
            c = text.split(",") if '"' not in text else next(csv.reader([text]))
            if len(c) != ncols:
                bad(line_no, f"expected {ncols} columns, got {len(c)}", text)
                continue
            if sym_override:
                c[1] = sym_override
            try:
                out = row_fn(c)
            except (ValueError, IndexError, TypeError, KeyError) as exc:
                bad(line_no, f"bad {dataset} row: {exc}", text)
                continue
            if out is None:
                continue
            if type(out) is tuple:
                yield from out
            else:
                yield out
        if dataset == "incremental_book_L2":
            tail = self._flush()
            if tail is not None:
                yield tail
        stats.lines = line_no

    def _init_dataset(self, dataset, cols):
        self._group_key = None
        self._group = None
        if dataset == "book_snapshot":
            idx = {c: i for i, c in enumerate(cols)}
            n = 0
            while f"asks[{n}].price" in idx:
                n += 1
            self._top_n = n
            self._ask_cols = [(idx[f"asks[{i}].price"], idx[f"asks[{i}].amount"]) for i in range(n)]
            self._bid_cols = [(idx[f"bids[{i}].price"], idx[f"bids[{i}].amount"]) for i in range(n)
                              if f"bids[{i}].price" in idx]
        elif dataset == "derivative_ticker":
            self._col = {c: i for i, c in enumerate(cols)}

    # -- rows ---------------------------------------------------------------
    def _row_trades(self, c, kind="trade"):
        side = _SIDES[c[5]]
        tid = c[4]
        tid = int(tid) if tid.isdigit() else (tid or None)
        return Trade(_us_to_ms(c[2]), c[1], dec(c[6]), dec(c[7]), side, tid, None, kind)

    def _row_liquidations(self, c):
        return self._row_trades(c, "liquidation")

    def _row_quotes(self, c):
        return BookTicker(_us_to_ms(c[2]), c[1], _opt(c[6]), _opt(c[7]), _opt(c[5]), _opt(c[4]))

    def _row_book_snapshot(self, c):
        asks = tuple((dec(c[p]), dec_qty(c[q])) for p, q in self._ask_cols if c[p])
        bids = tuple((dec(c[p]), dec_qty(c[q])) for p, q in self._bid_cols if c[p])
        return DepthSnapshot(_us_to_ms(c[2]), c[1], None, bids, asks, None, self._top_n)

    def _row_derivative_ticker(self, c):
        col = self._col
        ts = _us_to_ms(c[2])
        sym = c[1]
        out = []
        i = col.get("mark_price")
        if i is not None and c[i]:
            out.append(MarkPrice(ts, sym, dec(c[i])))
        i = col.get("index_price")
        if i is not None and c[i]:
            out.append(IndexPrice(ts, sym, dec(c[i])))
        i = col.get("funding_rate")
        if i is not None and c[i]:
            j = col.get("funding_timestamp")
            ft = _us_to_ms(c[j]) if j is not None and c[j] else None
            out.append(FundingRate(ts, sym, dec(c[i]), ft, False))
        return tuple(out) if out else None

    def _row_incremental_book_L2(self, c):
        snap = c[4]
        if snap not in ("true", "false"):
            raise ValueError(f"is_snapshot must be true/false, got {snap!r}")
        side = c[5]
        if side not in ("bid", "ask"):
            raise ValueError(f"side must be bid/ask, got {side!r}")
        level = (dec(c[6]), dec_qty(c[7]))
        key = (c[1], c[2], c[3], snap)
        out = None
        if key != self._group_key:
            ts = _us_to_ms(c[2])
            out = self._flush()
            self._group_key = key
            self._group = (snap == "true", c[1], ts, [], [])
        (self._group[3] if side == "bid" else self._group[4]).append(level)
        return out

    def _flush(self):
        g = self._group
        self._group = None
        self._group_key = None
        if g is None:
            return None
        is_snap, sym, ts, bids, asks = g
        if is_snap:
            return DepthSnapshot(ts, sym, None, tuple(bids), tuple(asks))
        return DepthDiff(ts, sym, None, None, None, tuple(bids), tuple(asks))
