#!/usr/bin/env python
"""Gateway benchmark: the aiohttp floor vs signed order place + cancel through the full stack.

One run on loopback, the server in a subprocess (its own core), the load from
this process over raw keep-alive HTTP/1.1 connections (a lean client, so the
client is not the bottleneck):

1. floor  - a no-op aiohttp handler returning ``{}``: the requests/s this machine allows;
2. orders - ``paperex`` (gateway -> sequencer -> journal -> venue -> response): each
   connection loops signed ``POST /fapi/v1/order`` (LIMIT GTC, resting) then signed
   ``DELETE /fapi/v1/order`` for it; every request is counted and timed;
3. wsapi  - the same signed place + cancel loop over N WebSocket API sessions
   (``/ws-fapi/v1`` ``order.place`` / ``order.cancel``, HMAC per request), on the same
   server right after the REST phase: requests/s and latency beside REST's;
4. ws     - N websocket clients on ``btcusdt@depth@100ms`` + ``btcusdt@aggTrade`` while a
   trader crosses the book; messages/s and event lag (receive time - ``E``), first
   half vs second half of the window (lag must not grow).

``--json`` prints one JSON object as the last line: floor_rps, orders_per_s (signed
order requests/s, place and cancel each count), pairs_per_s, ratio (orders_per_s /
floor_rps), p50_ms, p99_ms, wsapi_orders_per_s, wsapi_pairs_per_s, wsapi_p50_ms,
wsapi_p99_ms, wsapi_vs_rest (wsapi_orders_per_s / orders_per_s), server_us_per_req and
wsapi_server_us_per_req (the server process's CPU per order request, Linux), ws_clients,
ws_msgs_per_s, ws_max_lag_ms, ...
``--smoke`` runs a small version in well under 10 s.
``--dashboard-pages N`` keeps the dashboard (``/``) open in N headless Chromium
browsers during the order and websocket phases (selenium + Debian's chromium and
chromium-driver): the dashboard must not slow the exchange.  With a dashboard open the
JSON adds dashboard_cpu_s / dashboard_cpu_share (the server's CPU spent building and
sending the pages' updates) and dashboard_longest_hold_ms (the longest the publisher held
the server's event loop at once, in the loop thread's CPU time: every request waiting
meanwhile waited that long).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

try:
    import orjson
    loads, dumps = orjson.loads, orjson.dumps
except ImportError:  # pragma: no cover
    loads = json.loads

    def dumps(obj) -> bytes:
        return json.dumps(obj).encode()

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from _benchlib import cpu_seconds, finish, parser, stop_process  # noqa: E402


def _use_uvloop() -> str:
    try:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop"
    except ImportError:
        return "asyncio"


# ---------------------------------------------------------------- servers
async def _serve_floor() -> None:
    from aiohttp import web

    async def noop(request):
        return web.Response(body=b"{}", content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/noop", noop)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    await asyncio.Event().wait()


async def _serve_full(data_dir: str, symbols: "str | None" = None) -> None:
    from exchange.gateway.ratelimit import RateLimitConfig
    from exchange.serve import start
    srv = await start(host="127.0.0.1", port=0, data_dir=data_dir, fsync="batch", symbols=symbols,
                      rate_limits=RateLimitConfig(enabled=False), demo=True, ws_queue_limit=5000)
    print(json.dumps({"port": srv.port, "apiKey": srv.demo["apiKey"], "secret": srv.demo["secretKey"]}),
          flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await srv.stop()


def _spawn(kind: str, data_dir: str | None = None, symbols: str | None = None) -> tuple[subprocess.Popen, dict]:
    cmd = [sys.executable, os.path.abspath(__file__), "--serve", kind]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    if symbols:
        cmd += ["--symbols", symbols]
    # the server's stderr goes to a file, not a pipe nobody reads (a chatty server would
    # block on a full pipe in the middle of the measurement)
    err = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=ROOT, text=True)
    p.errfile = err  # type: ignore[attr-defined]
    line = p.stdout.readline()
    if not line:
        p.wait(10)
        err.seek(0)
        raise RuntimeError(f"{kind} server did not start: {err.read()[-2000:]}")
    return p, json.loads(line)


async def _measured(pid: int, phase, *args) -> dict:
    """Run a load phase; add the server's CPU µs per request it counted."""
    c0 = cpu_seconds(pid)
    res = await phase(*args)
    c1 = cpu_seconds(pid)
    key = "wsapi_order_requests" if "wsapi_order_requests" in res else "order_requests"
    n = res.get(key) or 0
    prefix = "wsapi_" if key.startswith("wsapi") else ""
    res[prefix + "server_us_per_req"] = (c1 - c0) / n * 1e6 if c0 is not None and c1 is not None and n else None
    return res


