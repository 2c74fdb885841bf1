#!/usr/bin/env python
"""What the always-on projections of #16 cost per command: the leaderboard and the dashboard feed.

Both are told of every committed command, whether or not a page is open, so their
per-command time is what the dashboard and the ranking add to the exchange's hot
path.  The script runs the synthetic market (``crash`` scenario, virtual clock, as
fast as it goes) on a runtime with the gateway's projection, records every
committed result (command, events, book changes, new liquidation records), then
times feeding those results to ``Leaderboard.on_executed`` and
``DashboardFeed.on_executed`` (no page open, and with a page: its ladders follow the
books) against an empty loop over the same records, and
compares with the flow's own time per command (agents + sequencer + venue +
projection).  The pages' own cost (building and sending updates) is measured by
``bench_gateway.py --dashboard-pages N`` (``dashboard_cpu_share``).

``--json`` prints one JSON object as the last line; ``--smoke`` is a small run.

``--gateway PAIRS`` answers "do open pages slow the exchange, and if the wall figures
move, whose CPU is it?": it runs ``bench_gateway.py`` (arguments after ``--``)
PAIRS times for each variant (``--variants``), interleaved (none, blank, ticker, pages, feeds,
sink, none, ...):

* ``none``   - no dashboard;
* ``pages``  - the page open in N headless Chromium browsers (``--pages``, 5), live;
* ``frozen`` - the same N browsers with the page loaded, then its renderer frozen
  (DevTools ``Page.setWebLifecycleState``): the server still sends every update to
  the browser, the page runs no script and draws nothing;
* ``feeds``  - N plain websocket clients of the dashboard feed in a separate process
  (the exchange's whole cost of N pages, no renderer at all; each client parses every
  message, as a page does first);
* ``sink``   - N websocket clients of the feed that drop every payload unread (raw sockets,
  one select loop): the server's own work for N pages with the least a receiver can add;
* ``blank``  - N headless Chromium browsers on a static page that never changes and
  never talks to the exchange: what running the browsers costs;
* ``ticker`` - N headless Chromium browsers on a page that never talks to the exchange
  and changes one text node once a second from its own timer: the cheapest live page
  there is (one trivial frame a second, the dashboard's pace in bench_gateway's window).
  What ``ticker`` moves, no dashboard page can avoid moving.

During each bench phase (REST orders, WS API orders, market websockets) it samples
the CPU of the browsers' process trees (chromedriver and every Chromium process under
it), of the feed clients and of the whole machine (``/proc/stat``), and reports them
beside bench_gateway's figures, then the median of each variant.

``--page-cost SECONDS`` measures the pages alone: ``--pages`` headless Chromium browsers
on the dashboard, the CPU of their process trees over SECONDS (in all, and by Chromium
process type: renderer, gpu-process - the display compositor -, browser, network) and
the updates they drew.  ``--market synthetic`` (default): ``paperex serve`` with the
synthetic market at 20x (hundreds of agents, a busy book); ``--market orders``: the
server bench_gateway measures, with a paced load like its phases (8 connections placing
and cancelling resting orders, ~200 requests/s in all, and 20 trades/s), so the pages
see what they see during bench_gateway without the load taking the machine.
``--window WxH`` sizes the browsers' windows (default: Chromium's headless default, as in
bench_gateway).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


class _ProjectionStub:
    """What the feed reads of the gateway's projection: ``new_force`` and ``listeners``."""

    def __init__(self) -> None:
        self.new_force: list = []
        self.listeners: list = []


def record(seconds: float, seed: int) -> tuple[list, float, int]:
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    from exchange.engine.clock import VirtualClock
    from exchange.engine.runtime import Runtime
    from exchange.flow.synthetic import SyntheticFlow
    from exchange.gateway.projection import Projection

    rt = Runtime(dict(DEFAULT_INSTRUMENTS), clock=VirtualClock(1_800_000_000_000))
    proj = Projection(rt.instruments)
    rt.sequencer.subscribe(proj.on_executed)
    results: list = []

    def keep(seq, ts, command, events, changes) -> None:
        results.append((seq, ts, command, events, changes, list(proj.new_force)))

    proj.listeners.append(keep)
    flow = SyntheticFlow(rt, seed=seed, scenario="crash")
    t0 = time.perf_counter()
    stats = flow.run(seconds)
    wall = time.perf_counter() - t0
    return results, wall, stats.commands


