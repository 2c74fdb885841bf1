"""Parameter parsing: merge rules, duplicates, typed getters (spec §1.1)."""
from decimal import Decimal

import pytest

from exchange.gateway.errors import BinanceError, DECIMAL_LEGAL_RANGE
from exchange.gateway.params import ENUMS, Params, RawRequest, parse_form


def err(fn):
    with pytest.raises(BinanceError) as ei:
        fn()
    return ei.value.http_status, ei.value.code, ei.value.msg


MANDATORY = "Mandatory parameter '{}' was not sent, was empty/null, or malformed."
ILLEGAL_DEC = "Illegal characters found in parameter '{}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
ILLEGAL_INT = "Illegal characters found in parameter '{}'; legal range is '^[0-9]{{1,20}}$'."


# --- merge / transport ------------------------------------------------------

def test_query_wins_over_body():
    p = Params.parse(b"symbol=BTCUSDT&price=1", b"price=2&quantity=3")
    assert p.get("price") == "1"
    assert p.get("quantity") == "3"
    assert p.get("symbol") == "BTCUSDT"


def test_body_parsed_as_form_regardless_of_content_type():
    # python-binance DELETE with a form body; FC: JSON content type, params in query, empty body
    r = RawRequest.from_parts("DELETE", "/fapi/v1/order", b"symbol=BTCUSDT&orderId=5",
                              {"Content-Type": "application/json;charset=utf-8"})
    p = r.params()
    assert p.get_int("orderId") == 5 and p.symbol() == "BTCUSDT"
    r = RawRequest.from_parts("POST", "/fapi/v1/order?symbol=BTCUSDT&side=BUY", b"",
                              {"Content-Type": "application/json;charset=utf-8"})
    assert r.params().side() == "BUY"


def test_get_body_ignored():
    r = RawRequest.from_parts("GET", "/fapi/v1/depth?symbol=BTCUSDT", b"limit=5")
    assert "limit" not in r.params()
    assert r.signed_body == b""


def test_form_decoding():
    assert parse_form(b"a=x%2By+z&b=%5B1%2C2%5D&c&d=") == [("a", "x+y z"), ("b", "[1,2]"), ("c", ""), ("d", "")]
    assert parse_form(b"a=%ff") == [("a", "\ufffd")]
    assert parse_form(b"\xff\xfe=1") == [("\ufffd\ufffd", "1")]
    assert parse_form(b"") == [] and parse_form(None) == []


def test_duplicates_rejected():
    dup = (400, -1101, "Duplicate values for a parameter detected.")
    assert err(lambda: Params.parse(b"symbol=BTCUSDT&symbol=ETHUSDT")) == dup
    assert err(lambda: Params.parse(b"", b"side=BUY&side=BUY")) == dup
    # the same key in query and body is not a duplicate: the query wins
    assert Params.parse(b"side=SELL", b"side=BUY").get("side") == "SELL"
    # opt-out for endpoints that legitimately repeat keys
    assert Params.parse(b"k=1&k=2", reject_duplicates=False).get("k") == "1"


def test_too_many_fields():
    assert err(lambda: Params.parse(b"&".join(b"k%d=1" % i for i in range(1001))))[1] == -1101


def test_unknown_ignored_and_strict_mode():
    p = Params.parse(b"symbol=BTCUSDT&clientOrderId=abc&foo=bar")
    assert p.symbol() == "BTCUSDT"
    assert sorted(p.unread()) == ["clientOrderId", "foo"]
    assert err(p.check_all_read) == (400, -1104, "Not all sent parameters were read; read '1' parameter(s) but was sent '3'.")


def test_from_mapping_and_aliases():
    p = Params.from_mapping({"symbol": "BTCUSDT", "orderidlist": "[1,2]", "x": None})
    assert p.first_present("orderIdList", "orderidlist") == "orderidlist"
    assert p.get("x") == ""
    assert err(lambda: Params.from_mapping({}).require_one_of("orderId", "origClientOrderId")) == (
        400, -1102, "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!")
    assert Params.from_mapping({"origClientOrderId": "a"}).require_one_of("orderId", "origClientOrderId") == \
        "origClientOrderId"


