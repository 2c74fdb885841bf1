"""pytest plugin: the ``paperex_server`` fixture (registered through the ``pytest11`` entry point).

Installing paperex is enough; in any test::

    async def test_my_bot(paperex_server):
        key, secret, account_id = await paperex_server.create_account("10000")
        await paperex_server.set_index_price("BTCUSDT", "50000")
        async with UsdmClient(key, secret, base_url=paperex_server.base_url) as c:
            ...
        await paperex_server.advance(3600)          # virtual clock: an hour passes, timers fire

The exchange runs in its own thread with its own event loop, so the fixture works
from async tests (pytest-asyncio) and from plain sync tests (ccxt, requests, a
blocking bot) alike, and a test that blocks its own loop cannot freeze the server.
Every test gets a fresh exchange on a free 127.0.0.1 port with its journal in the
test's ``tmp_path``; teardown stops the flow, closes every websocket, drains the
sequencer and closes the journal.

Options, with the ``paperex`` marker or by indirect parametrization::

    @pytest.mark.paperex(clock="wall")                       # default "virtual"
    @pytest.mark.paperex(flow="synthetic", scenario="crash", seed=3, speed=20)
    @pytest.mark.parametrize("paperex_server", [{"clock": "wall"}], indirect=True)

``clock``: ``"virtual"`` (default; starts at ``start_ms``, default 2026-01-01T00:00Z,
moved only by ``advance()`` or by a running flow) or ``"wall"``.  ``flow``: ``None``
(default: an empty market, deterministic) or ``"synthetic"`` (started before the
test with ``scenario``, ``seed``, ``speed``, ``scenario_overrides``); a flow can
also be started later with ``paperex_server.start_flow(scenario, seed)``.
``speed`` is the flow's simulated seconds per real second (default 10); ``clock_speed``
gives the virtual clock a speed of its own (x real time; then timers fire by themselves).
``symbols``: as ``paperex serve --symbols``: a saved Binance exchangeInfo answer, an
instrument JSON file, ``"binance"``, ``"binance:top20"`` or ``"BTCUSDT,SOLUSDT"``;
``brackets``: a saved leverageBracket answer (as ``--brackets``).
``demo``: also create the demo account (``paperex_server.demo``), default False.
``history``: a seeded market past as ``paperex serve --history`` (``"3d"``, ``"12h"``...), with
``history_seed``; default 0 (none: a test's market starts empty and the suite stays fast).

Faults and latency (``exchange/gateway/faults.py``), as ``paperex serve --faults
--fault-seed --latency --ws-latency``, on from the first request::

    @pytest.mark.paperex(faults=[{"kind": "-1007", "path": "/fapi/v1/order", "every": 3}], fault_seed=7,
                         latency="uniform:2,20", ws_latency="fixed:5")

``faults``: a list of rules, a whole configuration ``{"seed", "latency", "rules"}`` or a
JSON file.  At run time: ``set_faults(rules)``, ``set_latency(request, ws)``,
``clear_faults()``, ``faults()`` (rules with matched / fired counts).  Latency is venue
time: on the virtual clock a request delayed 50 ms executes 50 ms of venue time after
its arrival, and when nothing else moves the clock the request moves it (no real time
passes).  After the run, ``verify_replay()`` stops the exchange and re-executes its
journal (``paperex replay --verify``); every injected fault is in it (``injected_faults()``).
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import pytest

__all__ = ["PaperexServer", "PaperexControlError", "fault_config", "paperex_server"]

#: the virtual clock's default start (2026-01-01T00:00:00Z): a fixed time keeps runs reproducible
DEFAULT_START_MS = 1_767_225_600_000

_OPTIONS = {"clock", "start_ms", "speed", "clock_speed", "flow", "scenario", "seed", "scenario_overrides", "symbols",
            "brackets",
            "demo", "fsync", "flow_symbols", "faults", "fault_seed", "latency", "ws_latency", "history",
            "history_seed"}


class PaperexControlError(RuntimeError):
    """A control API call answered with an error (``code``/``msg`` like the Binance API)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        code = body.get("code") if isinstance(body, dict) else None
        msg = body.get("msg") if isinstance(body, dict) else body
        self.code = code
        super().__init__(f"paperex control API: HTTP {status} {code}: {msg}")


