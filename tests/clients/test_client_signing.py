"""HMAC-SHA256 signing and parameter encoding (spec §2.2)."""
from decimal import Decimal
from urllib.parse import parse_qsl

from clients.signing import encode_params, format_value, sign, signed_query

SPEC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
SPEC_PAYLOAD = ("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
                "&recvWindow=5000&timestamp=1591702613943")
SPEC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"


def test_spec_vector():
    assert sign(SPEC_SECRET, SPEC_PAYLOAD) == SPEC_SIGNATURE


def test_spec_vector_through_signed_query():
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": 1, "price": Decimal("9000"),
              "timeInForce": "GTC"}
    qs = signed_query(SPEC_SECRET, params, timestamp=1591702613943, recv_window=5000)
    assert qs == f"{SPEC_PAYLOAD}&signature={SPEC_SIGNATURE}"


def test_spec_mixed_query_and_body_concatenation():
    # query + body with no '&' between them; Binance's published example has a stray space after timestamp=
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=9000&recvWindow=5000&timestamp= 1591702613943"
    digest = sign(SPEC_SECRET, query + body)
    assert digest.startswith("f9d0ae5e") and digest.endswith("36f2")


def test_signature_last_and_timestamp_present():
    qs = signed_query("s", {"symbol": "ETHUSDT", "timestamp": 1, "recvWindow": 7000}, timestamp=42, recv_window=5000)
    pairs = parse_qsl(qs)
    assert [k for k, _ in pairs] == ["symbol", "recvWindow", "timestamp", "signature"]
    assert dict(pairs)["recvWindow"] == "7000" and dict(pairs)["timestamp"] == "42"
    payload = qs.rpartition("&signature=")[0]
    assert dict(pairs)["signature"] == sign("s", payload)


def test_no_recv_window_when_disabled():
    qs = signed_query("s", {"a": 1}, timestamp=5, recv_window=None)
    assert qs.startswith("a=1&timestamp=5&signature=")


def test_value_formatting():
    assert format_value(True) == "true" and format_value(False) == "false"
    assert format_value(1e-05) == "0.00001"            # never scientific notation (-1100)
    assert format_value(Decimal("1E-7")) == "0.0000001"
    assert format_value(Decimal("0.0100")) == "0.01"
    assert format_value(Decimal("1E+3")) == "1000"
    assert format_value(0.1) == "0.1"
    assert format_value([1, 2]) == "[1,2]"
    assert format_value([{"quantity": Decimal("0.5"), "reduceOnly": True}]) == '[{"quantity":"0.5","reduceOnly":true}]'


def test_encode_params_drops_none_and_escapes():
    qs = encode_params({"symbol": "BTCUSDT", "orderId": None, "newClientOrderId": "a b/c:d", "list": [1, 2]})
    assert qs == "symbol=BTCUSDT&newClientOrderId=a%20b%2Fc%3Ad&list=%5B1%2C2%5D"
