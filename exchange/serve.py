"""Layer 6 — ``paperex serve``: a Runtime, the gateway and a flow wired on one aiohttp server.

``start(...)`` is the programmatic form (tests, benchmarks): it returns a
``Server`` with the bound port; ``await server.stop()`` shuts down cleanly
(websockets closed with a close frame, sequencer drained, journal closed).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from aiohttp import web

from exchange.engine import heap
from exchange.engine.clock import VirtualClock, WallClock
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.contract.symbol_sets import resolve_symbols
from exchange.engine.runtime import Runtime
from exchange.units import MONEY_SCALE
from exchange.contract.commands import CreateAccount, Deposit, SeedHistory
from exchange.engine.history import format_anchors, parse_span

from exchange.gateway.app import Gateway, make_app
from exchange.gateway.body import RAW_BODIES
from exchange.gateway.ratelimit import RateLimitConfig
from exchange.gateway.ws.market_streams import MAX_LIFETIME_S, PING_INTERVAL_S, PONG_TIMEOUT_S

log = logging.getLogger("paperex.serve")

DEMO_BALANCE = 100_000
#: ``paperex serve --history`` default: enough 1m candles for a strategy that needs 500 and more,
#: a few funding times, 3 days of hourly candles (start-up cost: see BENCHMARKS.md)
DEFAULT_HISTORY = "3d"


async def until_signalled(stop: asyncio.Event) -> None:
    """Wait until ``stop`` is set, by the caller or by SIGINT / SIGTERM (Ctrl-C, kill)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-unix
            pass
    await stop.wait()


@dataclass
class Server:
    runtime: Runtime
    gateway: Gateway
    runner: web.AppRunner
    host: str
    port: int
    demo: Optional[dict] = None
    competition_keys: Optional[Path] = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.gateway.fault_injector is not None:
            await self.gateway.fault_injector.stop()
        if self.gateway.competition is not None:
            await self.gateway.competition.stop()
        await self.runner.cleanup()          # on_shutdown closes every websocket with a close frame
        await self.runtime.sequencer.stop()
        self.runtime.close()


def _is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


DEMO_KEY_TYPES = ("hmac", "ed25519", "rsa")


def _demo_key_file(gw: Gateway, key_type: str) -> Path:
    data_dir = gw.runtime.data_dir
    if data_dir is None:        # no data dir (tests): a private temporary directory
        import tempfile
        data_dir = Path(tempfile.mkdtemp(prefix="paperex-demo-"))
    return Path(data_dir) / f"demo-{key_type.lower()}-private.pem"


def _write_private(path: Path, pem: str) -> None:
    """The private key, readable by its owner only (0600 from creation, never wider)."""
    import os
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


async def ensure_demo(gw: Gateway, balance: int = DEMO_BALANCE, key_type: str = "hmac") -> dict:
    """The demo account (created once, kept across restarts) and its key of ``key_type``:
    HMAC (apiKey + secret) or Ed25519 / RSA (apiKey + the private key's file, mode 0600 in
    the data dir; the exchange keeps only the public half)."""
    from exchange.gateway.keytypes import HMAC, generate_key_pair
    kind = key_type.upper()
    if key_type not in DEMO_KEY_TYPES:
        raise ValueError(f"--demo-key must be one of {', '.join(DEMO_KEY_TYPES)}, not {key_type!r}")
    rec = gw.keys.by_label("demo")
    if rec is None or rec.account_id not in gw.venue.accounts:
        aid = gw.next_account_id()
        res = await gw.submit(CreateAccount(aid))
        if res.events and type(res.events[0]).__name__ == "CommandRejected":
            raise RuntimeError(f"cannot create the demo account: {res.events[0].msg}")
        rec = gw.keys.create(aid, "demo") if kind == HMAC else None
        await gw.submit(Deposit(aid, balance * MONEY_SCALE))
    else:
        aid = rec.account_id
    if kind == HMAC:
        rec = next((k for k in gw.keys.for_account(aid) if k.key_type == HMAC), None) or gw.keys.create(aid, "demo")
        return {"accountId": aid, "apiKey": rec.api_key, "secretKey": rec.secret, "keyType": HMAC}
    path = _demo_key_file(gw, kind)
    rec = next((k for k in gw.keys.for_account(aid) if k.key_type == kind), None)
    if rec is None or not path.exists():
        private, public = generate_key_pair(kind)
        _write_private(path, private)
        rec = gw.keys.add_public(aid, public, kind, "demo")
    return {"accountId": aid, "apiKey": rec.api_key, "keyType": kind, "privateKeyFile": str(path)}