def time_listeners(results: list, instruments: dict, books: dict, repeat: int) -> dict:
    from exchange.engine.leaderboard import Leaderboard
    from exchange.gateway.dashboard.feed import DashboardFeed

    best = {"empty": float("inf"), "leaderboard": float("inf"), "feed": float("inf"), "feed_open": float("inf")}
    for _ in range(repeat):                 # interleaved, the best of each
        stub = _ProjectionStub()
        t0 = time.perf_counter()
        for seq, ts, cmd, events, changes, force in results:
            stub.new_force = force
        best["empty"] = min(best["empty"], time.perf_counter() - t0)

        board = Leaderboard.for_instruments(instruments)
        on = board.on_executed
        t0 = time.perf_counter()
        for seq, ts, cmd, events, changes, force in results:
            stub.new_force = force
            on(seq, ts, cmd, events)
        best["leaderboard"] = min(best["leaderboard"], time.perf_counter() - t0)

        for key, page_open in (("feed", False), ("feed_open", True)):
            stub = _ProjectionStub()
            feed = DashboardFeed(stub, sorted(instruments), lambda s: books[s])
            if page_open:           # a page is open: the ladders follow the book changes too
                feed.open_ladders()
            on = feed.on_executed
            t0 = time.perf_counter()
            for seq, ts, cmd, events, changes, force in results:
                stub.new_force = force
                on(seq, ts, cmd, events, changes)
            best[key] = min(best[key], time.perf_counter() - t0)
    return best


# ------------------------------------------------------------------ --gateway
def _proc_cpu(pid: int) -> "float | None":
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rpartition(")")[2].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (all cores)."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    tck = os.sysconf("SC_CLK_TCK")
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return (sum(f) - idle) / tck, sum(f) / tck