def _stop(p: subprocess.Popen) -> None:
    stop_process(p, timeout=10)
    err = getattr(p, "errfile", None)
    if err is not None:
        err.close()


# ------------------------------------------------------------ raw client
class Conn:
    """One keep-alive HTTP/1.1 connection; ``request`` returns (status, body bytes)."""

    def __init__(self, reader, writer) -> None:
        self.r, self.w = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Conn":
        r, w = await asyncio.open_connection("127.0.0.1", port)
        return cls(r, w)

    async def request(self, method: str, target: str, headers: str = "", body: bytes = b"") -> tuple[int, bytes]:
        head = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.w.write(head + body)
        hdr = await self.r.readuntil(b"\r\n\r\n")
        status = int(hdr[9:12])
        i = hdr.lower().find(b"content-length:")
        n = int(hdr[i + 15:hdr.index(b"\r\n", i)]) if i >= 0 else 0
        data = await self.r.readexactly(n) if n else b""
        return status, data

    def close(self) -> None:
        self.w.close()

    async def __aenter__(self) -> "Conn":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()


async def _run_workers(worker, n: int) -> float:
    """``worker(0) .. worker(n - 1)`` concurrently; the wall seconds until the last one ended."""
    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(n)))
    return time.perf_counter() - t0


def _order_summary(lat: list, pairs: int, errors: int, el: float, prefix: str = "") -> dict:
    """The order phases' figures (REST: no prefix, WebSocket API: ``wsapi_``) from the
    latencies of every order request and the place + cancel pairs done in ``el`` s."""
    lat.sort()
    return {prefix + "orders_per_s": len(lat) / el, prefix + "pairs_per_s": pairs / el,
            prefix + "order_requests": len(lat), prefix + "order_errors": errors,
            prefix + "p50_ms": _pct(lat, 0.50) * 1000, prefix + "p99_ms": _pct(lat, 0.99) * 1000,
            prefix + "max_ms": (lat[-1] * 1000) if lat else 0.0}


def _pct(sorted_vals: list, q: float) -> float:
    if not sorted_vals:
        return 0.0
    return sorted_vals[min(len(sorted_vals) - 1, int(q * len(sorted_vals)))]


async def _floor_load(port: int, conns: int, duration: float) -> dict:
    stop_at = time.perf_counter() + duration
    counts = [0] * conns

    async def worker(i: int) -> None:
        async with await Conn.open(port) as c:
            while time.perf_counter() < stop_at:
                st, _ = await c.request("GET", "/noop")
                assert st == 200
                counts[i] += 1

    el = await _run_workers(worker, conns)
    return {"floor_rps": sum(counts) / el, "floor_requests": sum(counts)}


def _signed(key: str, secret: str, params: str) -> tuple[str, str]:
    q = f"{params}&timestamp={int(time.time() * 1000)}"
    sig = hmac.new(secret.encode(), q.encode(), hashlib.sha256).hexdigest()
    return f"{q}&signature={sig}", f"X-MBX-APIKEY: {key}\r\n"


async def _control(port: int, path: str, payload: dict) -> dict:
    async with await Conn.open(port) as c:
        st, body = await c.request("POST", "/paperex/v1" + path, "Content-Type: application/json\r\n",
                                   json.dumps(payload).encode())
    assert st == 200, body
    return loads(body)


