"""paperex load test: ``locust -f clients/load/locustfile.py --host http://127.0.0.1:8800``.

Four users, each what a Binance bot does (spec §2-§10), mixed by ``--*-weight``:

* ``MarketMaker`` - its own funded account (control API), one bid and one ask per symbol,
  re-priced around the mid by ``PUT /fapi/v1/order`` (cancel-replace, 0 IP weight) and now and
  then cancelled (``DELETE``) and re-placed; signed REST at ``--mm-rate`` order requests/s,
  within Binance's per-account order limits (300/10 s, 1,200/min) unless ``--no-order-limits``.
* ``Taker`` - its own account; MARKET and LIMIT IOC orders (``--taker-ioc-share``) at
  ``--taker-rate``, sides alternating so the position stays small; every
  ``--taker-reads-every`` orders ``positionRisk`` and ``balance``.
* ``MarketDataSubscriber`` - websockets ``<symbol>@depth@100ms``, ``@aggTrade``,
  ``@bookTicker`` (``--md-streams``); each message's lag (receipt - event time E) is a Locust
  ``WS`` entry, e.g. ``depth@100ms lag``.
* ``UserStreamListener`` - its own account and listenKey; places, modifies and cancels one
  order (``--us-rate``) and reports, per ORDER_TRADE_UPDATE, the time from the REST
  acknowledgement to the update (``WS ack->ORDER_TRADE_UPDATE``); an update missing after
  ``--us-update-timeout`` s is a failure.

Invariants at test stop (see ``clients.load.ledger``): every acknowledged order is looked
up on the exchange (``acked_missing`` must be 0); with ``--paperex-serve`` the run starts
its own ``paperex serve`` and at the end stops it and runs ``paperex replay --verify`` on its
journal. Any loss or divergence sets Locust's exit code to 1. The last line on stdout is one
JSON object: ``{"acknowledged": N, "acked_missing": 0, ...}``.

Distributed (``--processes N``, ``--master`` / ``--worker``): workers send their
acknowledgements to the master with Locust messages; the master checks.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import random
import re
import sys
import time
from decimal import Decimal
from typing import Any, Optional

try:
    import clients.signing  # noqa: F401  (installed: pip install paperex[test])
except ImportError:   # a clone run as `locust -f clients/load/locustfile.py` without an install
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser, User, constant, constant_throughput, events, task
from locust.stats import StatsEntry
from locust.runners import STATE_MISSING, STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from clients.load import sockets
from clients.load.ledger import Ledger, check_acks
from clients.load.localserver import LocalServer
from clients.load.wire import OrderBudget, Rest, WeightBudget, instruments_from, rate_limits_from

log = logging.getLogger("paperex.load")
DEFAULT_INDEX = {"BTCUSDT": "60000", "ETHUSDT": "3000"}   # for a server without a market (--flow none)
OPEN = ("NEW", "PARTIALLY_FILLED")
_EVENT_TIME = re.compile(r'"E":\s*(\d+)')                # a combined-stream message's event time
_STREAM_KIND = re.compile(r'"stream":\s*"[^@"]*@([^"]+)"')  # btcusdt@depth@100ms -> depth@100ms


# ================================================================ command line

@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser.add_argument_group("paperex")
    g.add_argument("--paperex-serve", action="store_true", default=False,
                   help="start a local `paperex serve` (fresh journal) for this run; at the end stop it and "
                        "run `paperex replay --verify` on its journal")
    g.add_argument("--paperex-flow", choices=("synthetic", "none"), default="synthetic",
                   help="market of the server --paperex-serve starts")
    g.add_argument("--paperex-data-dir", default="",
                   help="data dir of the running server: orders it no longer lists are looked up in its journal")
    g.add_argument("--paperex-admin-token", default="", help="control API token of a non-loopback server")
    g.add_argument("--symbols", default="BTCUSDT,ETHUSDT", help="symbols traded and subscribed")
    g.add_argument("--balance", default="1000000", help="USDT each trading user's account is funded with")
    g.add_argument("--mm-weight", type=int, default=3, help="share of MarketMaker users")
    g.add_argument("--taker-weight", type=int, default=2, help="share of Taker users")
    g.add_argument("--md-weight", type=int, default=1, help="share of MarketDataSubscriber users")
    g.add_argument("--us-weight", type=int, default=1, help="share of UserStreamListener users")
    g.add_argument("--mm-rate", type=float, default=2.0, help="order requests/s of each market maker")
    g.add_argument("--mm-cancel-share", type=float, default=0.2,
                   help="share of a market maker's re-quotes done as DELETE + new order (else PUT)")
    g.add_argument("--mm-spread-bps", type=float, default=10.0, help="half-spread of the quotes, basis points")
    g.add_argument("--taker-rate", type=float, default=1.0, help="orders/s of each taker")
    g.add_argument("--taker-ioc-share", type=float, default=0.5, help="share of LIMIT IOC (else MARKET)")
    g.add_argument("--taker-reads-every", type=int, default=20,
                   help="a taker reads positionRisk and balance every N orders")
    g.add_argument("--us-rate", type=float, default=0.5, help="order requests/s of each user-stream listener")
    g.add_argument("--us-update-timeout", type=float, default=10.0,
                   help="seconds after an ack without its ORDER_TRADE_UPDATE before that is a failure")
    g.add_argument("--md-streams", default="depth@100ms,aggTrade,bookTicker",
                   help="streams of each market-data subscriber, per symbol")
    g.add_argument("--ip-weight-share", type=float, default=0.7,
                   help="share of the IP's request-weight limit the users may spend (the rest is left "
                        "for the stop-time check)")
    g.add_argument("--no-order-limits", action="store_true", default=False,
                   help="do not keep to Binance's per-account order limits (for a server with limits off)")
    g.add_argument("--shape-users", type=int, default=100, help="ramp/step shapes: users at the top")
    g.add_argument("--shape-spawn-rate", type=float, default=20.0, help="ramp/step shapes: users started per s")
    g.add_argument("--shape-ramp-s", type=float, default=60.0, help="ramp shape: seconds from 0 to the top")
    g.add_argument("--shape-hold-s", type=float, default=20.0, help="ramp shape: seconds held at the top")
    g.add_argument("--shape-step-users", type=int, default=10, help="step shape: users added per step")
    g.add_argument("--shape-step-s", type=float, default=20.0, help="step shape: seconds per step")


# ================================================================ per-process state

class Process:
    """What the users of one Locust process share: the IP weight budget, the instruments,
    mid prices, the acknowledged-order ledger."""

    def __init__(self) -> None:
        self.weights = WeightBudget()
        self.limits = {"weight_1m": 2400, "orders_10s": 300, "orders_1m": 1200}
        self.instruments: dict = {}
        self.mids: Optional[sockets.MidFeed] = None
        self.ledger = Ledger()
        self._lock = Semaphore()
        self._ready = False
        self._seq = itertools.count()
        self.server: Optional[LocalServer] = None
        self.result: dict = {}
        self.bad = False

    def prepare(self, user: FastHttpUser) -> None:
        """Once per process: exchangeInfo (filters, rate limits) and the mid-price feed."""
        with self._lock:
            if self._ready:
                return
            o = user.environment.parsed_options
            rest = Rest(user.client, weights=self.weights)
            r = rest.call("GET", "/fapi/v1/exchangeInfo")
            if not r.ok:
                raise RuntimeError(f"exchangeInfo failed: {r.data}")
            wanted = [s.strip().upper() for s in o.symbols.split(",") if s.strip()]
            self.instruments = instruments_from(r.data, wanted)
            if not self.instruments:
                raise RuntimeError(f"none of {wanted} is listed by {user.host}")
            self.limits = rate_limits_from(r.data)
            self.weights.limit = self.limits["weight_1m"]
            self.mids = sockets.MidFeed(user.host, list(self.instruments))
            self.mids.start()
            for sym in self.instruments:
                if self.mids.wait(sym, 2.0) <= 0:
                    self._seed_mid(rest, sym, o.paperex_admin_token)
            self._ready = True

    def _seed_mid(self, rest: Rest, sym: str, token: str) -> None:
        """No book yet: the mark price, or (a server without a market) an index price set
        through the control API."""
        self.weights.wait_for(1)
        r = rest.call("GET", "/fapi/v1/premiumIndex", {"symbol": sym})
        mark = float(r.data.get("markPrice") or 0) if r.ok else 0.0
        if mark <= 0:
            c = rest.control("/index", {"symbol": sym, "price": DEFAULT_INDEX.get(sym, "1000")}, token=token or None)
            mark = float(c.data.get("markPrice") or 0) if c.ok else 0.0
        if mark > 0:
            self.mids.mids.setdefault(sym, mark)

    def mid(self, sym: str) -> float:
        return self.mids.mids.get(sym, 0.0) if self.mids else 0.0

    def next_symbol(self) -> str:
        syms = sorted(self.instruments)
        return syms[next(self._seq) % len(syms)]


PROC = Process()


# ================================================================ users

class _Trader(FastHttpUser):
    """A user with its own funded account (``POST /paperex/v1/accounts``)."""
    abstract = True
    rate_option = ""

    def on_start(self) -> None:
        o = self.environment.parsed_options
        PROC.prepare(self)
        self.opts = o
        self.rng = random.Random()
        self.symbol = PROC.next_symbol()
        self.inst = PROC.instruments[self.symbol]
        boot = Rest(self.client)
        r = boot.control("/accounts", {"balance": o.balance, "label": type(self).__name__},
                         token=o.paperex_admin_token or None, name="/paperex/v1/accounts (control)")
        if not r.ok:
            raise RuntimeError(f"account not created: {r.data}")
        self.account_id = int(r.data["accountId"])
        PROC.ledger.account(self.account_id, r.data["apiKey"], r.data["secretKey"])
        budget = OrderBudget(PROC.limits["orders_10s"], PROC.limits["orders_1m"], enabled=not o.no_order_limits)
        self.rest = Rest(self.client, api_key=r.data["apiKey"], secret=r.data["secretKey"], weights=PROC.weights,
                         orders=budget)
        self._pace = constant_throughput(getattr(o, self.rate_option))

    def wait_time(self) -> float:
        return self._pace(self)

    def _spend(self, cost: int) -> bool:
        return PROC.weights.spend(cost, self.opts.ip_weight_share)

    def _order(self, params: dict, name: str) -> Optional[dict]:
        """``POST /fapi/v1/order`` within the account's order budget; an ack goes to the ledger."""
        self.rest.orders.acquire()
        r = self.rest.call("POST", "/fapi/v1/order", {"symbol": self.symbol, **params}, signed=True, name=name)
        if not r.ok:
            return None
        PROC.ledger.ack(self.account_id, self.symbol, int(r.data["orderId"]))
        return r.data