def _tree(roots: list) -> list:
    """``roots`` and every process under them."""
    parent: dict = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    parent[int(d)] = int(fh.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(c for c, pp in parent.items() if pp == pid)
    return out


class TreeCpu:
    """The CPU seconds a set of process trees used since ``start`` (sampled every 0.5 s in a
    thread, so a process that ends between samples keeps what it had used)."""

    def __init__(self, roots: list) -> None:
        import threading
        self.roots = list(roots)
        self.seen: dict = {}
        self.base: dict = {}
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        for pid in _tree(self.roots):
            c = _proc_cpu(pid)
            if c is not None:
                self.seen[pid] = c

    def _loop(self) -> None:
        while not self.stop_ev.wait(0.5):
            self.sample()

    def start(self) -> None:
        self.sample()
        self.base = dict(self.seen)
        self.thread.start()

    def used(self) -> float:
        self.sample()
        return sum(c - self.base.get(pid, 0.0) for pid, c in self.seen.items())

    def stop(self) -> None:
        self.stop_ev.set()
        self.thread.join(2)


_FEED_CLIENT = """
import asyncio, json, signal, sys, aiohttp
async def main(port, n):
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    counts = [0] * n; size = [0]
    async with aiohttp.ClientSession() as s:
        async def client(i):
            async with s.ws_connect(f"ws://127.0.0.1:{port}/paperex/v1/dashboard/ws", max_msg_size=0) as ws:
                await ws.send_str("{}")
                async for msg in ws:
                    json.loads(msg.data)          # what a page does first with a message
                    counts[i] += 1; size[0] += len(msg.data)
        tasks = [asyncio.create_task(client(i)) for i in range(n)]
        print("ready", flush=True)
        await stop.wait()
        for t in tasks: t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"messages": counts, "bytes": size[0]}), flush=True)
asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


# Pages that never talk to the exchange (the ``blank`` and ``ticker`` variants); bench_gateway
# reads ``body.dataset.updates`` from every page at the end.
_BLANK_PAGE = "<!doctype html><body data-updates=0><p>paperex bench: a static page</p></body>"
_TICKER_PAGE = ("<!doctype html><body data-updates=0><p id=t>0</p><script>setInterval(function(){"
                "var b=document.body;b.dataset.updates=Number(b.dataset.updates)+1;"
                "document.getElementById('t').textContent=String(Date.now())},1000)</script></body>")


# The ``sink`` variant's clients: the dashboard feed read from raw sockets in one blocking
# select loop, each frame's header parsed to count messages and answer pings, the payload
# dropped unread - the least a receiver can spend, so what moves with ``sink`` is the server's
# own work of building and sending the pages' updates.
_SINK_CLIENT = r"""
import base64, json, os, select, signal, socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
def frame(opcode, payload):          # a client frame: masked (RFC 6455 5.3), short payload
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /paperex/v1/dashboard/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    s.sendall(frame(0x1, b"{}"))
    socks.append(s)
state = {s: [b"", 0, 0] for s in socks}   # socket -> [header bytes, payload left, opcode]
counts = {s: 0 for s in socks}; size = 0
print("ready", flush=True)
while not stop:
    try:
        ready = select.select(socks, [], [], 0.5)[0]
    except InterruptedError:
        continue
    for s in ready:
        data = s.recv(1 << 16)
        if not data:
            socks.remove(s); continue
        size += len(data)
        st = state[s]; i = 0
        while i < len(data):
            if st[1]:                                  # inside a payload: skip it
                take = min(st[1], len(data) - i); i += take; st[1] -= take
                if st[1] == 0 and st[2] == 0x9:
                    s.sendall(frame(0xA, b""))
                continue
            st[0] += data[i:i + 1]; i += 1             # a header, byte by byte (a few per message)
            h = st[0]
            if len(h) < 2:
                continue
            ln = h[1] & 0x7F
            need = 2 + (2 if ln == 126 else 8 if ln == 127 else 0)
            if len(h) < need:
                continue
            ln = struct.unpack(">H", h[2:4])[0] if ln == 126 else struct.unpack(">Q", h[2:10])[0] if ln == 127 else ln
            st[0], st[1], st[2] = b"", ln, h[0] & 0x0F
            if st[2] == 0x1:
                counts[s] += 1
            if ln == 0 and st[2] == 0x9:
                s.sendall(frame(0xA, b""))
print(json.dumps({"messages": list(counts.values()), "bytes": size}), flush=True)
"""


def _gateway_run(variant: str, n: int, bench_argv: list) -> None:
    """One bench_gateway run with the dashboard ``variant`` open; prints its JSON plus the
    CPU figures (called in a subprocess by ``_gateway_series``)."""
    import subprocess
    sys.path.insert(0, HERE)
    import bench_gateway as bg

    extra: dict = {"variant": variant, "pages": n if variant != "none" else 0}
    state: dict = {"roots": [], "phases": {}, "feed": None}
    open_pages, close_pages = bg._open_dashboards, bg._close_dashboards

    class _Frozen:
        """A frozen page: woken before anything asks it a question (bench_gateway reads
        each page's update count at the end)."""

        def __init__(self, drv) -> None:
            self.drv = drv
            self.frozen = True

        def execute_script(self, *a):
            if self.frozen:
                self.drv.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "active"})
                self.frozen = False
            return self.drv.execute_script(*a)

        def quit(self) -> None:
            self.drv.quit()

    def opened(port: int, count: int) -> list:
        if variant in ("blank", "ticker"):
            drivers = [bg._chromium() for _ in range(count)]
            for d in drivers:
                d.get("data:text/html," + (_TICKER_PAGE if variant == "ticker" else _BLANK_PAGE))
            state["roots"] = [d.service.process.pid for d in drivers]
            return drivers
        if variant in ("feeds", "sink"):
            p = subprocess.Popen([sys.executable, "-c", _FEED_CLIENT if variant == "feeds" else _SINK_CLIENT,
                                  str(port), str(count)],
                                 stdout=subprocess.PIPE, text=True)
            assert p.stdout.readline().strip() == "ready"
            state["feed"] = p
            state["roots"] = [p.pid]
            return []
        drivers = open_pages(port, count)
        state["roots"] = [d.service.process.pid for d in drivers]
        if variant == "frozen":
            for d in drivers:
                d.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "frozen"})
            return [_Frozen(d) for d in drivers]
        return drivers

    def closed(drivers: list) -> None:
        p = state["feed"]
        if p is not None:
            p.terminate()
            out = p.communicate(timeout=20)[0].strip().splitlines()
            if out:
                got = json.loads(out[-1])
                extra["feed_messages"] = got["messages"]
                extra["feed_bytes"] = got["bytes"]
        close_pages(drivers)

    def timed(name: str, phase):
        async def run(*args):
            tree = TreeCpu(state["roots"]) if state["roots"] else None
            if tree is not None:
                tree.start()
            m0, t0 = _machine_cpu()
            w0 = time.perf_counter()
            res = await phase(*args)
            wall = time.perf_counter() - w0
            m1, t1 = _machine_cpu()
            ph = {"wall_s": round(wall, 2), "machine_busy_cores": round((m1 - m0) / wall, 3),
                  "machine_cores": round((t1 - t0) / wall, 3)}
            if tree is not None:
                ph["dashboard_side_cpu_s"] = round(tree.used(), 3)
                ph["dashboard_side_cores"] = round(ph["dashboard_side_cpu_s"] / wall, 3)
                tree.stop()
            state["phases"][name] = ph
            return res
        return run

    bg._open_dashboards, bg._close_dashboards = opened, closed
    bg._order_load = timed("orders", bg._order_load)
    bg._wsapi_load = timed("wsapi", bg._wsapi_load)
    bg._ws_load = timed("ws", bg._ws_load)
    argv = list(bench_argv) + (["--dashboard-pages", str(n)] if variant != "none" else [])
    orig_bench = bg._bench

    async def bench(a):
        res = await orig_bench(a)
        res.update(extra)
        res["phases"] = state["phases"]
        return res

    bg._bench = bench
    if "--json" not in argv:
        argv.append("--json")
    bg.main(argv)


