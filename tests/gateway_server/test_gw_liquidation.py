"""Liquidation through the real server: a 100x long, the mark pinned below its liquidation
price with the control API, then the liquidation seen over REST (position gone, forceOrders),
the user stream (MARGIN_CALL, ORDER_TRADE_UPDATE of the autoclose order, ACCOUNT_UPDATE), the
forceOrder streams, /paperex/v1/state and /metrics; and an ADL close-out."""
from __future__ import annotations

from decimal import Decimal

from gwhelpers import recv_until

SYM = "BTCUSDT"
LIMIT = {"symbol": SYM, "type": "LIMIT", "timeInForce": "GTC"}


async def _leveraged_long(api, bid: bool):
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    assert st == 200
    maker = await api.new_account()
    trader = await api.new_account("20")
    st, body = await trader.signed("POST", "/fapi/v1/leverage", {"symbol": SYM, "leverage": 100})
    assert st == 200 and body["leverage"] == 100, body
    st, _ = await maker.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.100",
                                                          "price": "50000"})
    assert st == 200
    st, o = await trader.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                                           "quantity": "0.020"})
    assert st == 200, o
    if bid:
        st, _ = await maker.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "BUY", "quantity": "0.020",
                                                              "price": "49150"})
        assert st == 200
    return maker, trader


async def test_liquidation_of_a_100x_long(api, server, session):
    maker, trader = await _leveraged_long(api, bid=True)
    st, rows = await trader.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM})
    assert st == 200 and rows[0]["positionAmt"] == "0.020"
    liq = Decimal(rows[0]["liquidationPrice"])
    assert Decimal("49150") < liq < Decimal("50000"), rows[0]
    assert isinstance(rows[0]["adl"], int) and 0 <= rows[0]["adl"] <= 4
    st, v2 = await trader.signed("GET", "/fapi/v2/positionRisk", {"symbol": SYM})
    assert Decimal(v2[0]["liquidationPrice"]) == liq and v2[0]["leverage"] == "100"
    st, q = await trader.signed("GET", "/fapi/v1/adlQuantile", {"symbol": SYM})
    assert st == 200 and q[0]["symbol"] == SYM and set(q[0]["adlQuantile"]) == {"LONG", "SHORT", "BOTH"}
    assert q[0]["adlQuantile"]["SHORT"] == 0

    st, lk = await trader.keyed("POST", "/fapi/v1/listenKey")
    streams = server.ws_url + "/stream?streams=btcusdt@forceOrder/!forceOrder@arr"
    async with session.ws_connect(server.ws_url + "/ws/" + lk["listenKey"]) as user, \
            session.ws_connect(streams) as market:
        st, _ = await api.control("POST", "/mark", {"symbol": SYM, "price": "49100"})
        assert st == 200
        call, _ = await recv_until(user, lambda m: m.get("e") == "MARGIN_CALL")
        assert call["p"][0]["s"] == SYM and call["p"][0]["mt"] == "CROSSED" and call["p"][0]["pa"] == "0.020"
        assert call["p"][0]["mp"] == "49100.00000000" and Decimal(call["p"][0]["mm"]) > 0
        fill, seen = await recv_until(user, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
        o = fill["o"]
        assert o["c"].startswith("autoclose-") and o["o"] == "LIQUIDATION" and o["x"] == "CALCULATED"
        assert (o["X"], o["S"], o["z"], o["L"], o["f"]) == ("FILLED", "SELL", "0.020", "49150.00", "IOC")
        acc, _ = await recv_until(user, lambda m: m.get("e") == "ACCOUNT_UPDATE"
                                  and any(p["pa"] == "0.000" for p in m["a"]["P"]))
        assert acc["a"]["P"][0]["s"] == SYM
        fo, _ = await recv_until(market, lambda m: m.get("stream") == "btcusdt@forceOrder")
        assert fo["data"]["e"] == "forceOrder"
        d = fo["data"]["o"]
        assert (d["s"], d["S"], d["o"], d["f"], d["q"], d["z"], d["X"]) == \
            (SYM, "SELL", "LIMIT", "IOC", "0.020", "0.020", "FILLED")
        assert d["ap"].startswith("49150")
        arr, _ = await recv_until(market, lambda m: m.get("stream") == "!forceOrder@arr")
        assert arr["data"]["o"]["s"] == SYM

    st, rows = await trader.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM})
    assert st == 200 and rows == []
    st, fos = await trader.signed("GET", "/fapi/v1/forceOrders", {"symbol": SYM})
    assert st == 200 and len(fos) == 1, fos
    f = fos[0]
    assert f["clientOrderId"] == o["c"] and f["orderId"] == o["i"] and f["status"] == "FILLED"
    assert (f["executedQty"], f["side"], f["type"], f["timeInForce"]) == ("0.020", "SELL", "LIMIT", "IOC")
    assert f["avgPrice"].startswith("49150")
    assert (await trader.signed("GET", "/fapi/v1/forceOrders", {"autoCloseType": "ADL"}))[1] == []
    st, all_ = await trader.signed("GET", "/fapi/v1/allOrders", {"symbol": SYM})
    assert [(x["clientOrderId"], x["status"], x["type"]) for x in all_][-1] == (o["c"], "FILLED", "LIMIT")
    assert (await maker.signed("GET", "/fapi/v1/forceOrders", {}))[1] == []
    st, state = await api.control("GET", "/state")
    assert state["liquidations"] == 1 and Decimal(state["insuranceFund"]) > 0 and state["moneyIdentity"] is True
    async with session.get(server.rest_url + "/metrics") as r:
        text = await r.text()
    assert "paperex_liquidations_total 1\n" in text
    st, inc = await trader.signed("GET", "/fapi/v1/income", {"incomeType": "INSURANCE_CLEAR"})
    assert st == 200 and len(inc) == 1 and Decimal(inc[0]["income"]) < 0


async def test_adl_when_nothing_absorbs_the_liquidation(api, server):
    maker, trader = await _leveraged_long(api, bid=False)
    st, _ = await api.control("POST", "/mark", {"symbol": SYM, "price": "49100"})
    assert st == 200
    assert (await trader.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM}))[1] == []
    st, fos = await trader.signed("GET", "/fapi/v1/forceOrders", {"autoCloseType": "LIQUIDATION"})
    assert len(fos) == 1 and fos[0]["status"] == "FILLED" and fos[0]["executedQty"] == "0.020"
    st, adl = await maker.signed("GET", "/fapi/v1/forceOrders", {"autoCloseType": "ADL"})
    assert st == 200 and len(adl) == 1 and adl[0]["clientOrderId"] == "adl_autoclose"
    assert adl[0]["side"] == "BUY" and adl[0]["executedQty"] == "0.020"
    # the maker's 0.020 short was deleveraged at the bankruptcy price; its orders were canceled first
    assert (await maker.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM}))[1] == []
    assert (await maker.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM}))[1] == []
    st, state = await api.control("GET", "/state")
    assert state["adl"] == 1 and state["moneyIdentity"] is True