async def _order_load(info: dict, conns: int, duration: float) -> dict:
    port, key, secret = info["port"], info["apiKey"], info["secret"]
    await _control(port, "/index", {"symbol": "BTCUSDT", "price": "50000"})
    stop_at = time.perf_counter() + duration
    lat: list[float] = []
    counts = [0] * conns
    errors = [0]

    async def worker(i: int) -> None:
        price = 30000 + i
        async with await Conn.open(port) as c:

            async def timed(method: str, params: str) -> tuple[int, bytes]:
                """One signed order request, timed from send to answer (signing not counted)."""
                q, h = _signed(key, secret, params)
                t = time.perf_counter()
                st, body = await c.request(method, "/fapi/v1/order?" + q, h)
                lat.append(time.perf_counter() - t)
                if st != 200:
                    errors[0] += 1
                return st, body

            while time.perf_counter() < stop_at:
                st, body = await timed("POST", f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
                                               f"&quantity=0.002&price={price}")
                if st != 200:
                    continue
                await timed("DELETE", f"symbol=BTCUSDT&orderId={loads(body)['orderId']}")
                counts[i] += 1

    el = await _run_workers(worker, conns)
    return _order_summary(lat, sum(counts), errors[0], el)


def _ws_signed(key: str, secret: str, rid: int, method: str, params: dict) -> bytes:
    """A WebSocket API request signed per request: HMAC over the sorted key=value pairs
    (orjson when there is one: the client must not be the bottleneck)."""
    p = dict(params, apiKey=key, timestamp=int(time.time() * 1000))
    text = "&".join(f"{k}={v}" for k, v in sorted(p.items()))
    p["signature"] = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return dumps({"id": rid, "method": method, "params": p})


async def _wsapi_load(info: dict, conns: int, duration: float) -> dict:
    """``_order_load`` over the WebSocket API: one session per connection, each looping
    order.place (LIMIT GTC, resting) then order.cancel of it, one request in flight."""
    import aiohttp
    port, key, secret = info["port"], info["apiKey"], info["secret"]
    stop_at = time.perf_counter() + duration
    lat: list[float] = []
    counts = [0] * conns
    errors = [0]

    async with aiohttp.ClientSession() as s:
        async def worker(i: int) -> None:
            price = 31000 + i
            rid = 0
            async with s.ws_connect(f"ws://127.0.0.1:{port}/ws-fapi/v1", max_msg_size=0) as ws:

                async def timed(method: str, params: dict) -> dict:
                    """One signed request, timed from send to answer (signing not counted)."""
                    nonlocal rid
                    rid += 1
                    frame = _ws_signed(key, secret, rid, method, params)
                    t = time.perf_counter()
                    await ws.send_frame(frame, aiohttp.WSMsgType.TEXT)
                    ans = loads((await ws.receive()).data)
                    lat.append(time.perf_counter() - t)
                    if ans["status"] != 200:
                        errors[0] += 1
                    return ans

                while time.perf_counter() < stop_at:
                    ans = await timed("order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                      "timeInForce": "GTC", "quantity": "0.002", "price": str(price)})
                    if ans["status"] != 200:
                        continue
                    await timed("order.cancel", {"symbol": "BTCUSDT", "orderId": ans["result"]["orderId"]})
                    counts[i] += 1

        el = await _run_workers(worker, conns)
    return _order_summary(lat, sum(counts), errors[0], el, prefix="wsapi_")


async def _ws_load(info: dict, clients: int, duration: float, trades_per_s: float) -> dict:
    import aiohttp
    port, key, secret = info["port"], info["apiKey"], info["secret"]
    url = f"ws://127.0.0.1:{port}/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade"
    t_start = time.time()
    half = t_start + duration / 2
    counts = [0] * clients
    lags: list[list[float]] = [[], []]
    stop = asyncio.Event()
    connected = [0]

    async with aiohttp.ClientSession() as s:
        async def client(i: int) -> None:
            async with s.ws_connect(url, max_msg_size=0) as ws:
                connected[0] += 1
                while not stop.is_set():
                    try:
                        msg = await ws.receive(timeout=0.5)
                    except asyncio.TimeoutError:
                        continue
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    now = time.time()
                    counts[i] += 1
                    e = loads(msg.data)["data"]["E"]
                    lags[0 if now < half else 1].append(now * 1000 - e)

        taker = await _control(port, "/accounts", {"balance": "100000000"})

        async def trader() -> None:
            # the demo account rests an ask, a second account lifts it: one aggTrade per round
            period = 1.0 / trades_per_s
            async with await Conn.open(port) as c:
                while not stop.is_set():
                    q, h = _signed(key, secret, "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC"
                                                "&quantity=0.002&price=50000")
                    await c.request("POST", "/fapi/v1/order?" + q, h)
                    q, h = _signed(taker["apiKey"], taker["secretKey"],
                                   "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.002")
                    st, body = await c.request("POST", "/fapi/v1/order?" + q, h)
                    if st == 200:
                        q, h = _signed(taker["apiKey"], taker["secretKey"],
                                       "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.002&reduceOnly=true")
                        await c.request("POST", "/fapi/v1/order?" + q, h)
                    await asyncio.sleep(period)

        tasks = [asyncio.create_task(client(i)) for i in range(clients)]
        for _ in range(200):
            if connected[0] == clients:
                break
            await asyncio.sleep(0.05)
        t0 = time.time()
        half = t0 + duration / 2
        counts[:] = [0] * clients
        lags[0].clear()
        tr = asyncio.create_task(trader())
        await asyncio.sleep(duration)
        stop.set()
        el = time.time() - t0
        await asyncio.gather(tr, *tasks, return_exceptions=True)
    first, second = sorted(lags[0]), sorted(lags[1])
    allv = sorted(first + second)
    return {"ws_clients": connected[0], "ws_msgs_per_s": sum(counts) / el,
            "ws_max_lag_ms": allv[-1] if allv else 0.0, "ws_p99_lag_ms": _pct(allv, 0.99),
            "ws_p99_lag_first_half_ms": _pct(first, 0.99), "ws_p99_lag_second_half_ms": _pct(second, 0.99)}


async def _metrics(port: int) -> dict:
    async with await Conn.open(port) as conn:
        status, body = await conn.request("GET", "/metrics")
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def _chromium(window: str = ""):
    """One headless Chromium browser driven by selenium, with the flags every benchmark page uses."""
    import shutil as _sh
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = _sh.which("chromium") or _sh.which("chromium-browser") or "chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='paperex-bench-chrome-')}"):
        opts.add_argument(flag)
    if window:
        opts.add_argument("--window-size=" + window.replace("x", ","))
    return webdriver.Chrome(service=Service(_sh.which("chromedriver") or "chromedriver"), options=opts)


