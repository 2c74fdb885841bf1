"""Readers for Binance public-data CSV downloads (data.binance.vision) and
freqtrade's OHLCV JSON.

:class:`BinanceCsvReader` recognizes the layout by its header row (headerless
older files by their column count and column types):

=====================  =======================================================================================
layout                 header
=====================  =======================================================================================
``trades``             ``id,price,qty,quote_qty,time,is_buyer_maker``
``aggTrades``          ``agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker``
``bookTicker``         ``update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time``
``bookDepth``          ``timestamp,percentage,depth,notional`` (timestamp is UTC text)
``klines``             ``open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,...``
                       (also markPriceKlines / indexPriceKlines / premiumIndexKlines: same columns)
``fundingRate``        ``calc_time,funding_interval_hours,last_funding_rate``
``depth``              ``symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty[,pu]``
                       (the tick-level "historical order book" download; ``snap`` rows of one
                       snapshot become one DepthSnapshot, ``set`` rows of one update one DepthDiff)
``ohlcv``              ``timestamp,open,high,low,close,volume`` (a generic bar layout, e.g. nautilus' FTX
                       bars; timestamp = bar open, text or epoch)
=====================  =======================================================================================

The symbol comes from the ``symbol`` argument, else the ``symbol`` column,
else the file name (``BTCUSDT-trades-2024-01-01.csv`` -> ``BTCUSDT``); the
kline interval from ``interval`` or the file name (``ADABTC-1m-...``); the
kline kind from ``kind`` or a ``markPriceKlines``/``indexPriceKlines``/
``premiumIndexKlines`` directory in the path.  Candles are stamped at their
close time (no look-ahead).  Epoch columns in s/ms/µs are scaled to ms by
magnitude.
"""
from __future__ import annotations

import csv
import re
from typing import Optional

from exchange.flow.records import (BookDepthBand, BookTicker, DepthDiff, DepthSnapshot, FundingRate, Kline,
                       Trade, dec, dec_qty)
from exchange.flow.readers._base import Reader
from exchange.flow.readers._text import epoch_ms, interval_in_name, interval_ms, parse_bool, text_ms

try:
    from orjson import loads as _loads, JSONDecodeError as _JSONError
except ImportError:  # pragma: no cover
    from json import loads as _loads, JSONDecodeError as _JSONError

__all__ = ["BinanceCsvReader", "FreqtradeJsonReader", "BINANCE_CSV_HEADERS", "detect_binance_csv"]

BINANCE_CSV_HEADERS = {
    "trades": ("id", "price", "qty", "quote_qty", "time", "is_buyer_maker"),
    "aggTrades": ("agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id",
                  "transact_time", "is_buyer_maker"),
    "bookTicker": ("update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty",
                   "transaction_time", "event_time"),
    "bookDepth": ("timestamp", "percentage", "depth", "notional"),
    "klines": ("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
               "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"),
    "fundingRate": ("calc_time", "funding_interval_hours", "last_funding_rate"),
    "depth": ("symbol", "timestamp", "first_update_id", "last_update_id", "side", "update_type",
              "price", "qty", "pu"),
    "ohlcv": ("timestamp", "open", "high", "low", "close", "volume"),
}


def _split(line: str):
    return next(csv.reader([line])) if '"' in line else line.split(",")


def _is_int(s: str) -> bool:
    return s.isdigit() or (s[:1] == "-" and s[1:].isdigit())


