"""Faults and latency, on purpose: a seeded, deterministic fault injector and a latency model.

Everything here is off by default and costs one ``is None`` check per request
(``Gateway.handle``) and per websocket message (``Conn.send``) while off.

Configuration (``paperex serve --faults FILE``, ``POST /paperex/v1/faults``)::

    {"seed": 7,
     "latency": {"request": {"dist": "uniform", "low_ms": 2, "high_ms": 20},
                 "ws": {"dist": "lognormal", "median_ms": 5, "sigma": 0.5}},
     "rules": [
       {"id": "timeouts", "method": "POST", "path": "/fapi/v1/order", "kind": "-1007",
        "probability": 0.05, "executed_probability": 0.5},
       {"path": "/fapi/*", "account": 3, "kind": "429", "every": 50, "retry_after": 2},
       {"method": "WS", "path": "/private/*", "kind": "ws_drop", "every": 200, "times": 1}]}

A rule matches a request by ``method`` (``*`` = any; ``WS`` = a websocket
message) and ``path`` (an ``fnmatch`` glob, ``*`` crosses ``/``), and by
``account`` (optional: the authenticated account, or a user stream's account).
It fires with ``probability`` (drawn from the rule's own RNG, seeded by
``(seed, rule id)``), or on every ``every``-th matching request; ``after`` skips
the first N matches, ``times`` caps the number of fires.  The first rule that
fires decides; same seed and same request sequence give the same faults.

REST kinds (the answer has Binance's status and ``{"code", "msg"}`` body):

* ``-1001``  503 ``Internal error; unable to process your request...``: nothing done.
* ``-1007``  408 ``Timeout waiting for response from backend server. Send status
  unknown; execution status unknown.``: the request was executed or not, as the
  rule's RNG decides (``executed_probability``, default 0.5).  When executed, the
  request runs normally (its commands journaled) and the client gets -1007.
* ``-1008``  503 ``Request throttled by system-level protection...``: nothing done;
  reduce-only / close-position orders are exempt, as on Binance.
* ``429`` / ``418``  ``-1003`` with ``Retry-After`` (``retry_after`` seconds).
* ``502``  502 with the -1001 body: nothing done.
* ``503``  503 ``Unknown error, please check your request or try again later.``:
  execution status unknown (executed or not, like -1007); with
  ``"body": "unavailable"`` the message is ``Service Unavailable.`` and nothing was done.
* ``latency``  the request waits ``ms`` more, then runs normally.
* ``listen_key_expire``  the requesting API key's listenKey expires early: its
  sockets get ``listenKeyExpired`` and the key is invalid.  Without ``after_ms``
  it happens before the request runs (a keepalive ``PUT`` then answers -1125);
  with ``after_ms`` the request runs and the key it has expires that much later.

Websocket kinds (``method`` ``WS``; matched per outgoing message, on the
connection's path and account):

* ``ws_drop``  the connection is cut without a close frame (TCP abort).
* ``ws_delay``  delivery pauses ``ms`` at this message (later ones wait behind it).
* ``user_event_late``  as ``ws_delay``, for user-data events only.

Every fault is journaled as an ``InjectFault`` command *before* it takes effect,
so ``paperex replay --verify`` re-executes the run and the journal / export show
each fault; the venue ignores the command (its state digest is unchanged).

Latency model (not a fault: not journaled; the sequencer's timestamps show it):
``request`` delays every Binance REST request between its arrival and its
execution (so flow arriving meanwhile goes first: queue position, slippage);
``ws`` delays every websocket message between its event and its delivery, per
connection, order preserved.

Every delay is venue time (``VenueTime``).  Under ``--clock virtual`` a request
delayed by 50 ms executes when the virtual clock has advanced 50 ms past its
arrival: a running flow or ``clock/advance`` moves the clock (a delayed request
runs at its own due time on the way), and on a clock that nothing moves (no
speed, no flow: the ``paperex_server`` fixture's default) the delayed requests
move it themselves, earliest first, timers firing on the way, at no real-time
cost.  Websocket delays never move a clock (on a still one they take real
time), and a ``listen_key_expire`` ``after_ms`` waits until the venue gets there.

Distributions (milliseconds, drawn from a seeded RNG): ``fixed`` ``{ms}``,
``uniform`` ``{low_ms, high_ms}``, ``exponential`` ``{mean_ms}``, ``lognormal``
``{median_ms, sigma}`` (or ``{mu, sigma}``), each with an optional ``min_ms`` /
``max_ms`` clamp.  The CLI form is
``fixed:5``, ``uniform:2,20``, ``exponential:5``, ``lognormal:5,0.5``.
"""
from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import heapq
import json
import logging
import math
import random
import re
from collections import deque
from pathlib import Path
from typing import Any, Optional