async def start(*, host: str = "127.0.0.1", port: int = 8800, data_dir: "str | Path | None" = None,
                clock: str = "wall", speed: Optional[float] = None, fsync: str = "batch",
                symbols: "str | Path | None" = None, brackets: "str | Path | None" = None,
                runtime: Optional[Runtime] = None,
                rate_limits: Optional[RateLimitConfig] = None, admin_token: Optional[str] = None,
                demo: bool = True, demo_key: str = "hmac", start_ms: Optional[int] = None, ws_queue_limit: int = 2000,
                access_log: bool = False, faults: "dict | str | Path | None" = None,
                ws_ping_interval_s: float = PING_INTERVAL_S, ws_pong_timeout_s: float = PONG_TIMEOUT_S,
                ws_max_lifetime_s: float = MAX_LIFETIME_S, history: "str | int" = 0,
                history_seed: int = 1, history_anchors: Optional[dict] = None,
                competition: "str | Path | None" = None, competition_keys: "str | Path | None" = None) -> Server:
    """``faults``: a fault / latency configuration (dict or JSON file, see ``faults.py``);
    None leaves the injector off (it can be configured later through the control API).
    ``ws_*``: websocket ping interval, pong timeout and maximum connection age in seconds
    (Binance: 3 min, 10 min, 24 h).  ``history``: the span of the seeded past (``"3d"``, ms, 0 for
    none) from ``history_seed``, ending at the price each symbol starts from (``history_anchors``:
    symbol -> ticks; default: the synthetic market's start prices); journaled as one SeedHistory
    command on a fresh journal only.  ``competition``: a competition file (JSON or TOML,
    ``exchange.contract.competition``); ``competition_keys`` where the teams' keys go
    (default: the file's ``keys_file``, else ``DATA_DIR/team-keys.json``)."""
    history_ms = parse_span(history)        # a bad span fails before anything starts
    for name, v in (("ws_ping_interval_s", ws_ping_interval_s), ("ws_pong_timeout_s", ws_pong_timeout_s),
                    ("ws_max_lifetime_s", ws_max_lifetime_s)):
        if not v > 0:
            raise ValueError(f"{name} must be > 0, not {v!r}")
    if ws_pong_timeout_s <= ws_ping_interval_s:     # else a client answering every ping is dropped
        raise ValueError("ws_pong_timeout_s must be longer than ws_ping_interval_s")
    if faults is not None:
        from exchange.gateway.faults import load_config, validate_config
        faults = validate_config(load_config(faults))   # a bad file fails before anything starts
    if brackets is not None and symbols is None:
        raise ValueError("--brackets needs --symbols FILE (a saved exchangeInfo)")
    if runtime is None:
        if symbols:
            served = resolve_symbols(symbols, brackets)
            # stderr: stdout carries the banner (and, for scripts driving a server, its first line)
            print(f"paperex: serving {served.summary()}", file=sys.stderr, flush=True)
            instruments = served.instruments
        else:
            instruments = dict(DEFAULT_INSTRUMENTS)
        if clock == "virtual":
            clk = VirtualClock(start_ms if start_ms is not None else time.time_ns() // 1_000_000, speed)
        elif clock == "wall":
            clk = WallClock()
        else:
            raise ValueError("--clock must be wall or virtual")
        runtime = Runtime(instruments, data_dir=data_dir, clock=clk, fsync=fsync)
    if admin_token is None and not _is_loopback(host):
        admin_token = secrets.token_hex(16)
        print(f"control API admin token (header X-PAPEREX-TOKEN): {admin_token}", flush=True)
    gw = Gateway(runtime, rate_limits=rate_limits, admin_token=admin_token, ws_queue_limit=ws_queue_limit,
                 ws_max_lifetime_s=ws_max_lifetime_s)
    # Gateway (app.py) takes no ping settings: set them on the hub before any socket opens
    gw.hub.ping_interval_s = ws_ping_interval_s
    gw.hub.pong_timeout_s = ws_pong_timeout_s
    if faults is not None:
        from exchange.gateway.faults import install
        install(gw, faults)
    app = make_app(gw)
    # request bodies are decoded by body.read_body, which answers a bad one as Binance JSON
    app[RAW_BODIES] = True
    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access") if access_log else None,
                           handle_signals=False, shutdown_timeout=5.0, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, backlog=1024)
    await site.start()
    bound = port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        bound = server.sockets[0].getsockname()[1]
    runtime.sequencer.start()
    srv = Server(runtime, gw, runner, host, bound)
    if history_ms and runtime.sequencer.seq == 0:
        anchors = history_anchors if history_anchors is not None else default_anchors(runtime.instruments)
        await gw.submit(SeedHistory(int(history_seed), history_ms, format_anchors(anchors)))
    if competition is not None:
        try:
            await open_competition_file(srv, competition, competition_keys)
        except BaseException:
            await srv.stop()
            raise
    if demo:
        srv.demo = await ensure_demo(gw, key_type=demo_key)
    return srv


