"""Readers for raw Binance USD-M websocket/REST recordings.

Two line layouts carry the same Binance payloads:

* :class:`BinanceTapeReader` -- hftbacktest's collector, one message a line:
  ``<local_receive_ns> <json>``.  Stream messages use the combined-stream
  envelope ``{"stream": "btcusdt@trade", "data": {...}}`` (a bare payload with
  ``"e"`` is accepted too); the REST depth snapshot is a bare
  ``{"lastUpdateId", "E", "T", "bids", "asks"}`` line without a symbol.
* :class:`CryptofeedReader` -- cryptofeed's recordings (``BINANCE_FUTURES.ws.*``,
  ``.http.*``, ``BINANCE_FUTURES.0``): ``<epoch_s>: <json>`` for websocket
  messages, ``<url> -> <epoch_s>: <json>`` for REST responses,
  ``<wss-url> <-> <epoch_s>`` connect lines and ``configuration: {...}``.

Payloads understood: ``trade``, ``aggTrade``, ``bookTicker``, ``depthUpdate``,
``kline``, ``markPriceUpdate`` (single or the ``!markPrice@arr`` list) and the
``/fapi/v1/depth`` snapshot.  Other well-formed messages (exchangeInfo,
subscription acks, unknown events) are counted in ``stats.ignored``.
The local receive stamps are not used: records carry exchange time ``E``.
"""
from __future__ import annotations

import re
from operator import itemgetter
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from exchange.flow.records import (BookTicker, DepthDiff, DepthSnapshot, FundingRate, IndexPrice, Kline,
                       MarkPrice, Trade, all_plain, plain_seen, dec,
                       levels)
from exchange.flow.readers._base import Deferred, Reader

try:  # orjson is ~3x faster than json on these payloads
    from orjson import loads as _loads, JSONDecodeError as _JSONError
except ImportError:  # pragma: no cover
    from json import loads as _loads, JSONDecodeError as _JSONError

__all__ = ["BinanceTapeReader", "CryptofeedReader", "BinancePayloadDecoder"]


_levels = levels
_TICKER_FIELDS = itemgetter("s", "b", "B", "a", "A", "E", "u")
_TRADE_FIELDS = itemgetter("s", "p", "q", "E", "t", "m")


def _int(v, name):
    if type(v) is not int:
        raise ValueError(f"{name} is not an integer: {v!r}")
    return v


def _side(m):
    if m is True:
        return "SELL"
    if m is False:
        return "BUY"
    raise ValueError(f"m is not a boolean: {m!r}")


_IGNORED = object()
_BAD = object()


class BinancePayloadDecoder:
    """Turns one decoded Binance JSON payload into record(s).

    ``decode(d)`` returns a record, a tuple of records, or ``_IGNORED``; it
    raises KeyError/TypeError/ValueError on malformed payloads."""

    def __init__(self):
        self.symbols_seen: set = set()

    def decode(self, d, snapshot_symbol=None):
        if type(d) is dict:
            data = d.get("data")
            if data is not None and "stream" in d:
                d = data
                if type(d) is list:     # !markPrice@arr
                    out = []
                    for item in d:
                        r = self.decode(item)
                        if r is _IGNORED:
                            continue
                        out.extend(r if type(r) is tuple else (r,))
                    return tuple(out) if out else _IGNORED
            e = d.get("e")
            if e is None:
                if "lastUpdateId" in d and "bids" in d:
                    sym = snapshot_symbol() if callable(snapshot_symbol) else snapshot_symbol
                    if not sym:
                        raise ValueError("cannot tell the symbol of a depth snapshot")
                    return DepthSnapshot(_int(d["E"], "E"), sym, _int(d["lastUpdateId"], "lastUpdateId"),
                                         _levels(d["bids"]), _levels(d["asks"]), d.get("T"))
                return _IGNORED
            if e == "bookTicker":
                s = d["s"]
                self.symbols_seen.add(s)
                b, B, a, A = d["b"], d["B"], d["a"], d["A"]
                if not all_plain(b, B, a, A):
                    b, B, a, A = dec(b), dec(B), dec(a), dec(A)
                E, u = d["E"], d["u"]
                if type(E) is not int or type(u) is not int:
                    _int(E, "E"), _int(u, "u")
                return BookTicker(E, s, b, B, a, A, u, d.get("T"))
            if e == "trade":
                s = d["s"]
                self.symbols_seen.add(s)
                p, q = d["p"], d["q"]
                if not all_plain(p, q):
                    p, q = dec(p), dec(q)
                return Trade(_int(d["E"], "E"), s, p, q, _side(d["m"]),
                             _int(d["t"], "t"), d.get("T"), "trade", None, None, d.get("X"))
            if e == "depthUpdate":
                s = d["s"]
                self.symbols_seen.add(s)
                return DepthDiff(_int(d["E"], "E"), s, _int(d["U"], "U"), _int(d["u"], "u"),
                                 d.get("pu"), _levels(d["b"]), _levels(d["a"]), d.get("T"))
            if e == "aggTrade":
                s = d["s"]
                self.symbols_seen.add(s)
                return Trade(_int(d["E"], "E"), s, dec(d["p"]), dec(d["q"]), _side(d["m"]),
                             _int(d["a"], "a"), d.get("T"), "aggTrade", d.get("f"), d.get("l"))
            if e == "kline":
                s = d["s"]
                k = d["k"]
                self.symbols_seen.add(s)
                return Kline(_int(d["E"], "E"), s, k["i"], _int(k["t"], "k.t"), _int(k["T"], "k.T"),
                             dec(k["o"]), dec(k["h"]), dec(k["l"]), dec(k["c"]), dec(k["v"]),
                             bool(k["x"]), "trade", k.get("n"), _opt_dec(k.get("q")),
                             _opt_dec(k.get("V")), _opt_dec(k.get("Q")))
            if e == "markPriceUpdate":
                s = d["s"]
                ts = _int(d["E"], "E")
                self.symbols_seen.add(s)
                out = [MarkPrice(ts, s, dec(d["p"]))]
                if d.get("i") not in (None, ""):
                    out.append(IndexPrice(ts, s, dec(d["i"])))
                if d.get("r") not in (None, ""):
                    out.append(FundingRate(ts, s, dec(d["r"]), d.get("T") or None, False))
                return tuple(out)
            return _IGNORED
        if type(d) is list:
            return _IGNORED             # e.g. a REST list response
        raise ValueError(f"unexpected JSON value of type {type(d).__name__}")