def _chromium_type(pid: int) -> str:
    """A process of the browsers' trees by its role: renderer, gpu-process, utility:network, ...
    (Chromium rewrites its command line with spaces: split on both)."""
    try:
        with open(f"/proc/{pid}/cmdline") as fh:
            args = fh.read().replace("\0", " ").split()
    except OSError:
        return "gone"
    if args and "chromedriver" in args[0]:
        return "chromedriver"
    kind = next((a[7:] for a in args if a.startswith("--type=")), "browser")
    sub = next((a.split("=", 1)[1].split(".")[0] for a in args if a.startswith("--utility-sub-type=")), None)
    return f"{kind}:{sub}" if sub else kind


async def _paced_orders(info: dict, stop, rate: float = 200.0, trades_per_s: float = 20.0) -> None:
    """What the pages see during bench_gateway (a resting order placed and cancelled at 8
    prices, trades at 50000), paced: ~``rate`` order requests/s in all."""
    import asyncio
    import bench_gateway as bg
    port, key, secret = info["port"], info["apiKey"], info["secret"]
    await bg._control(port, "/index", {"symbol": "BTCUSDT", "price": "50000"})
    taker = await bg._control(port, "/accounts", {"balance": "100000000"})

    async def orders(i: int) -> None:
        async with await bg.Conn.open(port) as c:
            while not stop.is_set():
                q, h = bg._signed(key, secret, "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
                                               f"&quantity=0.002&price={30000 + i}")
                st, body = await c.request("POST", "/fapi/v1/order?" + q, h)
                if st == 200:
                    q, h = bg._signed(key, secret, f"symbol=BTCUSDT&orderId={bg.loads(body)['orderId']}")
                    await c.request("DELETE", "/fapi/v1/order?" + q, h)
                await asyncio.sleep(16 / rate)

    async def trader() -> None:
        async with await bg.Conn.open(port) as c:
            while not stop.is_set():
                q, h = bg._signed(key, secret, "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC"
                                               "&quantity=0.002&price=50000")
                await c.request("POST", "/fapi/v1/order?" + q, h)
                q, h = bg._signed(taker["apiKey"], taker["secretKey"], "symbol=BTCUSDT&side=BUY&type=MARKET"
                                                                       "&quantity=0.002")
                await c.request("POST", "/fapi/v1/order?" + q, h)
                await asyncio.sleep(1 / trades_per_s)

    await asyncio.gather(*(orders(i) for i in range(8)), trader())