async def open_competition_file(srv: Server, path: "str | Path", keys: "str | Path | None") -> None:
    from exchange.contract import competition as comp_file
    from exchange.gateway.common import wall_ms
    from exchange.gateway.competition import open_competition
    gw = srv.gateway
    path = Path(path)
    max_lev = max(i.max_leverage for i in gw.instruments.values())
    comp = comp_file.load(path, now_venue_ms=gw.clock.now_ms(), now_wall_ms=wall_ms(),
                          symbols=sorted(gw.instruments), max_leverage=max_lev)
    for sym in comp.symbols:
        if comp.max_leverage > gw.instruments[sym].max_leverage:
            raise comp_file.CompetitionError(f"{path}: max_leverage: {comp.max_leverage} is above {sym}'s "
                                             f"maximum {gw.instruments[sym].max_leverage}")
    if keys is not None:
        keys_path: Optional[Path] = Path(keys)
    elif comp.keys_file is not None:
        keys_path = path.parent / comp.keys_file
    elif srv.runtime.data_dir is not None:
        keys_path = srv.runtime.data_dir / "team-keys.json"
    else:
        keys_path = None
    guard = await open_competition(gw, comp, keys_path)
    guard.start()
    srv.competition_keys = keys_path
def default_anchors(instruments: dict) -> dict:
    """symbol -> ticks the synthetic market's index starts at (``flow.markets``)."""
    from decimal import Decimal
    from exchange.flow.markets import market_profile
    out = {}
    for sym, inst in instruments.items():
        ticks = int(Decimal(market_profile(sym).index.start_price) / Decimal(inst.tick_size))
        out[sym] = max(1, ticks)
    return out


def recording_anchors(path, instruments: dict, within_ms: int = 10_000) -> dict:
    """symbol -> ticks of each listed symbol's first price in a recording (a trade, else the
    mid of its first quote or book snapshot, else its first mark / index price), read from
    its first ``within_ms`` of exchange time only (start-up stays quick)."""
    from decimal import Decimal
    from exchange.flow.readers import open_recording
    from exchange.flow.records import BookTicker, DepthSnapshot, IndexPrice, MarkPrice, Trade
    found: dict = {}
    first = None
    for rec in open_recording(path, on_error="skip"):
        sym = getattr(rec, "symbol", None)
        first = rec.ts_ms if first is None else first
        if rec.ts_ms > first + within_ms or len(found) == len(instruments):
            break
        if sym not in instruments or sym in found:
            continue
        price = None
        if isinstance(rec, Trade):
            price = Decimal(rec.price)
        elif isinstance(rec, BookTicker) and rec.bid_px and rec.ask_px:
            price = (Decimal(rec.bid_px) + Decimal(rec.ask_px)) / 2
        elif isinstance(rec, DepthSnapshot) and rec.bids and rec.asks:
            price = (Decimal(rec.bids[0][0]) + Decimal(rec.asks[0][0])) / 2
        elif isinstance(rec, (MarkPrice, IndexPrice)):
            price = Decimal(rec.value)
        if price is not None and price > 0:
            found[sym] = max(1, int(price / Decimal(instruments[sym].tick_size)))
    return found


