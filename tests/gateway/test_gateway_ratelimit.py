"""Request weight, order counts, 429 -> 418 (spec §4)."""
import pytest

from exchange.gateway.errors import BinanceError
from exchange.gateway.params import Params
from exchange.gateway.ratelimit import (
    HEADER_ORDER_COUNT_10S, HEADER_ORDER_COUNT_1M, HEADER_USED_WEIGHT, EndpointCost, RateLimitConfig,
    RateLimiter, endpoint_cost, rate_limits_json,
)

T0 = 1_789_478_400_000          # a minute boundary
IP = "10.0.0.1"


def test_default_limits_match_exchange_info():
    assert rate_limits_json() == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300}]


@pytest.mark.parametrize("limit,w", [(None, 10), ("5", 2), ("10", 2), ("20", 2), ("50", 2), ("100", 5),
                                     ("500", 10), ("1000", 20), ("abc", 10)])
def test_depth_weight(limit, w):
    p = Params.from_mapping({"symbol": "BTCUSDT", **({"limit": limit} if limit else {})})
    assert endpoint_cost("GET", "/fapi/v1/depth", p).ip_weight == w


@pytest.mark.parametrize("limit,w", [("1", 1), ("99", 1), ("100", 2), ("499", 2), ("500", 5), (None, 5),
                                     ("1000", 5), ("1001", 10), ("1500", 10)])
def test_kline_weight(limit, w):
    p = {"symbol": "BTCUSDT", **({"limit": limit} if limit else {})}
    for ep in ("klines", "markPriceKlines", "indexPriceKlines", "premiumIndexKlines", "continuousKlines"):
        assert endpoint_cost("GET", f"/fapi/v1/{ep}", p).ip_weight == w


def test_symbol_dependent_and_fixed_weights():
    s = {"symbol": "BTCUSDT"}
    cases = [("GET", "/fapi/v1/premiumIndex", 1, 10), ("GET", "/fapi/v1/ticker/24hr", 1, 40),
             ("GET", "/fapi/v2/ticker/price", 1, 2), ("GET", "/fapi/v1/ticker/bookTicker", 2, 5),
             ("GET", "/fapi/v1/openOrders", 1, 40)]
    for m, p, with_s, without in cases:
        assert endpoint_cost(m, p, s).ip_weight == with_s
        assert endpoint_cost(m, p, {}).ip_weight == without
        assert endpoint_cost(m, p, {"symbol": ""}).ip_weight == without
    fixed = {("GET", "/fapi/v1/ping"): 1, ("GET", "/fapi/v1/exchangeInfo"): 1, ("GET", "/fapi/v1/trades"): 5,
             ("GET", "/fapi/v1/historicalTrades"): 200, ("GET", "/fapi/v1/aggTrades"): 20,
             ("GET", "/fapi/v3/account"): 5, ("GET", "/fapi/v2/positionRisk"): 5, ("GET", "/fapi/v1/income"): 30,
             ("GET", "/fapi/v1/commissionRate"): 20, ("GET", "/fapi/v1/positionSide/dual"): 30,
             ("POST", "/fapi/v1/leverage"): 1, ("DELETE", "/fapi/v1/order"): 1, ("POST", "/fapi/v1/listenKey"): 1,
             ("GET", "/nowhere"): 1}
    for (m, p), w in fixed.items():
        assert endpoint_cost(m, p).ip_weight == w, p


def test_order_endpoint_costs():
    assert endpoint_cost("POST", "/fapi/v1/order") == EndpointCost(0, 1, 1)
    assert endpoint_cost("PUT", "/fapi/v1/order") == EndpointCost(0, 1, 1)
    assert endpoint_cost("POST", "/fapi/v1/algoOrder") == EndpointCost(0, 1, 1)
    assert endpoint_cost("POST", "/fapi/v1/batchOrders") == EndpointCost(5, 5, 1)
    assert endpoint_cost("POST", "/fapi/v1/order").is_order
    assert not endpoint_cost("DELETE", "/fapi/v1/order").is_order
    assert endpoint_cost("GET", "/fapi/v1/fundingRate") == EndpointCost(0, funding=1)