def _opt_dec(v):
    return None if v is None else dec(v)


_SYMBOL_IN_NAME = re.compile(r"[A-Za-z0-9]+")

#: the start of a depth diff exactly as Binance writes it (time and symbol read
#: from the bytes); a line that differs in any way is parsed the usual way
_DEPTH_HEAD = re.compile(rb'\{"stream":"[a-z0-9@_]{1,64}","data":\{"e":"depthUpdate","E":([0-9]{1,19}),'
                         rb'"T":[0-9]{1,19},"s":"([A-Z0-9]{1,40})","U":[0-9]{1,19},"u":[0-9]{1,19},').match


class _BinanceJsonLines(Reader):
    def __init__(self, path, **kw):
        super().__init__(path, **kw)
        self._decoder = BinancePayloadDecoder()

    def _guess_symbol(self) -> Optional[str]:
        """Symbol of a snapshot line that does not name one: the ``symbol``
        argument, else the only symbol seen so far, else the file name prefix
        (``btcusdt_20240808.gz`` -> ``BTCUSDT``)."""
        if self.symbol:
            return self.symbol
        seen = self._decoder.symbols_seen
        m = _SYMBOL_IN_NAME.match(self.path.name)
        guess = m.group(0).upper() if m else None
        if guess and (not seen or guess in seen):
            return guess
        if len(seen) == 1:
            return next(iter(seen))
        return None

    def _emit(self, payload_bytes, line_no, line, snapshot_symbol, decoded=_BAD):
        if decoded is not _BAD:
            d = decoded                 # already parsed by the caller
        else:
            try:
                d = _loads(payload_bytes)
            except _JSONError as exc:
                self._bad(line_no, f"bad JSON: {exc}", line)
                return _BAD
        try:
            return self._decoder.decode(d, snapshot_symbol)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
            self._bad(line_no, reason, line)
            return _BAD

    def _emitted(self, r) -> tuple:
        """The records of an ``_emit`` result: none for an ignored or bad line."""
        if r is _IGNORED:
            self.stats.ignored += 1
            return ()
        if r is _BAD:
            return ()
        return r if type(r) is tuple else (r,)