# --- strings ---------------------------------------------------------------

def test_required_missing_or_empty():
    for q in (b"", b"symbol=", b"symbol"):
        assert err(lambda: Params.parse(q).symbol()) == (400, -1102, MANDATORY.format("symbol"))
    assert Params.parse(b"symbol=").symbol(required=False) is None
    assert Params.parse(b"a=").get_str("a", default="d") == "d"


# --- ints ------------------------------------------------------------------

@pytest.mark.parametrize("v,expected", [("0", 0), ("5", 5), ("007", 7), ("1591702613943", 1591702613943),
                                        ("9223372036854775807", 2**63 - 1)])
def test_int_ok(v, expected):
    assert Params.from_mapping({"n": v}).get_int("n") == expected


@pytest.mark.parametrize("v", ["-1", "+1", "1.0", "1e3", " 1", "1 ", "abc", "0x10", "1_000", "١",
                               "123456789012345678901", "1\n"])
def test_int_illegal(v):
    assert err(lambda: Params.from_mapping({"orderId": v}).get_int("orderId")) == (
        400, -1100, ILLEGAL_INT.format("orderId"))


def test_int_overflow_and_bounds():
    assert err(lambda: Params.from_mapping({"n": "99999999999999999999"}).get_int("n")) == (
        400, -1130, "Data sent for parameter 'n' is not valid.")
    p = Params.from_mapping({"limit": "1001"})
    assert err(lambda: p.get_int("limit", max_value=1000))[1:] == (-1130, "Data sent for parameter 'limit' is not valid.")
    assert Params().get_int("limit", default=500) == 500
    assert err(lambda: Params().required_int("orderId")) == (400, -1102, MANDATORY.format("orderId"))


# --- decimals --------------------------------------------------------------

@pytest.mark.parametrize("v", ["0", "1", "0.001", "76915.00", "00012.3400", "1" * 20, "1." + "9" * 20,
                               "1" * 20 + "." + "0" * 20])
def test_decimal_ok(v):
    assert Params.from_mapping({"price": v}).get_decimal("price") == Decimal(v)


@pytest.mark.parametrize("v", ["1e-05", "1E5", ".5", "1.", "-1", "+1", " 1", "1 ", "1,5", "1.2.3", "NaN",
                               "Infinity", "0x1", "1" * 21, "1." + "0" * 21, "１", "١", "1\n", "\t1", "1_0"])
def test_decimal_illegal(v):
    assert err(lambda: Params.from_mapping({"quantity": v}).get_decimal("quantity")) == (
        400, -1100, ILLEGAL_DEC.format("quantity"))


def test_decimal_message_is_the_spec_text():
    # spec §1.1: -1100 Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\.[0-9]{1,20})?$'.
    assert err(lambda: Params.parse(b"quantity=1e-05").get_decimal("quantity"))[2] == (
        "Illegal characters found in parameter 'quantity'; legal range is '" + DECIMAL_LEGAL_RANGE + "'.")
    assert DECIMAL_LEGAL_RANGE == r"^([0-9]{1,20})(\.[0-9]{1,20})?$"


def test_decimal_from_wire_encoding():
    # str(float) from python-binance; '+' in a form decodes to space -> illegal
    assert err(lambda: Params.parse(b"quantity=1e%2B05").get_decimal("quantity"))[1] == -1100
    assert err(lambda: Params.parse(b"price=+1").get_decimal("price"))[1] == -1100
    assert Params.parse(b"price=%31%2E5").get_decimal("price") == Decimal("1.5")
    assert err(lambda: Params().required_decimal("price")) == (400, -1102, MANDATORY.format("price"))


# --- bools -----------------------------------------------------------------

@pytest.mark.parametrize("v,expected", [("true", True), ("True", True), ("TRUE", True), ("tRuE", True),
                                        ("false", False), ("False", False), ("FALSE", False)])
def test_bool_ok(v, expected):
    assert Params.from_mapping({"reduceOnly": v}).get_bool("reduceOnly") is expected