def detect_binance_csv(first_line: str):
    """``(layout, has_header)`` for the first line of a file, or ``None``."""
    cols = [c.strip().lower() for c in _split(first_line.strip().lstrip("\ufeff"))]
    for layout, header in BINANCE_CSV_HEADERS.items():
        n = len(header)
        if tuple(cols[:n]) == header[:len(cols)] and len(cols) >= n - (1 if layout == "depth" else 0):
            if layout == "ohlcv" and len(cols) != 6:
                continue
            return layout, True
        # spot files add is_best_match; the columns we need are a prefix
        if layout in ("trades", "aggTrades") and tuple(cols) == header + ("is_best_match",):
            return layout, True
    # headerless (older downloads): tell by shape
    n = len(cols)
    if not cols or not _is_int(cols[0]):
        return None
    b = [c in ("true", "false") for c in cols]
    if n == 12 and _is_int(cols[6]):
        return "klines", False
    if n == 6 and b[5]:
        return "trades", False
    if n == 7 and b[5] and b[6]:
        return "trades", False                 # spot: ..., is_buyer_maker, is_best_match
    if n == 7 and b[6] and _is_int(cols[5]):
        return "aggTrades", False
    if n == 8 and b[6] and b[7]:
        return "aggTrades", False              # spot aggTrades with is_best_match
    if n == 7 and _is_int(cols[5]) and _is_int(cols[6]):
        return "bookTicker", False
    if n == 3 and _is_int(cols[1]):
        return "fundingRate", False
    return None


_KLINE_KINDS = {"markpriceklines": "mark", "indexpriceklines": "index", "premiumindexklines": "premium"}