def test_used_weight_header_accumulates_and_resets():
    rl = RateLimiter()
    assert rl.check_request(IP, 5, T0) == {HEADER_USED_WEIGHT: "5"}
    assert rl.check_request(IP, EndpointCost(20), T0 + 59_999) == {HEADER_USED_WEIGHT: "25"}
    assert rl.check_request("10.0.0.2", 1, T0 + 1) == {HEADER_USED_WEIGHT: "1"}     # per IP
    assert rl.check_request(IP, 1, T0 + 60_000) == {HEADER_USED_WEIGHT: "1"}        # new minute
    assert rl.used_weight(IP, T0 + 60_000) == 1
    assert rl.used_weight(IP, T0 + 120_000) == 0
    assert rl.weight_headers("unknown", T0) == {HEADER_USED_WEIGHT: "0"}


def test_429_then_418_sequence():
    cfg = RateLimitConfig(request_weight_1m=10, ban_after_429=3)
    rl = RateLimiter(cfg)
    now = T0 + 15_000
    for i in range(10):
        assert rl.check_request(IP, 1, now)[HEADER_USED_WEIGHT] == str(i + 1)
    seen = []
    for i in range(3):
        with pytest.raises(BinanceError) as ei:
            rl.check_request(IP, 1, now + 500)
        e = ei.value
        seen.append(e.http_status)
        assert (e.code, e.msg) == (-1003, "Too many requests; current limit is 10 requests per minute. "
                                          "Please use the websocket for live updates to avoid polling the API.")
        assert e.headers["Retry-After"] == "45"            # 44.5 s to the end of the minute, rounded up
        assert e.headers[HEADER_USED_WEIGHT] == str(11 + i)
    assert seen == [429, 429, 429]
    # still hammering -> banned for 2 minutes
    with pytest.raises(BinanceError) as ei:
        rl.check_request(IP, 1, now + 1000)
    e = ei.value
    until = now + 1000 + 120_000
    assert e.http_status == 418 and e.code == -1003
    assert e.msg == (f"Way too many requests; IP banned until {until}. "
                     "Please use the websocket for live updates to avoid bans.")
    assert e.headers["Retry-After"] == "120"
    assert rl.banned_until(IP) == until
    # during the ban every request is 418, even in a new minute
    with pytest.raises(BinanceError) as ei:
        rl.check_request(IP, 1, now + 61_000)
    assert ei.value.http_status == 418 and ei.value.headers["Retry-After"] == "60"
    # other IPs are unaffected
    assert rl.check_request("10.9.9.9", 1, now + 1000) == {HEADER_USED_WEIGHT: "1"}
    # after the ban: fresh minute, fresh weight
    assert rl.check_request(IP, 1, until) == {HEADER_USED_WEIGHT: "1"}


def test_repeat_bans_double_up_to_three_days():
    cfg = RateLimitConfig(request_weight_1m=1, ban_after_429=0)
    rl = RateLimiter(cfg)
    now = T0
    lengths = []
    for _ in range(15):
        rl.check_request(IP, 1, now)
        with pytest.raises(BinanceError) as ei:
            rl.check_request(IP, 1, now)
        assert ei.value.http_status == 418
        until = rl.banned_until(IP)
        lengths.append(until - now)
        now = until + 60_000 - (until % 60_000)           # next minute after the ban
    assert lengths[:4] == [120_000, 240_000, 480_000, 960_000]
    assert max(lengths) == 259_200_000 and lengths[-1] == 259_200_000
    # offences are forgotten after a clean day
    now += 86_400_001 + 60_000
    rl.check_request(IP, 1, now)
    with pytest.raises(BinanceError):
        rl.check_request(IP, 1, now)
    assert rl.banned_until(IP) - now == 120_000


def test_zero_weight_orders_never_hit_ip_limit():
    rl = RateLimiter(RateLimitConfig(request_weight_1m=2))
    for _ in range(50):
        assert rl.check_request(IP, endpoint_cost("POST", "/fapi/v1/order"), T0) == {HEADER_USED_WEIGHT: "0"}