@pytest.mark.parametrize("v", ["1", "0", "yes", "t", " true", "true ", "truee"])
def test_bool_bad(v):
    assert err(lambda: Params.from_mapping({"dualSidePosition": v}).get_bool("dualSidePosition")) == (
        400, -1130, "Data sent for parameter 'dualSidePosition' is not valid.")


def test_bool_custom_error_and_default():
    from exchange.gateway.errors import Filters
    p = Params.from_mapping({"reduceOnly": "maybe"})
    assert err(lambda: p.get_bool("reduceOnly", invalid=Filters.REDUCE_ONLY_CONFLICT)) == (
        400, -4062, "Invalid or improper reduceOnly value.")
    assert Params().get_bool("reduceOnly", default=False) is False
    assert err(lambda: Params().get_bool("dualSidePosition", required=True))[1] == -1102


# --- enums -----------------------------------------------------------------

ENUM_ERRORS = {
    "side": (-1117, "Invalid side."),
    "type": (-1116, "Invalid orderType."),
    "timeInForce": (-1115, "Invalid timeInForce."),
    "positionSide": (-4060, "Invalid position side."),
    "workingType": (-4031, "Invalid parameter working type"),
    "newOrderRespType": (-1136, "Invalid newOrderRespType."),
    "selfTradePreventionMode": (-5039, "Invalid self trade prevention mode"),
    "priceMatch": (-5037, "Invalid price match"),
    "interval": (-1120, "Invalid interval."),
    "marginType": (-1130, "Data sent for parameter 'marginType' is not valid."),
    "algoType": (-1130, "Data sent for parameter 'algoType' is not valid."),
}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enum_values_and_errors(name):
    allowed, _ = ENUMS[name]
    for v in allowed:
        assert Params.from_mapping({name: v}).get_enum(name) == v
    for bad in ("nope", allowed[0].lower() if allowed[0].lower() != allowed[0] else allowed[0].upper(), " " + allowed[0]):
        if bad in allowed:
            continue
        code_msg = ENUM_ERRORS.get(name, (-1130, f"Data sent for parameter '{name}' is not valid."))
        assert err(lambda: Params.from_mapping({name: bad}).get_enum(name)) == (400, *code_msg)
    assert err(lambda: Params().get_enum(name, required=True)) == (400, -1102, MANDATORY.format(name))


def test_enum_conveniences():
    p = Params.parse(b"side=SELL&type=LIMIT&timeInForce=GTX&interval=1M")
    assert (p.side(), p.order_type(), p.time_in_force(), p.interval()) == ("SELL", "LIMIT", "GTX", "1M")
    assert (p.position_side(), p.working_type(), p.new_order_resp_type(), p.stp_mode()) == (
        "BOTH", "CONTRACT_PRICE", "ACK", None)
    assert err(lambda: Params.parse(b"interval=1s").interval()) == (400, -1120, "Invalid interval.")
    assert err(lambda: Params.parse(b"type=LIQUIDATION").order_type()) == (400, -1116, "Invalid orderType.")
    assert err(lambda: Params().side()) == (400, -1102, MANDATORY.format("side"))
    assert Params.parse(b"x=a").get_enum("x", ("a", "b")) == "a"
    assert err(lambda: Params.parse(b"x=c").get_enum("x", ("a", "b")))[1:] == (
        -1130, "Data sent for parameter 'x' is not valid.")


# --- client order ids ---------------------------------------------------------

def test_client_order_id():
    ok = "x-cvBPrNm9" + "0123456789abcdef012345"
    assert Params.from_mapping({"newClientOrderId": ok}).client_order_id() == ok
    assert Params.from_mapping({"newClientOrderId": "a.b:c/d_e-F"}).client_order_id() == "a.b:c/d_e-F"
    assert err(lambda: Params.from_mapping({"newClientOrderId": "a b"}).client_order_id()) == (
        400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                    "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
    assert err(lambda: Params.from_mapping({"newClientOrderId": "a" * 37}).client_order_id()) == (
        400, -4015, "Client order id is not valid.")
    assert Params().client_order_id() is None
