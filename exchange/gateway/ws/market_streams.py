"""Market websocket streams (spec §9) and the websocket endpoints (market + user data).

Paths (every stream works on every path, spec §9.1 rule 3):

* raw:      ``/ws``, ``/ws/<s1>/<s2>``, ``/{public,market,private}/ws[/<...>]``
* combined: ``/stream?streams=<s1>/<s2>``, ``/{public,market,private}/stream?streams=...``
* user data: ``/private/ws?listenKey=K``, ``/ws/<listenKey>``, ``/stream?streams=<listenKey>``,
  or a ``SUBSCRIBE`` whose param is an active listenKey (binance-futures-connector).

A path segment after ``/ws/`` that is neither a stream nor a listenKey (ccxt.pro's
pool index ``0``) is ignored.  Control messages: SUBSCRIBE, UNSUBSCRIBE,
LIST_SUBSCRIPTIONS, SET_PROPERTY/GET_PROPERTY ``combined``; errors answer
``{"error": {"code", "msg"}, "id"}``.

Streams: ``<s>@aggTrade``, ``<s>@trade``, ``<s>@bookTicker``, ``!bookTicker``,
``<s>@depth[@100ms|@500ms]`` (diffs; ``U``/``u``/``pu`` from the per-symbol update
id shared with REST ``lastUpdateId``), ``<s>@depth<5|10|20>[@100ms|@500ms]``,
``<s>@markPrice[@1s]``, ``!markPrice@arr[@1s]``, ``<s>@kline_<i>``, ``<s>@ticker``,
``<s>@miniTicker``, ``!ticker@arr``, ``!miniTicker@arr``, ``<s>@forceOrder``,
``!forceOrder@arr``, ``<s>@depth@0ms`` (a diff per committed command that changed
the book, ``U == u`` = its update id), ``<pair>_perpetual@continuousKline_<i>``,
``!contractInfo`` (pushed when a contract changes - listing, settlement, brackets;
paperex's contracts never change while it runs, so it is accepted and quiet).

Not served, because they do not exist for what paperex lists: ``<s>@compositeIndex``
(composite-index symbols only; every instrument here is a single-asset perpetual),
``!assetIndex@arr`` (Multi-Assets mode margin assets; paperex margins in USDT
only), partial depth at ``@0ms`` (Binance documents 250/500/100 ms only) and the
quarterly ``continuousKline`` contract types.

A name paperex does not serve gets Binance's answer, never silence: a SUBSCRIBE
holding one is refused as a whole with ``{"error": {"code": 2, "msg": "Invalid
request: invalid stream"}, "id": N}`` (what Binance USD-M sends, e.g. ccxt #19833)
and subscribes nothing; a connect URL naming one (``/stream?streams=``, or a
``/ws/<name>`` segment shaped like a stream: with ``@`` or a leading ``!``) is
refused at the upgrade with HTTP 400 and the same error body.

forceOrder throttling (as Binance: at most one event per symbol per 1000 ms,
the latest liquidation as a snapshot): a symbol's first liquidation is pushed
at once; liquidations within the next second replace one pending snapshot that
is pushed when the second is over.  The same snapshot goes to ``<s>@forceOrder``
and ``!forceOrder@arr``.  The order shows the liquidation order (LIMIT IOC at
the bankruptcy price) with the quantity the book, the insurance fund and ADL
took together as its fills.

Every connection has a bounded outgoing queue drained by its own writer task;
a client that falls ``queue_limit`` messages behind is disconnected (close code
1008) rather than buffered without bound.

Keep-alive and lifetime (spec §9.2), the same for market and user-data sockets:
the server sends a ping frame every ``ping_interval_s`` (Binance: 3 min) whatever
else flows, and closes the socket (1008 ``pong timeout``) when no pong arrived
for ``pong_timeout_s`` (Binance: 10 min); unsolicited pongs count, client pings
are answered.  A socket is closed (1000) when it reaches ``max_lifetime_s``
(Binance: 24 h).  All three are ``paperex serve`` options.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Optional

import orjson
from aiohttp import WSMsgType, web

from exchange.contract import codes as C
from exchange.contract.events import OrderFilled

from exchange.gateway.background import BackgroundTask
from exchange.gateway.format import money
from exchange.gateway.market_views import mark_price_update
from exchange.gateway.projection import INTERVAL_MS, MINUTE

log = logging.getLogger("paperex.ws")

SPEEDS = {"": 250, "@100ms": 100, "@500ms": 500}
REALTIME = "@0ms"               # <symbol>@depth@0ms: one diff per book-changing command
INVALID_STREAM = {"code": 2, "msg": "Invalid request: invalid stream"}
CONTINUOUS = "_perpetual@continuouskline_"
PARTIAL_LEVELS = (5, 10, 20)
MAX_MSGS_PER_S = 10
MAX_STREAMS = 1024
PING_INTERVAL_S = 180.0         # Binance: a ping frame every 3 minutes
PONG_TIMEOUT_S = 600.0          # Binance: dropped after 10 minutes without a pong
MAX_LIFETIME_S = 86_400.0       # Binance: 24 h connection limit
PONG_TIMEOUT_REASON = b"pong timeout"
TICK_S = 0.05


class Conn:
    __slots__ = ("ws", "combined", "streams", "listen_keys", "queue", "wake", "closing", "writer",
                 "limit", "hub", "msg_window", "msg_count", "killer", "tap", "path", "last_pong", "next_ping",
                 "keepalive", "pinger")

    def __init__(self, hub: "StreamHub", ws: web.WebSocketResponse, combined: bool, limit: int) -> None:
        self.hub = hub
        self.ws = ws
        self.combined = combined
        self.streams: dict[str, None] = {}
        self.listen_keys: dict[str, None] = {}
        self.queue: deque = deque()
        self.wake = asyncio.Event()
        self.closing = False
        self.writer: Optional[asyncio.Task] = None
        self.limit = limit
        self.msg_window = 0
        self.msg_count = 0
        self.killer: Optional[asyncio.Task] = None
        self.tap = None              # faults.WsTap while faults / ws latency are on
        self.path = ""
        self.last_pong = 0.0         # loop time of the last pong (or of the connect)
        self.next_ping = 0.0
        self.keepalive: Optional[asyncio.TimerHandle] = None
        self.pinger: Optional[asyncio.Task] = None

    def send(self, data: bytes) -> None:
        if self.closing:
            return
        if self.tap is not None:     # delivers later, in order (faults.py)
            self.tap.push(self, data)
            return
        self.enqueue(data)

    def enqueue(self, data: bytes) -> None:
        """Queue ``data`` for the writer now (a tap's delayed delivery comes here too); a
        consumer ``limit`` messages behind is cut off (1008) rather than buffered forever."""
        if self.closing:
            return
        if len(self.queue) >= self.limit:
            self.kill(1008, b"slow consumer")
            return
        self.queue.append(data)
        self.wake.set()

    def kill(self, code: int, reason: bytes) -> None:
        if self.closing:
            return
        self.closing = True
        self.queue.clear()
        self.hub.slow_disconnects += code == 1008 and reason != PONG_TIMEOUT_REASON
        self.killer = asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: bytes) -> None:
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason), 2.0)
        except Exception:
            pass

    async def run_writer(self) -> None:
        ws = self.ws
        q = self.queue
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while q:
                    await ws.send_frame(q.popleft(), WSMsgType.TEXT)
        except (asyncio.CancelledError, ConnectionError, RuntimeError):
            pass
        except Exception:  # the socket went away mid-write
            pass


def _split_stream(name: str) -> Optional[tuple[str, str]]:
    """(SYMBOL or '', kind) for a stream name, None if it is not one we serve."""
    if name.startswith("!"):
        if name in ("!markPrice@arr", "!markPrice@arr@1s", "!bookTicker", "!ticker@arr",
                    "!miniTicker@arr", "!forceOrder@arr", "!contractInfo"):
            return "", name
        return None
    pair, sep, iv = name.partition("_perpetual@continuousKline_")
    if sep:         # <pair>_perpetual@continuousKline_<interval>: the pair is the perpetual's symbol
        return (pair.upper(), "continuousKline_" + iv) if pair and iv in INTERVAL_MS else None
    sym, at, rest = name.partition("@")
    if not at or not sym:
        return None
    return sym.upper(), rest


class DiffAcc:
    __slots__ = ("U", "u", "pu", "bids", "asks", "T")

    def __init__(self, pu: int) -> None:
        self.U: Optional[int] = None
        self.u = pu
        self.pu = pu
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.T = 0


class StreamHub:
    def __init__(self, gw, *, queue_limit: int = 2000, max_lifetime_s: float = MAX_LIFETIME_S,
                 ping_interval_s: float = PING_INTERVAL_S, pong_timeout_s: float = PONG_TIMEOUT_S) -> None:
        self.gw = gw
        self.queue_limit = queue_limit
        self.max_lifetime_s = max_lifetime_s
        self.ping_interval_s = ping_interval_s
        self.pong_timeout_s = pong_timeout_s
        self.pong_timeouts = 0
        self.subs: dict[str, set[Conn]] = {}
        self.conns: set[Conn] = set()
        self.diffs: dict[tuple[str, str], DiffAcc] = {}     # (SYMBOL, speed suffix) -> accumulator
        self.realtime_pu: dict[str, int] = {}               # SYMBOL -> u of its last @depth@0ms diff
        self.partial_sent: dict[tuple[str, str], int] = {}
        self.best: dict[str, tuple] = {}
        self.messages_sent = 0
        self.slow_disconnects = 0
        self._loop = BackgroundTask(self._ticker, "paperex-stream-cadences")
        self._due: dict[str, float] = {}
        self._dirty_klines: set[str] = set()
        self.force_last: dict[str, float] = {}      # symbol -> monotonic time of the last push
        self.force_pending: dict[str, dict] = {}    # symbol -> latest throttled snapshot

    # ------------------------------------------------------- subscriptions
    def canonical(self, name: str) -> Optional[str]:
        parts = _split_stream(name)
        if parts is None:
            return None
        sym, kind = parts
        if sym and sym not in self.gw.formats:
            return None
        if not self._valid_kind(kind) and sym:
            return None
        if kind.startswith("continuousKline_"):
            return sym.lower() + "_perpetual@" + kind
        return (sym.lower() + "@" + kind) if sym else kind

    @staticmethod
    def _valid_kind(kind: str) -> bool:
        if kind in ("aggTrade", "trade", "bookTicker", "markPrice", "markPrice@1s", "forceOrder", "ticker",
                    "miniTicker"):
            return True
        if kind.startswith("kline_"):
            return kind[6:] in INTERVAL_MS
        if kind.startswith("continuousKline_"):
            return kind[16:] in INTERVAL_MS
        if kind == "depth" + REALTIME:
            return True
        if kind.startswith("depth"):
            rest = kind[5:]
            for n in ("20", "10", "5"):
                if rest.startswith(n):
                    rest = rest[len(n):]
                    break
            return rest in SPEEDS
        return False

    def subscribe(self, conn: Conn, name: str) -> None:
        canon = self.canonical(name)
        if canon is None:       # callers refuse unknown names first (INVALID_STREAM)
            return
        conn.streams[canon] = None
        s = self.subs.get(canon)
        if s is None:
            s = self.subs[canon] = set()
            self._activate(canon)
        s.add(conn)

    def unsubscribe(self, conn: Conn, name: str) -> None:
        canon = self.canonical(name) or name
        conn.streams.pop(canon, None)
        conn.streams.pop(name, None)
        s = self.subs.get(canon)
        if s is not None:
            s.discard(conn)
            if not s:
                del self.subs[canon]
                self._deactivate(canon)

    def _activate(self, canon: str) -> None:
        sym, _, kind = canon.partition("@")
        if kind == "depth" + REALTIME:
            self.realtime_pu[sym.upper()] = self.gw.projection.markets[sym.upper()].update_id
            return
        if kind.startswith("depth") and kind[5:] in SPEEDS:
            key = (sym.upper(), kind[5:])
            if key not in self.diffs:
                self.diffs[key] = DiffAcc(self.gw.projection.markets[sym.upper()].update_id)

    def _deactivate(self, canon: str) -> None:
        sym, _, kind = canon.partition("@")
        if kind == "depth" + REALTIME:
            self.realtime_pu.pop(sym.upper(), None)
            return
        if kind.startswith("depth") and kind[5:] in SPEEDS:
            self.diffs.pop((sym.upper(), kind[5:]), None)

    def drop(self, conn: Conn) -> None:
        for name in list(conn.streams):
            self.unsubscribe(conn, name)
        for key in list(conn.listen_keys):
            self.gw.users.detach(conn, key)
        self.conns.discard(conn)

    def has(self, name: str) -> bool:
        return name in self.subs

    # ------------------------------------------------------------ publish
    def publish(self, name: str, payload) -> None:
        conns = self.subs.get(name)
        if not conns:
            return
        raw = orjson.dumps(payload)
        combined = None
        for c in conns:
            if c.combined:
                if combined is None:
                    combined = b'{"stream":"' + name.encode() + b'","data":' + raw + b"}"
                c.send(combined)
            else:
                c.send(raw)
        self.messages_sent += len(conns)

    def on_executed(self, seq: int, ts: int, command, events: list, changes) -> None:
        if not self.subs:
            return
        gw = self.gw
        now = ts
        for ev in events:
            if type(ev) is OrderFilled and not ev.is_maker:
                sym_l = ev.symbol.lower()
                name = sym_l + "@trade"
                if name in self.subs:
                    f = gw.formats[ev.symbol]
                    self.publish(name, {"e": "trade", "E": now, "T": ts, "s": ev.symbol, "t": ev.trade_id,
                                        "p": f.price(ev.price), "q": f.qty(ev.qty), "X": "MARKET",
                                        "m": ev.side == C.SELL})
                self._dirty_klines.add(ev.symbol)
        if gw.projection.new_force:
            self._force_orders(gw.projection.new_force, ts)
        for sym, rec in gw.projection.new_aggs:
            name = sym.lower() + "@aggTrade"
            if name in self.subs:
                f = gw.formats[sym]
                self.publish(name, {"e": "aggTrade", "E": now, "s": sym, "a": rec[0], "p": f.price(rec[1]),
                                    "q": f.qty(rec[2]), "nq": f.qty(rec[2]), "f": rec[4], "l": rec[5],
                                    "T": rec[6], "m": rec[7]})
        if changes:
            realtime = self.realtime_pu
            for sym, levels in changes.items():
                if realtime and sym in realtime:
                    self._realtime_diff(sym, seq, ts, levels)
                for speed in SPEEDS:
                    acc = self.diffs.get((sym, speed))
                    if acc is None:
                        continue
                    if acc.U is None:
                        acc.U = seq
                    acc.u = seq
                    acc.T = ts
                    bids, asks = acc.bids, acc.asks
                    for side, price, qty in levels:
                        (bids if side == C.BUY else asks)[price] = qty
                bt = sym.lower() + "@bookTicker"
                if bt in self.subs or "!bookTicker" in self.subs:
                    self._book_ticker(sym, ts, bt)

    def _realtime_diff(self, sym: str, seq: int, ts: int, levels) -> None:
        """``<s>@depth@0ms``: this command's level changes, at once (``U == u`` = seq)."""
        f = self.gw.formats[sym]
        price, qty = f.price, f.qty
        bids: dict = {}
        asks: dict = {}
        for side, p, q in levels:
            (bids if side == C.BUY else asks)[p] = q
        self.publish(sym.lower() + "@depth" + REALTIME, {
            "e": "depthUpdate", "E": ts, "T": ts, "s": sym, "U": seq, "u": seq, "pu": self.realtime_pu[sym],
            "b": [[price(p), qty(q)] for p, q in sorted(bids.items(), reverse=True)],
            "a": [[price(p), qty(q)] for p, q in sorted(asks.items())]})
        self.realtime_pu[sym] = seq

    def _force_orders(self, recs: list, ts: int) -> None:
        mono = time.monotonic()
        latest: dict = {}
        for rec in recs:
            latest[rec["symbol"]] = rec
        for sym, rec in latest.items():
            f = self.gw.formats[sym]
            done = rec["filled"] + rec["closed_out"]
            quote = rec["cum_quote"] + rec["closed_quote"]
            payload = {"e": "forceOrder", "E": ts, "o": {
                "s": sym, "S": C.SIDE_NAMES[rec["side"]], "o": "LIMIT", "f": "IOC", "q": f.qty(rec["qty"]),
                "p": f.price(rec["price"]), "ap": f.avg(quote, done),
                "X": C.ORDER_STATUS_NAMES.get(rec["status"], "FILLED"), "l": f.qty(done), "z": f.qty(done),
                "T": ts}}
            if mono - self.force_last.get(sym, -10.0) >= 1.0:
                self._push_force(sym, payload, mono)
            else:
                self.force_pending[sym] = payload

    def _push_force(self, sym: str, payload: dict, mono: float) -> None:
        self.force_last[sym] = mono
        self.publish(sym.lower() + "@forceOrder", payload)
        self.publish("!forceOrder@arr", payload)

    def _book_ticker(self, sym: str, ts: int, name: str) -> None:
        book = self.gw.projection.markets[sym].book
        b = book.depth(0, 1)
        a = book.depth(1, 1)
        best = (b[0] if b else (0, 0), a[0] if a else (0, 0))
        if self.best.get(sym) == best:
            return
        self.best[sym] = best
        f = self.gw.formats[sym]
        payload = {"e": "bookTicker", "u": self.gw.projection.markets[sym].update_id, "E": ts, "T": ts,
                   "s": sym, "b": f.price(best[0][0]), "B": f.qty(best[0][1]), "a": f.price(best[1][0]),
                   "A": f.qty(best[1][1])}
        self.publish(name, payload)
        self.publish("!bookTicker", payload)

    # -------------------------------------------------------------- timers
    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    def _is_due(self, key: str, period_s: float, now: float) -> bool:
        due = self._due.get(key, 0.0)
        if now >= due:
            self._due[key] = (due + period_s) if now - due < period_s else now + period_s
            return True
        return False

    async def _ticker(self) -> None:
        # cadences run on real time, not venue time: a virtual clock advanced by hours
        # must not replay one markPrice push per venue second
        while True:
            await asyncio.sleep(TICK_S)
            if not self.subs:
                continue
            try:
                self.tick(time.monotonic())
            except Exception:
                log.exception("stream tick failed")

    def tick(self, mono: float) -> None:
        gw = self.gw
        now = gw.now()
        for speed, ms in SPEEDS.items():
            if not self._is_due("depth" + speed, ms / 1000.0, mono):
                continue
            for (sym, sp), acc in list(self.diffs.items()):
                if sp != speed or acc.U is None:
                    continue
                f = gw.formats[sym]
                price, qty = f.price, f.qty
                self.publish(sym.lower() + "@depth" + speed, {
                    "e": "depthUpdate", "E": now, "T": acc.T, "s": sym, "U": acc.U, "u": acc.u, "pu": acc.pu,
                    "b": [[price(p), qty(q)] for p, q in sorted(acc.bids.items(), reverse=True)],
                    "a": [[price(p), qty(q)] for p, q in sorted(acc.asks.items())]})
                acc.pu = acc.u
                acc.U = None
                acc.bids = {}
                acc.asks = {}
            self._partials(speed, now)
        if self.force_pending:
            for sym in list(self.force_pending):
                if mono - self.force_last.get(sym, -10.0) >= 1.0:
                    self._push_force(sym, self.force_pending.pop(sym), mono)
        if self._is_due("mark1s", 1.0, mono):
            self._marks("@1s", now)
        if self._is_due("mark3s", 3.0, mono):
            self._marks("", now)
        if self._is_due("kline", 0.25, mono):
            self._klines(now)
        if self._is_due("ticker", 1.0, mono):
            self._tickers(now)

    def _partials(self, speed: str, now: int) -> None:
        for sym, f in self.gw.formats.items():
            sym_l = sym.lower()
            names = [(n, f"{sym_l}@depth{n}{speed}") for n in PARTIAL_LEVELS]
            names = [(n, name) for n, name in names if name in self.subs]
            if not names:
                continue
            m = self.gw.projection.markets[sym]
            last = self.partial_sent.get((sym, speed), m.update_id)
            book = m.book
            price, qty = f.price, f.qty
            for n, name in names:
                self.publish(name, {"e": "depthUpdate", "E": now, "T": now, "s": sym, "U": last + 1 if last < m.update_id else m.update_id,
                                    "u": m.update_id, "pu": last,
                                    "b": [[price(p), qty(q)] for p, q in book.depth(0, n)],
                                    "a": [[price(p), qty(q)] for p, q in book.depth(1, n)]})
            self.partial_sent[(sym, speed)] = m.update_id

    def _marks(self, suffix: str, now: int) -> None:
        arr_name = "!markPrice@arr" + suffix
        want_arr = arr_name in self.subs
        arr = []
        for sym in self.gw.formats:
            name = sym.lower() + "@markPrice" + suffix
            if name not in self.subs and not want_arr:
                continue
            payload = mark_price_update(self.gw, sym, now)
            self.publish(name, payload)
            arr.append(payload)
        if want_arr and arr:
            self.publish(arr_name, arr)

    def _klines(self, now: int) -> None:
        dirty, self._dirty_klines = self._dirty_klines, set()
        for sym in dirty:
            sym_l = sym.lower()
            f = self.gw.formats[sym]
            for iv, ms in INTERVAL_MS.items():
                name = f"{sym_l}@kline_{iv}"
                cname = f"{sym_l}_perpetual@continuousKline_{iv}"
                if name not in self.subs and cname not in self.subs:
                    continue
                rows = self.gw.projection.klines(sym, ms, None, None, 1, month=iv == "1M")
                if not rows:
                    continue
                k = rows[-1]
                body = {"t": k[0], "T": k[6], "i": iv, "f": -1, "L": -1, "o": f.price(k[1]),
                        "c": f.price(k[4]), "h": f.price(k[2]), "l": f.price(k[3]), "v": f.qty(k[5]), "n": k[8],
                        "x": False, "q": money(k[7]), "V": f.qty(k[9]), "Q": money(k[10]), "B": "0"}
                if name in self.subs:
                    self.publish(name, {"e": "kline", "E": now, "s": sym, "k": {"s": sym, **body}})
                if cname in self.subs:
                    self.publish(cname, {"e": "continuous_kline", "E": now, "ps": sym, "ct": "PERPETUAL",
                                         "k": body})

    def _tickers(self, now: int) -> None:
        from exchange.gateway.market_views import ticker24
        full_arr = "!ticker@arr" in self.subs
        mini_arr = "!miniTicker@arr" in self.subs
        fulls, minis = [], []
        for sym in self.gw.formats:
            sym_l = sym.lower()
            tn, mn = sym_l + "@ticker", sym_l + "@miniTicker"
            if not (full_arr or mini_arr or tn in self.subs or mn in self.subs):
                continue
            t = ticker24(self.gw, sym, now)
            full = {"e": "24hrTicker", "E": now, "s": sym, "p": t["priceChange"], "P": t["priceChangePercent"],
                    "w": t["weightedAvgPrice"], "c": t["lastPrice"], "Q": t["lastQty"], "o": t["openPrice"],
                    "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"],
                    "O": t["openTime"], "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]}
            mini = {"e": "24hrMiniTicker", "E": now, "s": sym, "c": t["lastPrice"], "o": t["openPrice"],
                    "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"]}
            self.publish(tn, full)
            self.publish(mn, mini)
            fulls.append(full)
            minis.append(mini)
        if full_arr and fulls:
            self.publish("!ticker@arr", fulls)
        if mini_arr and minis:
            self.publish("!miniTicker@arr", minis)

    async def close_all(self) -> None:
        conns = list(self.conns)
        for c in conns:
            c.closing = True
        await asyncio.gather(*(_safe_close(c.ws, 1001, b"server shutdown") for c in conns),
                             return_exceptions=True)

    # ------------------------------------------------------------ handler
    async def serve(self, request: web.Request, combined: bool, path_streams: list[str],
                    listen_keys: list[str]) -> web.WebSocketResponse:
        users = self.gw.users
        for name in path_streams:
            # names shaped like streams only: a listenKey or ccxt.pro's pool index ("0") is no stream
            if ("@" in name or name.startswith("!")) and self.canonical(name) is None:
                # a stream paperex does not serve: Binance's error, before the upgrade
                return web.json_response({"error": INVALID_STREAM, "id": None}, status=400)
        # pings are ours (aiohttp's heartbeat pings only an idle socket and waits heartbeat/2)
        ws = web.WebSocketResponse(autoping=False, compress=False)
        await ws.prepare(request)
        conn = Conn(self, ws, combined, self.queue_limit)
        conn.path = request.path
        loop = asyncio.get_running_loop()
        if self.gw.faults is not None:
            self.gw.faults.attach_ws(conn)
        self.conns.add(conn)
        for name in path_streams:
            if users.attach(conn, name):
                continue
            if self.canonical(name) is not None:
                self.subscribe(conn, name)
        for key in listen_keys:
            users.attach(conn, key)
        conn.writer = loop.create_task(conn.run_writer())
        lifetime = loop.call_later(self.max_lifetime_s, conn.kill, 1000, b"24 hour connection limit")
        conn.last_pong = loop.time()
        conn.next_ping = conn.last_pong + self.ping_interval_s
        conn.keepalive = loop.call_at(conn.next_ping, self._keepalive, conn)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    if self._rate_exceeded(conn):
                        conn.kill(1008, b"too many messages")
                        break
                    reply = self.control(conn, msg.data)
                    if reply is not None:
                        conn.send(orjson.dumps(reply))
                elif msg.type == WSMsgType.PONG:
                    conn.last_pong = loop.time()
                elif msg.type == WSMsgType.PING:
                    try:
                        await ws.pong(msg.data)
                    except Exception:       # the socket went away
                        break
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE, WSMsgType.CLOSING):
                    break
        finally:
            lifetime.cancel()
            if conn.keepalive is not None:
                conn.keepalive.cancel()
            if conn.pinger is not None:
                conn.pinger.cancel()
            self.drop(conn)
            conn.closing = True
            if conn.writer is not None:
                conn.writer.cancel()
            if conn.killer is not None:
                try:
                    await conn.killer
                except Exception:
                    pass
        return ws

    def _keepalive(self, conn: Conn) -> None:
        """Ping on the interval; close the socket when no pong came within the timeout."""
        conn.keepalive = None
        if conn.closing:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = conn.last_pong + self.pong_timeout_s
        if now >= deadline:
            self.pong_timeouts += 1
            conn.kill(1008, PONG_TIMEOUT_REASON)
            return
        if now >= conn.next_ping:
            conn.next_ping = now + self.ping_interval_s
            if conn.pinger is None or conn.pinger.done():   # a stuck socket gets no ping pile-up
                conn.pinger = loop.create_task(_ping(conn.ws))
        conn.keepalive = loop.call_at(min(conn.next_ping, deadline), self._keepalive, conn)

    @staticmethod
    def _rate_exceeded(conn: Conn) -> bool:
        sec = int(time.monotonic())
        if sec != conn.msg_window:
            conn.msg_window, conn.msg_count = sec, 0
        conn.msg_count += 1
        return conn.msg_count > MAX_MSGS_PER_S

    def control(self, conn: Conn, text: str):
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            return {"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}, "id": None}
        if not isinstance(msg, dict):
            return {"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}, "id": None}
        mid = msg.get("id")
        if mid is not None and (isinstance(mid, bool) or not isinstance(mid, int) or mid < 0):
            if not (isinstance(mid, str) and mid):
                return {"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"},
                        "id": None}
        method = msg.get("method")
        params = msg.get("params")
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                return {"error": {"code": 2, "msg": "Invalid request: missing field `params` at line 1 column 28"},
                        "id": mid}
            users = self.gw.users
            if method == "SUBSCRIBE":
                for name in params:
                    if self.canonical(name) is None and users._valid(name) is None:
                        return {"error": INVALID_STREAM, "id": mid}
            for name in params:
                if method == "SUBSCRIBE":
                    if users.attach(conn, name):
                        continue
                    if len(conn.streams) >= MAX_STREAMS:
                        return {"error": {"code": 2, "msg": "Invalid request: too many streams"}, "id": mid}
                    self.subscribe(conn, name)
                else:
                    if name in conn.listen_keys:
                        users.detach(conn, name)
                    else:
                        self.unsubscribe(conn, name)
            return {"result": None, "id": mid}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": list(conn.streams) + list(conn.listen_keys), "id": mid}
        if method == "SET_PROPERTY":
            if not isinstance(params, list) or len(params) != 2 or params[0] != "combined":
                return {"error": {"code": 0, "msg": "Unknown property"}, "id": mid}
            if not isinstance(params[1], bool):
                return {"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": mid}
            conn.combined = params[1]
            return {"result": None, "id": mid}
        if method == "GET_PROPERTY":
            if not isinstance(params, list) or params != ["combined"]:
                return {"error": {"code": 0, "msg": "Unknown property"}, "id": mid}
            return {"result": conn.combined, "id": mid}
        return {"error": {"code": 2, "msg": f"Invalid request: unknown variant `{method}`, expected one of "
                          "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` "
                          "at line 1 column 28"}, "id": mid}


async def _ping(ws: web.WebSocketResponse) -> None:
    try:
        await ws.ping(b"")
    except Exception:       # closing or gone: the reader loop notices
        pass


async def _safe_close(ws: web.WebSocketResponse, code: int, msg: bytes) -> None:
    try:
        await asyncio.wait_for(ws.close(code=code, message=msg), 3.0)
    except Exception:
        pass


def add_routes(app: web.Application, gw) -> None:
    from exchange.gateway.answers import guarded        # errors answered as Binance JSON
    hub: StreamHub = gw.hub

    async def raw_ws(request: web.Request):
        tail = request.match_info.get("tail", "")
        names = [s for s in tail.split("/") if s]
        keys = request.query.getall("listenKey", [])
        return await hub.serve(request, False, names, keys)

    async def combined_ws(request: web.Request):
        streams = request.query.get("streams", "")
        names = [s for s in streams.split("/") if s]
        keys = request.query.getall("listenKey", [])
        return await hub.serve(request, True, names, keys)

    raw_ws, combined_ws = guarded(raw_ws), guarded(combined_ws)
    for prefix in ("", "/public", "/market", "/private"):
        app.router.add_get(prefix + "/ws", raw_ws)
        app.router.add_get(prefix + "/ws/{tail:.*}", raw_ws)
        app.router.add_get(prefix + "/stream", combined_ws)


__all__ = ["StreamHub", "Conn", "add_routes", "MINUTE"]