def _open_dashboards(port: int, n: int, window: str = "") -> list:
    """N headless Chromium browsers showing the dashboard, each with its first update
    (``window``: "WxH", else Chromium's headless default window)."""
    drivers = []
    for _ in range(n):
        drv = _chromium(window)
        drivers.append(drv)
        drv.get(f"http://127.0.0.1:{port}/")
    deadline = time.monotonic() + 30
    for drv in drivers:
        while drv.execute_script("return Number(document.body.dataset.updates || 0)") < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("a dashboard page got no update in 30 s")
            time.sleep(0.1)
    return drivers


def _close_dashboards(drivers: list) -> None:
    for drv in drivers:
        try:
            drv.quit()
        except Exception:  # pragma: no cover - a browser that died is gone anyway
            pass


async def _bench(args) -> dict:
    res: dict = {"connections": args.connections, "duration_s": args.duration, "loop": args.loop}
    p, info = _spawn("floor")
    try:
        await asyncio.sleep(0.2)
        res.update(await _floor_load(info["port"], args.connections, args.duration))
    finally:
        _stop(p)
    with tempfile.TemporaryDirectory(prefix="paperex-bench-") as d:
        p, info = _spawn("full", d, args.symbols)
        pages: list = []
        try:
            if args.dashboard_pages:
                pages = await asyncio.to_thread(_open_dashboards, info["port"], args.dashboard_pages)
                res["dashboard_pages"] = len(pages)
            await asyncio.sleep(0.2)
            res.update(await _measured(p.pid, _order_load, info, args.connections, args.duration))
            res.update(await _measured(p.pid, _wsapi_load, info, args.connections, args.duration))
            if args.ws_clients:
                res.update(await _ws_load(info, args.ws_clients, args.ws_duration, args.trades_per_s))
            if pages:       # the pages were live all along: each kept receiving updates
                res["dashboard_updates"] = [drv.execute_script("return Number(document.body.dataset.updates)")
                                            for drv in pages]
            # the server's CPU spent on the pages (building and sending their updates), as a share
            # of all its CPU since it started
            metrics = await _metrics(info["port"])
            total = cpu_seconds(p.pid)
            if "paperex_dashboard_cpu_seconds_total" in metrics and total:
                res["dashboard_cpu_s"] = metrics["paperex_dashboard_cpu_seconds_total"]
                res["dashboard_cpu_share"] = res["dashboard_cpu_s"] / total
            if "paperex_dashboard_longest_hold_seconds" in metrics:
                # the longest the pages' updates kept the server's loop from serving requests
                res["dashboard_longest_hold_ms"] = round(metrics["paperex_dashboard_longest_hold_seconds"] * 1e3, 3)
        finally:
            await asyncio.to_thread(_close_dashboards, pages)
            _stop(p)
    res["ratio"] = res["orders_per_s"] / res["floor_rps"] if res.get("floor_rps") else 0.0
    res["wsapi_vs_rest"] = res["wsapi_orders_per_s"] / res["orders_per_s"] if res.get("orders_per_s") else 0.0
    return res