class MarketMaker(_Trader):
    weight = 3
    rate_option = "mm_rate"

    def on_start(self) -> None:
        super().on_start()
        self.quotes: dict[str, dict] = {}        # side -> {"id", "price", "qty"}

    def _price(self, side: str, mid: float) -> str:
        half = self.opts.mm_spread_bps / 10_000 * (1 + self.rng.random())
        return self.inst.price(mid * (1 - half), up=False) if side == "BUY" else self.inst.price(mid * (1 + half), up=True)

    @task
    def quote(self) -> None:
        mid = PROC.mid(self.symbol)
        if mid <= 0:
            return
        for side in ("BUY", "SELL"):
            if side not in self.quotes:
                self._place(side, mid)
                return
        side = self.rng.choice(("BUY", "SELL"))
        if self.rng.random() < self.opts.mm_cancel_share and self._spend(1):
            self._cancel(side)
        else:
            self._replace(side, mid)

    def _place(self, side: str, mid: float) -> None:
        price, qty = self._price(side, mid), self.inst.qty(mid)
        out = self._order({"side": side, "type": "LIMIT", "timeInForce": "GTC", "quantity": qty, "price": price,
                           "newOrderRespType": "ACK"}, "/fapi/v1/order LIMIT GTC (quote)")
        if out is not None:
            self.quotes[side] = {"id": int(out["orderId"]), "price": price, "qty": qty}

    def _replace(self, side: str, mid: float) -> None:
        q = self.quotes[side]
        price = self._price(side, mid)
        self.rest.orders.acquire()
        r = self.rest.call("PUT", "/fapi/v1/order", {"symbol": self.symbol, "orderId": q["id"], "side": side,
                                                     "quantity": q["qty"], "price": price},
                           signed=True, name="/fapi/v1/order (re-quote)", expect=(-2013, -5027))
        if r.ok and r.data.get("status") in OPEN:
            q["price"] = price
        elif r.ok or r.code == -2013:           # filled (before or by the modify): quote again
            del self.quotes[side]

    def _cancel(self, side: str) -> None:
        q = self.quotes.pop(side)
        self.rest.call("DELETE", "/fapi/v1/order", {"symbol": self.symbol, "orderId": q["id"]}, signed=True,
                       name="/fapi/v1/order (pull quote)", expect=(-2011,))