def banner(srv: Server) -> str:
    u, w = srv.rest_url, srv.ws_url
    lines = [
        f"paperex serving Binance USD-M Futures on {u}",
        f"  REST base : {u}   (fapi: {u}/fapi/v1, {u}/fapi/v2, {u}/fapi/v3)",
        f"  WS base   : {w}/ws   (combined: {w}/stream?streams=..., ccxt.pro ws.linear: {w}/ws)",
        f"  control   : {u}/paperex/v1   metrics: {u}/metrics",
        f"  clock     : {'virtual' if srv.runtime.clock.virtual else 'wall'}   "
        f"journal: {srv.runtime.data_dir / 'journal' if srv.runtime.data_dir else '(none)'}",
    ]
    comp = srv.gateway.competition
    if comp is not None:
        c = comp.competition
        lines += [f"  competition {c.name!r}: {len(c.teams)} teams, window {c.start_ms}..{c.end_ms} ms "
                  f"({c.window_clock} time), at end: {c.at_end}",
                  f"    leaderboard: {u}/paperex/v1/leaderboard   team keys: {srv.competition_keys}"]
    h = srv.gateway.projection.history
    if h is not None:
        lines.append(f"  history   : {h.span_ms // 60_000} minutes of seeded past (seed {h.seed})")
    if srv.demo:
        lines += [f"  demo account {srv.demo['accountId']}:",
                  f"    apiKey : {srv.demo['apiKey']}"]
        if "secretKey" in srv.demo:
            lines.append(f"    secret : {srv.demo['secretKey']}")
        else:
            lines.append(f"    {srv.demo['keyType']} private key file: {srv.demo['privateKeyFile']}")
    lines.append(f"  WS API    : {w}/ws-fapi/v1")
    return "\n".join(lines)