def _page_cost(seconds: float, n: int, as_json: bool, market: str = "synthetic", window: str = "") -> int:
    import asyncio
    import tempfile
    import threading
    from pathlib import Path
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(ROOT, "tests", "dashboard"))
    import bench_gateway as bg
    from browserkit import serve
    with tempfile.TemporaryDirectory(prefix="paperex-page-cost-") as d:
        loop = stop = load = None
        if market == "orders":
            proc, info = bg._spawn("full", d)
            port = info["port"]
            loop = asyncio.new_event_loop()
            stop = asyncio.Event()
            load = threading.Thread(target=lambda: loop.run_until_complete(_paced_orders(info, stop)), daemon=True)
            load.start()
        else:
            proc = serve(Path(d), "--flow", "synthetic", "--clock", "virtual", "--seed", "3", "--speed", "20")
            port = int(proc.url.rsplit(":", 1)[1])
        try:
            drivers = bg._open_dashboards(port, n, window=window)
            try:
                time.sleep(3)
                count = "return Number(document.body.dataset.updates || 0)"
                tree = TreeCpu([drv.service.process.pid for drv in drivers])
                tree.start()
                u0 = [drv.execute_script(count) for drv in drivers]
                time.sleep(seconds)
                used = tree.used()
                by_type: dict = {}
                for pid, c in tree.seen.items():
                    kind = _chromium_type(pid)
                    by_type[kind] = by_type.get(kind, 0.0) + c - tree.base.get(pid, 0.0)
                tree.stop()
                drawn = [drv.execute_script(count) - a for drv, a in zip(drivers, u0)]
            finally:
                bg._close_dashboards(drivers)
        finally:
            if loop is not None:
                loop.call_soon_threadsafe(stop.set)
                load.join(10)
                bg._stop(proc)
            else:
                proc.stop()
    res = {"pages": n, "seconds": seconds, "market": market, "window": window or "default",
           "browser_cpu_s": round(used, 3), "browser_cores": round(used / seconds, 4),
           "cores_by_type": {k: round(v / seconds, 4) for k, v in sorted(by_type.items()) if v > 0},
           "updates_drawn": drawn, "cpu_ms_per_update": round(used * 1000 / max(1, sum(drawn)), 2)}
    print(f"{n} pages for {seconds:.0f} s ({market} market, window {res['window']}): {res['browser_cores']:.4f} cores "
          f"of browser CPU {res['cores_by_type']}, updates drawn {drawn}, "
          f"{res['cpu_ms_per_update']:.1f} ms of browser CPU per drawn update")
    if as_json:
        print(json.dumps(res))
    return 0


def _median(vals: list):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    m = len(vals) // 2
    return vals[m] if len(vals) % 2 else (vals[m - 1] + vals[m]) / 2