class Taker(_Trader):
    weight = 2
    rate_option = "taker_rate"

    def on_start(self) -> None:
        super().on_start()
        self.side = self.rng.choice(("BUY", "SELL"))
        self.n = 0

    @task
    def take(self) -> None:
        mid = PROC.mid(self.symbol)
        if mid <= 0:
            return
        self.side = "SELL" if self.side == "BUY" else "BUY"       # alternate: the position stays small
        qty = self.inst.qty(mid)
        if self.rng.random() < self.opts.taker_ioc_share:
            px = self.inst.price(mid * 1.005, up=True) if self.side == "BUY" else self.inst.price(mid * 0.995)
            self._order({"side": self.side, "type": "LIMIT", "timeInForce": "IOC", "quantity": qty, "price": px,
                         "newOrderRespType": "RESULT"}, "/fapi/v1/order LIMIT IOC")
        else:
            self._order({"side": self.side, "type": "MARKET", "quantity": qty, "newOrderRespType": "RESULT"},
                        "/fapi/v1/order MARKET")
        self.n += 1
        if self.n % max(1, self.opts.taker_reads_every) == 0:
            if self._spend(5):
                self.rest.call("GET", "/fapi/v3/positionRisk", {"symbol": self.symbol}, signed=True)
            if self._spend(5):
                self.rest.call("GET", "/fapi/v3/balance", signed=True)