class BinanceCsvReader(Reader):
    """One data.binance.vision CSV (plain, gzip or the .zip as downloaded)."""

    format_name = "binance_csv"

    def __init__(self, path, *, layout: Optional[str] = None, interval: Optional[str] = None,
                 kind: Optional[str] = None, **kw):
        super().__init__(path, **kw)
        self.layout = layout
        self.interval = interval
        self.kind = kind

    # -- naming -------------------------------------------------------------
    def _symbol_from_name(self) -> str:
        if self.symbol:
            return self.symbol
        name = self.path.name
        if self.layout == "ohlcv":          # btc-perp-20211231-..._1m.csv -> BTC-PERP
            toks = []
            for tok in re.split(r"[-_.]", name):
                if not tok or tok[0].isdigit():
                    break
                toks.append(tok)
            return "-".join(toks).upper() or name
        m = re.match(r"[A-Za-z0-9]+", name)
        return m.group(0).upper() if m else name

    def _kline_kind(self) -> str:
        if self.kind:
            return self.kind
        for part in self.path.parts:
            k = _KLINE_KINDS.get(part.lower())
            if k:
                return k
        for key, k in _KLINE_KINDS.items():
            if key in self.path.name.lower():
                return k
        return "trade"

    # -- parsing ------------------------------------------------------------
    def _parse(self, src):
        stats = self.stats
        lines = iter(src.stream)
        line_no = 0
        first = None
        for raw in lines:                       # first non-blank line decides the layout
            line_no += 1
            stats.lines = line_no
            first = raw.decode("utf-8", "replace")
            if first.strip():
                break
            stats.ignored += 1
        if first is None or not first.strip():
            stats.lines = line_no
            return
        detected = detect_binance_csv(first)
        if detected is None:
            if self.layout is None:
                self._bad(line_no, "unrecognized Binance CSV header/row", first)
                stats.lines = line_no
                return
            has_header = not _is_int(_split(first)[0].strip())
        else:
            layout, has_header = detected
            if self.layout is None:
                self.layout = layout
        row_fn = getattr(self, "_row_" + self.layout)
        symbol = self._symbol_from_name()
        self._prepare(symbol)

        def rows():
            nonlocal line_no
            if not has_header:
                yield line_no, first
            else:
                stats.ignored += 1
            for raw in lines:
                line_no += 1
                stats.lines = line_no
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    self._bad(line_no, "not UTF-8 text", raw)
                    continue
                yield line_no, text

        bad = self._bad
        for n, text in rows():
            text = text.rstrip("\r\n")
            if not text.strip():
                stats.ignored += 1
                continue
            cols = _split(text)
            try:
                out = row_fn(cols, symbol)
            except (ValueError, IndexError, TypeError) as exc:
                bad(n, f"bad {self.layout} row: {exc}", text)
                continue
            if out is not None:
                yield out
        tail = self._finish()
        if tail is not None:
            yield tail
        stats.lines = line_no

    def _prepare(self, symbol):
        self._group_key = None
        self._group = None
        self._last_text_ts = (None, None)
        if self.layout in ("klines", "ohlcv"):
            if self.interval is None:
                self.interval = interval_in_name(self.path.name)
            self._interval_ms = interval_ms(self.interval)
            self._kind = self._kline_kind() if self.layout == "klines" else (self.kind or "trade")

    def _finish(self):
        if self.layout == "depth":
            return self._flush_group()
        return None

    # one method per layout; each returns a record or None (row absorbed)
    def _row_trades(self, c, sym):
        if len(c) < 6:
            raise ValueError(f"expected 6 columns, got {len(c)}")
        t = epoch_ms(c[4])
        return Trade(t, sym, dec(c[1]), dec(c[2]), "SELL" if parse_bool(c[5]) else "BUY",
                     int(c[0]), t, "trade")

    def _row_aggTrades(self, c, sym):
        if len(c) < 7:
            raise ValueError(f"expected 7 columns, got {len(c)}")
        t = epoch_ms(c[5])
        return Trade(t, sym, dec(c[1]), dec(c[2]), "SELL" if parse_bool(c[6]) else "BUY",
                     int(c[0]), t, "aggTrade", int(c[3]), int(c[4]))

    def _row_bookTicker(self, c, sym):
        if len(c) < 7:
            raise ValueError(f"expected 7 columns, got {len(c)}")
        return BookTicker(epoch_ms(c[6]), sym, dec(c[1]), dec(c[2]), dec(c[3]), dec(c[4]),
                          int(c[0]), epoch_ms(c[5]))

    def _text_ts(self, s):
        last_s, last_v = self._last_text_ts
        if s == last_s:
            return last_v
        v = text_ms(s)
        self._last_text_ts = (s, v)
        return v

    def _row_bookDepth(self, c, sym):
        if len(c) < 4:
            raise ValueError(f"expected 4 columns, got {len(c)}")
        return BookDepthBand(self._text_ts(c[0]), sym, dec(c[1]), dec(c[2]), dec(c[3]))

    def _row_fundingRate(self, c, sym):
        if len(c) < 3:
            raise ValueError(f"expected 3 columns, got {len(c)}")
        t = epoch_ms(c[0])
        hours = int(c[1]) if c[1].strip() else None
        return FundingRate(t, sym, dec(c[2]), t, True, hours)

    def _row_klines(self, c, sym):
        if len(c) < 11:
            raise ValueError(f"expected 12 columns, got {len(c)}")
        o, cl = epoch_ms(c[0]), epoch_ms(c[6])
        return Kline(cl, sym, self.interval, o, cl, dec(c[1]), dec(c[2]), dec(c[3]), dec(c[4]),
                     dec(c[5]), True, self._kind, int(c[8]), dec(c[7]), dec(c[9]), dec(c[10]))

    def _row_ohlcv(self, c, sym):
        if len(c) < 6:
            raise ValueError(f"expected 6 columns, got {len(c)}")
        o = self._text_ts(c[0])
        cl = o + self._interval_ms - 1 if self._interval_ms else o
        vol = dec(c[5]) if c[5].strip() else None
        return Kline(cl, sym, self.interval, o, cl, dec(c[1]), dec(c[2]), dec(c[3]), dec(c[4]),
                     vol, True, self._kind)

    # tick-level depth: consecutive rows of one (symbol, timestamp, ids, type) form one record
    def _row_depth(self, c, sym):
        if len(c) < 8:
            raise ValueError(f"expected 8 or 9 columns, got {len(c)}")
        symbol = self.symbol or c[0]
        key = (symbol, c[1], c[2], c[3], c[5], c[8] if len(c) > 8 else "")
        side = c[4]
        if side not in ("a", "b"):
            raise ValueError(f"side must be 'a' or 'b', got {side!r}")
        utype = c[5]
        if utype not in ("snap", "set"):
            raise ValueError(f"update_type must be 'snap' or 'set', got {utype!r}")
        level = (dec(c[6]), dec_qty(c[7]))
        out = None
        if key != self._group_key:
            ts, first_id, last_id = epoch_ms(c[1]), int(c[2]), int(c[3])
            pu = int(c[8]) if len(c) > 8 and c[8].strip() else None
            out = self._flush_group()
            self._group_key = key
            self._group = (utype, symbol, ts, first_id, last_id, pu, [], [])
        (self._group[7] if side == "a" else self._group[6]).append(level)
        return out

    def _flush_group(self):
        g = self._group
        self._group = None
        self._group_key = None
        if g is None:
            return None
        utype, symbol, ts, first_id, last_id, pu, bids, asks = g
        if utype == "snap":
            return DepthSnapshot(ts, symbol, last_id, tuple(bids), tuple(asks))
        return DepthDiff(ts, symbol, first_id, last_id, pu if pu is not None and pu >= 0 else None,
                         tuple(bids), tuple(asks))


