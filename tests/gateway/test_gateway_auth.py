"""HMAC signing, key handling and the timestamp window (spec §2)."""
import hashlib
import hmac

import pytest

from exchange.gateway.auth import (
    ENDPOINT_SECURITY, ApiKey, DictKeyStore, SecurityType, authenticate, check_timestamp, security_type,
    sign, split_signature, verify_signature,
)
from exchange.gateway.errors import BinanceError
from exchange.gateway.params import RawRequest

# spec §2.2 test vector (Binance USD-M docs)
SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
PAYLOAD = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943"
SIG = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
TS = 1591702613943
KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"

# Binance spot docs' canonical example (the other well-known secret)
SPOT_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
SPOT_PAYLOAD = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
SPOT_SIG = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


@pytest.fixture
def keys():
    return DictKeyStore({KEY: (SECRET, 7)})


def req(method, query=b"", body=b"", key=KEY, **hdr):
    headers = dict(hdr)
    if key is not None:
        headers["X-MBX-APIKEY"] = key
    return RawRequest(method, "/fapi/v1/order", query.encode() if isinstance(query, str) else query,
                      body.encode() if isinstance(body, str) else body, headers)


def auth(r, keys, security=SecurityType.TRADE, wall=TS, venue=None, **kw):
    return authenticate(r, r.params(), security, keys, wall_ms=wall, venue_ms=venue, **kw)


def err(fn):
    with pytest.raises(BinanceError) as ei:
        fn()
    return ei.value.http_status, ei.value.code, ei.value.msg


# --- the signature itself ---------------------------------------------------

def test_vectors_with_hmac_directly():
    assert hmac.new(SECRET.encode(), PAYLOAD.encode(), hashlib.sha256).hexdigest() == SIG
    assert sign(SECRET, PAYLOAD) == SIG
    assert sign(SPOT_SECRET.encode(), SPOT_PAYLOAD.encode()) == SPOT_SIG
    # the pairing sometimes quoted (spot secret + futures payload) gives a different digest
    assert sign(SPOT_SECRET, PAYLOAD) != SIG


def test_mixed_vector_no_ampersand_between_query_and_body():
    q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    b = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    total, sig = split_signature(q.encode(), b.encode())
    assert total == (q + b).encode() and b"GTCquantity=1" in total and sig is None
    # the docs' published digest includes a stray space after 'timestamp='
    assert sign(SECRET, q + b.replace("timestamp=", "timestamp= ")).startswith("f9d0ae5e")
    assert sign(SECRET, q + b.replace("timestamp=", "timestamp= ")).endswith("36f2")


@pytest.mark.parametrize("where", ["query", "body", "split"])
def test_round_trip(keys, where):
    if where == "query":
        r = req("POST", f"{PAYLOAD}&signature={SIG}")
    elif where == "body":
        r = req("POST", b"", f"{PAYLOAD}&signature={SIG}")
    else:
        q, b = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC", \
            "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
        r = req("POST", q, f"{b}&signature={sign(SECRET, q + b)}")
    ctx = auth(r, keys)
    assert (ctx.account_id, ctx.api_key, ctx.timestamp, ctx.recv_window) == (7, KEY, TS, 5000)
    assert r.params().get("quantity") == "1"


def test_signature_in_query_with_body_params(keys):
    b = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    s = sign(SECRET, q + b)
    # signature last in the query; totalParams = query(minus signature) + body
    assert auth(req("POST", f"{q}&signature={s}", b), keys).account_id == 7


def test_uppercase_hex_accepted(keys):
    assert auth(req("GET", f"{PAYLOAD}&signature={SIG.upper()}"), keys, SecurityType.USER_DATA).account_id == 7


def test_bad_signature(keys):
    bad = (400, -1022, "Signature for this request is not valid.")
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={'0' * 64}"), keys)) == bad
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature=zz"), keys)) == bad
    # tampered parameter
    assert err(lambda: auth(req("POST", f"{PAYLOAD.replace('9000', '9001')}&signature={SIG}"), keys)) == bad
    # signature not last in its part
    assert err(lambda: auth(req("POST", f"signature={SIG}&{PAYLOAD}"), keys)) == bad
    # wrong secret
    other = DictKeyStore({KEY: ("other", 7)})
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={SIG}"), other)) == bad
    # GET body is not part of the request
    assert err(lambda: auth(req("GET", "", f"{PAYLOAD}&signature={SIG}"), keys, SecurityType.USER_DATA))[1] == -1102