from exchange.venue.commands import InjectFault

from .errors import BinanceError, General, ip_banned, too_many_requests

log = logging.getLogger("paperex.faults")

REST_KINDS = ("-1001", "-1007", "-1008", "429", "418", "502", "503", "latency", "listen_key_expire")
WS_KINDS = ("ws_drop", "ws_delay", "user_event_late")
KINDS = REST_KINDS + WS_KINDS
UNKNOWN_503 = "Unknown error, please check your request or try again later."
UNAVAILABLE_503 = "Service Unavailable."
USER_EVENTS = frozenset({b"ORDER_TRADE_UPDATE", b"ACCOUNT_UPDATE", b"ACCOUNT_CONFIG_UPDATE", b"ALGO_UPDATE",
                         b"MARGIN_CALL", b"CONDITIONAL_ORDER_TRIGGER_REJECT", b"listenKeyExpired",
                         b"STRATEGY_UPDATE", b"GRID_UPDATE", b"TRADE_LITE"})
_EVENT = re.compile(rb'"e":"([A-Za-z_]+)"')
_RULE_KEYS = {"id", "kind", "method", "path", "account", "probability", "every", "after", "times", "ms",
              "retry_after", "executed_probability", "body", "after_ms"}
_CLIENT_ID_PARAMS = ("newClientOrderId", "origClientOrderId", "clientAlgoId", "orderId")


class FaultConfigError(ValueError):
    """A rule or latency specification that cannot be used (answered -1130 by the control API)."""