def main(argv=None) -> int:
    ap = parser(__doc__, "small and quick (< 10 s)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per HTTP phase")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--ws-clients", type=int, default=200)
    ap.add_argument("--ws-duration", type=float, default=60.0)
    ap.add_argument("--trades-per-s", type=float, default=20.0)
    ap.add_argument("--dashboard-pages", type=int, default=0, metavar="N",
                    help="keep the dashboard open in N headless Chromium browsers while measuring")
    ap.add_argument("--serve", choices=("floor", "full"), help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--symbols", default=None, help="what the server serves, as paperex serve --symbols "
                                                     "(default BTCUSDT, ETHUSDT; e.g. binance)")
    args = ap.parse_args(argv)
    args.loop = _use_uvloop()
    if args.serve == "floor":
        asyncio.run(_serve_floor())
        return 0
    if args.serve == "full":
        asyncio.run(_serve_full(args.data_dir, args.symbols))
        return 0
    if args.smoke:
        args.duration, args.ws_clients, args.ws_duration = 1.5, 20, 1.5
    t0 = time.perf_counter()
    res = asyncio.run(_bench(args))
    res["wall_s"] = round(time.perf_counter() - t0, 2)
    res = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()}
    lines = [f"floor (no-op aiohttp)   : {res['floor_rps']:.0f} req/s with {args.connections} connections",
             f"signed place+cancel     : {res['orders_per_s']:.0f} order req/s ({res['pairs_per_s']:.0f} pairs/s), "
             f"ratio {res['ratio']:.2f}, p50 {res['p50_ms']:.2f} ms, p99 {res['p99_ms']:.2f} ms, "
             f"errors {res['order_errors']}",
             f"WS API place+cancel     : {res['wsapi_orders_per_s']:.0f} order req/s "
             f"({res['wsapi_pairs_per_s']:.0f} pairs/s) on {args.connections} sessions, x{res['wsapi_vs_rest']:.2f} "
             f"REST, p50 {res['wsapi_p50_ms']:.2f} ms, p99 {res['wsapi_p99_ms']:.2f} ms, "
             f"errors {res['wsapi_order_errors']}"]
    if res.get("server_us_per_req") and res.get("wsapi_server_us_per_req"):
        lines.append(f"server CPU per order req: REST {res['server_us_per_req']:.1f} us, "
                     f"WS API {res['wsapi_server_us_per_req']:.1f} us")
    if args.ws_clients:
        lines.append(f"websockets              : {res['ws_clients']} clients, {res['ws_msgs_per_s']:.0f} msgs/s, "
                     f"max lag {res['ws_max_lag_ms']:.1f} ms, p99 lag {res['ws_p99_lag_first_half_ms']:.1f} -> "
                     f"{res['ws_p99_lag_second_half_ms']:.1f} ms (first -> second half)")
    return finish(res, lines, args.json)


if __name__ == "__main__":
    sys.exit(main())