def test_order_counts_and_1015():
    rl = RateLimiter(RateLimitConfig(orders_10s=3, orders_1m=5))
    order = endpoint_cost("POST", "/fapi/v1/order")
    assert rl.check_orders(1, order, T0) == {HEADER_ORDER_COUNT_10S: "1", HEADER_ORDER_COUNT_1M: "1"}
    rl.check_orders(1, order, T0 + 1)
    assert rl.check_orders(1, order, T0 + 2) == {HEADER_ORDER_COUNT_10S: "3", HEADER_ORDER_COUNT_1M: "3"}
    assert rl.check_orders(2, order, T0 + 2)[HEADER_ORDER_COUNT_10S] == "1"          # per account
    with pytest.raises(BinanceError) as ei:
        rl.check_orders(1, order, T0 + 3)
    e = ei.value
    assert (e.http_status, e.code, e.msg) == (429, -1015, "Too many new orders; current limit is 3 orders per TEN_SECONDS.")
    assert e.headers == {HEADER_ORDER_COUNT_10S: "4", HEADER_ORDER_COUNT_1M: "4"}
    # next 10 s window: the 10 s counter resets, the minute counter does not
    assert rl.check_orders(1, order, T0 + 10_000) == {HEADER_ORDER_COUNT_10S: "1", HEADER_ORDER_COUNT_1M: "5"}
    with pytest.raises(BinanceError) as ei:
        rl.check_orders(1, order, T0 + 10_001)
    assert ei.value.msg == "Too many new orders; current limit is 5 orders per MINUTE."
    assert ei.value.http_status == 429
    assert rl.order_counts(1, T0 + 60_000) == (0, 0)
    assert rl.order_headers(1, T0 + 10_001) == {HEADER_ORDER_COUNT_10S: "2", HEADER_ORDER_COUNT_1M: "6"}


def test_batch_orders_count_five_on_10s_one_on_1m():
    rl = RateLimiter()
    h = rl.check_orders(1, endpoint_cost("POST", "/fapi/v1/batchOrders"), T0)
    assert h == {HEADER_ORDER_COUNT_10S: "5", HEADER_ORDER_COUNT_1M: "1"}


def test_default_order_limit_300_per_10s():
    rl = RateLimiter()
    order = endpoint_cost("POST", "/fapi/v1/order")
    for _ in range(300):
        rl.check_orders("acct", order, T0)
    with pytest.raises(BinanceError) as ei:
        rl.check_orders("acct", order, T0)
    assert ei.value.msg == "Too many new orders; current limit is 300 orders per TEN_SECONDS."


def test_funding_budget():
    rl = RateLimiter(RateLimitConfig(funding_requests_5m=3))
    fr = endpoint_cost("GET", "/fapi/v1/fundingRate")
    fi = endpoint_cost("GET", "/fapi/v1/fundingInfo")
    rl.check_request(IP, fr, T0)
    rl.check_request(IP, fi, T0)
    rl.check_request(IP, fr, T0 + 1)
    with pytest.raises(BinanceError) as ei:
        rl.check_request(IP, fi, T0 + 1000)
    assert ei.value.http_status == 429 and ei.value.code == -1003
    assert ei.value.headers["Retry-After"] == "299"
    rl.check_request(IP, fr, T0 + 300_000)                 # next 5-minute window


def test_disabled_only_counts():
    rl = RateLimiter(RateLimitConfig(request_weight_1m=1, orders_10s=1, enabled=False))
    for _ in range(5):
        rl.check_request(IP, 1, T0)
        rl.check_orders(1, EndpointCost(0, 1, 1), T0)
    assert rl.used_weight(IP, T0) == 5 and rl.order_counts(1, T0) == (5, 5)


def test_prune_forgets_idle_state():
    rl = RateLimiter()
    for i in range(100):
        rl.check_request(f"ip{i}", 1, T0)
        rl.check_orders(i, EndpointCost(0, 1, 1), T0)
    rl.check_request("late", 1, T0 + 10 * 60_000)          # a later minute triggers the prune
    assert len(rl._ips) == 1 and len(rl._accounts) == 0