class FreqtradeJsonReader(Reader):
    """freqtrade OHLCV JSON: ``[[ts_ms, open, high, low, close, volume], ...]``.

    The file name ``<BASE>_<QUOTE>[_<SETTLE>]-<timeframe>[-<candle type>].json``
    gives the symbol (``XRP_USDT_USDT`` -> ``XRPUSDT``), the timeframe and what
    the rows are: ``-futures``/``-spot``/none -> trade Klines, ``-mark`` /
    ``-index`` / ``-premiumIndex`` -> mark/index/premium Klines,
    ``-funding_rate`` -> settled FundingRate (rate = the ``open`` column).
    Row numbers (1-based) stand in for line numbers in errors."""

    format_name = "freqtrade_json"
    _CANDLE_KINDS = {"futures": "trade", "spot": "trade", "mark": "mark", "index": "index",
                     "premiumindex": "premium", "funding_rate": "funding_rate"}

    def __init__(self, path, *, interval: Optional[str] = None, kind: Optional[str] = None, **kw):
        super().__init__(path, **kw)
        stem = self.path.name
        for suffix in (".gz", ".json"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
        parts = stem.split("-")
        pair = parts[0]
        if not self.symbol:
            toks = pair.split("_")
            self.symbol = "".join(toks[:2]).upper() if len(toks) >= 2 else pair.upper()
        self.interval = interval or (parts[1] if len(parts) > 1 else None)
        self.candle_type = kind or (self._CANDLE_KINDS.get(parts[2].lower(), parts[2].lower())
                                    if len(parts) > 2 else "trade")

    def _parse(self, src):
        stats = self.stats
        try:
            rows = _loads(src.stream.read())
        except _JSONError as exc:
            self._bad(None, f"bad JSON: {exc}")
            return
        if type(rows) is not list:
            self._bad(None, "expected a JSON array of candle rows")
            return
        sym = self.symbol
        step = interval_ms(self.interval)
        ctype = self.candle_type
        for n, row in enumerate(rows, 1):
            stats.lines = n
            try:
                if type(row) is not list or len(row) < 5:
                    raise ValueError("expected [ts, open, high, low, close, volume]")
                t = row[0]
                if type(t) is not int:
                    raise ValueError(f"timestamp is not an integer: {t!r}")
                t = epoch_ms(str(t))
                if ctype == "funding_rate":
                    hours = step // 3_600_000 if step and step % 3_600_000 == 0 else None
                    yield FundingRate(t, sym, dec(row[1]), t, True, hours)
                    continue
                close_ms = t + step - 1 if step else t
                vol = row[5] if len(row) > 5 else None
                yield Kline(close_ms, sym, self.interval, t, close_ms, dec(row[1]), dec(row[2]),
                            dec(row[3]), dec(row[4]), None if vol is None else dec(vol), True, ctype)
            except (ValueError, TypeError) as exc:
                self._bad(n, f"bad candle row: {exc}", repr(row))
