#!/usr/bin/env python
"""Load test: N trading bots and M websocket clients against one paperex server on loopback.

What runs (all over the public wire API, through ``clients.UsdmClient``):

* ``--bots N`` bots (asyncio coroutines; ``--processes P`` spreads them over P worker
  processes), each with its own account created through the control API
  (``POST /paperex/v1/accounts``) and its own user-data stream. Each bot places passive
  LIMIT orders, modifies (``PUT``) and cancels them, and sends a share of small MARKET
  orders (``--market-share``), at ``--rate`` order requests/s in total (spread evenly over
  the bots, open loop with one request in flight per bot) or as fast as it can
  (``--rate 0``, closed loop).
* ``--ws-clients M`` market-data clients, each holding ``<symbol>@depth@100ms`` and
  ``<symbol>@aggTrade`` for every traded symbol.
* The run is bounded (``--duration``, default 30 s); it stops by itself and closes every
  client.

Without ``--url`` the script starts its own server on a free loopback port with a fresh
journal in a temporary directory: ``paperex serve --flow synthetic|none`` (the same CLI
code path, ``exchange.serve.main``; Binance's request-weight and order-count limits
are switched off, because 2,400 weight/min per IP would cap a loopback load test at 40
requests/s - ``--rate-limits`` keeps them and runs ``python -m exchange.cli serve`` itself).
Readiness is the banner line ``paperex serving ... on http://HOST:PORT``. After the run the
server is stopped with SIGTERM (it must say ``stopped cleanly``), the journal is re-executed
with ``replay(..., verify=True)`` (``replay_verified``) and every order id the server
answered HTTP 200 to is looked up in the replayed venue (open or closed orders) and, when
the venue's bounded closed-order history has dropped it, in the journal's ``OrderAccepted``
events (``acked_missing`` must be 0). With ``--url`` the script targets a running server
and can verify only if ``--data-dir`` names that server's data directory.

Reported: order requests/s achieved; latency p50/p90/p99/p99.9 per endpoint; error counts
by Binance code; websocket messages/s and end-to-end lag (client receive time - event time
``E``); server RSS and CPU (``/proc/<pid>/status``, ``/proc/<pid>/stat``); load generator
CPU. ``--json`` prints one JSON object as the last line (``orders_per_s``, ``p99_ms``,
``ws_msgs_per_s``, ``errors``, ``acked_missing``, ``replay_verified``, ...). ``--plot FILE``
draws latency and throughput over time (needs matplotlib; skipped with a note otherwise).

``--ramp`` finds the highest order rate whose p99 stays under ``--p99-bound-ms`` (default
50) and which is actually achieved (>= 90 % of the target): the rate doubles from
``--ramp-start`` until a step fails, then bisects (each step a ``--ramp-step-s`` window).
``--smoke`` is a tiny run for CI (4 bots, 2 websocket clients, 5 s; well under 15 s).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# endpoints timed by the bots (index -> name used in the report)
EP_LIMIT, EP_MARKET, EP_MODIFY, EP_CANCEL = 0, 1, 2, 3
ENDPOINTS = ("POST /fapi/v1/order LIMIT", "POST /fapi/v1/order MARKET", "PUT /fapi/v1/order",
             "DELETE /fapi/v1/order")
DEFAULT_PRICES = {"BTCUSDT": "60000", "ETHUSDT": "3000"}


# ============================================================== pure helpers (unit-tested)

def percentile(sorted_vals, q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (``q`` in [0, 1]); 0.0 when empty."""
    n = len(sorted_vals)
    if n == 0:
        return 0.0
    if q <= 0:
        return float(sorted_vals[0])
    k = max(0, min(n - 1, math.ceil(q * n) - 1))
    return float(sorted_vals[k])


def summarize(values) -> dict:
    """n, mean, p50, p90, p99, p99.9 and max of a sample (ms in, ms out, 3 decimals)."""
    s = sorted(values)
    if not s:
        return {"n": 0, "mean": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "p99_9": 0.0, "max": 0.0}
    r = {"n": len(s), "mean": sum(s) / len(s), "p50": percentile(s, 0.50), "p90": percentile(s, 0.90),
         "p99": percentile(s, 0.99), "p99_9": percentile(s, 0.999), "max": float(s[-1])}
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}


class RampSearch:
    """Find the highest rate that passes: double from ``start`` until a step fails, then
    bisect between the best passing and the lowest failing rate until they are within
    ``precision`` (relative) or ``max_steps`` steps ran. A step passes when its p99 is at
    most ``bound_ms`` and the achieved rate is at least ``min_achieved`` x the target.
    If the first rate fails the search halves down to ``min_rate``.

    ``next_rate()`` -> the next rate to try (None when done); ``record(rate, p99, achieved)``
    stores a step's outcome; ``best`` is the answer (0 when no rate passed)."""

    def __init__(self, start: float = 250, bound_ms: float = 50.0, *, min_achieved: float = 0.9,
                 precision: float = 0.1, max_steps: int = 10, min_rate: float = 10, max_rate: float = 1e6) -> None:
        self.start, self.bound_ms = float(start), float(bound_ms)
        self.min_achieved, self.precision = min_achieved, precision
        self.max_steps, self.min_rate, self.max_rate = max_steps, float(min_rate), float(max_rate)
        self.lo = 0.0                    # best passing rate
        self.hi: Optional[float] = None  # lowest failing rate
        self.steps: list[dict] = []

    def passes(self, rate: float, p99_ms: float, achieved: float) -> bool:
        return p99_ms <= self.bound_ms and achieved >= self.min_achieved * rate

    def record(self, rate: float, p99_ms: float, achieved: float) -> bool:
        ok = self.passes(rate, p99_ms, achieved)
        if ok:
            self.lo = max(self.lo, rate)
        else:
            self.hi = rate if self.hi is None else min(self.hi, rate)
        self.steps.append({"rate": rate, "p99_ms": round(p99_ms, 3), "achieved": round(achieved, 1), "ok": ok})
        return ok

    def next_rate(self) -> Optional[float]:
        if len(self.steps) >= self.max_steps:
            return None
        if not self.steps:
            return self.start
        if self.hi is None:                       # still doubling
            r = self.lo * 2
            return r if r <= self.max_rate else None
        if self.lo == 0:                          # nothing passed yet: halve
            r = math.floor(self.hi / 2)
            return r if r >= self.min_rate else None
        if (self.hi - self.lo) / self.lo <= self.precision:
            return None
        r = float(round((self.lo + self.hi) / 2))
        return r if self.lo < r < self.hi else None

    @property
    def best(self) -> float:
        return self.lo


