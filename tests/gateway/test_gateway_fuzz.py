"""Hostile input: every parser and getter answers BinanceError or a value, never anything else."""
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from exchange.gateway.auth import DictKeyStore, SecurityType, authenticate, sign
from exchange.gateway.errors import BinanceError
from exchange.gateway.params import ENUMS, Params, RawRequest
from exchange.gateway.ratelimit import RateLimiter, endpoint_cost

FAST = settings(max_examples=150, deadline=None)

# strings biased towards the interesting alphabet
wire_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789.eE+- _,xX\t\n\r%&=;", max_size=30),
    st.from_regex(r"[0-9]{0,22}(\.[0-9]{0,22})?", fullmatch=True),
    st.sampled_from(["true", "True", "TRUE", "false", "", "NaN", "inf", "-0", "1e-05", "\x00", "\ud800"]),
)

GETTERS = [
    lambda p: p.get_str("v", required=True, max_len=10),
    lambda p: p.get_int("v", required=True, min_value=1, max_value=1000),
    lambda p: p.get_int("v"),
    lambda p: p.get_decimal("v", required=True),
    lambda p: p.get_bool("v", required=True),
    lambda p: p.client_order_id("v", required=True),
    lambda p: p.require_one_of("v", "w"),
    lambda p: p.get_enum("v", ("A", "B"), required=True),
] + [
    (lambda p, n=n: Params.from_mapping({n: p.get("v")}).get_enum(n, required=True)) for n in ENUMS
] + [
    lambda p: Params.from_mapping({"side": p.get("v")}).side(),
    lambda p: Params.from_mapping({"type": p.get("v")}).order_type(),
    lambda p: Params.from_mapping({"timeInForce": p.get("v")}).time_in_force(required=True),
    lambda p: Params.from_mapping({"positionSide": p.get("v")}).position_side(),
    lambda p: Params.from_mapping({"symbol": p.get("v")}).symbol(),
]


def _only_binance_errors(fn):
    try:
        fn()
    except BinanceError as e:
        assert e.code < 0 and isinstance(e.msg, str) and e.http_status >= 400
        assert set(e.to_body()) == {"code", "msg"}


@FAST
@given(value=wire_text)
def test_typed_getters_only_raise_binance_error(value):
    for g in GETTERS:
        _only_binance_errors(lambda: g(Params.from_mapping({"v": value})))


@FAST
@given(value=wire_text)
def test_decimal_accepts_exactly_the_pattern(value):
    import re
    p = Params.from_mapping({"q": value})
    ok = re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,20})?", value, re.ASCII) is not None
    try:
        d = p.get_decimal("q")
    except BinanceError as e:
        assert not ok or value == ""
        assert e.code == -1100
    else:
        assert (d is None and value == "") or (ok and d == Decimal(value))


@FAST
@given(query=st.binary(max_size=80), body=st.binary(max_size=80),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
def test_parse_raw_bytes(query, body, method):
    def run():
        r = RawRequest(method, "/fapi/v1/order", query, body, {"X-MBX-APIKEY": "k"})
        p = r.params()
        for name in ("symbol", "side", "quantity", "timestamp"):
            p.get(name)
        endpoint_cost(method, "/fapi/v1/depth", p)
        authenticate(r, p, SecurityType.TRADE, DictKeyStore({"k": ("s", 1)}), wall_ms=1_700_000_000_000,
                     venue_ms=1_600_000_000_000)
    _only_binance_errors(run)


@FAST
@given(pairs=st.lists(st.tuples(st.sampled_from(["symbol", "timestamp", "recvWindow", "signature", "x"]),
                                wire_text), max_size=6),
       key=st.one_of(st.none(), st.text(max_size=10), st.just("k")),
       in_body=st.booleans())
def test_authenticate_structured(pairs, key, in_body):
    from urllib.parse import urlencode
    try:
        encoded = urlencode(pairs).encode()
    except UnicodeEncodeError:
        return
    headers = {} if key is None else {"X-MBX-APIKEY": key}
    r = RawRequest("POST", "/fapi/v1/order", b"" if in_body else encoded, encoded if in_body else b"", headers)
    _only_binance_errors(lambda: authenticate(r, r.params(), SecurityType.USER_DATA,
                                              DictKeyStore({"k": ("s", 1)}), wall_ms=1_700_000_000_000))


@FAST
@given(ts=st.integers(min_value=0, max_value=2**63 - 1), recv=st.integers(min_value=0, max_value=60000))
def test_valid_signature_always_verifies_or_times_out(ts, recv):
    q = f"symbol=BTCUSDT&recvWindow={recv}&timestamp={ts}"
    r = RawRequest("GET", "/fapi/v1/order", f"{q}&signature={sign('s', q)}".encode(), b"", {"X-MBX-APIKEY": "k"})
    now = 1_700_000_000_000
    try:
        ctx = authenticate(r, r.params(), SecurityType.USER_DATA, DictKeyStore({"k": ("s", 1)}), wall_ms=now)
    except BinanceError as e:
        assert e.code == -1021
        assert not (ts < now + 1000 and now - ts <= recv)
    else:
        assert ctx.timestamp == ts and ts < now + 1000 and now - ts <= recv


@FAST
@given(steps=st.lists(st.tuples(st.integers(0, 200_000), st.integers(0, 50), st.sampled_from(["a", "b"])),
                      max_size=60))
def test_limiter_never_misbehaves(steps):
    from exchange.gateway.ratelimit import RateLimitConfig
    rl = RateLimiter(RateLimitConfig(request_weight_1m=100, ban_after_429=2))
    now = 1_700_000_000_000
    for dt, w, ip in steps:
        now += dt
        try:
            h = rl.check_request(ip, w, now)
            assert int(h["X-MBX-USED-WEIGHT-1M"]) <= 100
        except BinanceError as e:
            assert e.http_status in (418, 429) and int(e.headers["Retry-After"]) >= 1