def fault_config(faults: Any = None, *, fault_seed: Optional[int] = None, latency: Any = None,
                 ws_latency: Any = None) -> Optional[dict]:
    """The fault / latency configuration of the fixture's options (None: everything off), built
    as ``paperex serve --faults FILE --fault-seed N --latency SPEC --ws-latency SPEC`` builds it.
    ``faults``: a list of rules, one rule, a configuration dict or a JSON file path."""
    if faults is None and fault_seed is None and latency is None and ws_latency is None:
        return None
    from exchange.gateway.faults import load_config
    if faults is None:
        config: dict = {}
    elif isinstance(faults, list):
        config = {"rules": list(faults)}
    elif isinstance(faults, dict) and "kind" in faults:
        config = {"rules": [faults]}
    else:
        config = dict(load_config(faults if isinstance(faults, dict) else Path(faults)))
    if fault_seed is not None:
        config["seed"] = fault_seed
    lat = dict(config.get("latency") or {})
    for name, spec in (("request", latency), ("ws", ws_latency)):
        if spec is not None:
            lat[name] = spec
    if lat:
        config["latency"] = lat
    return config


def _rules_payload(rules: Any) -> dict:
    """``set_faults``' argument as a control API body (replacing the rules, keeping latency)."""
    if isinstance(rules, dict) and "kind" not in rules:
        return {**rules, "replace": True}              # a whole configuration: start over
    if isinstance(rules, dict):
        rules = [rules]
    if not isinstance(rules, (list, tuple)):
        raise TypeError("set_faults: a list of rule dicts, one rule dict, or a configuration dict")
    return {"rules": list(rules), "replace": "rules"}


def _dec(x: Any) -> str:
    """A number as the control API takes it: plain ASCII digits, no exponent."""
    if isinstance(x, float):
        x = Decimal(repr(x))
    if isinstance(x, Decimal):
        return format(x, "f")
    return str(x)


