"""Request-weight and order-count limits, counted and reported as Binance does (spec §4).

Three limits (``exchangeInfo.rateLimits``, defaults Binance's):

* REQUEST_WEIGHT per IP, 2400 per minute -> header ``X-MBX-USED-WEIGHT-1M`` on
  every response;
* ORDERS per account, 300 per 10 s and 1200 per minute -> headers
  ``X-MBX-ORDER-COUNT-10S`` / ``X-MBX-ORDER-COUNT-1M`` on order endpoints.

Windows are fixed and aligned to the interval (the minute starts at
``now_ms // 60000 * 60000``), which is what "used weight in the current
minute" means.  Time is passed in as ms ints; nothing here reads a clock.

Weight is counted on every request that reaches the limiter, including those
it refuses, so the reported weight can exceed the limit (as on Binance).
When the weight of the current minute exceeds the limit the request is
refused with HTTP 429 ``-1003`` and ``Retry-After`` (seconds to the end of the
window).  An IP that goes on sending after being refused - more than
``ban_after_429`` refusals within one window - is banned: HTTP 418 ``-1003
Way too many requests; IP banned until <ms>.`` with ``Retry-After`` until the
ban ends.  Ban length starts at 2 minutes and doubles for each repeat offence
up to 3 days; the offence count is forgotten after ``ban_memory_ms`` without a
ban.  Order-count excess answers HTTP 429 ``-1015 Too many new orders; current
limit is 300 orders per TEN_SECONDS.`` (or ``1200 orders per MINUTE``) and
never bans.

``fundingRate`` and ``fundingInfo`` carry no minute weight but share a
separate 500-per-5-minutes-per-IP budget.

Typical use in a handler::

    cost = endpoint_cost(method, path, params)
    headers = limiter.check_request(ip, cost, now_ms)           # may raise 429/418
    ctx = authenticate(...)
    if cost.is_order:
        headers |= limiter.check_orders(ctx.account_id, cost, now_ms)   # may raise 429 -1015
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from exchange.gateway import errors
from exchange.gateway.errors import BinanceError

__all__ = [
    "RateLimitConfig", "EndpointCost", "RateLimiter", "endpoint_cost", "ENDPOINT_WEIGHTS",
    "HEADER_USED_WEIGHT", "HEADER_ORDER_COUNT_10S", "HEADER_ORDER_COUNT_1M", "rate_limits_json",
    "with_rate_headers",
]

HEADER_USED_WEIGHT = "X-MBX-USED-WEIGHT-1M"
HEADER_ORDER_COUNT_10S = "X-MBX-ORDER-COUNT-10S"
HEADER_ORDER_COUNT_1M = "X-MBX-ORDER-COUNT-1M"

MINUTE_MS = 60_000
TEN_SECONDS_MS = 10_000
FIVE_MINUTES_MS = 300_000


@dataclass(frozen=True)
class RateLimitConfig:
    request_weight_1m: int = 2400
    orders_10s: int = 300
    orders_1m: int = 1200
    funding_requests_5m: int = 500       # fundingRate + fundingInfo, per IP per 5 minutes
    ban_after_429: int = 10              # refusals in one window tolerated before a ban
    ban_initial_ms: int = 120_000        # 2 minutes
    ban_max_ms: int = 259_200_000        # 3 days
    ban_memory_ms: int = 86_400_000      # offence count forgotten after a day without a ban
    enabled: bool = True


def rate_limits_json(cfg: RateLimitConfig = RateLimitConfig()) -> list[dict]:
    """``exchangeInfo.rateLimits`` for this configuration (live key order)."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
         "limit": cfg.request_weight_1m},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": cfg.orders_1m},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": cfg.orders_10s},
    ]


@dataclass(frozen=True)
class EndpointCost:
    """What one request costs: IP weight, order counts, funding-budget units."""
    ip_weight: int = 1
    orders_10s: int = 0
    orders_1m: int = 0
    funding: int = 0

    @property
    def is_order(self) -> bool:
        return self.orders_10s > 0 or self.orders_1m > 0


def _limit_of(params: object, default: int) -> int:
    """Lenient ``limit`` for weight purposes (bad values are the handler's to reject)."""
    if params is None:
        return default
    get = getattr(params, "get", None)
    v = get("limit") if get is not None else None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 9:
        return int(v)
    return default


