"""The fault injector: applies the rules and the latency model to REST requests (see
``exchange.gateway.faults.rules`` for the configuration and the kinds)."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Optional

from exchange.contract.commands import InjectFault
from exchange.engine.venue_time import VenueTime
from exchange.gateway.errors import BinanceError, General, ip_banned, too_many_requests
from exchange.gateway.faults.rules import (USER_EVENTS, REST_KINDS, WS_KINDS,
                                           _CLIENT_ID_PARAMS, FaultConfigError, LatencyModel, Rule,
                                           load_config)
from exchange.gateway.faults.ws_tap import WsTap, _abort, _event_name

log = logging.getLogger("paperex.faults")


def _flow_moves_clock(gw) -> bool:
    """Is an order-flow source running that moves the (virtual) clock by itself?"""
    flow = getattr(gw, "flow", None)
    if flow is None or getattr(flow, "paused", False):
        return False
    task = getattr(gw, "flow_task", None)
    return task is None or not task.done()


async def advance_clock(gw, ms: int) -> list:
    """The control API's ``clock/advance``: ``Sequencer.advance``, except that requests waiting
    for venue time (request latency under a virtual clock) each run at their own due time on
    the way (``VenueTime.advance_to``) instead of after the whole jump."""
    inj = getattr(gw, "fault_injector", None)
    vt = inj.venue_time if inj is not None else None
    if vt is None or vt.next_due() is None:
        return gw.sequencer.advance(ms)
    return await vt.advance_to(gw.clock.now_ms() + ms)


class FaultInjector:
    """The gateway's fault injector and latency model (``gw.fault_injector``).

    ``gw.faults`` points at it while anything is configured, else is None: that is
    the one check ``Gateway.handle`` and ``Conn.send`` make."""

    def __init__(self, gw, seed: int = 1) -> None:
        self.gw = gw
        self.seed = seed
        self.rules: list[Rule] = []
        self.rest_rules: list[Rule] = []
        self.ws_rules: list[Rule] = []
        self.request_latency: Optional[LatencyModel] = None
        self.ws_latency: Optional[LatencyModel] = None
        self.injected = 0
        self.by_kind: dict[str, int] = {}
        self._next_id = 1
        self._tasks: set[asyncio.Task] = set()
        #: every delay below is measured on the venue's clock (venue time under --clock virtual)
        self.venue_time: Optional[VenueTime] = VenueTime(gw.clock, gw.sequencer, lambda: _flow_moves_clock(gw), General.DISCONNECTED) if gw is not None else None

    # ------------------------------------------------------------ configuration
    def configure(self, config: dict, *, replace: "bool | str" = False) -> list[Rule]:
        """Apply ``{"seed", "latency", "rules"}`` (or one rule object); returns the rules added.
        ``replace``: False adds the rules, True starts over (rules and latency), ``"rules"``
        replaces the rules and keeps the latency model unless ``latency`` is given.
        All-or-nothing: a bad rule leaves the configuration as it was."""
        if not isinstance(config, dict):
            raise FaultConfigError("the fault configuration is a JSON object")
        if "kind" in config:
            config = {"rules": [config]}
        unknown = sorted(set(config) - {"seed", "latency", "rules", "replace"})
        if unknown:
            raise FaultConfigError(f"unknown field(s): {', '.join(unknown)}")
        replace = config.get("replace", replace)
        if replace not in (True, False, "rules"):
            raise FaultConfigError("replace must be true, false or \"rules\"")
        replace_all = replace is True
        replace = bool(replace)
        seed = config.get("seed", self.seed)
        if type(seed) is not int or not -(1 << 63) <= seed < (1 << 63):
            raise FaultConfigError("seed must be an integer (64-bit)")
        rules_in = config.get("rules", [])
        if not isinstance(rules_in, list):
            raise FaultConfigError("rules must be a list of rule objects")
        keep = [] if replace else list(self.rules)
        if seed != self.seed and not replace:
            # a new seed restarts every rule's RNG and counters: same seed, same sequence
            keep = [Rule(r.spec, r.id, seed) for r in keep]
        next_id = self._next_id
        taken = {r.id for r in keep}
        added = []
        for spec in rules_in:
            if not isinstance(spec, dict):
                raise FaultConfigError("a fault rule is a JSON object")
            rid = spec.get("id")
            if rid is None:
                while f"r{next_id}" in taken:
                    next_id += 1
                rid = f"r{next_id}"
                next_id += 1
            if not isinstance(rid, str) or not rid or len(rid) > 64:
                raise FaultConfigError("rule id must be a non-empty string (at most 64 characters)")
            if rid in taken:
                raise FaultConfigError(f"duplicate rule id {rid!r}")
            taken.add(rid)
            added.append(Rule(spec, rid, seed))
        req_lat, ws_lat = self.request_latency, self.ws_latency
        if "latency" in config:
            lat = config["latency"]
            if lat is None:
                req_lat = ws_lat = None
            elif not isinstance(lat, dict) or set(lat) - {"request", "ws"}:
                raise FaultConfigError("latency is {\"request\": SPEC|null, \"ws\": SPEC|null}")
            else:
                if "request" in lat:
                    req_lat = self._latency(lat["request"], seed, "request")
                if "ws" in lat:
                    ws_lat = self._latency(lat["ws"], seed, "ws")
        elif replace_all:
            req_lat = ws_lat = None
        if seed != self.seed and "latency" not in config:
            req_lat = LatencyModel(req_lat.spec, f"{seed}:latency:request") if req_lat else None
            ws_lat = LatencyModel(ws_lat.spec, f"{seed}:latency:ws") if ws_lat else None
        # commit
        self.seed = seed
        self._next_id = next_id
        self.rules = keep + added
        self.request_latency, self.ws_latency = req_lat, ws_lat
        self._refresh()
        return added

    @staticmethod
    def _latency(spec, seed, which: str) -> Optional[LatencyModel]:
        if spec is None:
            return None
        if isinstance(spec, str):
            return LatencyModel.parse(spec, f"{seed}:latency:{which}")
        return LatencyModel(spec, f"{seed}:latency:{which}")

    def remove(self, rule_id: str) -> bool:
        n = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        self._refresh()
        return len(self.rules) != n

    def clear(self) -> None:
        self.rules = []
        self.request_latency = self.ws_latency = None
        self._refresh()

    @property
    def active(self) -> bool:
        return bool(self.rules) or self.request_latency is not None or self.ws_latency is not None

    @property
    def ws_active(self) -> bool:
        return bool(self.ws_rules) or self.ws_latency is not None

    def _refresh(self) -> None:
        self.rest_rules = [r for r in self.rules if r.kind in REST_KINDS]
        self.ws_rules = [r for r in self.rules if r.kind in WS_KINDS]
        gw = self.gw
        if gw is None:               # validate_config
            return
        gw.faults = self if self.active else None
        hub = getattr(gw, "hub", None)
        if hub is None:
            return
        ws_on = self.ws_active
        for conn in list(hub.conns):
            if ws_on:
                self.attach_ws(conn)
            elif conn.tap is not None:
                conn.tap.detach()

    def to_json(self) -> dict:
        return {"enabled": self.active, "seed": self.seed, "rules": [r.to_json() for r in self.rules],
                "latency": {"request": self.request_latency.to_json() if self.request_latency else None,
                            "ws": self.ws_latency.to_json() if self.ws_latency else None},
                "injected": self.injected, "injectedByKind": dict(sorted(self.by_kind.items()))}

    # ---------------------------------------------------------------- journal
    async def record(self, rule: Rule, account_id: Optional[int], detail: str) -> None:
        """Journal the fault (an InjectFault command through the sequencer) before it acts."""
        self.injected += 1
        self.by_kind[rule.kind] = self.by_kind.get(rule.kind, 0) + 1
        await self.gw.submit(InjectFault(rule.kind, rule.id, account_id or 0, detail[:200]))

    # ------------------------------------------------------------------- REST
    async def around(self, gw, req, handler):
        """``Gateway.handle``'s hook: maybe a fault, maybe a delay, then the handler."""
        rule = None
        if self.rest_rules:
            method, path, account = req.method, req.path, req.account_id
            for r in self.rest_rules:
                if (r.method == "*" or r.method == method) and r.path_matches(path) and \
                        (r.account is None or r.account == account) and \
                        not (r.kind == "-1008" and _exempt(req)) and r.decide():
                    rule = r
                    break
        if rule is None:
            return await self._delayed(gw, req, handler)
        return await self._inject(gw, req, handler, rule)

    async def _delayed(self, gw, req, handler, extra_ms: float = 0.0):
        """Run ``handler`` after the request latency (plus ``extra_ms``): the delay between a
        request's arrival and its execution, in venue time (``VenueTime``: under a virtual
        clock the command is stamped that much later).  ``req.now`` follows it, so e.g.
        ``serverTime`` is when the venue answered."""
        lat = self.request_latency
        ms = extra_ms + (lat.sample_ms() if lat is not None else 0.0)
        if ms <= 0:
            return await handler(gw, req)
        async with self.venue_time.after(ms, drive=True):
            req.now = gw.clock.now_ms()
            return await handler(gw, req)

    async def _inject(self, gw, req, handler, rule: Rule):
        kind = rule.kind
        account = req.account_id
        detail = _describe(req)
        if kind in ("-1007", "503"):
            if kind == "503" and rule.body == "unavailable":
                await self.record(rule, account, detail + " executed=0")
                raise General.SERVICE_UNAVAILABLE()
            executed = rule.executed()
            await self.record(rule, account, detail + f" executed={int(executed)}")
            if executed:
                try:
                    await self._delayed(gw, req, handler)
                except BinanceError:
                    pass                      # executed and refused: still "status unknown" to the client
                except Exception:
                    log.exception("request failed under an injected %s", kind)
            if kind == "-1007":
                raise General.TIMEOUT()
            raise General.UNKNOWN_TRY_LATER()
        if kind == "-1001":
            await self.record(rule, account, detail)
            raise General.DISCONNECTED()
        if kind == "-1008":
            await self.record(rule, account, detail)
            raise General.THROTTLED()
        if kind == "502":
            await self.record(rule, account, detail)
            raise BinanceError(General.DISCONNECTED.code, General.DISCONNECTED.template, 502)
        if kind == "429":
            await self.record(rule, account, detail + f" retry_after={rule.retry_after}")
            limit = getattr(getattr(gw.limiter, "config", None), "request_weight_1m", 2400)
            raise too_many_requests(limit, rule.retry_after)
        if kind == "418":
            await self.record(rule, account, detail + f" retry_after={rule.retry_after}")
            raise ip_banned(gw.now() + rule.retry_after * 1000, rule.retry_after)
        if kind == "latency":
            await self.record(rule, account, detail + f" ms={rule.ms:g}")
            return await self._delayed(gw, req, handler, rule.ms)
        if kind == "listen_key_expire":
            api_key = req.api_key
            lk = gw.users.by_api.get(api_key) if api_key else None
            if rule.after_ms is None:
                await self.record(rule, account, detail + f" listenKey={lk.key[:12] + '...' if lk else '-'}")
                if api_key:
                    gw.users.expire_early(api_key)
                return await self._delayed(gw, req, handler)
            result = await self._delayed(gw, req, handler)
            if api_key:
                self._spawn(self._expire_later(rule, account, api_key, rule.after_ms, detail))
            return result
        raise AssertionError(kind)  # pragma: no cover - Rule validates kinds

    async def _expire_later(self, rule: Rule, account, api_key: str, after_ms: float, detail: str) -> None:
        # venue time, and it never moves a still clock: the key expires when time gets there
        # (like the listenKey's own 60 minutes), e.g. at the test's advance(); the expiry is done
        # inside the wait so that advance() journals it at its due time before moving on
        async with self.venue_time.after(after_ms):
            lk = self.gw.users.by_api.get(api_key)
            if lk is None:
                return
            await self.record(rule, account, detail + f" after_ms={after_ms:g} listenKey={lk.key[:12]}...")
            self.gw.users.expire_early(api_key)

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -------------------------------------------------------------- websockets
    def attach_ws(self, conn) -> None:
        """Put a tap in front of ``conn`` (new connections: ``StreamHub.serve``)."""
        if not self.ws_active:
            return
        tap = conn.tap
        if tap is None:
            conn.tap = WsTap(self, conn)
        else:
            tap.detached = False

    def match_ws(self, conn, data: bytes) -> Optional[Rule]:
        path = conn.path
        name = None
        user = None
        account = -1
        for r in self.ws_rules:
            if not r.path_matches(path):
                continue
            if r.kind == "user_event_late":
                if user is None:
                    name = _event_name(data)
                    user = bool(conn.listen_keys) and name in USER_EVENTS
                if not user:
                    continue
            if r.account is not None:
                if account == -1:
                    account = self._ws_account(conn)
                if r.account != account:
                    continue
            if r.decide():
                return r
        return None

    def _ws_account(self, conn) -> Optional[int]:
        by_key = self.gw.users.by_key
        for key in conn.listen_keys:
            lk = by_key.get(key)
            if lk is not None:
                return lk.account_id
        return None

    async def ws_fault(self, rule: Rule, conn, data: bytes) -> bool:
        """Journal and apply a websocket fault; False when the connection is gone."""
        name = _event_name(data)
        detail = f"WS {conn.path[:80]} {name.decode() if name else '-'}"
        drop = rule.kind == "ws_drop"
        try:
            await self.record(rule, self._ws_account(conn), detail + (" drop" if drop else f" ms={rule.ms:g}"))
        except BinanceError:          # the journal is gone: no fault that a replay could not show
            return not conn.closing
        if drop:
            _abort(conn)
            return False
        async with self.venue_time.after(rule.ms, wall_fallback=True):
            pass
        return not conn.closing

    async def stop(self) -> None:
        tasks = list(self._tasks)
        hub = getattr(self.gw, "hub", None)
        if hub is not None:
            for conn in list(hub.conns):
                tap = getattr(conn, "tap", None)
                if tap is not None and tap.task is not None:
                    tasks.append(tap.task)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.venue_time is not None:     # requests still waiting get -1001 (nothing done)
            self.venue_time.stop()