def test_unquote_fallback(keys):
    # python-binance signs raw str(value) but the wire carries the URL-encoded form
    raw = 'batchOrders=[{"symbol":"BTCUSDT","side":"BUY"}]&timestamp=1591702613943'
    wire = "batchOrders=%5B%7B%22symbol%22%3A%22BTCUSDT%22%2C%22side%22%3A%22BUY%22%7D%5D&timestamp=1591702613943"
    r = req("POST", b"", f"{wire}&signature={sign(SECRET, raw)}")
    assert auth(r, keys).account_id == 7
    # the raw-bytes signature (ccxt/FC style) works too
    r = req("POST", b"", f"{wire}&signature={sign(SECRET, wire)}")
    assert auth(r, keys).account_id == 7
    assert verify_signature(SECRET, b"a=%20b&signature=" + sign(SECRET, "a= b").encode())
    assert verify_signature(SECRET, b"a=+b&signature=" + sign(SECRET, "a= b").encode())


# --- missing pieces ---------------------------------------------------------------

def test_missing_signature_and_timestamp(keys):
    assert err(lambda: auth(req("POST", PAYLOAD), keys)) == (
        400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    assert err(lambda: auth(req("POST", PAYLOAD + "&signature="), keys))[1] == -1102
    no_ts = "symbol=BTCUSDT&recvWindow=5000"
    assert err(lambda: auth(req("POST", f"{no_ts}&signature={sign(SECRET, no_ts)}"), keys)) == (
        400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    bad_ts = "symbol=BTCUSDT&timestamp=1591702613943.5"
    assert err(lambda: auth(req("POST", f"{bad_ts}&signature={sign(SECRET, bad_ts)}"), keys)) == (
        400, -1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.")


def test_api_key_errors(keys):
    r = req("POST", f"{PAYLOAD}&signature={SIG}", key=None)
    assert err(lambda: auth(r, keys)) == (401, -2014, "API-key format invalid.")
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={SIG}", key=""), keys))[1] == -2014
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={SIG}", key="nope"), keys)) == (
        401, -2015, "Invalid API-key, IP, or permissions for action.")
    # keys are case sensitive
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={SIG}", key=KEY.upper()), keys))[1] == -2015
    # header name is case-insensitive, even in a plain dict
    r = RawRequest("POST", "/fapi/v1/order", f"{PAYLOAD}&signature={SIG}".encode(), b"", {"x-mbx-apikey": KEY})
    assert auth(r, keys).account_id == 7
    # a read-only key may not TRADE, but may read USER_DATA
    ro = DictKeyStore({KEY: ApiKey(KEY, SECRET, 9, can_trade=False)})
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={SIG}"), ro))[1] == -2015
    assert auth(req("GET", f"{PAYLOAD}&signature={SIG}"), ro, SecurityType.USER_DATA).account_id == 9
    # RSA-style secrets are out of scope
    rsa = DictKeyStore({KEY: ("-----BEGIN PRIVATE KEY-----...", 1)})
    assert err(lambda: auth(req("POST", f"{PAYLOAD}&signature={SIG}"), rsa)) == (400, -4056, "Invalid api key type.")


def test_key_only_and_public_endpoints(keys):
    r = req("POST", "", "")
    ctx = auth(r, keys, SecurityType.USER_STREAM)
    assert ctx.account_id == 7 and ctx.timestamp is None
    assert err(lambda: auth(req("GET", "symbol=BTCUSDT", key=None), keys, SecurityType.MARKET_DATA)) == (
        401, -2014, "API-key format invalid.")
    # NONE ignores any key header, valid or not
    assert auth(req("GET", "", key="garbage"), keys, SecurityType.NONE).account_id is None


# --- timestamp window -----------------------------------------------------------------

def signed(ts, recv=None):
    q = f"symbol=BTCUSDT&timestamp={ts}" + (f"&recvWindow={recv}" if recv is not None else "")
    return req("GET", f"{q}&signature={sign(SECRET, q)}")


STALE = (400, -1021, "Timestamp for this request is outside of the recvWindow.")
AHEAD = (400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def test_timestamp_window(keys):
    now = 1_789_478_400_000
    a = lambda ts, recv=None, venue=None: auth(signed(ts, recv), keys, SecurityType.USER_DATA, wall=now, venue=venue)  # noqa
    assert a(now).recv_window == 5000
    assert a(now - 5000).timestamp == now - 5000            # serverTime - ts <= recvWindow
    assert err(lambda: a(now - 5001)) == STALE
    assert a(now + 999).timestamp == now + 999               # ts < serverTime + 1000
    assert err(lambda: a(now + 1000)) == AHEAD
    assert a(now - 60000, 60000).recv_window == 60000
    assert err(lambda: a(now - 60001, 60000)) == STALE
    assert err(lambda: a(now, 60001)) == (400, -1130, "Data sent for parameter 'recvWindow' is not valid.")
    assert err(lambda: a(now, "-1"))[1] == -1100
    assert a(now, 0).recv_window == 0


def test_timestamp_either_clock():
    wall, venue = 1_789_478_400_000, 1_600_000_000_000     # replay: venue clock far in the past
    check_timestamp(venue - 100, 5000, wall, venue)          # fits the venue clock
    check_timestamp(wall + 500, 5000, wall, venue)           # fits the wall clock
    with pytest.raises(BinanceError) as ei:
        check_timestamp(venue - 6000, 5000, wall, venue)
    assert ei.value.msg == STALE[2]
    with pytest.raises(BinanceError) as ei:
        check_timestamp(wall + 1000, 5000, wall, venue)      # ahead of both
    assert ei.value.msg == AHEAD[2]
    with pytest.raises(BinanceError) as ei:
        check_timestamp(venue + 10_000, 5000, wall, venue)   # ahead of venue, stale for wall
    assert ei.value.msg == STALE[2]
    check_timestamp(wall, 5000, wall)                        # venue clock optional


def test_custom_recv_window_limits(keys):
    now = TS
    r = signed(now)
    assert authenticate(r, r.params(), SecurityType.USER_DATA, keys, wall_ms=now, default_recv_window=100).recv_window == 100
    r = signed(now, 50000)
    with pytest.raises(BinanceError) as ei:
        authenticate(r, r.params(), SecurityType.USER_DATA, keys, wall_ms=now, max_recv_window=10000)
    assert ei.value.code == -1130


# --- endpoint table ----------------------------------------------------------------

def test_security_table():
    assert security_type("get", "/fapi/v1/depth") is SecurityType.NONE
    assert security_type("GET", "/fapi/v1/historicalTrades") is SecurityType.MARKET_DATA
    assert security_type("PUT", "/fapi/v1/listenKey") is SecurityType.USER_STREAM
    assert security_type("POST", "/fapi/v1/order") is SecurityType.TRADE
    assert security_type("GET", "/fapi/v1/order") is SecurityType.USER_DATA
    assert security_type("GET", "/fapi/v3/positionRisk") is SecurityType.USER_DATA
    assert security_type("GET", "/fapi/v1/positionRisk") is None      # removed on Binance (-5000)
    assert security_type("GET", "/fapi/v1/account") is None
    assert SecurityType.TRADE.signed and SecurityType.USER_DATA.signed
    assert not SecurityType.USER_STREAM.signed and SecurityType.USER_STREAM.needs_api_key
    assert not SecurityType.NONE.needs_api_key


def test_every_secured_endpoint_has_a_weight():
    from exchange.gateway.ratelimit import ENDPOINT_WEIGHTS
    assert [k for k in ENDPOINT_SECURITY if k not in ENDPOINT_WEIGHTS] == []
    assert [k for k in ENDPOINT_WEIGHTS if k not in ENDPOINT_SECURITY] == []
