"""The gateway's fast form parser gives exactly what params.parse_form gives."""
from hypothesis import given, settings, strategies as st

from exchange.gateway.common import fast_pairs
from exchange.gateway.params import parse_form


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=80),
                 st.text(alphabet="ab=&%+1é \x00", max_size=40).map(str.encode),
                 st.text(alphabet="abcXYZ019=&._-", max_size=80).map(str.encode)))
def test_fast_pairs_equals_parse_form(raw):
    assert fast_pairs(raw) == parse_form(raw)


def test_fast_pairs_examples():
    assert fast_pairs(b"symbol=BTCUSDT&&side=&x") == [("symbol", "BTCUSDT"), ("side", ""), ("x", "")]
    assert fast_pairs(b"a=%2F+b") == [("a", "/ b")]


# ---------------------------------------------------------------- new order
def _gateway():
    from exchange.gateway.app import Gateway
    from exchange.engine.runtime import Runtime
    return Gateway(Runtime(timers=False))


def _outcome(fn, gw, p):
    from exchange.gateway.errors import BinanceError
    try:
        r = fn(gw, p, 7)
        if r is None:
            return ("none", None)
        cmd, resp_type, f = r
    except BinanceError as e:
        return ("error", e.code, e.msg, e.http_status)
    return ("ok", cmd, resp_type, f)


_VALUES = {
    "symbol": ["BTCUSDT", "ETHUSDT", "NOPEUSDT", "", "btcusdt"],
    "side": ["BUY", "SELL", "buy", ""],
    "type": ["LIMIT", "MARKET", "STOP", "LIMITS", ""],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD", "gtc", ""],
    "quantity": ["0.002", "1", "0.0015", "0.00001", "1e-3", "-1", "", "99999999999999999999.1",
                 "100000", "0.0020000"],
    "price": ["30000", "30000.1", "30000.15", "30000.123", "0", "1.", "", "99999999999", "3e4"],
    "positionSide": ["BOTH", "LONG", "x", ""],
    "reduceOnly": ["true", "false", "maybe", ""],
    "newClientOrderId": ["abc", "bad id", ""],
    "newOrderRespType": ["ACK", "RESULT", "NOPE"],
    "selfTradePreventionMode": ["NONE", "EXPIRE_TAKER", "nope"],
    "priceMatch": ["NONE", "OPPONENT"],
}


def test_fast_limit_parse_equals_the_general_path(monkeypatch):
    """parse_new_order's fast path (plain LIMIT orders) answers exactly what the general
    path answers: same command, same response type, same error, same parameters read."""
    import random
    from exchange.gateway.rest import trade as rest_trade
    from exchange.gateway.params import Params
    gw = _gateway()
    rnd = random.Random(5)
    fast_taken = 0
    for i in range(3000):
        d = {}
        for k, vals in _VALUES.items():
            absent = 0.15 if k in ("symbol", "side", "type", "timeInForce", "quantity", "price") else 0.85
            if rnd.random() >= absent:
                d[k] = rnd.choice(vals)
        if i % 3 == 0:          # the plain case, often
            d = {"symbol": "BTCUSDT", "side": rnd.choice(["BUY", "SELL"]), "type": "LIMIT",
                 "timeInForce": rnd.choice(["GTC", "IOC", "FOK", "GTX"]),
                 "quantity": rnd.choice(_VALUES["quantity"]), "price": rnd.choice(_VALUES["price"])}
        d["timestamp"] = "1"
        p1, p2 = Params._of(dict(d)), Params._of(dict(d))
        if _outcome(rest_trade._fast_limit, gw, Params._of(dict(d)))[1] is not None:
            fast_taken += 1
        got = _outcome(rest_trade.parse_new_order, gw, p1)
        with monkeypatch.context() as m:
            m.setattr(rest_trade, "_fast_limit", lambda *a: None)
            want = _outcome(rest_trade.parse_new_order, gw, p2)
        assert got == want, d
        if got[0] == "ok":
            assert p1.unread() == p2.unread(), d
    assert fast_taken > 300


def test_ack_json_fast_equals_ack_json():
    """The written-out acknowledgement is the order_json of the view, key for key, in order."""
    import itertools
    from exchange.gateway.rest import trade as rest_trade
    from exchange.gateway.rest.algo import CONDITIONAL_CODES
    from exchange.contract import codes as C
    from exchange.contract.events import OrderAccepted
    gw = _gateway()
    f = gw.formats["BTCUSDT"]
    types = [t for t in (C.LIMIT, C.MARKET, C.LIQUIDATION, C.ADL, 99) if t not in CONDITIONAL_CODES]
    for ot, tif, side, ps, stp, ro, cid in itertools.product(
            types, (C.GTC, C.IOC, C.FOK, C.GTX, 77), (C.BUY, C.SELL), (C.BOTH, C.LONG, C.SHORT, 9),
            (C.STP_NONE, C.STP_EXPIRE_TAKER, C.STP_EXPIRE_MAKER, C.STP_EXPIRE_BOTH, 42), (0, 1), ("", "x1")):
        acc = OrderAccepted(123, 7, "BTCUSDT", cid, side, ot, tif, 300001, 20, ro, ps, stp)
        fast = rest_trade._ack_json_fast(f, acc, 1_700_000_000_123)
        slow = rest_trade._ack_json(f, acc, 1_700_000_000_123)
        assert list(fast.items()) == list(slow.items())