def _has_symbol(params: object) -> bool:
    get = getattr(params, "get", None) if params is not None else None
    v = get("symbol") if get is not None else None
    return v is not None and v != ""


def _depth_weight(p: object) -> EndpointCost:
    lim = _limit_of(p, 500)
    w = 2 if lim <= 50 else 5 if lim <= 100 else 10 if lim <= 500 else 20
    return EndpointCost(w)


def _kline_weight(p: object) -> EndpointCost:
    lim = _limit_of(p, 500)
    w = 1 if lim < 100 else 2 if lim < 500 else 5 if lim <= 1000 else 10
    return EndpointCost(w)


def _by_symbol(with_symbol: int, without: int):
    def f(p: object) -> EndpointCost:
        return EndpointCost(with_symbol if _has_symbol(p) else without)
    return f


def _fixed(w: int, o10: int = 0, o1m: int = 0, funding: int = 0):
    cost = EndpointCost(w, o10, o1m, funding)
    return lambda p: cost


def _weights() -> dict:
    t: dict = {}
    g = lambda p, f: t.__setitem__(("GET", p), f)  # noqa: E731
    for p in ("/fapi/v1/ping", "/fapi/v1/time", "/fapi/v1/exchangeInfo", "/api/v3/ping", "/api/v3/time",
              "/fapi/v1/openInterest", "/fapi/v1/leverageBracket", "/fapi/v1/order", "/fapi/v1/openOrder",
              "/fapi/v1/algoOrder", "/futures/data/openInterestHist"):
        g(p, _fixed(1))
    g("/fapi/v1/depth", _depth_weight)
    g("/fapi/v1/trades", _fixed(5))
    g("/fapi/v1/historicalTrades", _fixed(200))
    g("/fapi/v1/aggTrades", _fixed(20))
    for k in ("klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines", "continuousKlines"):
        g(f"/fapi/v1/{k}", _kline_weight)
    g("/fapi/v1/premiumIndex", _by_symbol(1, 10))
    g("/fapi/v1/fundingRate", _fixed(0, funding=1))
    g("/fapi/v1/fundingInfo", _fixed(0, funding=1))
    g("/fapi/v1/ticker/24hr", _by_symbol(1, 40))
    g("/fapi/v1/ticker/price", _by_symbol(1, 2))
    g("/fapi/v2/ticker/price", _by_symbol(1, 2))
    g("/fapi/v1/ticker/bookTicker", _by_symbol(2, 5))
    for v in ("v2", "v3"):
        for p in ("account", "balance", "positionRisk"):
            g(f"/fapi/{v}/{p}", _fixed(5))
    for p in ("userTrades", "allOrders", "accountConfig", "symbolConfig", "allAlgoOrders"):
        g(f"/fapi/v1/{p}", _fixed(5))
    g("/fapi/v1/openOrders", _by_symbol(1, 40))
    g("/fapi/v1/openAlgoOrders", _by_symbol(1, 40))
    g("/fapi/v1/income", _fixed(30))
    g("/fapi/v1/commissionRate", _fixed(20))
    g("/fapi/v1/positionSide/dual", _fixed(30))
    g("/fapi/v1/multiAssetsMargin", _fixed(30))
    g("/fapi/v1/adlQuantile", _fixed(5))
    g("/fapi/v1/forceOrders", _by_symbol(20, 50))
    for p in ("positionMargin/history", "apiTradingStatus", "rateLimit/order"):
        g(f"/fapi/v1/{p}", _fixed(1))
    # settings, cancels, listenKey: 1
    for m, p in (("POST", "leverage"), ("POST", "marginType"), ("POST", "positionSide/dual"),
                 ("POST", "multiAssetsMargin"), ("POST", "positionMargin"),
                 ("DELETE", "order"), ("DELETE", "allOpenOrders"), ("DELETE", "batchOrders"),
                 ("DELETE", "algoOrder"), ("DELETE", "algoOpenOrders"),
                 ("POST", "listenKey"), ("PUT", "listenKey"), ("DELETE", "listenKey")):
        t[(m, f"/fapi/v1/{p}")] = _fixed(1)
    t[("POST", "/fapi/v1/countdownCancelAll")] = _fixed(10)
    # order placement: 0 IP weight, 1 on each order counter
    t[("POST", "/fapi/v1/order")] = _fixed(0, 1, 1)
    t[("PUT", "/fapi/v1/order")] = _fixed(0, 1, 1)
    t[("POST", "/fapi/v1/algoOrder")] = _fixed(0, 1, 1)
    t[("POST", "/fapi/v1/order/test")] = _fixed(0)
    # batchOrders: 5 IP + 5 on the 10 s counter + 1 on the 1 min counter
    t[("POST", "/fapi/v1/batchOrders")] = _fixed(5, 5, 1)
    t[("PUT", "/fapi/v1/batchOrders")] = _fixed(5, 5, 1)
    return t