class UserStreamListener(_Trader):
    weight = 1
    rate_option = "us_rate"
    LAG = "ack->ORDER_TRADE_UPDATE"

    def on_start(self) -> None:
        self.reader: Optional[gevent.Greenlet] = None
        self.ws = None
        super().on_start()
        self.open: Optional[dict] = None
        self.pending: dict[tuple[int, str], float] = {}     # (orderId, execution type) -> ack time
        self.early: dict[tuple[int, str], float] = {}       # update seen before its ack -> receipt time
        PROC.weights.wait_for(1)
        r = self.rest.call("POST", "/fapi/v1/listenKey", api_key=True)
        if not r.ok:
            raise RuntimeError(f"listenKey: {r.data}")
        self.listen_key, self.key_time = r.data["listenKey"], time.time()
        url = f"{sockets.ws_base(self.host)}/private/ws?listenKey={self.listen_key}"
        t0 = time.time()
        try:
            self.ws = sockets.connect(url)
        except Exception as exc:  # noqa: BLE001 - a failed connect is a Locust failure
            sockets.fire(self.environment, "connect /private/ws", (time.time() - t0) * 1000, exc=exc)
            raise
        sockets.fire(self.environment, "connect /private/ws", (time.time() - t0) * 1000)
        self.reader = gevent.spawn(self._read)

    def on_stop(self) -> None:
        if self.reader is not None:
            self.reader.kill(block=True)
        if self.ws is not None:
            self.ws.close()

    def _read(self) -> None:
        while True:
            raw = self.ws.recv()
            now = time.time()
            if not raw:         # closed
                return
            gevent.sleep(0)     # see MarketDataSubscriber._read
            ev = json.loads(raw)
            if not isinstance(ev, dict) or ev.get("e") != "ORDER_TRADE_UPDATE":
                continue
            o = ev.get("o") or {}
            oid, x = int(o.get("i", 0)), o.get("x")
            if o.get("X") in ("FILLED", "EXPIRED"):     # closed by the market: no further update will come
                for k in [k for k in self.pending if k[0] == oid]:
                    del self.pending[k]
                if self.open is not None and self.open["id"] == oid:
                    self.open = None
            key = (oid, x)
            acked = self.pending.pop(key, None)
            if acked is not None:
                sockets.fire(self.environment, self.LAG, (now - acked) * 1000, len(raw))
            elif x in ("NEW", "AMENDMENT", "CANCELED"):
                self.early[key] = now

    def _acked(self, oid: int, x: str) -> None:
        now = time.time()
        seen = self.early.pop((oid, x), None)
        if seen is not None:     # the update beat the REST reply: lag 0, and how much earlier it was
            sockets.fire(self.environment, self.LAG, 0.0)
            sockets.fire(self.environment, "ORDER_TRADE_UPDATE before ack (ms earlier)", (now - seen) * 1000)
        else:
            self.pending[(oid, x)] = now

    @task
    def cycle(self) -> None:
        now = time.time()
        if self.reader is not None and self.reader.dead:
            sockets.fire(self.environment, "user stream closed by the server", 0,
                         exc=self.reader.exception or RuntimeError("the server closed the user stream"))
            self.reader = None
        for key, t in list(self.pending.items()):
            if now - t > self.opts.us_update_timeout:
                del self.pending[key]
                sockets.fire(self.environment, self.LAG, (now - t) * 1000,
                             exc=RuntimeError(f"no ORDER_TRADE_UPDATE {key[1]} for order {key[0]} "
                                              f"within {self.opts.us_update_timeout:g} s"))
        if now - self.key_time > 1800 and self._spend(1):     # keep the listenKey alive (60 min expiry)
            self.rest.call("PUT", "/fapi/v1/listenKey", api_key=True)
            self.key_time = now
        mid = PROC.mid(self.symbol)
        if mid <= 0:
            return
        px = self.inst.price(mid * (0.98 - 0.01 * self.rng.random()))   # a resting bid, inside PERCENT_PRICE
        if self.open is None:
            qty = self.inst.qty(mid)
            out = self._order({"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": qty, "price": px,
                               "newOrderRespType": "ACK"}, "/fapi/v1/order LIMIT GTC (listener)")
            if out is not None:
                self.open = {"id": int(out["orderId"]), "qty": qty}
                self._acked(self.open["id"], "NEW")
        elif self._spend(1):
            oid = self.open.pop("id")
            self.open = None
            r = self.rest.call("DELETE", "/fapi/v1/order", {"symbol": self.symbol, "orderId": oid}, signed=True,
                               name="/fapi/v1/order (listener)", expect=(-2011,))
            if r.ok:
                self._acked(oid, "CANCELED")
        else:
            self.rest.orders.acquire()
            oid = self.open["id"]
            r = self.rest.call("PUT", "/fapi/v1/order", {"symbol": self.symbol, "orderId": oid, "side": "BUY",
                                                         "quantity": self.open["qty"], "price": px},
                               signed=True, name="/fapi/v1/order (listener)", expect=(-2013, -5027))
            if r.ok and r.data.get("status") in OPEN:
                self._acked(oid, "AMENDMENT")
            elif r.code == -2013:
                self.open = None