def parse_scenario_params(items: list) -> dict:
    """``["start_s=30", "total=[0.1,0.2]"]`` -> overrides (values parsed as JSON, else kept as text)."""
    import json
    out: dict = {}
    for kv in items:
        if "=" not in kv:
            raise ValueError(f"--scenario-param: expected KEY=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        try:
            val = json.loads(v)
        except ValueError:
            val = v
        out[k.strip()] = tuple(val) if isinstance(val, list) else val
    return out


def start_flow(srv: Server, flow: str, *, scenario: str = "calm", seed: int = 1,
               data: Optional[str] = None, speed: Optional[float] = None,
               stop: Optional[asyncio.Event] = None,
               scenario_overrides: Optional[dict] = None) -> Optional[asyncio.Task]:
    """Run an order-flow source beside the server, as just another client of the
    sequencer; returns its task (None for ``--flow none``)."""
    if flow == "none":
        return None
    if flow == "synthetic":
        from exchange.flow.synthetic import SyntheticFlow
        source = SyntheticFlow(srv.runtime, seed=seed, scenario=scenario,
                               scenario_overrides=dict(scenario_overrides or {}))
        srv.gateway.flow = source
        # a virtual clock without its own speed is moved by the flow
        task = srv.gateway.flow_task = asyncio.get_running_loop().create_task(
            source.run_async(speed=speed or 1.0, stop=stop), name="paperex-flow")
        return task
    if flow == "replay":
        from exchange.flow.replay_driver import ReplayDriver

        def progress(p) -> None:
            print(f"  replay: {p}", flush=True)

        driver = ReplayDriver(srv.runtime, data, progress=progress)
        srv.gateway.flow = driver
        # the task tells the latency model when a finished replay no longer moves the clock
        task = srv.gateway.flow_task = asyncio.get_running_loop().create_task(
            driver.run_async(speed=speed), name="paperex-flow")
        return task
    raise ValueError(f"--flow must be synthetic, replay or none, not {flow!r}")


async def serve_forever(args) -> int:
    clock, start_ms = args.clock, None
    if args.flow == "replay":
        if not args.data:
            raise ValueError("--flow replay needs --data PATH (a recorded market, see README)")
        from exchange.flow.replay_driver import ReplayDriver
        # recorded time drives the venue: a virtual clock standing at the recording's start
        clock, start_ms = "virtual", ReplayDriver.first_timestamp(args.data)
    history = getattr(args, "history", DEFAULT_HISTORY)
    hseed = getattr(args, "history_seed", None)
    hseed = args.seed if hseed is None else hseed
    anchors = None
    if args.flow == "replay" and parse_span(history):
        # the recording's own past (before its first record) is not in the recording: the seeded
        # past ends at the recording's first prices, so the live replay continues it
        anchors = recording_anchors(args.data, resolve_symbols(args.symbols, getattr(args, "brackets", None))
                                    .instruments if args.symbols else dict(DEFAULT_INSTRUMENTS))
        if not anchors:
            print("  history   : off (no price in the recording's first records)", flush=True)
            history = 0
    srv = await start(host=args.host, port=args.port, data_dir=args.data_dir, clock=clock,
                      speed=None if args.flow in ("synthetic", "replay") else args.speed,
                      fsync=args.fsync, symbols=args.symbols, brackets=getattr(args, "brackets", None),
                      start_ms=start_ms,
                      admin_token=getattr(args, "admin_token", None), faults=fault_config(args),
                      ws_ping_interval_s=getattr(args, "ws_ping_interval", PING_INTERVAL_S),
                      ws_pong_timeout_s=getattr(args, "ws_pong_timeout", PONG_TIMEOUT_S),
                      ws_max_lifetime_s=getattr(args, "ws_max_lifetime", MAX_LIFETIME_S),
                      history=history, history_seed=hseed, history_anchors=anchors,
                      demo_key=getattr(args, "demo_key", "hmac"),
                      competition=getattr(args, "competition", None),
                      competition_keys=getattr(args, "competition_keys", None))
    comp = srv.gateway.competition
    if comp is not None:        # the competition's scenario and seed drive the synthetic flow
        if comp.competition.scenario is not None:
            args.scenario = comp.competition.scenario
        if comp.competition.seed is not None:
            args.seed = comp.competition.seed
    # a long-lived venue heap: freeze it after start-up and after every snapshot
    heap.configure()
    heap.settle()
    srv.runtime.after_snapshot = heap.settle
    print(banner(srv), flush=True)
    if srv.gateway.faults is not None:
        fj = srv.gateway.faults.to_json()
        print(f"  faults    : {len(fj['rules'])} rule(s), seed {fj['seed']}, latency "
              f"request={fj['latency']['request']} ws={fj['latency']['ws']}", flush=True)
    stop = asyncio.Event()
    flow_task = start_flow(srv, args.flow, scenario=args.scenario, seed=args.seed, data=args.data,
                           speed=args.speed, stop=stop,
                           scenario_overrides=parse_scenario_params(getattr(args, "scenario_param", None) or []))
    if flow_task is not None:
        print(f"  flow      : {args.flow}" + (f" (scenario {args.scenario}, seed {args.seed})"
                                              if args.flow == "synthetic" else f" ({args.data})"), flush=True)
    await until_signalled(stop)
    print("paperex: shutting down...", flush=True)
    if flow_task is not None:
        flow_task.cancel()
        try:
            await flow_task
        except (asyncio.CancelledError, Exception):
            pass
    await srv.stop()
    print(f"paperex: stopped cleanly at seq {srv.runtime.sequencer.seq}", flush=True)
    return 0


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8800)
    p.add_argument("--data-dir", default="./paperex-data")
    p.add_argument("--demo-key", choices=DEMO_KEY_TYPES, default="hmac",
                   help="the demo account's key type: hmac (apiKey + secret), ed25519 or rsa (the private "
                        "key is written to DATA_DIR/demo-<type>-private.pem, mode 0600)")
    p.add_argument("--symbols", default=None, metavar="SPEC",
                   help="what to serve (default BTCUSDT, ETHUSDT): a saved Binance exchangeInfo answer (its "
                        "USDT perpetuals that are TRADING), paperex's compact instrument JSON (adds to / "
                        "overrides the defaults), 'binance' (the bundled snapshot of Binance's USD-M "
                        "perpetuals), 'binance:top20' (its 20 first by volume rank) or a list such as "
                        "BTCUSDT,SOLUSDT,DOGEUSDT (from the snapshot)")
    p.add_argument("--brackets", default=None, metavar="FILE",
                   help="a saved GET /fapi/v1/leverageBracket answer for --symbols EXCHANGEINFO (default: "
                        "the documented table of each symbol's tier, see docs)")
    p.add_argument("--clock", choices=("wall", "virtual"), default="wall")
    p.add_argument("--speed", type=float, default=None, help="virtual clock speed (x real time)")
    p.add_argument("--fsync", choices=("always", "batch", "never"), default="batch")
    p.add_argument("--flow", choices=("synthetic", "replay", "none"), default="synthetic",
                   help="order flow to trade against (default: a seeded synthetic market)")
    from exchange.flow.scenarios import SCENARIOS, describe
    p.add_argument("--scenario", default="calm", choices=SCENARIOS,
                   help="synthetic market scenario: " + "; ".join(f"{n}: {describe(n)}" for n in SCENARIOS)
                   .replace("%", "%%"))
    p.add_argument("--scenario-param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario parameter (JSON value), e.g. --scenario-param start_s=30 "
                        "(durations are realistic by default; compress them for a quick test)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic market")
    p.add_argument("--data", default=None, help="recorded market for --flow replay (Binance tape or CSV, tardis CSV)")
    p.add_argument("--admin-token", default=None, help="token required by the control API (default: "
                                                        "none on loopback, random otherwise)")
    p.add_argument("--faults", default=None, metavar="FILE",
                   help="fault injection rules (JSON, see README 'Faults and latency'); default: none")
    p.add_argument("--fault-seed", type=int, default=None, help="seed of the fault injector and latency "
                                                                 "model (default: the file's, else 1)")
    p.add_argument("--latency", default=None, metavar="SPEC",
                   help="delay between a request's arrival and its execution: fixed:MS, uniform:LOW,HIGH, "
                        "exponential:MEAN or lognormal:MEDIAN,SIGMA (ms); default: none")
    p.add_argument("--ws-latency", default=None, metavar="SPEC",
                   help="delay between an event and its websocket delivery (same forms); default: none")
    p.add_argument("--ws-ping-interval", type=float, default=PING_INTERVAL_S, metavar="S",
                   help="seconds between the server's websocket ping frames (Binance: 180)")
    p.add_argument("--ws-pong-timeout", type=float, default=PONG_TIMEOUT_S, metavar="S",
                   help="close a websocket that sent no pong for this many seconds (Binance: 600)")
    p.add_argument("--ws-max-lifetime", type=float, default=MAX_LIFETIME_S, metavar="S",
                   help="close every websocket at this age in seconds (Binance: 86400 = 24 h)")
    p.add_argument("--competition", default=None, metavar="FILE",
                   help="run a trading competition (JSON or TOML: teams, balance, window, symbols, "
                        "max leverage; see README 'Competition mode')")
    p.add_argument("--competition-keys", default=None, metavar="PATH",
                   help="where the teams' API keys are written (never overwritten; default: the file's "
                        "keys_file, else DATA_DIR/team-keys.json)")
    p.add_argument("--history", default=DEFAULT_HISTORY, metavar="SPAN",
                   help="seeded market history before the start: 7d, 12h, 90m (at most 30d) or 0 for none "
                        f"(default {DEFAULT_HISTORY}; journaled as one command)")
    p.add_argument("--history-seed", type=int, default=None,
                   help="seed of the market history (default: --seed)")
    p.add_argument("--log-level", default="WARNING")