class PaperexServer:
    """A running paperex exchange (see the module docstring).

    Attributes: ``base_url`` (``http://127.0.0.1:PORT``), ``ws_url`` (``ws://127.0.0.1:PORT``),
    ``port``, ``data_dir``, ``journal_dir``, ``clock`` (``"virtual"``/``"wall"``), ``demo``
    (``{"accountId", "apiKey", "secretKey"}`` or None), ``server`` (the in-process
    :class:`exchange.serve.Server`; touch its state only through :meth:`call`).
    """

    def __init__(self, data_dir: Path, *, clock: str = "virtual", start_ms: Optional[int] = None,
                 speed: Optional[float] = None, symbols: Optional[str] = None, demo: bool = False,
                 fsync: str = "never", faults: Optional[dict] = None, history: Any = 0,
                 history_seed: int = 1, brackets: Optional[str] = None) -> None:
        if clock not in ("virtual", "wall"):
            raise ValueError("paperex_server: clock must be 'virtual' or 'wall'")
        self.data_dir = Path(data_dir)
        self.journal_dir = self.data_dir / "journal"
        self.clock = clock
        self._opts = dict(clock=clock, speed=speed, fsync=fsync, symbols=symbols, brackets=brackets, demo=demo,
                          faults=faults, history=history, history_seed=history_seed,
                          start_ms=(start_ms if start_ms is not None else DEFAULT_START_MS)
                          if clock == "virtual" else None)
        self.server: Any = None
        self.demo: Optional[dict] = None
        self.flow: Any = None                     # the SyntheticFlow, once started
        self._flow_task: Optional[asyncio.Task] = None
        self._flow_stop: Optional[asyncio.Event] = None
        self._events: list[tuple[int, int, Any]] = []
        self._faults: list[tuple[int, int, Any]] = []   # InjectFault commands
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 30.0) -> "PaperexServer":
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.call_soon(ready.set)
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="paperex-server", daemon=True)
        self._thread.start()
        ready.wait(timeout)
        self.call(self._astart(), timeout=timeout)
        return self

    async def _astart(self) -> None:
        from exchange.serve import start
        o = self._opts
        self.server = await start(host="127.0.0.1", port=0, data_dir=self.data_dir, clock=o["clock"],
                                  speed=o["speed"], fsync=o["fsync"], symbols=o["symbols"],
                                  brackets=o["brackets"], demo=o["demo"],
                                  start_ms=o["start_ms"], faults=o["faults"], history=o["history"],
                                  history_seed=o["history_seed"])
        self.demo = self.server.demo
        self.server.runtime.sequencer.subscribe(self._record)

    def _record(self, seq: int, ts: int, command: Any, events: list, book: Any = None) -> None:
        if type(command).__name__ == "InjectFault":
            self._faults.append((seq, ts, command))
        for ev in events:
            self._events.append((seq, ts, ev))

    def call(self, coro, timeout: Optional[float] = 30.0) -> Any:
        """Run ``coro`` on the server's event loop (blocking) and return its result."""
        if self._loop is None or self._closed:
            raise RuntimeError("paperex_server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the flow, the server (websockets closed, sequencer drained) and close the journal."""
        if self._closed or self._loop is None:
            return
        try:
            if self.server is not None:
                self.call(self._astop(), timeout=timeout)
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout)
            if not self._loop.is_running():
                self._loop.close()

    async def _astop(self) -> None:
        await self._astop_flow()
        await self.server.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return self.server.rest_url

    @property
    def ws_url(self) -> str:
        return self.server.ws_url

    def client(self, api_key: Optional[str] = None, api_secret: Optional[str] = None, **kw):
        """A :class:`clients.UsdmClient` pointed at this server (use it with ``async with``)."""
        from clients import UsdmClient
        return UsdmClient(api_key, api_secret, base_url=self.base_url, ws_url=self.ws_url, **kw)

    # ------------------------------------------------------------------ control API (sync core)
    def control_sync(self, method: str, path: str, payload: Optional[dict] = None) -> Any:
        """One control API call (``/paperex/v1`` + ``path``); raises :class:`PaperexControlError`."""
        url = self.base_url + "/paperex/v1" + path
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise PaperexControlError(e.code, body) from None

    async def control(self, method: str, path: str, payload: Optional[dict] = None) -> Any:
        return await asyncio.to_thread(self.control_sync, method, path, payload)

    def create_account_sync(self, balance: Any = "10000", label: str = "") -> tuple[str, str, int]:
        body: dict = {"balance": _dec(balance)}
        if label:
            body["label"] = label
        acc = self.control_sync("POST", "/accounts", body)
        return acc["apiKey"], acc["secretKey"], acc["accountId"]

    def set_index_price_sync(self, symbol: str, price: Any) -> dict:
        return self.control_sync("POST", "/index", {"symbol": symbol, "price": _dec(price)})

    def set_mark_price_sync(self, symbol: str, price: Any) -> dict:
        return self.control_sync("POST", "/mark", {"symbol": symbol, "price": _dec(price)})

    def advance_sync(self, seconds: Any) -> dict:
        return self.control_sync("POST", "/clock/advance", {"seconds": _dec(seconds)})

    def state_sync(self) -> dict:
        return self.control_sync("GET", "/state")

    def set_faults_sync(self, rules: Any) -> dict:
        return self.control_sync("POST", "/faults", _rules_payload(rules))

    def set_latency_sync(self, request: Any = None, ws: Any = None) -> dict:
        return self.control_sync("POST", "/faults", {"latency": {"request": request, "ws": ws}})

    def clear_faults_sync(self) -> dict:
        return self.control_sync("DELETE", "/faults")

    def faults_sync(self) -> dict:
        return self.control_sync("GET", "/faults")

    # ------------------------------------------------------------------ control API (async)
    async def create_account(self, balance: Any = "10000", label: str = "") -> tuple[str, str, int]:
        """A new funded account: ``(api_key, secret, account_id)``."""
        return await asyncio.to_thread(self.create_account_sync, balance, label)

    async def deposit(self, account_id: int, amount: Any) -> dict:
        return await self.control("POST", f"/accounts/{account_id}/deposit", {"amount": _dec(amount)})

    async def set_index_price(self, symbol: str, price: Any) -> dict:
        """Publish an index price (the venue moves the mark price with it)."""
        return await asyncio.to_thread(self.set_index_price_sync, symbol, price)

    async def set_mark_price(self, symbol: str, price: Any) -> dict:
        """Pin the mark price (what margin, PnL and liquidation use)."""
        return await asyncio.to_thread(self.set_mark_price_sync, symbol, price)

    async def advance(self, seconds: Any) -> dict:
        """Virtual clock: move time forward, firing every timer (mark, funding, expiry) on the way."""
        return await asyncio.to_thread(self.advance_sync, seconds)

    async def state(self) -> dict:
        """``GET /paperex/v1/state``: lastSeq, time, stateDigest, insuranceFund, openOrders, ..."""
        return await asyncio.to_thread(self.state_sync)

    # ------------------------------------------------------------------ faults and latency
    async def set_faults(self, rules: Any) -> dict:
        """Replace the fault rules (``POST /paperex/v1/faults``): a list of rule dicts (or one), e.g.
        ``[{"kind": "-1007", "path": "/fapi/v1/order", "probability": 0.3}]``; the latency model
        and the seed stay.  A whole configuration ``{"seed", "latency", "rules"}`` replaces
        everything.  Returns the injector's state (rules with matched / fired counts)."""
        return await asyncio.to_thread(self.set_faults_sync, rules)

    async def set_latency(self, request: Any = None, ws: Any = None) -> dict:
        """Set the latency model: ``request`` (arrival to execution) and ``ws`` (event to delivery),
        each a spec like ``"fixed:50"``, ``"uniform:2,20"``, ``{"dist": "lognormal", ...}`` or
        None (off).  Venue time: on the virtual clock it moves the venue's timestamps, not yours."""
        return await asyncio.to_thread(self.set_latency_sync, request, ws)

    async def clear_faults(self) -> dict:
        """Every rule and the latency model off (``DELETE /paperex/v1/faults``)."""
        return await asyncio.to_thread(self.clear_faults_sync)

    async def faults(self) -> dict:
        """``GET /paperex/v1/faults``: rules (matched / fired), latency, injected counts by kind."""
        return await asyncio.to_thread(self.faults_sync)

    def injected_faults(self) -> list:
        """The faults injected so far: ``(seq, ts, InjectFault)`` with ``kind``, ``rule_id``,
        ``account_id`` and ``detail`` (e.g. ``"POST /fapi/v1/order newClientOrderId=x executed=1"``)."""
        return list(self._faults)

    def verify_replay(self) -> Any:
        """Stop the exchange, then re-execute its journal on a fresh venue (``paperex replay
        --verify``).  Raises AssertionError at the first divergence or if the replayed state
        digest is not the live one; returns the ``ReplayResult`` (``.venue``: the replayed venue)."""
        from exchange.engine.replay import replay
        if self._closed:
            raise RuntimeError("verify_replay() stops the server itself: call it while it runs")
        digest = self.call(self._adigest())
        self.stop()
        result = replay(self.journal_dir, verify=True)
        assert result.divergence is None, f"paperex replay --verify diverged: {result.divergence}"
        assert result.venue.state_digest() == digest, "replayed state digest differs from the live one"
        return result

    async def _adigest(self) -> str:
        await self._astop_flow()          # nothing moves between the digest and the journal's end
        return self.server.runtime.venue.state_digest()

    # ------------------------------------------------------------------ order flow
    def start_flow(self, scenario: str = "calm", seed: int = 1, *, speed: float = 10.0,
                   symbols: Optional[tuple] = None, **scenario_overrides) -> Any:
        """Start the seeded synthetic market beside the server (``paperex serve --flow synthetic``).

        ``speed`` is simulated seconds per real second when the virtual clock has no
        speed of its own (the flow moves it); ``scenario_overrides`` go to the scenario,
        e.g. ``start_flow("crash", 3, start_s=5, fall_s=60)``.  Returns the flow object."""
        if self._flow_task is not None:
            raise RuntimeError("a flow is already running on this server")
        return self.call(self._astart_flow(scenario, seed, speed, symbols, scenario_overrides))

    async def _astart_flow(self, scenario, seed, speed, symbols, overrides) -> Any:
        from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow
        cfg = SyntheticConfig(seed=seed, scenario=scenario, scenario_overrides=dict(overrides),
                              symbols=tuple(symbols) if symbols else None)
        flow = SyntheticFlow(self.server.runtime, cfg)
        self._flow_stop = asyncio.Event()
        self.flow = flow
        self._flow_task = asyncio.get_running_loop().create_task(
            flow.run_async(speed=speed, stop=self._flow_stop), name="paperex-flow")
        # what paperex serve --flow does: the gateway knows its flow (control API flow/pause,
        # and the latency model lets a running flow move the virtual clock)
        gw = self.server.gateway
        gw.flow, gw.flow_task = flow, self._flow_task
        await asyncio.sleep(0)
        return flow

    def pause_flow(self, paused: bool = True) -> None:
        """Pause (or resume) the flow: no market commands while paused (the clock stands still
        unless the virtual clock has its own speed)."""
        if self.flow is not None:
            self._loop.call_soon_threadsafe(setattr, self.flow, "paused", paused)
            self.call(asyncio.sleep(0))            # the loop has run the setattr when this returns

    def stop_flow(self) -> None:
        self.call(self._astop_flow())

    async def _astop_flow(self) -> None:
        task, self._flow_task = self._flow_task, None
        if task is None:
            return
        gw = self.server.gateway
        if getattr(gw, "flow_task", None) is task:
            gw.flow = gw.flow_task = None
        self._flow_stop.set()
        try:
            await asyncio.wait_for(task, 10)
        except (asyncio.CancelledError, asyncio.TimeoutError, Exception):
            task.cancel()

    # ------------------------------------------------------------------ introspection (tests)
    def venue_events(self, *kinds: str, account_id: Optional[int] = None) -> list:
        """The venue events of this run so far (``(seq, ts, event)``), optionally only those whose
        type name is in ``kinds`` (e.g. ``"ForceOrder"``) and that concern ``account_id``."""
        out = []
        for seq, ts, ev in list(self._events):
            if kinds and type(ev).__name__ not in kinds:
                continue
            if account_id is not None and getattr(ev, "account_id", None) != account_id:
                continue
            out.append((seq, ts, ev))
        return out


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "paperex(clock='virtual', flow=None, scenario='calm', seed=1, speed=10, ...): "
                   "options of the paperex_server fixture")