# ----------------------------------------------------------------- latency model
class LatencyModel:
    """A delay distribution in milliseconds, sampled from its own seeded RNG."""

    DISTS = ("fixed", "uniform", "exponential", "lognormal")

    def __init__(self, spec: dict, seed: Any) -> None:
        if not isinstance(spec, dict):
            raise FaultConfigError("a latency specification is an object like {\"dist\": \"fixed\", \"ms\": 5}")
        self.spec = dict(spec)
        dist = spec.get("dist", "fixed")
        if dist == "exp":
            dist = "exponential"
        if dist not in self.DISTS:
            raise FaultConfigError(f"latency dist must be one of {', '.join(self.DISTS)}, not {dist!r}")
        self.dist = dist
        self.spec["dist"] = dist
        num = self._num
        if dist == "fixed":
            self.a = num("ms")
        elif dist == "uniform":
            self.a, self.b = num("low_ms"), num("high_ms")
            if self.b < self.a:
                raise FaultConfigError("latency uniform: high_ms < low_ms")
        elif dist == "exponential":
            self.a = num("mean_ms")
        else:
            sigma = num("sigma")
            if "median_ms" in spec:
                median = num("median_ms")
                if median <= 0:
                    raise FaultConfigError("latency lognormal: median_ms must be > 0")
                self.a = math.log(median)
            else:
                self.a = float(self._raw("mu"))
            self.b = sigma
        self.min_ms = num("min_ms") if "min_ms" in spec else 0.0
        self.max_ms = num("max_ms") if "max_ms" in spec else None
        self.rng = random.Random(f"{seed}")

    def _raw(self, name: str):
        v = self.spec.get(name)
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise FaultConfigError(f"latency {self.spec.get('dist', 'fixed')}: '{name}' is required (a number)")
        try:
            f = float(v)
        except ValueError:
            raise FaultConfigError(f"latency: '{name}' is not a number") from None
        if not math.isfinite(f):
            raise FaultConfigError(f"latency: '{name}' is not a number")
        return f

    def _num(self, name: str) -> float:
        f = self._raw(name)
        if f < 0 or f > 3_600_000:
            raise FaultConfigError(f"latency: '{name}' must be between 0 and 3600000")
        return f

    @classmethod
    def parse(cls, text: str, seed: Any) -> "LatencyModel":
        """The CLI form: ``fixed:5``, ``uniform:2,20``, ``exponential:5``, ``lognormal:5,0.5`` (ms)."""
        dist, _, args = str(text).partition(":")
        vals = [a.strip() for a in args.split(",") if a.strip()]
        names = {"fixed": ("ms",), "uniform": ("low_ms", "high_ms"), "exponential": ("mean_ms",),
                 "exp": ("mean_ms",), "lognormal": ("median_ms", "sigma")}.get(dist)
        if names is None or len(vals) != len(names):
            raise FaultConfigError(f"latency {text!r}: use fixed:MS, uniform:LOW,HIGH, exponential:MEAN "
                                   "or lognormal:MEDIAN,SIGMA (milliseconds)")
        nums = []
        for v in vals:
            try:
                f = float(v)
            except ValueError:
                raise FaultConfigError(f"latency {text!r}: {v!r} is not a number") from None
            nums.append(int(f) if f.is_integer() else f)
        return cls({"dist": "exponential" if dist == "exp" else dist, **dict(zip(names, nums))}, seed)

    def sample_ms(self) -> float:
        d = self.dist
        if d == "fixed":
            v = self.a
        elif d == "uniform":
            v = self.rng.uniform(self.a, self.b)
        elif d == "exponential":
            v = self.rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        else:
            v = self.rng.lognormvariate(self.a, self.b)
        if v < self.min_ms:
            v = self.min_ms
        if self.max_ms is not None and v > self.max_ms:
            v = self.max_ms
        return v

    def to_json(self) -> dict:
        return dict(self.spec)