def read_proc(pid: int) -> Optional[dict]:
    """RSS / peak RSS (kB, /proc/<pid>/status) and CPU time (s, utime+stime of /proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    rss = hwm = 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) "
    ticks = int(fields[11]) + int(fields[12])     # utime, stime (fields 14, 15 of stat)
    return {"rss_kb": rss, "hwm_kb": hwm, "cpu_s": ticks / os.sysconf("SC_CLK_TCK")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ============================================================== the server under test

class ServerProc:
    """``paperex serve`` in a subprocess on a free loopback port with a fresh journal."""

    def __init__(self, data_dir: str, flow: str, *, seed: int = 1, fsync: str = "batch",
                 rate_limits: bool = False, port: Optional[int] = None) -> None:
        self.data_dir, self.flow, self.seed, self.fsync = data_dir, flow, seed, fsync
        self.rate_limits = rate_limits
        self.port = port or free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""
        self.lines: list[str] = []
        self.clean_stop: Optional[bool] = None
        self.stopped_seq: Optional[int] = None
        self._drain: Optional[threading.Thread] = None

    def start(self, timeout: float = 30.0) -> str:
        serve_args = ["--host", "127.0.0.1", "--port", str(self.port), "--data-dir", self.data_dir,
                      "--flow", self.flow, "--seed", str(self.seed), "--fsync", self.fsync]
        if self.rate_limits:
            cmd = [sys.executable, "-m", "exchange.cli", "serve"] + serve_args
        else:
            cmd = [sys.executable, os.path.abspath(__file__), "--serve-child"] + serve_args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, text=True,
                                     bufsize=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith("paperex serving") and " on http://" in line:
                self.url = line.strip().rsplit(" on ", 1)[1]
                self._drain = threading.Thread(target=self._read_rest, daemon=True)
                self._drain.start()
                return self.url
        self.kill()
        raise RuntimeError("paperex serve did not start:\n" + "\n".join(self.lines[-30:]))

    def _read_rest(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, wait; True when the server said it stopped cleanly."""
        if self.proc is None or self.proc.poll() is not None:
            return bool(self.clean_stop)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.clean_stop = False
            return False
        if self._drain is not None:
            self._drain.join(5)
        for line in self.lines:
            if line.startswith("paperex: stopped cleanly at seq"):
                self.stopped_seq = int(line.rsplit(" ", 1)[1])
        self.clean_stop = self.proc.returncode == 0 and self.stopped_seq is not None
        return self.clean_stop

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def serve_child(argv: list[str]) -> int:
    """``paperex serve`` (same parser, banner, flow, signals and clean shutdown) with the
    Binance rate limits off; used when the script starts its own server."""
    import functools
    from exchange import serve
    from exchange.gateway.ratelimit import RateLimitConfig
    p = argparse.ArgumentParser(prog="loadtest --serve-child")
    serve.add_arguments(p)
    args = p.parse_args(argv)
    serve.start = functools.partial(serve.start, rate_limits=RateLimitConfig(enabled=False),
                                    ws_queue_limit=10_000)
    return serve.main(args)


# ============================================================== load generation

def _use_uvloop() -> str:
    try:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop"
    except ImportError:  # pragma: no cover
        return "asyncio"


def _err_key(exc: BaseException) -> str:
    from clients.errors import BinanceAPIError
    if isinstance(exc, BinanceAPIError):
        return str(exc.code) if exc.code is not None else f"http_{exc.status}"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    return "conn_" + type(exc).__name__


def _new_session():
    import aiohttp
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False),
                                 timeout=aiohttp.ClientTimeout(total=15))


@dataclass
class SymbolInfo:
    symbol: str
    tick: Decimal
    step: Decimal
    min_notional: Decimal
    mid: float = 0.0

    def price(self, ticks: int) -> str:
        return format(Decimal(ticks) * self.tick, "f")

    def qty(self, lots: int) -> str:
        return format(Decimal(lots) * self.step, "f")

    def min_lots(self) -> int:
        if self.mid <= 0:
            return 1
        return max(1, math.ceil(float(self.min_notional) * 1.3 / (self.mid * float(self.step))))