def fault_config(args) -> "dict | None":
    """The fault / latency configuration of ``paperex serve``'s options (None: all off)."""
    from exchange.gateway.faults import LatencyModel, load_config
    path = getattr(args, "faults", None)
    seed = getattr(args, "fault_seed", None)
    lat, ws_lat = getattr(args, "latency", None), getattr(args, "ws_latency", None)
    if path is None and seed is None and lat is None and ws_lat is None:
        return None
    config = dict(load_config(path)) if path is not None else {}
    if seed is not None:
        config["seed"] = seed
    latency = dict(config.get("latency") or {})
    for name, spec in (("request", lat), ("ws", ws_lat)):
        if spec is not None:
            LatencyModel.parse(spec, 0)           # fail early on a bad form
            latency[name] = spec
    if latency:
        config["latency"] = latency
    return config


def run_loop(coro):
    """``asyncio.run`` on uvloop's event loop when uvloop is installed (a dependency on
    POSIX; what scripts/bench_gateway.py measures), else on asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - e.g. Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(args) -> int:
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return run_loop(serve_forever(args))
    except KeyboardInterrupt:  # pragma: no cover - signal handler normally wins
        return 0
    except (OSError, ValueError) as e:
        print(f"paperex serve: {e}", file=sys.stderr)
        return 2