#: (METHOD, path) -> fn(params) -> EndpointCost
ENDPOINT_WEIGHTS = _weights()
_DEFAULT_COST = EndpointCost(1)


def endpoint_cost(method: str, path: str, params: object = None) -> EndpointCost:
    """Cost of one request; ``params`` is anything with ``.get(name)`` (Params, dict).
    Unknown routes cost 1."""
    f = ENDPOINT_WEIGHTS.get((method.upper(), path))
    return _DEFAULT_COST if f is None else f(params)


def _ceil_s(ms: int) -> int:
    return max(1, -(-ms // 1000))


@dataclass
class _IpState:
    window: int = -1          # start ms of the minute being counted
    weight: int = 0
    refused: int = 0          # 429s given in this window
    banned_until: int = 0
    offences: int = 0
    last_ban_end: int = 0
    funding_window: int = -1
    funding: int = 0


@dataclass
class _AccountState:
    w10: int = -1
    n10: int = 0
    w1m: int = -1
    n1m: int = 0


@dataclass
class RateLimiter:
    """Counts per IP and per account; all methods take ``now_ms``."""
    config: RateLimitConfig = field(default_factory=RateLimitConfig)
    _ips: dict = field(default_factory=dict, repr=False)
    _accounts: dict = field(default_factory=dict, repr=False)
    _pruned_window: int = field(default=-1, repr=False)

    # -- request weight ------------------------------------------------------
    def _ip(self, ip: str, now_ms: int) -> _IpState:
        self._maybe_prune(now_ms)
        st = self._ips.get(ip)
        if st is None:
            st = self._ips[ip] = _IpState()
        w = now_ms - now_ms % MINUTE_MS
        if st.window != w:
            st.window, st.weight, st.refused = w, 0, 0
        return st

    def used_weight(self, ip: str, now_ms: int) -> int:
        st = self._ips.get(ip)
        if st is None or st.window != now_ms - now_ms % MINUTE_MS:
            return 0
        return st.weight

    def weight_headers(self, ip: str, now_ms: int) -> dict[str, str]:
        return {HEADER_USED_WEIGHT: str(self.used_weight(ip, now_ms))}

    def check_request(self, ip: str, cost: "EndpointCost | int", now_ms: int) -> dict[str, str]:
        """Count one request from ``ip``; return the response headers, or raise
        429 / 418 ``BinanceError`` (with those headers and ``Retry-After``)."""
        if isinstance(cost, int):
            cost = EndpointCost(cost)
        cfg = self.config
        # self._ip(ip, now_ms), written out
        w = now_ms - now_ms % MINUTE_MS
        if w != self._pruned_window:
            self._pruned_window = w
            self.prune(now_ms)
        st = self._ips.get(ip)
        if st is None:
            st = self._ips[ip] = _IpState()
        if st.window != w:
            st.window, st.weight, st.refused = w, 0, 0
        if st.banned_until > now_ms:
            raise errors.ip_banned(st.banned_until, _ceil_s(st.banned_until - now_ms)).with_headers(
                {HEADER_USED_WEIGHT: str(st.weight)})
        if st.offences and st.last_ban_end and now_ms - st.last_ban_end > cfg.ban_memory_ms:
            st.offences = 0
        st.weight += cost.ip_weight
        headers = {HEADER_USED_WEIGHT: str(st.weight)}
        if not cfg.enabled:
            return headers
        if st.weight > cfg.request_weight_1m:
            st.refused += 1
            if st.refused > cfg.ban_after_429:
                length = min(cfg.ban_initial_ms << min(st.offences, 40), cfg.ban_max_ms)
                st.offences += 1
                st.banned_until = st.last_ban_end = now_ms + length
                raise errors.ip_banned(st.banned_until, _ceil_s(length)).with_headers(headers)
            retry = _ceil_s(st.window + MINUTE_MS - now_ms)
            raise errors.too_many_requests(cfg.request_weight_1m, retry).with_headers(headers)
        if cost.funding:
            fw = now_ms - now_ms % FIVE_MINUTES_MS
            if st.funding_window != fw:
                st.funding_window, st.funding = fw, 0
            st.funding += cost.funding
            if st.funding > cfg.funding_requests_5m:
                retry = _ceil_s(fw + FIVE_MINUTES_MS - now_ms)
                raise errors.too_many_requests(cfg.funding_requests_5m, retry).with_headers(headers)
        return headers

    def banned_until(self, ip: str) -> int:
        st = self._ips.get(ip)
        return st.banned_until if st else 0

    # -- order counts --------------------------------------------------------
    def _acct(self, account_id: object, now_ms: int) -> _AccountState:
        st = self._accounts.get(account_id)
        if st is None:
            st = self._accounts[account_id] = _AccountState()
        w10 = now_ms - now_ms % TEN_SECONDS_MS
        if st.w10 != w10:
            st.w10, st.n10 = w10, 0
        w1m = now_ms - now_ms % MINUTE_MS
        if st.w1m != w1m:
            st.w1m, st.n1m = w1m, 0
        return st

    def order_counts(self, account_id: object, now_ms: int) -> tuple[int, int]:
        st = self._accounts.get(account_id)
        if st is None:
            return 0, 0
        n10 = st.n10 if st.w10 == now_ms - now_ms % TEN_SECONDS_MS else 0
        n1m = st.n1m if st.w1m == now_ms - now_ms % MINUTE_MS else 0
        return n10, n1m

    def order_headers(self, account_id: object, now_ms: int) -> dict[str, str]:
        n10, n1m = self.order_counts(account_id, now_ms)
        return {HEADER_ORDER_COUNT_10S: str(n10), HEADER_ORDER_COUNT_1M: str(n1m)}

    def check_orders(self, account_id: object, cost: EndpointCost, now_ms: int) -> dict[str, str]:
        """Count an order request for ``account_id``; return the order-count
        headers or raise 429 ``-1015`` carrying them."""
        cfg = self.config
        st = self._acct(account_id, now_ms)
        st.n10 += cost.orders_10s
        st.n1m += cost.orders_1m
        headers = {HEADER_ORDER_COUNT_10S: str(st.n10), HEADER_ORDER_COUNT_1M: str(st.n1m)}
        if cfg.enabled:
            if cost.orders_10s and st.n10 > cfg.orders_10s:
                raise errors.too_many_orders(cfg.orders_10s, "TEN_SECONDS").with_headers(headers)
            if cost.orders_1m and st.n1m > cfg.orders_1m:
                raise errors.too_many_orders(cfg.orders_1m, "MINUTE").with_headers(headers)
        return headers

    # -- housekeeping ----------------------------------------------------------
    def _maybe_prune(self, now_ms: int) -> None:
        w = now_ms - now_ms % MINUTE_MS
        if w == self._pruned_window:
            return
        self._pruned_window = w
        self.prune(now_ms)

    def prune(self, now_ms: int) -> None:
        """Forget IPs and accounts with nothing live (once per minute, automatically)."""
        w = now_ms - now_ms % MINUTE_MS
        cfg = self.config
        dead = [ip for ip, st in self._ips.items()
                if st.window != w and st.banned_until <= now_ms
                and st.funding_window + FIVE_MINUTES_MS <= now_ms
                and (st.offences == 0 or now_ms - st.last_ban_end > cfg.ban_memory_ms)]
        for ip in dead:
            del self._ips[ip]
        deadacc = [a for a, st in self._accounts.items() if st.w1m != w]
        for a in deadacc:
            del self._accounts[a]


def with_rate_headers(err: BinanceError, headers: Mapping[str, str]) -> BinanceError:
    """Attach rate headers to an error raised later in the handler (auth, params)."""
    for k, v in headers.items():
        err.headers.setdefault(k, v)
    return err