@dataclass
class GroupResult:
    """What one group of bots (a process or the coordinator) measured."""
    t: array = field(default_factory=lambda: array("d"))        # completion wall time (s)
    lat: array = field(default_factory=lambda: array("d"))      # latency (ms)
    ep: array = field(default_factory=lambda: array("b"))       # endpoint index
    ok: array = field(default_factory=lambda: array("b"))       # 1 = HTTP 200
    errors: dict = field(default_factory=dict)
    error_msgs: dict = field(default_factory=dict)
    acked: list = field(default_factory=list)                   # (account_id, symbol, orderId)
    user_msgs: int = 0
    user_lag: array = field(default_factory=lambda: array("d"))
    user_t: array = field(default_factory=lambda: array("d"))
    user_streams: int = 0
    behind: int = 0

    def merge(self, other: "GroupResult") -> None:
        for name in ("t", "lat", "ep", "ok", "user_lag", "user_t"):
            getattr(self, name).extend(getattr(other, name))
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        for k, v in other.error_msgs.items():
            self.error_msgs.setdefault(k, v)
        self.acked.extend(other.acked)
        self.user_msgs += other.user_msgs
        self.user_streams += other.user_streams
        self.behind += other.behind

    def to_wire(self) -> dict:
        return {k: (v.tobytes() if isinstance(v, array) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_wire(cls, d: dict) -> "GroupResult":
        g = cls()
        for k, v in d.items():
            cur = getattr(g, k)
            if isinstance(cur, array):
                cur.frombytes(v)
            else:
                setattr(g, k, v)
        return g


async def _refresh_mids(session, url: str, symbols: dict[str, SymbolInfo], stop: asyncio.Event) -> None:
    """Keep each symbol's mid price current (the synthetic market moves)."""
    while not stop.is_set():
        try:
            async with session.get(f"{url}/fapi/v1/ticker/bookTicker") as r:
                rows = await r.json(content_type=None)
            for row in rows if isinstance(rows, list) else [rows]:
                si = symbols.get(row.get("symbol"))
                bid, ask = float(row.get("bidPrice") or 0), float(row.get("askPrice") or 0)
                if si is not None and bid > 0 and ask > 0:
                    si.mid = (bid + ask) / 2
        except Exception:
            pass
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass


async def run_bots(cfg: dict, bots: list[dict], ready: Callable[[], Any], go: Callable[[], Any]) -> GroupResult:
    """Run ``bots`` (dicts with accountId/apiKey/secretKey/index) for one window.

    ``ready()`` is called once every user stream is up; ``await go()`` returns the window's
    start wall time. Each bot keeps one request in flight."""
    from clients.usdm import UsdmClient

    url, duration, rate = cfg["url"], cfg["duration"], cfg["rate"]
    symbols = {s["symbol"]: SymbolInfo(s["symbol"], Decimal(s["tick"]), Decimal(s["step"]),
                                       Decimal(s["min_notional"]), s["mid"]) for s in cfg["symbols"]}
    names = list(symbols)
    res = GroupResult()
    stop = asyncio.Event()
    session = _new_session()
    clients = [UsdmClient(b["apiKey"], b["secretKey"], base_url=url, session=session, recv_window=60000)
               for b in bots]
    streams = []
    user_tasks = []
    interval = (len(cfg["all_bots"]) / rate) if rate > 0 else 0.0
    max_open = cfg["max_open"]
    market_share = cfg["market_share"]
    window = {"start": 0.0, "end": 0.0}

    async def consume_user(bot: dict, us, open_orders: dict) -> None:
        async for ev in us:
            if not isinstance(ev, dict):
                continue
            now = time.time()
            if window["start"] <= now < window["end"]:
                res.user_msgs += 1
                e = ev.get("E")
                if e:
                    res.user_lag.append(now * 1000 - e)
                    res.user_t.append(now)
            if ev.get("e") == "ORDER_TRADE_UPDATE":
                o = ev.get("o") or {}
                if o.get("X") in ("FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH"):
                    open_orders.pop(o.get("i"), None)

    async def bot_loop(k: int, bot: dict, c: UsdmClient, open_orders: dict) -> None:
        rng = random.Random(cfg["seed"] * 1_000_003 + bot["index"])
        aid = bot["accountId"]
        market_side = "BUY" if bot["index"] % 2 == 0 else "SELL"
        next_t = window["start"] + (rng.random() * interval if interval else 0.0)
        end = window["end"]
        while True:
            now = time.time()
            if interval:
                if next_t > now:
                    await asyncio.sleep(next_t - now)
                    now = time.time()
                elif now - next_t > 1.0:          # more than a second behind: do not burst to catch up
                    res.behind += 1
                    next_t = now
                next_t += interval
            if now >= end:
                break
            si = symbols[names[bot["index"] % len(names)]]
            if si.mid <= 0:
                await asyncio.sleep(0.05)
                continue
            r = rng.random()
            n_open = len(open_orders)
            if r < market_share:
                action = EP_MARKET
            elif n_open == 0:
                action = EP_LIMIT
            elif n_open >= max_open:
                action = EP_CANCEL if r < 0.6 else EP_MODIFY
            else:
                u = (r - market_share) / (1 - market_share)      # uniform in [0, 1)
                action = EP_LIMIT if u < 0.5 else EP_MODIFY if u < 0.75 else EP_CANCEL
            lots = si.min_lots() * rng.randint(1, 3)
            t0 = time.perf_counter()
            try:
                if action == EP_LIMIT or action == EP_MODIFY:
                    if action == EP_MODIFY:
                        oid = rng.choice(list(open_orders))
                        sym, side, qty, _ = open_orders[oid]
                        si = symbols[sym]
                    else:
                        side = "BUY" if rng.random() < 0.5 else "SELL"
                        qty = si.qty(lots)
                    d = rng.uniform(0.0005, 0.01)
                    px = si.mid * (1 - d if side == "BUY" else 1 + d)
                    price = si.price(int(px / float(si.tick)))
                    params = {"symbol": si.symbol, "side": side, "quantity": qty, "price": price}
                    t0 = time.perf_counter()
                    if action == EP_LIMIT:
                        params.update(type="LIMIT", timeInForce="GTC", newOrderRespType="ACK")
                        out = await c.request("POST", "/fapi/v1/order", params, signed=True)
                    else:
                        params["orderId"] = oid
                        out = await c.request("PUT", "/fapi/v1/order", params, signed=True)
                    dt = (time.perf_counter() - t0) * 1000
                    oid = int(out["orderId"])
                    if action == EP_LIMIT:
                        res.acked.append((aid, si.symbol, oid))
                        open_orders[oid] = (si.symbol, side, qty, price)
                    elif oid in open_orders:
                        open_orders[oid] = (si.symbol, side, qty, price)
                elif action == EP_CANCEL:
                    oid = rng.choice(list(open_orders))
                    sym = open_orders.pop(oid)[0]
                    t0 = time.perf_counter()
                    await c.request("DELETE", "/fapi/v1/order", {"symbol": sym, "orderId": oid}, signed=True)
                    dt = (time.perf_counter() - t0) * 1000
                else:
                    market_side = "SELL" if market_side == "BUY" else "BUY"   # keep the position small
                    params = {"symbol": si.symbol, "side": market_side, "type": "MARKET",
                              "quantity": si.qty(si.min_lots()), "newOrderRespType": "RESULT"}
                    t0 = time.perf_counter()
                    out = await c.request("POST", "/fapi/v1/order", params, signed=True)
                    dt = (time.perf_counter() - t0) * 1000
                    res.acked.append((aid, si.symbol, int(out["orderId"])))
                ok = 1
            except Exception as exc:  # noqa: BLE001 - every failure is counted by code
                dt = (time.perf_counter() - t0) * 1000
                ok = 0
                key = _err_key(exc)
                res.errors[key] = res.errors.get(key, 0) + 1
                res.error_msgs.setdefault(key, f"{ENDPOINTS[action]}: {str(exc)[:160]}")
                if action == EP_MODIFY:
                    open_orders.pop(oid, None)    # gone (filled/cancelled under us) or unmodifiable
            t_done = time.time()
            res.t.append(t_done)
            res.lat.append(dt)
            res.ep.append(action)
            res.ok.append(ok)
            if not interval:
                await asyncio.sleep(0)

    mids_task = None
    try:
        opens = [dict() for _ in bots]
        if cfg["user_streams"]:
            for b, c, oo in zip(bots, clients, opens):
                us = c.user_stream(parse=False, keepalive_interval=1800, reconnect_min_delay=0.2)
                streams.append(us)
                user_tasks.append(asyncio.create_task(consume_user(b, us, oo)))
            deadline = time.monotonic() + 10 + 0.05 * len(bots)
            for us in streams:
                try:
                    await asyncio.wait_for(us.connected.wait(), max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    pass
            res.user_streams = sum(1 for us in streams if us.connected.is_set())
        mids_task = asyncio.create_task(_refresh_mids(session, url, symbols, stop))
        ready()
        start = await go()
        window["start"], window["end"] = start, start + duration
        if time.time() < start:
            await asyncio.sleep(start - time.time())
        await asyncio.gather(*(bot_loop(k, b, c, oo) for k, (b, c, oo) in enumerate(zip(bots, clients, opens))))
        await asyncio.sleep(0.2)                    # the last user events
    finally:
        stop.set()
        for t in user_tasks:
            t.cancel()
        for us in streams:
            try:
                await asyncio.wait_for(us.close(), 5)
            except Exception:
                pass
        for t in user_tasks + ([mids_task] if mids_task else []):
            try:
                await t
            except BaseException:
                pass
        await session.close()
    return res


def _worker_main(cfg: dict, bots: list[dict], ready_q, go_q, result_q) -> None:
    """A worker process: run its bots, send the result back."""
    _use_uvloop()

    async def go() -> float:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, go_q.get)

    try:
        res = asyncio.run(run_bots(cfg, bots, lambda: ready_q.put(os.getpid()), go))
        result_q.put(("ok", res.to_wire()))
    except BaseException as exc:  # pragma: no cover - surfaced by the coordinator
        import traceback
        ready_q.put(os.getpid())
        result_q.put(("error", "".join(traceback.format_exception(exc))))


async def market_clients(url: str, n: int, symbols: list[str], window: dict, stop: asyncio.Event,
                         connected_evt: asyncio.Event) -> dict:
    """M websocket clients holding depth@100ms + aggTrade of every symbol; counts and lags."""
    from clients.usdm import UsdmClient
    session = _new_session()
    lags = array("d")
    ts = array("d")
    counts = [0] * n
    connected = [0]
    names = [f"{s.lower()}@depth@100ms" for s in symbols] + [f"{s.lower()}@aggTrade" for s in symbols]

    async def one(i: int) -> None:
        c = UsdmClient(base_url=url, session=session, reconnect_min_delay=0.2)
        async with c.market_stream(*names) as ms:
            seen = False
            async for msg in ms:
                if not seen:
                    seen = True
                    connected[0] += 1
                    if connected[0] >= n:
                        connected_evt.set()
                now = time.time()
                if window["start"] <= now < window["end"]:
                    counts[i] += 1
                    e = msg.data.get("E") if isinstance(msg.data, dict) else None
                    if e:
                        lags.append(now * 1000 - e)
                        ts.append(now)

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    try:
        await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            try:
                await t
            except BaseException:
                pass
        await session.close()
    return {"msgs": sum(counts), "lag": lags, "t": ts, "connected": connected[0]}


class Sampler:
    """Samples RSS and CPU of the server and of the load generator's processes."""

    def __init__(self, server_pid: Optional[int], own_pids: list[int], period: float = 0.5) -> None:
        self.server_pid, self.own_pids, self.period = server_pid, own_pids, period
        self.series: list[tuple[float, float, float, float]] = []   # t, server rss MB, server cpu %, loadgen cpu %
        self.first: Optional[tuple] = None
        self.last: Optional[tuple] = None
        self.hwm_kb = 0
        self.own_cpu: dict[int, float] = {}

    def _snap(self) -> tuple:
        s = read_proc(self.server_pid) if self.server_pid else None
        for p in self.own_pids:       # a worker that already exited keeps its last reading
            r = read_proc(p)
            if r is not None:
                self.own_cpu[p] = r["cpu_s"]
        own = sum(self.own_cpu.values())
        if s:
            self.hwm_kb = max(self.hwm_kb, s["hwm_kb"])
        return (time.time(), s["rss_kb"] if s else 0, s["cpu_s"] if s else 0.0, own)

    async def run(self, stop: asyncio.Event) -> None:
        prev = self.first = self._snap()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.period)
            except asyncio.TimeoutError:
                pass
            cur = self._snap()
            dt = cur[0] - prev[0]
            if dt > 0:
                self.series.append((cur[0], cur[1] / 1024, (cur[2] - prev[2]) / dt * 100,
                                    (cur[3] - prev[3]) / dt * 100))
            prev = self.last = cur

    def summary(self) -> dict:
        if not self.first or not self.last or self.last[0] <= self.first[0]:
            return {}
        dt = self.last[0] - self.first[0]
        out = {"loadgen_cpu_pct": round((self.last[3] - self.first[3]) / dt * 100, 1)}
        if self.server_pid:
            out.update(server_rss_mb=round(self.last[1] / 1024, 1), server_rss_peak_mb=round(self.hwm_kb / 1024, 1),
                       server_cpu_pct=round((self.last[2] - self.first[2]) / dt * 100, 1),
                       server_cpu_s=round(self.last[2] - self.first[2], 2))
        return out


async def _control(session, url: str, path: str, payload: dict, token: Optional[str]) -> dict:
    headers = {"X-PAPEREX-TOKEN": token} if token else {}
    async with session.post(f"{url}/paperex/v1{path}", json=payload, headers=headers) as r:
        body = await r.json(content_type=None)
        if r.status != 200:
            raise RuntimeError(f"control {path}: HTTP {r.status} {body}")
        return body


async def prepare(url: str, args) -> tuple[list[dict], list[dict]]:
    """Create the bots' accounts; read the symbols' filters and a mid price for each."""
    session = _new_session()
    try:
        async with session.get(f"{url}/fapi/v1/exchangeInfo") as r:
            info = await r.json(content_type=None)
        wanted = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
        syms = []
        for s in info["symbols"]:
            if s["symbol"] not in wanted:
                continue
            f = {x["filterType"]: x for x in s["filters"]}
            syms.append({"symbol": s["symbol"], "tick": f["PRICE_FILTER"]["tickSize"],
                         "step": f["LOT_SIZE"]["stepSize"],
                         "min_notional": f.get("MIN_NOTIONAL", {}).get("notional", "0"), "mid": 0.0})
        if not syms:
            raise RuntimeError(f"none of {wanted} is listed by the server")
        for s in syms:
            mid = await _mid(session, url, s["symbol"])
            if mid <= 0:     # no market (--flow none): give it an index price
                await _control(session, url, "/index", {"symbol": s["symbol"],
                                                        "price": DEFAULT_PRICES.get(s["symbol"], "1000")},
                               args.admin_token)
                mid = await _mid(session, url, s["symbol"])
            s["mid"] = mid
        sem = asyncio.Semaphore(16)

        async def make(i: int) -> dict:
            async with sem:
                a = await _control(session, url, "/accounts", {"balance": args.balance}, args.admin_token)
            return {"index": i, "accountId": a["accountId"], "apiKey": a["apiKey"], "secretKey": a["secretKey"]}

        bots = await asyncio.gather(*(make(i) for i in range(args.bots)))
        return list(bots), syms
    finally:
        await session.close()


async def _mid(session, url: str, symbol: str) -> float:
    async with session.get(f"{url}/fapi/v1/ticker/bookTicker", params={"symbol": symbol}) as r:
        bt = await r.json(content_type=None)
    bid, ask = float(bt.get("bidPrice") or 0), float(bt.get("askPrice") or 0)
    if bid > 0 and ask > 0:
        return (bid + ask) / 2
    async with session.get(f"{url}/fapi/v1/premiumIndex", params={"symbol": symbol}) as r:
        pi = await r.json(content_type=None)
    return float(pi.get("markPrice") or 0)


async def run_window(url: str, args, bots: list[dict], syms: list[dict], rate: float, duration: float,
                     server_pid: Optional[int], ws_clients: int) -> dict:
    """One bounded window of load at ``rate`` (0 = as fast as possible); returns raw measurements."""
    cfg = {"url": url, "duration": duration, "rate": rate, "symbols": syms, "all_bots": [b["index"] for b in bots],
           "max_open": args.max_open, "market_share": args.market_share, "seed": args.seed,
           "user_streams": not args.no_user_streams}
    window = {"start": float("inf"), "end": float("inf")}
    stop_ws = asyncio.Event()
    ws_up = asyncio.Event()
    ws_task = asyncio.create_task(market_clients(url, ws_clients, [s["symbol"] for s in syms], window, stop_ws,
                                                 ws_up)) if ws_clients else None
    procs, own_pids = [], [os.getpid()]
    groups: list[GroupResult] = []
    if args.processes <= 1:
        ready_evt = asyncio.Event()
        go_fut: asyncio.Future = asyncio.get_running_loop().create_future()

        async def go() -> float:
            return await go_fut

        bots_task = asyncio.create_task(run_bots(cfg, bots, ready_evt.set, go))
        await asyncio.wait([bots_task, asyncio.ensure_future(ready_evt.wait())], return_when=asyncio.FIRST_COMPLETED)
    else:
        import multiprocessing as mp
        ctx = mp.get_context("spawn")
        ready_q, result_q = ctx.Queue(), ctx.Queue()
        go_qs = []
        for p in range(args.processes):
            part = bots[p::args.processes]
            if not part:
                continue
            gq = ctx.Queue()
            pr = ctx.Process(target=_worker_main, args=(cfg, part, ready_q, gq, result_q), daemon=True)
            pr.start()
            procs.append(pr)
            go_qs.append(gq)
        own_pids += [pr.pid for pr in procs]
        loop = asyncio.get_running_loop()
        for _ in procs:
            await loop.run_in_executor(None, ready_q.get, True, 120)
    if ws_task is not None:
        try:
            await asyncio.wait_for(ws_up.wait(), 10)
        except asyncio.TimeoutError:
            pass
    start = time.time() + 0.2
    window["start"], window["end"] = start, start + duration
    sampler = Sampler(server_pid, own_pids)
    stop_sampler = asyncio.Event()
    sampler_task = asyncio.create_task(sampler.run(stop_sampler))
    if args.processes <= 1:
        go_fut.set_result(start)
        groups.append(await bots_task)
    else:
        for gq in go_qs:
            gq.put(start)
        loop = asyncio.get_running_loop()
        for _ in procs:
            kind, payload = await loop.run_in_executor(None, result_q.get, True, duration + 120)
            if kind != "ok":
                raise RuntimeError("bot worker failed:\n" + payload)
            groups.append(GroupResult.from_wire(payload))
        for pr in procs:
            await loop.run_in_executor(None, pr.join, 10)
    stop_sampler.set()
    await sampler_task
    stop_ws.set()
    ws = await ws_task if ws_task is not None else {"msgs": 0, "lag": array("d"), "t": array("d"), "connected": 0}
    res = GroupResult()
    for g in groups:
        res.merge(g)
    return {"res": res, "ws": ws, "window": (start, start + duration), "sampler": sampler}


def analyze(m: dict, rate: float) -> dict:
    """Figures of one window."""
    res: GroupResult = m["res"]
    ws = m["ws"]
    start, end = m["window"]
    last = max(res.t) if len(res.t) else end
    elapsed = max(end, last) - start
    n = len(res.t)
    oks = sum(res.ok)
    per_ep = {}
    for i, name in enumerate(ENDPOINTS):
        vals = [res.lat[j] for j in range(n) if res.ep[j] == i]
        if vals:
            per_ep[name] = summarize(vals)
    allv = summarize(res.lat)
    user_lag, mkt_lag = summarize(res.user_lag), summarize(ws["lag"])
    out = {
        "target_rate": rate, "orders": n, "orders_ok": oks,
        "orders_per_s": round(n / elapsed, 1) if elapsed > 0 else 0.0,
        "ok_orders_per_s": round(oks / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": allv["p50"], "p90_ms": allv["p90"], "p99_ms": allv["p99"], "p99_9_ms": allv["p99_9"],
        "max_ms": allv["max"], "latency_ms": per_ep,
        "errors": dict(sorted(res.errors.items())), "error_samples": res.error_msgs,
        "ws_msgs_per_s": round((ws["msgs"] + res.user_msgs) / elapsed, 1) if elapsed > 0 else 0.0,
        "ws_market_msgs_per_s": round(ws["msgs"] / elapsed, 1) if elapsed > 0 else 0.0,
        "ws_user_msgs_per_s": round(res.user_msgs / elapsed, 1) if elapsed > 0 else 0.0,
        "ws_market_clients": ws["connected"], "user_streams": res.user_streams,
        "ws_lag_ms": {"market": {k: mkt_lag[k] for k in ("n", "p50", "p99", "max")},
                      "user": {k: user_lag[k] for k in ("n", "p50", "p99", "max")}},
        "window_s": round(elapsed, 2), "schedule_resets": res.behind,
    }
    out.update(m["sampler"].summary())
    return out


# ============================================================== after the run: replay and acked orders

def verify_journal(data_dir: str, acked: list) -> dict:
    """Replay the journal with verify; look every acknowledged order up in the replayed state."""
    from exchange.engine.offline import _journal_dir
    from exchange.engine.replay import replay
    jdir = _journal_dir(data_dir)
    t0 = time.perf_counter()
    r = replay(jdir, verify=True)
    out = {"replay_verified": r.divergence is None, "replay_commands": r.commands, "replay_events": r.events,
           "replay_s": round(time.perf_counter() - t0, 2), "replay_torn_tail": r.torn_tail}
    if r.divergence is not None:
        out["replay_divergence"] = str(r.divergence)[:2000]
    venue = r.venue
    missing = []
    in_state = 0
    for aid, sym, oid in acked:
        o = None
        try:
            o = venue.order(aid, sym, order_id=oid)
        except Exception:
            o = None
        if o is not None:
            in_state += 1
        else:
            missing.append((aid, sym, oid))
    in_history = 0
    if missing:   # the venue keeps a bounded closed-order history: look in the journal's events
        from exchange.journal import JournalReader
        from exchange.contract.events import OrderAccepted
        want = {(aid, oid) for aid, _, oid in missing}
        seen = set()
        for rec in JournalReader(jdir).records():
            if rec.kind == OrderAccepted.KIND:
                p = rec.payload
                key = (p[1], p[0])        # account_id, order_id
                if key in want:
                    seen.add(key)
        in_history = len(seen)
        missing = [m for m in missing if (m[0], m[2]) not in seen]
    out.update(acked=len(acked), acked_in_state=in_state, acked_in_journal_history=in_history,
               acked_missing=len(missing), acked_missing_sample=missing[:10])
    return out


# ============================================================== plotting

def plot(path: str, m: dict, title: str) -> Optional[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib): no plot drawn"
    res: GroupResult = m["res"]
    start, end = m["window"]
    nsec = max(1, int(math.ceil(end - start)))
    buckets: list[list[float]] = [[] for _ in range(nsec)]
    for t, lat in zip(res.t, res.lat):
        if start <= t < end:
            buckets[int(t - start)].append(lat)
    ws_counts = [0] * nsec
    for t in list(m["ws"]["t"]) + list(res.user_t):
        i = int(t - start)
        if 0 <= i < nsec:
            ws_counts[i] += 1
    xs = list(range(nsec))
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for q, lab in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p99.9")):
        ax1.plot(xs, [percentile(sorted(b), q) if b else float("nan") for b in buckets], label=lab)
    ax1.set_ylabel("order latency (ms)")
    ax1.set_yscale("log")
    ax1.legend(loc="upper left")
    ax1.grid(True, alpha=0.3)
    ax2.plot(xs, [len(b) for b in buckets], label="order requests/s")
    ax2.plot(xs, ws_counts, label="websocket msgs/s")
    ax2.set_ylabel("per second")
    ax2.legend(loc="upper left")
    ax2.grid(True, alpha=0.3)
    s = m["sampler"].series
    if s:
        ax3.plot([t - start for t, *_ in s], [c for _, _, c, _ in s], label="server CPU %")
        ax3.plot([t - start for t, *_ in s], [c for _, _, _, c in s], label="load generator CPU %")
        ax3b = ax3.twinx()
        ax3b.plot([t - start for t, *_ in s], [r for _, r, _, _ in s], "k--", label="server RSS MB")
        ax3b.set_ylabel("RSS (MB)")
        ax3b.legend(loc="upper right")
    ax3.set_ylabel("CPU %")
    ax3.set_xlabel("seconds into the run")
    ax3.legend(loc="upper left")
    ax3.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


# ============================================================== main

async def _main(args) -> dict:
    server = None
    tmp = None
    data_dir = args.data_dir
    url = args.url
    server_pid = args.server_pid
    result: dict = {"bots": args.bots, "ws_clients": args.ws_clients, "processes": max(1, args.processes),
                    "flow": args.flow if not args.url else None, "duration_s": args.duration}
    try:
        if not url:
            if data_dir is None:
                tmp = tempfile.TemporaryDirectory(prefix="paperex-loadtest-")
                data_dir = tmp.name
            server = ServerProc(data_dir, args.flow, seed=args.seed, fsync=args.fsync, rate_limits=args.rate_limits)
            url = server.start()
            server_pid = server.pid
        result["url"] = url
        bots, syms = await prepare(url, args)
        result["symbols"] = [s["symbol"] for s in syms]
        measured = None
        if args.ramp:
            search = RampSearch(args.ramp_start, args.p99_bound_ms, max_steps=args.ramp_max_steps)
            acked_all: list = []
            rate = search.next_rate()
            while rate is not None:
                m = await run_window(url, args, bots, syms, rate, args.ramp_step_s, server_pid, args.ws_clients)
                a = analyze(m, rate)
                acked_all.extend(m["res"].acked)
                ok = search.record(rate, a["p99_ms"], a["orders_per_s"])
                search.steps[-1].update(p50_ms=a["p50_ms"], errors=sum(a["errors"].values()),
                                        server_cpu_pct=a.get("server_cpu_pct"))
                print(f"  ramp step {len(search.steps):>2}: target {rate:>7.0f}/s -> achieved "
                      f"{a['orders_per_s']:>7.1f}/s, p50 {a['p50_ms']:.2f} ms, p99 {a['p99_ms']:.2f} ms, "
                      f"server CPU {a.get('server_cpu_pct', 0):.0f}% -> {'pass' if ok else 'FAIL'}", flush=True)
                if ok and (measured is None or rate >= measured[1]):
                    measured = (m, rate, a)
                rate = search.next_rate()
            result["duration_s"] = args.ramp_step_s
            result.update(ramp_max_rate=search.best, ramp_bound_ms=args.p99_bound_ms, ramp_steps=search.steps,
                          ramp_step_s=args.ramp_step_s)
            if measured is not None:
                result.update(measured[2])          # the figures of the best passing step
            else:
                result.update(a)
            acked = acked_all
            plot_m = measured[0] if measured else m
        else:
            m = await run_window(url, args, bots, syms, args.rate, args.duration, server_pid, args.ws_clients)
            result.update(analyze(m, args.rate))
            acked = m["res"].acked
            plot_m = m
        if args.plot:
            tr = result.get("target_rate")
            note = plot(args.plot, plot_m, f"paperex load test: {args.bots} bots, {args.ws_clients} ws clients, "
                                           + (f"target {tr:.0f} orders/s" if tr else "as fast as possible"))
            result["plot"] = args.plot if note is None else None
            if note:
                print(f"note: {note}", file=sys.stderr)
        if server is not None:
            result["server_clean_stop"] = server.stop()
            result["server_last_seq"] = server.stopped_seq
        if data_dir:
            result.update(verify_journal(data_dir, acked))
        else:
            result.update(replay_verified=None, acked=len(acked), acked_missing=None,
                          note="--url without --data-dir: the journal was not verified")
    finally:
        if server is not None:
            server.stop()
            server.kill()
        if tmp is not None:
            tmp.cleanup()
    return result


def _print_summary(r: dict) -> None:
    print(f"paperex load test: {r['bots']} bots ({r['processes']} process(es)), {r['ws_clients']} market ws clients, "
          f"{r.get('user_streams', 0)} user streams, flow {r.get('flow')}, symbols {','.join(r.get('symbols', []))}")
    if "ramp_max_rate" in r:
        print(f"ramp: highest rate with p99 <= {r['ramp_bound_ms']} ms: {r['ramp_max_rate']:.0f} order requests/s "
              f"({len(r['ramp_steps'])} steps of {r['ramp_step_s']} s); figures below are from that step")
    tgt = "as fast as possible" if not r.get("target_rate") else f"target {r['target_rate']:.0f}/s"
    print(f"orders    : {r['orders_per_s']:.1f} order requests/s ({tgt}), {r['ok_orders_per_s']:.1f}/s answered 200, "
          f"{r['orders']} in {r['window_s']} s")
    print(f"latency   : all  p50 {r['p50_ms']:.2f}  p90 {r['p90_ms']:.2f}  p99 {r['p99_ms']:.2f}  "
          f"p99.9 {r['p99_9_ms']:.2f}  max {r['max_ms']:.2f} ms")
    for ep, s in r["latency_ms"].items():
        print(f"  {ep:<28} n={s['n']:<7} p50 {s['p50']:.2f}  p90 {s['p90']:.2f}  p99 {s['p99']:.2f}  "
              f"p99.9 {s['p99_9']:.2f} ms")
    errs = r.get("errors") or {}
    print("errors    : " + (", ".join(f"{k}: {v}" for k, v in errs.items()) if errs else "none"))
    for k, msg in (r.get("error_samples") or {}).items():
        print(f"  {k}: {msg}")
    lag = r["ws_lag_ms"]
    print(f"websockets: {r['ws_msgs_per_s']:.1f} msgs/s (market {r['ws_market_msgs_per_s']:.1f}, user "
          f"{r['ws_user_msgs_per_s']:.1f}); lag E->receipt market p50 {lag['market']['p50']:.1f} p99 "
          f"{lag['market']['p99']:.1f} max {lag['market']['max']:.1f} ms, user p50 {lag['user']['p50']:.1f} "
          f"p99 {lag['user']['p99']:.1f} max {lag['user']['max']:.1f} ms")
    if "server_rss_mb" in r:
        print(f"server    : RSS {r['server_rss_mb']} MB (peak {r['server_rss_peak_mb']} MB), CPU "
              f"{r['server_cpu_pct']}% of one core; load generator CPU {r.get('loadgen_cpu_pct')}%")
    if r.get("replay_verified") is not None:
        print(f"journal   : replay --verify {'OK' if r['replay_verified'] else 'FAILED'} "
              f"({r['replay_commands']} commands in {r['replay_s']} s); server stopped cleanly: "
              f"{r.get('server_clean_stop')}")
        print(f"acked     : {r['acked']} orders acknowledged, {r['acked_in_state']} found in the replayed state, "
              f"{r['acked_in_journal_history']} in the journal history, missing {r['acked_missing']}")
        if r.get("replay_divergence"):
            print("divergence: " + r["replay_divergence"])
    else:
        print(f"journal   : not verified ({r.get('note', '')})")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--bots", type=int, default=16, help="trading bots, one account and user stream each")
    ap.add_argument("--ws-clients", type=int, default=16, help="market-data websocket clients")
    ap.add_argument("--processes", type=int, default=1, help="worker processes for the bots")
    ap.add_argument("--rate", type=float, default=500, help="order requests/s in total (0 = as fast as possible)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    ap.add_argument("--market-share", type=float, default=0.1, help="share of order requests that are MARKET orders")
    ap.add_argument("--max-open", type=int, default=20, help="open orders per bot before it only modifies/cancels")
    ap.add_argument("--symbols", default="BTCUSDT,ETHUSDT")
    ap.add_argument("--balance", default="10000000", help="USDT per bot account")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-user-streams", action="store_true", help="bots do not open user-data streams")
    ap.add_argument("--flow", choices=("synthetic", "none"), default="synthetic",
                    help="market of the server this script starts")
    ap.add_argument("--fsync", choices=("always", "batch", "never"), default="batch")
    ap.add_argument("--rate-limits", action="store_true",
                    help="keep Binance's rate limits (runs `python -m exchange.cli serve` as is)")
    ap.add_argument("--url", help="target a running server instead of starting one")
    ap.add_argument("--data-dir", help="data dir of the server (journal to verify with --url; else where to put it)")
    ap.add_argument("--server-pid", type=int, help="pid of the --url server, for RSS/CPU")
    ap.add_argument("--admin-token", help="control API token of a non-loopback --url server")
    ap.add_argument("--ramp", action="store_true", help="find the highest rate with p99 under --p99-bound-ms")
    ap.add_argument("--p99-bound-ms", type=float, default=50.0)
    ap.add_argument("--ramp-start", type=float, default=250.0)
    ap.add_argument("--ramp-step-s", type=float, default=5.0)
    ap.add_argument("--ramp-max-steps", type=int, default=10)
    ap.add_argument("--smoke", action="store_true", help="tiny CI run: 4 bots, 2 ws clients, 5 s")
    ap.add_argument("--plot", help="draw latency and throughput over time into this PNG (matplotlib)")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")
    return ap


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--serve-child":
        return serve_child(argv[1:])
    args = build_parser().parse_args(argv)
    if args.smoke:
        args.bots, args.ws_clients, args.duration, args.processes = 4, 2, 5.0, 1
        if args.rate == build_parser().get_default("rate"):
            args.rate = 200
        if args.ramp:
            args.ramp_step_s, args.ramp_max_steps = 2.0, 3
    if args.bots < 1 or args.duration <= 0:
        print("loadtest: --bots >= 1 and --duration > 0 please", file=sys.stderr)
        return 2
    args.loop = _use_uvloop()
    t0 = time.perf_counter()
    res = asyncio.run(_main(args))
    res["loop"] = args.loop
    res["wall_s"] = round(time.perf_counter() - t0, 2)
    _print_summary(res)
    if args.json:
        print(json.dumps(res, default=str))
    bad = res.get("replay_verified") is False or (res.get("acked_missing") or 0) > 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