def _options(request) -> dict:
    opts: dict = {}
    marker = request.node.get_closest_marker("paperex")
    if marker is not None:
        if marker.args:
            raise TypeError("@pytest.mark.paperex takes keyword options only")
        opts.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        opts.update(param)
    unknown = set(opts) - _OPTIONS
    if unknown:
        raise TypeError(f"paperex_server: unknown options {sorted(unknown)}; known: {sorted(_OPTIONS)}")
    return opts


@pytest.fixture
def paperex_server(request, tmp_path_factory):
    """A fresh paperex exchange on a free loopback port for one test (see clients.pytest_plugin)."""
    opts = _options(request)
    data_dir = tmp_path_factory.mktemp("paperex") / "data"
    srv = PaperexServer(data_dir, clock=opts.get("clock", "virtual"), start_ms=opts.get("start_ms"),
                        speed=opts.get("clock_speed"),
                        symbols=opts.get("symbols"), brackets=opts.get("brackets"), demo=opts.get("demo", False),
                        fsync=opts.get("fsync", "never"),
                        faults=fault_config(opts.get("faults"), fault_seed=opts.get("fault_seed"),
                                            latency=opts.get("latency"), ws_latency=opts.get("ws_latency")),
                        history=opts.get("history", 0), history_seed=opts.get("history_seed", 1))
    srv.start()
    try:
        flow = opts.get("flow")
        if flow not in (None, "none", "synthetic"):
            raise ValueError("paperex_server: flow must be None or 'synthetic'")
        if flow == "synthetic":
            srv.start_flow(opts.get("scenario", "calm"), opts.get("seed", 1), speed=opts.get("speed", 10.0),
                           symbols=opts.get("flow_symbols"), **dict(opts.get("scenario_overrides") or {}))
        yield srv
    finally:
        t0 = time.monotonic()
        srv.stop()
        if time.monotonic() - t0 > 20:  # pragma: no cover - diagnostics only
            print("paperex_server: slow teardown")