class MarketDataSubscriber(User):
    """Market websockets only: every message's lag is a Locust ``WS`` entry."""
    weight = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        self.readers: list[gevent.Greenlet] = []
        self.sockets: list = []
        o = self.environment.parsed_options
        syms = [s.strip().lower() for s in o.symbols.split(",") if s.strip()]
        kinds = [k.strip() for k in o.md_streams.split(",") if k.strip()]
        for url in sockets.market_urls(self.host, [f"{s}@{k}" for s in syms for k in kinds]):
            t0 = time.time()
            route = url.split("/stream?", 1)[0].rsplit("/", 1)[1]
            try:
                ws = sockets.connect(url)
            except Exception as exc:  # noqa: BLE001 - a failed connect is a Locust failure
                sockets.fire(self.environment, f"connect /{route}/stream", (time.time() - t0) * 1000, exc=exc)
                raise
            sockets.fire(self.environment, f"connect /{route}/stream", (time.time() - t0) * 1000)
            self.sockets.append(ws)
            self.readers.append(gevent.spawn(self._read, ws))

    def _read(self, ws: Any) -> None:
        """Per message: the event time and the stream name by a regular expression, not a
        JSON parse (a depth message is kilobytes; 200 subscribers get thousands a second),
        then a cooperative yield - a socket that always has data never blocks, and without it
        one reader would starve every other greenlet of the process (timers included)."""
        env = self.environment
        while True:
            raw = ws.recv()
            now_ms = time.time() * 1000
            if not raw:         # closed
                return
            e, stream = _EVENT_TIME.search(raw), _STREAM_KIND.search(raw)
            if e is not None and stream is not None:
                sockets.fire(env, f"{stream.group(1)} lag", now_ms - int(e.group(1)), len(raw))
            gevent.sleep(0)

    @task
    def watch(self) -> None:
        """A reader that died (the server closed the socket) is a failure."""
        for i, g in enumerate(self.readers):
            if g is not None and g.dead:
                sockets.fire(self.environment, "stream closed by the server", 0,
                             exc=g.exception or RuntimeError("the server closed a market stream"))
                self.readers[i] = None

    def on_stop(self) -> None:
        for g in getattr(self, "readers", ()):
            if g is not None:
                g.kill(block=True)
        for ws in getattr(self, "sockets", ()):
            ws.close()