def _peek(params, name: str):
    """A parameter's raw value without marking it read (None when absent)."""
    values = getattr(params, "_values", None)
    if isinstance(values, dict):
        return values.get(name)
    try:
        return params.get(name) if name in params else None
    except Exception:
        return None


def _exempt(req) -> bool:
    """-1008: reduce-only and close-position orders are exempt (Binance's own rule)."""
    p = req.params
    return str(_peek(p, "reduceOnly") or "").lower() == "true" or \
        str(_peek(p, "closePosition") or "").lower() == "true"


def _describe(req) -> str:
    out = f"{req.method} {req.path}"
    for name in _CLIENT_ID_PARAMS:
        v = _peek(req.params, name)
        if v:
            out += f" {name}={str(v)[:40]}"
            break
    return out


# ------------------------------------------------------------------ set-up


def injector(gw) -> FaultInjector:
    """The gateway's injector, created on first use (it stays off until configured)."""
    inj = getattr(gw, "fault_injector", None)
    if inj is None:
        inj = gw.fault_injector = FaultInjector(gw)
    return inj


def install(gw, config: "dict | str | Path | None") -> Optional[FaultInjector]:
    """Configure ``gw``'s injector from ``config`` (None: nothing, everything stays off)."""
    if config is None:
        return None
    inj = injector(gw)
    inj.configure(load_config(config), replace=True)
    return inj


def validate_config(config: dict) -> dict:
    """Raise FaultConfigError if ``config`` cannot be applied; returns it."""
    FaultInjector(None).configure(config, replace=True)
    return config
