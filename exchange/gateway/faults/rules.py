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

import fnmatch
import json
import logging
import math
import random
import re
from pathlib import Path
from typing import Any

from exchange.contract import errors as catalog


log = logging.getLogger("paperex.faults")

REST_KINDS = ("-1001", "-1007", "-1008", "429", "418", "502", "503", "latency", "listen_key_expire")
WS_KINDS = ("ws_drop", "ws_delay", "user_event_late")
KINDS = REST_KINDS + WS_KINDS
UNKNOWN_503 = catalog.General.UNKNOWN_TRY_LATER.template
UNAVAILABLE_503 = catalog.General.SERVICE_UNAVAILABLE.template
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