# ================================================================ invariants and the final line

def _weights_from_options(environment: Any) -> None:
    o = environment.parsed_options
    for cls, w in ((MarketMaker, o.mm_weight), (Taker, o.taker_weight), (MarketDataSubscriber, o.md_weight),
                   (UserStreamListener, o.us_weight)):
        cls.weight = w


@events.init.add_listener
def _init(environment: Any, **_kw: Any) -> None:
    o = environment.parsed_options
    if o is None:
        return
    _weights_from_options(environment)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        def flush(environment: Any, msg: Any, **_: Any) -> None:
            if runner.state in (STATE_RUNNING, STATE_SPAWNING):
                runner.stop()                  # fires test_stop, which sends the final message
            else:
                _send_final(environment)
        runner.register_message("paperex_flush", flush)
        return
    if isinstance(runner, MasterRunner):
        def final(environment: Any, msg: Any, **_: Any) -> None:
            PROC.ledger.merge(msg.node_id, msg.data)
            PROC.ledger.finals[msg.node_id] = int(msg.data.get("total", 0))
        runner.register_message("paperex_final", final)
    if o.paperex_serve:
        PROC.server = LocalServer(flow=o.paperex_flow)
        environment.host = o.host = PROC.server.start()
        log.info("paperex serve started on %s (journal %s)", PROC.server.url, PROC.server.data_dir)


@events.test_start.add_listener
def _test_start(environment: Any, **_kw: Any) -> None:
    _weights_from_options(environment)
    PROC.ledger.reset()


@events.report_to_master.add_listener
def _report(client_id: str, data: dict, **_kw: Any) -> None:
    payload = PROC.ledger.take()
    if payload["acks"] or payload["accounts"]:
        data["paperex"] = payload


@events.worker_report.add_listener
def _worker_report(client_id: str, data: dict, **_kw: Any) -> None:
    PROC.ledger.merge(client_id, data.get("paperex"))


def _send_final(environment: Any) -> None:
    payload = PROC.ledger.take()
    payload["total"] = PROC.ledger.total
    environment.runner.send_message("paperex_final", payload)


@events.test_stop.add_listener
def _test_stop(environment: Any, **_kw: Any) -> None:
    runner = environment.runner
    if PROC.mids is not None:
        PROC.mids.stop()
        PROC.mids, PROC._ready = None, False
    if isinstance(runner, WorkerRunner):
        _send_final(environment)
        return
    if isinstance(runner, MasterRunner):
        _collect_finals(runner)
    o = environment.parsed_options
    host = (environment.host or o.host or "").rstrip("/")
    try:
        res = check_acks(host, PROC.ledger.accounts, PROC.ledger.acks, weights=PROC.weights,
                         data_dir=(PROC.server.data_dir if PROC.server else o.paperex_data_dir) or None)
    except Exception as exc:  # noqa: BLE001 - an unchecked run is a failed run, said in the JSON line
        log.exception("the check of acknowledged orders failed")
        res = {"acknowledged": len(PROC.ledger.acks), "acked_missing": None, "check_errors": [repr(exc)]}
    if isinstance(runner, MasterRunner):
        res["workers_reported"] = len(PROC.ledger.finals)
        unreported = sum(max(0, t - PROC.ledger.received.get(n, 0)) for n, t in PROC.ledger.finals.items())
        res["acks_unreported"] = unreported
        if res["acks_unreported"]:
            PROC.bad = True
    if res["acked_missing"] is None or res["acked_missing"] or res["check_errors"]:
        PROC.bad = True
    PROC.result.update(res)
    log.info("acknowledged orders checked: %s", json.dumps(res))
    if PROC.bad:
        environment.process_exit_code = 1