# ------------------------------------------------------------------------ rules
class Rule:
    __slots__ = ("id", "kind", "method", "path", "account", "probability", "every", "after", "times", "ms",
                 "retry_after", "executed_probability", "body", "after_ms", "matched", "fired", "rng",
                 "_path_re", "spec")

    def __init__(self, spec: dict, rule_id: str, seed: Any) -> None:
        if not isinstance(spec, dict):
            raise FaultConfigError("a fault rule is a JSON object")
        unknown = sorted(set(spec) - _RULE_KEYS)
        if unknown:
            raise FaultConfigError(f"unknown rule field(s): {', '.join(unknown)}")
        kind = spec.get("kind")
        if isinstance(kind, int) and not isinstance(kind, bool):
            kind = str(kind)
        if kind not in KINDS:
            raise FaultConfigError(f"rule kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.kind = kind
        self.id = rule_id
        ws = kind in WS_KINDS
        method = spec.get("method", "WS" if ws else "*")
        if not isinstance(method, str) or not method:
            raise FaultConfigError("rule method must be a string (GET, POST, PUT, DELETE, *, WS)")
        method = method.upper()
        if ws and method != "WS":
            raise FaultConfigError(f"rule kind {kind} applies to websocket messages: method must be WS")
        if not ws and method == "WS":
            raise FaultConfigError(f"rule kind {kind} applies to REST requests, not WS")
        self.method = method
        path = spec.get("path", "*")
        if not isinstance(path, str) or not path or len(path) > 200:
            raise FaultConfigError("rule path must be a glob like /fapi/v1/order or /fapi/*")
        self.path = path
        self._path_re = re.compile(fnmatch.translate(path)).match
        acct = spec.get("account")
        if acct is not None and (isinstance(acct, bool) or not isinstance(acct, int) or acct <= 0):
            raise FaultConfigError("rule account must be a positive account id")
        self.account = acct
        p, every = spec.get("probability"), spec.get("every")
        if (p is None) == (every is None):
            raise FaultConfigError("a rule fires with exactly one of 'probability' (0..1) or 'every' (N)")
        if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1):
            raise FaultConfigError("rule probability must be a number between 0 and 1")
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise FaultConfigError("rule every must be an integer >= 1")
        self.probability = float(p) if p is not None else None
        self.every = every
        self.after = self._int(spec, "after", 0)
        self.times = self._int(spec, "times", None)
        self.ms = self._number(spec, "ms", 1000.0 if kind in ("latency", "ws_delay", "user_event_late") else 0.0)
        self.retry_after = self._int(spec, "retry_after", 2 if kind == "418" else 1)
        ep = spec.get("executed_probability", 0.5)
        if isinstance(ep, bool) or not isinstance(ep, (int, float)) or not 0 <= ep <= 1:
            raise FaultConfigError("rule executed_probability must be a number between 0 and 1")
        self.executed_probability = float(ep)
        body = spec.get("body", "unknown")
        if body not in ("unknown", "unavailable"):
            raise FaultConfigError("rule body (503) must be 'unknown' or 'unavailable'")
        self.body = body
        self.after_ms = self._number(spec, "after_ms", None)
        self.matched = 0
        self.fired = 0
        self.rng = random.Random(f"{seed}:{rule_id}")
        self.spec = {k: v for k, v in spec.items() if k != "id"}

    @staticmethod
    def _int(spec: dict, name: str, default):
        v = spec.get(name, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > 10**12:
            raise FaultConfigError(f"rule {name} must be a non-negative integer")
        return v

    @staticmethod
    def _number(spec: dict, name: str, default):
        v = spec.get(name, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 3_600_000:
            raise FaultConfigError(f"rule {name} must be a number of milliseconds (0..3600000)")
        return float(v)

    def path_matches(self, path: str) -> bool:
        return self._path_re(path) is not None

    def decide(self) -> bool:
        """Count one matching request; True when the rule fires on it (advances the RNG)."""
        self.matched += 1
        n = self.matched - self.after
        if n <= 0 or (self.times is not None and self.fired >= self.times):
            return False
        if self.every is not None:
            fire = n % self.every == 0
        else:
            fire = self.rng.random() < self.probability
        if fire:
            self.fired += 1
        return fire

    def executed(self) -> bool:
        """-1007 / 503: was the request executed?  Drawn from the rule's RNG."""
        return self.rng.random() < self.executed_probability

    def to_json(self) -> dict:
        return {"id": self.id, **self.spec, "method": self.method, "path": self.path,
                "matched": self.matched, "fired": self.fired}


# ------------------------------------------------------------------- websockets
class WsTap:
    """Sits in front of one connection's queue while faults or the ws latency model are
    on: each message waits for its sampled delivery time (never before the previous
    message's: order is preserved), and a firing rule drops or delays the connection.
    Delivery times are venue time (``VenueTime``): event time plus the sampled delay in
    integer ms under a virtual clock, ``loop.time()`` seconds under the wall clock."""

    __slots__ = ("inj", "conn", "pending", "last_due", "task", "detached")

    def __init__(self, inj: "FaultInjector", conn) -> None:
        self.inj = inj
        self.conn = conn
        self.pending: deque = deque()
        self.last_due = 0.0
        self.task: Optional[asyncio.Task] = None
        self.detached = False

    def push(self, conn, data: bytes) -> None:
        inj = self.inj
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:          # outside the server's loop: nothing to wait with
            _enqueue(conn, data)
            return
        lat = inj.ws_latency
        vt = inj.venue_time
        if vt is not None and vt.virtual:
            due = vt.now_ms()
            if lat is not None and not self.detached:
                due += vt.ms_int(lat.sample_ms())
        else:
            due = loop.time()
            if lat is not None and not self.detached:
                due += lat.sample_ms() / 1000.0
        if due < self.last_due:
            due = self.last_due
        self.last_due = due
        rule = inj.match_ws(conn, data) if inj.ws_rules and not self.detached else None
        if len(self.pending) >= conn.limit:
            self.pending.clear()
            conn.kill(1008, b"slow consumer")
            return
        self.pending.append((due, data, rule))
        if self.task is None:
            self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        conn = self.conn
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                due, data, rule = self.pending.popleft()
                if rule is not None:
                    if not await self.inj.ws_fault(rule, conn, data):
                        self.pending.clear()
                        return
                vt = self.inj.venue_time
                if vt is not None and vt.virtual:
                    if due > vt.now_ms() and await vt.until(due, wall_fallback=True):
                        vt.done()
                else:
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                if conn.closing:
                    self.pending.clear()
                    return
                _enqueue(conn, data)
        except asyncio.CancelledError:
            self.pending.clear()
        except Exception:  # never let a tap take a connection's delivery down silently
            log.exception("websocket tap failed")
            self.pending.clear()
        finally:
            self.task = None
            if self.detached and not self.pending and conn.tap is self:
                conn.tap = None

    def detach(self) -> None:
        self.detached = True
        if self.task is None and self.conn.tap is self:
            self.conn.tap = None


def _enqueue(conn, data: bytes) -> None:
    """What ``Conn.send`` does without a tap."""
    if conn.closing:
        return
    if len(conn.queue) >= conn.limit:
        conn.kill(1008, b"slow consumer")
        return
    conn.queue.append(data)
    conn.wake.set()


def _event_name(data: bytes) -> Optional[bytes]:
    m = _EVENT.search(data, 0, 400)
    return m.group(1) if m else None


def _abort(conn) -> None:
    """Cut the TCP connection without a websocket close frame."""
    conn.closing = True
    conn.queue.clear()
    ws = conn.ws
    transport = None
    req = getattr(ws, "_req", None)
    if req is not None:
        transport = req.transport
    if transport is None:
        writer = getattr(ws, "_writer", None)
        transport = getattr(writer, "transport", None)
    if transport is not None:
        transport.abort()


# ------------------------------------------------------------------ venue time
def _flow_moves_clock(gw) -> bool:
    """Is an order-flow source running that moves the (virtual) clock by itself?"""
    flow = getattr(gw, "flow", None)
    if flow is None or getattr(flow, "paused", False):
        return False
    task = getattr(gw, "flow_task", None)
    return task is None or not task.done()


class VenueTime:
    """Waits measured on the venue's clock, so that under ``--clock virtual`` a latency is
    venue time: a delayed request executes when the virtual clock has advanced by its delay.

    * Wall clock: a plain ``asyncio.sleep``.
    * Virtual clock moved by someone (a running flow, ``advance()``, its own ``speed``): the
      wait ends when the clock passes the due time; ``VirtualClock.listeners`` wakes it, a
      sped-up clock is also waited for in real time (``ms / speed``).
    * Virtual clock standing still (no speed, no running flow; the ``paperex_server``
      fixture's default): nobody would ever move it, so the requests in flight move it
      themselves, earliest due first (``drive``): the clock goes to that due time, timers
      firing on the way (``Sequencer.advance``), the request runs stamped with it, and only
      when it has finished does the clock move on.  The client waits no real time, and a
      sequential bot gets the same journal on every run.  Websocket deliveries never move
      the clock (a delivery would make events that make deliveries: time would run away);
      on a still clock they wait the same number of real milliseconds instead.

    ``advance_to`` is how the control API's ``clock/advance`` moves the clock while
    requests wait: it stops at each due time so each runs at its own moment, interleaved
    with the timers, not after the whole jump.
    """

    SETTLE_S = 5.0            # at most this long for a released request to finish (never hangs the clock)
    RECHECK_S = 0.1           # a waiting request looks again whether the clock stands still (flow paused)
    COMPACT_AT = 1024         # heap size at which timed-out waits are first dropped

    def __init__(self, gw) -> None:
        self.gw = gw
        self.clock = gw.clock
        self._heap: list[tuple[int, int, asyncio.Future, bool]] = []   # (due_ms, n, future, drive)
        self._n = 0
        self._busy = 0        # released waits whose work (a request's handler) has not finished
        self._idle: Optional[asyncio.Event] = None
        self._driver: Optional[asyncio.Task] = None
        self._hooked = False
        self._compact_at = self.COMPACT_AT
        self.stopped = False

    @property
    def virtual(self) -> bool:
        return bool(getattr(self.clock, "virtual", False))

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def still(self) -> bool:
        """A virtual clock that moves only when told and that no running flow moves."""
        c = self.clock
        return bool(getattr(c, "virtual", False)) and getattr(c, "speed", None) is None \
            and not _flow_moves_clock(self.gw)

    @staticmethod
    def ms_int(ms: float) -> int:
        """Venue time is integer milliseconds: a delay is rounded to the nearest one."""
        return int(ms + 0.5) if ms > 0 else 0

    # ------------------------------------------------------------------ waits
    async def until(self, due: int, *, drive: bool = False, wall_fallback: bool = False) -> bool:
        """Wait until the virtual clock reaches ``due`` (ms).  ``drive``: on a still clock this
        wait moves it (a request in flight); ``wall_fallback``: on a still clock give up after
        the same number of real milliseconds (a websocket delivery).  True when a clock move
        released this wait: the caller then owes :meth:`done` when its work is finished."""
        clock = self.clock
        loop = asyncio.get_running_loop()
        deadline = None
        if wall_fallback and self.still():
            deadline = loop.time() + max(0, due - clock.now_ms()) / 1000.0
        if not self._hooked:
            clock.listeners.append(self._release)
            self._hooked = True
        while True:
            if self.stopped:
                raise General.DISCONNECTED()
            now = clock.now_ms()
            if now >= due:
                return False
            timeout: Optional[float] = None
            speed = getattr(clock, "speed", None)
            if speed is not None:
                timeout = (due - now) / speed / 1000.0
            elif drive and not self.still():
                timeout = self.RECHECK_S
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return False
                timeout = left if timeout is None else min(timeout, left)
            fut = loop.create_future()
            self._n += 1
            if len(self._heap) >= self._compact_at:
                self._compact()
            heapq.heappush(self._heap, (due, self._n, fut, drive))
            if drive:
                self._kick()
            try:
                await asyncio.wait((fut,), timeout=timeout)
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    self.done()           # released just before the caller was cancelled
                else:
                    fut.cancel()
                raise
            if fut.done():
                fut.result()              # raises when stopped
                return True
            fut.cancel()                  # timed out: the heap drops it lazily; look again

    @contextlib.asynccontextmanager
    async def after(self, ms: float, *, drive: bool = False, wall_fallback: bool = False):
        """``async with venue_time.after(ms):`` the body runs ``ms`` of venue time from now."""
        if not self.virtual:
            if ms > 0:
                await asyncio.sleep(ms / 1000.0)
            yield
            return
        d = self.ms_int(ms)
        released = d > 0 and await self.until(self.now_ms() + d, drive=drive, wall_fallback=wall_fallback)
        try:
            yield
        finally:
            if released:
                self.done()

    def done(self) -> None:
        self._busy -= 1
        if self._busy <= 0:
            self._busy = 0
            if self._idle is not None:
                self._idle.set()

    def _compact(self) -> None:
        """Drop the waits that timed out: on a still clock nothing pops them."""
        live = [e for e in self._heap if not e[2].done()]
        heapq.heapify(live)
        self._heap = live
        self._compact_at = max(self.COMPACT_AT, 2 * len(live))   # amortized O(1) per wait

    def _release(self, now: int) -> None:
        """The clock stands at ``now``: every wait due by then may go (the clock's listener)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            fut = heapq.heappop(heap)[2]
            if not fut.done():
                fut.set_result(None)
                self._busy += 1

    def next_due(self, drive_only: bool = False) -> Optional[int]:
        """The earliest due time still waited for (only the ``drive`` waits: requests)."""
        due = None
        for d, _, fut, drive in self._heap:
            if (drive or not drive_only) and not fut.done() and (due is None or d < due):
                due = d
        return due

    # ------------------------------------------------------------ moving the clock
    def _kick(self) -> None:
        if self._driver is None and self.still():
            self._driver = asyncio.get_running_loop().create_task(self._drive(), name="paperex-venue-time")

    async def _drive(self) -> None:
        """A still clock: move it to the earliest request in flight, let that run, repeat."""
        try:
            for _ in range(3):            # requests arriving in the same moment register first
                await asyncio.sleep(0)
            while not self.stopped and self.still():
                due = self.next_due(drive_only=True)
                if due is None:
                    break
                await self.advance_to(due)
        except Exception:                 # e.g. the sequencer failed: the waits fail with it
            log.exception("moving the virtual clock for delayed requests failed")
        finally:
            self._driver = None

    async def advance_to(self, target: int) -> list:
        """Move the virtual clock to ``target``, stopping at every wait due on the way so
        each runs at its own venue time; returns what ``Sequencer.advance`` executed."""
        seq = self.gw.sequencer
        clock = self.clock
        results: list = []
        while True:
            nxt = self.next_due()
            stop = target if nxt is None or nxt > target else nxt
            now = clock.now_ms()
            if stop >= now:
                results.extend(seq.advance(stop - now))
            self._release(clock.now_ms())
            await self._settle()
            if stop >= target:
                return results

    async def _settle(self) -> None:
        """Let the waits just released run (a request handler submits and is acknowledged)."""
        await asyncio.sleep(0)
        if self._busy <= 0:
            return
        self._idle = idle = asyncio.Event()
        try:
            await asyncio.wait_for(idle.wait(), self.SETTLE_S)
        except asyncio.TimeoutError:
            log.warning("a delayed request did not finish within %.0f s; the clock moves on", self.SETTLE_S)
        finally:
            self._idle = None

    def stop(self) -> None:
        """Server shutdown: requests still waiting are answered -1001 (nothing done)."""
        self.stopped = True
        if self._driver is not None:
            self._driver.cancel()
        for _, _, fut, _ in self._heap:
            if not fut.done():
                fut.set_exception(General.DISCONNECTED())
        self._heap.clear()
        if self._hooked:
            try:
                self.clock.listeners.remove(self._release)
            except ValueError:
                pass
            self._hooked = False


# -------------------------------------------------------------------- injector
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
        self.venue_time: Optional[VenueTime] = VenueTime(gw) if gw is not None else None

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
                raise BinanceError(-1000, UNAVAILABLE_503, 503)
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
            raise BinanceError(-1000, UNKNOWN_503, 503)
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
def load_config(source: "dict | str | Path") -> dict:
    """A fault configuration from a dict or a JSON file (``paperex serve --faults FILE``)."""
    if isinstance(source, dict):
        return source
    try:
        data = json.loads(Path(source).read_text())
    except OSError as e:
        raise FaultConfigError(f"--faults {source}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise FaultConfigError(f"--faults {source}: not JSON ({e})") from None
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict):
        raise FaultConfigError(f"--faults {source}: a JSON object {{\"seed\", \"latency\", \"rules\"}}")
    return data


def validate_config(config: dict) -> dict:
    """Raise FaultConfigError if ``config`` cannot be applied; returns it."""
    FaultInjector(None).configure(config, replace=True)
    return config


async def advance_clock(gw, ms: int) -> list:
    """The control API's ``clock/advance``: ``Sequencer.advance``, except that requests waiting
    for venue time (request latency under a virtual clock) each run at their own due time on
    the way (``VenueTime.advance_to``) instead of after the whole jump."""
    inj = getattr(gw, "fault_injector", None)
    vt = inj.venue_time if inj is not None else None
    if vt is None or vt.next_due() is None:
        return gw.sequencer.advance(ms)
    return await vt.advance_to(gw.clock.now_ms() + ms)


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


__all__ = ["FaultInjector", "FaultConfigError", "LatencyModel", "Rule", "VenueTime", "WsTap", "advance_clock",
           "install", "injector", "load_config", "validate_config", "KINDS", "REST_KINDS", "WS_KINDS"]