class BinanceTapeReader(_BinanceJsonLines):
    """hftbacktest collector tape: ``<local_ns> <json>`` per line."""

    format_name = "binance_tape"

    def _parse(self, src):
        stats = self.stats
        emit = self._emit
        guess = self._guess_symbol
        seen = self._decoder.symbols_seen
        loads, JSONError = _loads, _JSONError
        plain, seen_plain = all_plain, plain_seen
        ticker_fields, trade_fields = _TICKER_FIELDS, _TRADE_FIELDS
        new_ticker, new_trade = BookTicker, Trade
        depth_head = _DEPTH_HEAD
        line_no = 0
        for line in src.stream:
            line_no += 1
            stats.lines = line_no
            i = line.find(b" ")
            if i <= 0 or not line[:i].isdigit():
                if not line.strip():
                    stats.ignored += 1
                    continue
                self._bad(line_no, "expected '<local_ns> <json>'", line)
                continue
            payload = line[i + 1:]
            head = depth_head(payload)
            if head is not None:
                # a depth diff as Binance writes it: the reorder buffer keeps the
                # line (1.5 kB instead of ~140 level strings) and _build parses it
                # when it is released - once, not here as well
                s = head.group(2).decode()
                if s not in seen:
                    seen.add(s)
                yield Deferred(int(head.group(1)), line, line_no)
                continue
            # Fast path for the three stream events that make up nearly every
            # line of a tape: the same checks and records as
            # BinancePayloadDecoder.decode, inlined (no call per line, no
            # per-value dec(); the fields in one itemgetter call, values seen
            # before found plain by one set lookup).  Anything unusual - a
            # missing field, a value of another type, a non-plain number - falls
            # through to the decoder, which gives the same record or the same
            # error as always.
            try:
                d = loads(payload)
            except JSONError as exc:
                self._bad(line_no, f"bad JSON: {exc}", line)
                continue
            data = d.get("data") if type(d) is dict and "stream" in d else None
            if type(data) is dict:
                e = data.get("e")
                rec = None
                try:
                    if e == "bookTicker":
                        s, b, B, a, A, E, u = ticker_fields(data)
                        if type(E) is int and type(u) is int and type(s) is str \
                                and (seen_plain((b, B, a, A)) or plain(b, B, a, A)):
                            rec = new_ticker(E, s, b, B, a, A, u, data.get("T"))
                    elif e == "trade":
                        s, p, q, E, t, m = trade_fields(data)
                        if type(E) is int and type(t) is int and type(s) is str and (m is True or m is False) \
                                and (seen_plain((p, q)) or plain(p, q)):
                            rec = new_trade(E, s, p, q, "SELL" if m else "BUY", t, data.get("T"), "trade",
                                            None, None, data.get("X"))
                except (KeyError, TypeError):       # a field missing, an unhashable value
                    pass
                if rec is not None:
                    if s not in seen:
                        seen.add(s)
                    yield rec
                    continue
            yield from self._emitted(emit(payload, line_no, line, guess, d))
        stats.lines = line_no

    def _build(self, item: Deferred):
        """The record of a deferred depth line: the same checks, record or error as
        BinancePayloadDecoder.decode (which gets anything unusual), now."""
        line = item.raw
        line_no = item.line_no
        payload = line[line.find(b" ") + 1:]
        try:
            d = _loads(payload)
        except _JSONError as exc:
            self._bad(line_no, f"bad JSON: {exc}", line)
            return None
        data = d.get("data") if type(d) is dict and "stream" in d else None
        if type(data) is dict:
            g = data.get
            s, E, U, u, bids, asks = g("s"), g("E"), g("U"), g("u"), g("b"), g("a")
            if type(E) is int and type(U) is int and type(u) is int and type(s) is str \
                    and bids is not None and asks is not None and g("e") == "depthUpdate":
                try:
                    bids, asks = _levels(bids), _levels(asks)
                except (TypeError, ValueError, AttributeError) as exc:  # as the decoder reports them
                    self._bad(line_no, str(exc) or type(exc).__name__, line)
                    return None
                if E != item.ts_ms:
                    # only a payload with a repeated key: it was ordered by the first "E"
                    self.stats.late += 1
                return DepthDiff(E, s, U, u, g("pu"), bids, asks, g("T"))
        r = self._emit(payload, line_no, line, self._guess_symbol, d)
        if r is _IGNORED:
            self.stats.ignored += 1
            return None
        return None if r is _BAD else r


class CryptofeedReader(_BinanceJsonLines):
    """cryptofeed recording of BINANCE_FUTURES (ws, http and exchangeInfo files)."""

    format_name = "cryptofeed"

    def _parse(self, src):
        stats = self.stats
        emit = self._emit
        line_no = 0
        for line in src.stream:
            line_no += 1
            stats.lines = line_no
            if line.startswith((b"wss://", b"ws://")) and b" <-> " in line:
                stats.ignored += 1          # connect record
                continue
            if line.startswith((b"configuration:",)) or not line.strip():
                stats.ignored += 1
                continue
            snap_sym = self.symbol
            if line.startswith((b"https://", b"http://")):
                j = line.find(b" -> ")
                k = line.find(b": ", j + 4) if j > 0 else -1
                if k < 0:
                    self._bad(line_no, "expected '<url> -> <epoch>: <json>'", line)
                    continue
                url = line[:j].decode("utf-8", "replace")
                parts = urlsplit(url)
                if not parts.path.endswith("/depth"):
                    stats.ignored += 1      # exchangeInfo and other REST responses
                    continue
                snap_sym = (parse_qs(parts.query).get("symbol") or [None])[0] or snap_sym
                payload = line[k + 2:]
            else:
                k = line.find(b": ")
                head = line[:k] if k > 0 else b""
                if not head or not head.replace(b".", b"", 1).isdigit():
                    self._bad(line_no, "expected '<epoch_s>: <json>'", line)
                    continue
                payload = line[k + 2:]
            yield from self._emitted(emit(payload, line_no, line, snap_sym))
        stats.lines = line_no