def _collect_finals(runner: MasterRunner, timeout: float = 60.0) -> None:
    """Ask every worker that has not sent its final acknowledgements to stop and send them;
    wait for all of them (the master's message loop keeps running meanwhile)."""
    end = time.time() + timeout
    asked: set[str] = set()
    while time.time() < end:
        waiting = [c.id for c in runner.clients.all if c.id not in PROC.ledger.finals and c.state != STATE_MISSING]
        if not waiting:
            return
        for cid in waiting:
            if cid not in asked:
                runner.send_message("paperex_flush", None, client_id=cid)
                asked.add(cid)
        gevent.sleep(0.1)
    missing = [c.id for c in runner.clients.all if c.id not in PROC.ledger.finals]
    log.error("no final acknowledgement report from workers %s", missing)
    PROC.bad = True
    PROC.result["workers_without_final_report"] = missing


@events.quitting.add_listener
def _quitting(environment: Any, **_kw: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or PROC.server is None:
        return
    srv = PROC.server
    clean = srv.stop()
    rep = srv.replay_verify()
    PROC.result.update(server_stopped_cleanly=clean, server_last_seq=srv.stopped_seq,
                       replay_verified=rep.get("verified"), replay_commands=rep.get("commands"),
                       replay_divergence=rep.get("divergence"))
    if not clean or rep.get("verified") is not True:
        PROC.bad = True
        environment.process_exit_code = 1
    srv.cleanup()


@events.quit.add_listener
def _quit(exit_code: int, **_kw: Any) -> None:
    runner = _runner_of_this_process()
    if runner is None or isinstance(runner, WorkerRunner):
        return
    stats = runner.stats.total
    line = {"acknowledged": PROC.result.get("acknowledged", 0), "acked_missing": PROC.result.get("acked_missing"),
            **{k: v for k, v in PROC.result.items() if k not in ("acknowledged", "acked_missing")},
            "requests": stats.num_requests, "failures": stats.num_failures, **figures(runner.stats),
            "exit_code": exit_code}
    if "replay_verified" not in line:
        line["replay_verified"] = None        # the run did not start the server: its journal is not ours
    sys.stdout.flush()
    print(json.dumps(line, default=str), flush=True)


def figures(stats: Any) -> dict:
    """Signed order requests (every ``/fapi/v1/order`` entry merged: POST, PUT, DELETE) and
    websocket lag per stream, from Locust's own statistics."""
    orders = StatsEntry(stats, "/fapi/v1/order (all)", "", use_response_times_cache=False)
    lag = {}
    for (name, method), e in sorted(stats.entries.items()):
        if name.startswith("/fapi/v1/order"):
            orders.extend(e)
        elif method == "WS" and e.num_requests and (name.endswith(" lag") or name == UserStreamListener.LAG):
            lag[name] = {"n": e.num_requests, "p50_ms": e.get_response_time_percentile(0.5),
                         "p99_ms": e.get_response_time_percentile(0.99), "max_ms": round(e.max_response_time, 1)}
    span = (orders.last_request_timestamp or 0) - orders.start_time
    return {"order_requests": orders.num_requests, "order_failures": orders.num_failures,
            "order_requests_per_s": round(orders.num_requests / span, 1) if span > 0 else 0.0,
            "order_p50_ms": orders.get_response_time_percentile(0.5) if orders.num_requests else None,
            "order_p99_ms": orders.get_response_time_percentile(0.99) if orders.num_requests else None,
            "ws_lag": lag}


_ENV: list = []


@events.init.add_listener
def _remember(environment: Any, **_kw: Any) -> None:
    _ENV[:] = [environment]


def _runner_of_this_process() -> Any:
    return _ENV[0].runner if _ENV else None