def _gateway_series(pairs: int, variants: list, n: int, bench_argv: list, as_json: bool) -> int:
    import subprocess
    runs: dict = {v: [] for v in variants}
    for i in range(pairs):
        for v in variants:
            cmd = [sys.executable, os.path.abspath(__file__), "--gateway-run", v, "--pages", str(n), "--",
                   *bench_argv]
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
            if out.returncode != 0:
                print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
                return 1
            res = json.loads(out.stdout.strip().splitlines()[-1])
            runs[v].append(res)
            ph = res["phases"]
            print(f"[{i + 1}/{pairs}] {v:7s} REST {res['orders_per_s']:8.0f}/s ({res['server_us_per_req']:.1f} us "
                  f"server CPU/req)  WS API {res['wsapi_orders_per_s']:8.0f}/s "
                  f"({res['wsapi_server_us_per_req']:.1f} us)  streams {res.get('ws_msgs_per_s', 0):6.0f} msg/s "
                  f"p99 lag {res.get('ws_p99_lag_ms', 0):6.1f} ms  machine busy "
                  + "/".join(f"{ph[k]['machine_busy_cores']:.2f}" for k in ("orders", "wsapi", "ws") if k in ph)
                  + " cores  dashboard side "
                  + "/".join(f"{ph[k].get('dashboard_side_cores', 0):.2f}" for k in ("orders", "wsapi", "ws")
                             if k in ph) + " cores", flush=True)
    keys = ("orders_per_s", "p99_ms", "server_us_per_req", "wsapi_orders_per_s", "wsapi_p99_ms",
            "wsapi_server_us_per_req", "ws_msgs_per_s", "ws_p99_lag_ms", "dashboard_cpu_share",
            "dashboard_longest_hold_ms")
    summary: dict = {}
    for v, rs in runs.items():
        row = {k: _median([r.get(k) for r in rs]) for k in keys}
        for ph in ("orders", "wsapi", "ws"):
            for k in ("machine_busy_cores", "dashboard_side_cores"):
                row[f"{ph}_{k}"] = _median([r["phases"].get(ph, {}).get(k) for r in rs])
        summary[v] = row
    base = summary.get("none")
    print("\nmedians (change against none):")
    for v, row in summary.items():
        cells = []
        for k in keys:
            val = row[k]
            if val is None:
                continue
            rel = "" if base is None or v == "none" or not base.get(k) else f" ({(val / base[k] - 1) * 100:+.1f} %)"
            cells.append(f"{k} {val:.4g}{rel}")
        print(f"  {v:7s} " + ", ".join(cells))
        print(f"          dashboard side cores orders/wsapi/ws: {row['orders_dashboard_side_cores']}/"
              f"{row['wsapi_dashboard_side_cores']}/{row['ws_dashboard_side_cores']}, machine busy cores: "
              f"{row['orders_machine_busy_cores']}/{row['wsapi_machine_busy_cores']}/{row['ws_machine_busy_cores']}")
    if as_json:
        print(json.dumps({"pairs": pairs, "pages": n, "bench_argv": bench_argv, "medians": summary, "runs": runs}))
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bench_argv: list = []
    if "--" in argv:
        i = argv.index("--")
        argv, bench_argv = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gateway", type=int, metavar="PAIRS", default=0,
                    help="run bench_gateway.py (its arguments after --) PAIRS times per variant, interleaved")
    ap.add_argument("--variants", default="none,blank,ticker,pages,feeds,sink",
                    help="of none, blank, ticker, pages, frozen, feeds, sink (default: all but frozen)")
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--gateway-run", choices=("none", "pages", "frozen", "feeds", "sink", "blank", "ticker"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--market", choices=("synthetic", "orders"), default="synthetic",
                    help="--page-cost: the synthetic market at 20x, or bench_gateway's server with a paced order load")
    ap.add_argument("--window", default="", metavar="WxH", help="--page-cost: the browsers' window size")
    ap.add_argument("--page-cost", type=float, metavar="SECONDS", default=0.0,
                    help="the browser CPU of --pages dashboard pages on a busy synthetic market")
    ap.add_argument("--seconds", type=float, default=600.0, help="simulated seconds of the crash scenario")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.gateway_run:
        _gateway_run(args.gateway_run, args.pages, bench_argv)
        return 0
    if args.page_cost:
        return _page_cost(args.page_cost, args.pages, args.json, args.market, args.window)
    if args.gateway:
        return _gateway_series(args.gateway, args.variants.split(","), args.pages, bench_argv, args.json)
    if args.smoke:
        args.seconds, args.repeat = 20.0, 2
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    results, wall, commands = record(args.seconds, args.seed)
    n = len(results)
    books = {s: ((), ()) for s in DEFAULT_INSTRUMENTS}     # the ladders start empty, as the flow's books did
    best = time_listeners(results, dict(DEFAULT_INSTRUMENTS), books, args.repeat)
    flow_us = wall / max(1, commands) * 1e6
    lb_us = (best["leaderboard"] - best["empty"]) / max(1, n) * 1e6
    feed_us = (best["feed"] - best["empty"]) / max(1, n) * 1e6
    open_us = (best["feed_open"] - best["empty"]) / max(1, n) * 1e6
    res = {"commands": n, "simulated_s": args.seconds, "flow_us_per_command": round(flow_us, 3),
           "leaderboard_us_per_command": round(lb_us, 3), "feed_us_per_command": round(feed_us, 3),
           "feed_page_open_us_per_command": round(open_us, 3),
           "share_of_flow": round((lb_us + feed_us) / flow_us, 4) if flow_us else 0.0}
    print(f"{n:,} committed commands ({args.seconds:.0f} s of the crash scenario), flow {flow_us:.2f} us/command")
    print(f"leaderboard {lb_us:.3f} us/command, dashboard feed {feed_us:.3f} us/command (page open: "
          f"{open_us:.3f}): {res['share_of_flow'] * 100:.1f} % of the flow's time per command")
    if args.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
