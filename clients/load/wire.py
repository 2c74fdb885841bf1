"""Signed REST over Locust's HTTP client, and the budgets a Binance bot keeps.

The request encoding and HMAC signature are ``clients.signing`` (the same code as
``clients.UsdmClient``); this module only sends them through Locust's gevent HTTP client so
that every request is timed and counted by Locust.

Budgets (spec §4, Binance's defaults, read from ``exchangeInfo.rateLimits``):

* request weight per IP per minute (2,400): shared by every user of every Locust process on
  one machine. Each reply carries ``X-MBX-USED-WEIGHT-1M`` for the whole IP, so a process
  learns what the others spent; weighted requests (cancels, account reads) are skipped when
  they would take the IP over its share (``--ip-weight-share``). Order placement and
  modification weigh 0 per IP and are never skipped.
* orders per account (300 per 10 s, 1,200 per minute): each trading user has its own
  account and waits for the next window rather than exceed it (``--no-order-limits`` turns
  the wait off, to load a server whose limits are off).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Iterable, Mapping, NamedTuple, Optional

import gevent

from clients.signing import encode_params, signed_query

__all__ = ["WeightBudget", "OrderBudget", "Reply", "Rest", "Instrument", "instruments_from",
           "rate_limits_from", "WEIGHT"]

HEADER_WEIGHT = "X-MBX-USED-WEIGHT-1M"
HEADER_ORDERS_10S = "X-MBX-ORDER-COUNT-10S"
HEADER_ORDERS_1M = "X-MBX-ORDER-COUNT-1M"

#: IP weight of the weighted requests the users send (spec §4; orders and modifies weigh 0)
WEIGHT = {"DELETE /fapi/v1/order": 1, "GET /fapi/v3/positionRisk": 5, "GET /fapi/v3/balance": 5,
          "GET /fapi/v1/allOrders": 5, "POST /fapi/v1/listenKey": 1, "PUT /fapi/v1/listenKey": 1,
          "GET /fapi/v1/exchangeInfo": 1, "GET /fapi/v1/ticker/bookTicker": 5}


def _header(headers: Any, name: str) -> Optional[int]:
    if headers is None:
        return None
    v = headers.get(name)
    if v is None:
        v = headers.get(name.lower())
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


class WeightBudget:
    """This IP's request weight in the current minute, as the server last reported it
    plus what this process reserved since. One per process."""

    def __init__(self, limit: int = 2400) -> None:
        self.limit = limit
        self.window = -1
        self.used = 0

    @staticmethod
    def _minute(now: Optional[float] = None) -> int:
        return int((time.time() if now is None else now) // 60)

    def observe(self, headers: Any) -> None:
        v = _header(headers, HEADER_WEIGHT)
        if v is None:
            return
        w = self._minute()
        if w != self.window:
            self.window, self.used = w, v
        else:               # replies of several processes cross: the weight only grows in a window
            self.used = max(self.used, v)

    def spend(self, cost: int, share: float) -> bool:
        """Reserve ``cost`` if the IP stays within ``share`` of its limit; False otherwise."""
        w = self._minute()
        if w != self.window:
            self.window, self.used = w, 0
        if self.used + cost > self.limit * share:
            return False
        self.used += cost
        return True

    def wait_for(self, cost: int, share: float = 0.95) -> None:
        """Block (cooperatively) until ``cost`` fits: at worst until the next minute."""
        while not self.spend(cost, share):
            now = time.time()
            gevent.sleep(60 - now % 60 + 0.2)


class OrderBudget:
    """One account's order counters (10 s and 1 min windows, aligned like the server's)."""

    def __init__(self, per_10s: int = 300, per_1m: int = 1200, enabled: bool = True) -> None:
        self.per_10s, self.per_1m, self.enabled = per_10s, per_1m, enabled
        self.w10 = self.w1m = -1
        self.n10 = self.n1m = 0

    def _roll(self, now: float) -> None:
        w10, w1m = int(now // 10), int(now // 60)
        if w10 != self.w10:
            self.w10, self.n10 = w10, 0
        if w1m != self.w1m:
            self.w1m, self.n1m = w1m, 0

    def observe(self, headers: Any) -> None:
        n10, n1m = _header(headers, HEADER_ORDERS_10S), _header(headers, HEADER_ORDERS_1M)
        self._roll(time.time())
        if n10 is not None:
            self.n10 = max(self.n10, n10)
        if n1m is not None:
            self.n1m = max(self.n1m, n1m)

    def acquire(self) -> float:
        """Count one order, waiting for the next window if this one is full; returns the
        seconds waited (0 when the limits are off)."""
        if not self.enabled:
            return 0.0
        waited = 0.0
        while True:
            now = time.time()
            self._roll(now)
            if self.n10 + 1 > self.per_10s:
                pause = 10 - now % 10 + 0.05
            elif self.n1m + 1 > self.per_1m:
                pause = 60 - now % 60 + 0.05
            else:
                self.n10 += 1
                self.n1m += 1
                return waited
            gevent.sleep(pause)
            waited += pause


class Reply(NamedTuple):
    ok: bool                  # HTTP 2xx without a negative code
    data: Any                 # decoded JSON (None if none)
    code: Optional[int]       # Binance error code, if any
    expected: bool = False    # an error the caller named as a normal race (e.g. -2013 after a fill)


class Rest:
    """Binance REST calls through a Locust HTTP client (``FastHttpUser.client``).

    Errors are Locust failures carrying the Binance code and message, except the codes a
    call names in ``expect`` (a quote filled before its cancel arrived is trading, not a
    failure); those count as successes and come back with ``expected=True``."""

    def __init__(self, http: Any, *, api_key: Optional[str] = None, secret: Optional[str] = None,
                 weights: Optional[WeightBudget] = None, orders: Optional[OrderBudget] = None,
                 recv_window: int = 10_000) -> None:
        self.http, self.api_key, self.secret = http, api_key, secret
        self.weights, self.orders, self.recv_window = weights, orders, recv_window

    def call(self, method: str, path: str, params: Optional[Mapping[str, Any]] = None, *, signed: bool = False,
             api_key: bool = False, name: Optional[str] = None, expect: Iterable[int] = ()) -> Reply:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        headers = {}
        if signed or api_key:
            headers["X-MBX-APIKEY"] = self.api_key or ""
        if signed:
            qs = signed_query(self.secret or "", params, timestamp=int(time.time() * 1000),
                              recv_window=self.recv_window)
        else:
            qs = encode_params(params)
        url = path + ("?" + qs if qs else "")
        with self.http.request(method, url, name=name or path, headers=headers,
                               catch_response=True) as resp:
            status = resp.status_code or 0
            if self.weights is not None:
                self.weights.observe(resp.headers)
            if self.orders is not None:
                self.orders.observe(resp.headers)
            text = resp.text if status else ""
            try:
                data = json.loads(text) if text else None
            except ValueError:
                data = None
            code = _code(data)
            if status and status < 400 and (code is None or code >= 0):
                resp.success()
                return Reply(True, data, None)
            if code is not None and code in set(expect):
                resp.success()
                return Reply(False, data, code, True)
            if not status:
                resp.failure(f"no response: {getattr(resp, 'error', None)}")
            else:
                msg = data.get("msg") if isinstance(data, dict) else (text or "")[:200]
                resp.failure(f"HTTP {status} {code}: {msg}")
            return Reply(False, data, code)

    def control(self, path: str, payload: Mapping[str, Any], *, token: Optional[str] = None,
                name: Optional[str] = None) -> Reply:
        """``POST /paperex/v1<path>`` (the control API: accounts, index prices)."""
        headers = {"X-PAPEREX-TOKEN": token} if token else {}
        with self.http.request("POST", "/paperex/v1" + path, name=name or f"/paperex/v1{path} (control)",
                               json=dict(payload), headers=headers, catch_response=True) as resp:
            status = resp.status_code or 0
            try:
                data = json.loads(resp.text) if status and resp.text else None
            except ValueError:
                data = None
            if status == 200:
                resp.success()
                return Reply(True, data, None)
            resp.failure(f"HTTP {status}: {data if data is not None else getattr(resp, 'error', '')}")
            return Reply(False, data, _code(data))


def _code(data: Any) -> Optional[int]:
    if isinstance(data, dict) and "code" in data and not isinstance(data["code"], bool):
        try:
            c = int(data["code"])
        except (TypeError, ValueError):
            return None
        return c if c < 0 else None
    return None


@dataclass(frozen=True)
class Instrument:
    """What a user needs to put valid orders on the wire for one symbol."""
    symbol: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    up: Decimal          # PERCENT_PRICE multipliers
    down: Decimal

    def price(self, px: float, *, up: bool = False) -> str:
        """``px`` rounded to the tick (down for bids, up for asks: never through the spread)."""
        ticks = (Decimal(repr(px)) / self.tick).quantize(Decimal(1), rounding=ROUND_UP if up else ROUND_DOWN)
        return format(max(ticks, Decimal(1)) * self.tick, "f")

    def qty(self, mid: float, multiple: int = 1) -> str:
        """The smallest quantity over the minimum notional (with a 30 % margin), times ``multiple``."""
        need = float(self.min_notional) * 1.3 / mid if mid > 0 else float(self.min_qty)
        lots = max(math.ceil(need / float(self.step)), math.ceil(float(self.min_qty / self.step)), 1)
        return format(Decimal(lots * multiple) * self.step, "f")


def instruments_from(info: Mapping[str, Any], wanted: Iterable[str]) -> dict[str, Instrument]:
    """The ``wanted`` symbols of an ``exchangeInfo`` reply."""
    want = {w.upper() for w in wanted}
    out = {}
    for s in info.get("symbols", []):
        if s.get("symbol") not in want:
            continue
        f = {x["filterType"]: x for x in s.get("filters", [])}
        pp = f.get("PERCENT_PRICE", {})
        out[s["symbol"]] = Instrument(
            s["symbol"], Decimal(f["PRICE_FILTER"]["tickSize"]), Decimal(f["LOT_SIZE"]["stepSize"]),
            Decimal(f["LOT_SIZE"].get("minQty", f["LOT_SIZE"]["stepSize"])),
            Decimal(f.get("MIN_NOTIONAL", {}).get("notional", "0")),
            Decimal(pp.get("multiplierUp", "1.05")), Decimal(pp.get("multiplierDown", "0.95")))
    return out


def rate_limits_from(info: Mapping[str, Any]) -> dict[str, int]:
    """``{"weight_1m", "orders_10s", "orders_1m"}`` from ``exchangeInfo.rateLimits``."""
    out = {"weight_1m": 2400, "orders_10s": 300, "orders_1m": 1200}
    for r in info.get("rateLimits", []):
        kind, iv, n, lim = r.get("rateLimitType"), r.get("interval"), r.get("intervalNum"), r.get("limit")
        if kind == "REQUEST_WEIGHT" and iv == "MINUTE" and n == 1:
            out["weight_1m"] = int(lim)
        elif kind == "ORDERS" and iv == "SECOND" and n == 10:
            out["orders_10s"] = int(lim)
        elif kind == "ORDERS" and iv == "MINUTE" and n == 1:
            out["orders_1m"] = int(lim)
    return out
