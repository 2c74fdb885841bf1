"""Conditional orders through the real server: legacy stops on /fapi/v1/order (raw client and
binance-futures-connector), the Algo Order API (raw client and ccxt), triggers by moving the
mark with the control API, and the user-stream events of both."""
from __future__ import annotations

import asyncio
import pytest

from gwhelpers import ccxt_usdm as _ccxt, recv_until as _recv_until

SYM = "BTCUSDT"
LIMIT = {"symbol": SYM, "type": "LIMIT", "timeInForce": "GTC"}


async def _long_position(api):
    """Index 50000; ``taker`` long 0.010 BTC bought from ``maker`` at 50000; ``maker`` bids 0.010
    at 48900 (the liquidity a triggered sell stop will hit)."""
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    assert st == 200
    maker = await api.new_account()
    taker = await api.new_account()
    st, _ = await maker.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010",
                                                          "price": "50000"})
    assert st == 200
    st, _ = await taker.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                                          "quantity": "0.010"})
    assert st == 200
    st, _ = await maker.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "BUY", "quantity": "0.010",
                                                          "price": "48900"})
    assert st == 200
    return maker, taker


async def _position_amt(acct) -> str:
    st, rows = await acct.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM})
    assert st == 200
    return rows[0]["positionAmt"] if rows else "0"


async def test_legacy_stop_on_order_endpoint(api, server, session):
    maker, taker = await _long_position(api)
    stop = {"symbol": SYM, "side": "SELL", "type": "STOP_MARKET"}
    # Binance's validation answers
    assert (await taker.signed("POST", "/fapi/v1/order", {**stop, "stopPrice": "51000", "closePosition": "true",
                                                           "workingType": "MARK_PRICE"})) == \
        (400, {"code": -2021, "msg": "Order would immediately trigger."})
    assert (await taker.signed("POST", "/fapi/v1/order", {**stop, "stopPrice": "49000", "closePosition": "true",
                                                           "quantity": "0.010"})) == \
        (400, {"code": -4137, "msg": "Quantity must be zero with closePosition equals true"})
    assert (await taker.signed("POST", "/fapi/v1/order", {**stop, "stopPrice": "49000.05", "quantity": "0.010"}))[1] \
        == {"code": -4014, "msg": "Price not increased by tick size."}
    st, body = await taker.signed("POST", "/fapi/v1/order", {**stop, "type": "TRAILING_STOP_MARKET",
                                                              "quantity": "0.010"})
    assert (st, body) == (400, {"code": -1102, "msg": "Mandatory parameter 'callbackRate' was not sent, was "
                                                      "empty/null, or malformed."})
    st, body = await taker.signed("POST", "/fapi/v1/order", {**stop, "type": "TRAILING_STOP_MARKET",
                                                              "quantity": "0.010", "callbackRate": "20"})
    assert (st, body) == (400, {"code": -4136, "msg": "Invalid callBackRate"})
    st, body = await taker.signed("POST", "/fapi/v1/order", {**stop, "type": "STOP", "quantity": "0.010",
                                                              "stopPrice": "49000"})
    assert body["code"] == -1102 and "'price'" in body["msg"]

    st, lk = await taker.keyed("POST", "/fapi/v1/listenKey")
    async with session.ws_connect(server.ws_url + "/ws/" + lk["listenKey"]) as ws:
        st, o = await taker.signed("POST", "/fapi/v1/order", {**stop, "stopPrice": "49000", "closePosition": "true",
                                                               "workingType": "MARK_PRICE", "newClientOrderId": "sl-1"},
                                   body=True)
        assert st == 200, o
        assert (o["type"], o["origType"], o["status"], o["stopPrice"], o["closePosition"], o["workingType"],
                o["clientOrderId"]) == ("STOP_MARKET", "STOP_MARKET", "NEW", "49000.00", True, "MARK_PRICE", "sl-1")
        new, _ = await _recv_until(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
        assert new["o"]["o"] == "STOP_MARKET" and new["o"]["x"] == "NEW" and new["o"]["sp"] == "49000.00"
        st, opens = await taker.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM})
        assert [x["orderId"] for x in opens] == [o["orderId"]]
        # a trailing stop too, canceled again
        st, tr = await taker.signed("POST", "/fapi/v1/order", {**stop, "type": "TRAILING_STOP_MARKET",
                                                                "quantity": "0.010", "callbackRate": "1.5",
                                                                "reduceOnly": "true"})
        assert st == 200 and tr["priceRate"] == "1.5" and tr["type"] == "TRAILING_STOP_MARKET", tr
        st, c = await taker.signed("DELETE", "/fapi/v1/order", {"symbol": SYM, "orderId": tr["orderId"]})
        assert st == 200 and c["status"] == "CANCELED"

        # the mark crosses the stop: it fires, its MARKET order sells into the 48900 bid
        st, pin = await api.control("POST", "/mark", {"symbol": SYM, "price": "48950"})
        assert st == 200 and pin["pinned"] is True
        st, pi = await api.public("/fapi/v1/premiumIndex", symbol=SYM)
        assert pi["markPrice"] == "48950.00000000" and pi["markPricePinned"] is True
        fill, seen = await _recv_until(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["x"] == "TRADE")
        updates = [m["o"] for m in seen if m.get("e") == "ORDER_TRADE_UPDATE"]
        expired = [u for u in updates if u["x"] == "EXPIRED" and u["i"] == o["orderId"]]
        assert expired and expired[0]["o"] == "STOP_MARKET"
        assert fill["o"]["i"] == o["orderId"] and fill["o"]["o"] == "MARKET" and fill["o"]["ot"] == "STOP_MARKET"
        assert fill["o"]["X"] == "FILLED" and fill["o"]["L"] == "48900.00" and fill["o"]["c"] == "sl-1"

    st, q = await taker.signed("GET", "/fapi/v1/order", {"symbol": SYM, "orderId": o["orderId"]})
    assert st == 200 and (q["status"], q["origType"], q["executedQty"], q["stopPrice"]) == \
        ("FILLED", "STOP_MARKET", "0.010", "49000.00")
    st, q2 = await taker.signed("GET", "/fapi/v1/order", {"symbol": SYM, "origClientOrderId": "sl-1"})
    assert q2["orderId"] == o["orderId"]
    assert await _position_amt(taker) == "0"
    st, all_ = await taker.signed("GET", "/fapi/v1/allOrders", {"symbol": SYM})
    ids = [x["orderId"] for x in all_]
    assert o["orderId"] in ids and len(ids) == len(set(ids)) == 3, all_      # no separate child order
    # release the pin: the mark rule applies again
    st, rel = await api.control("POST", "/mark", {"symbol": SYM, "price": None})
    assert st == 200 and rel["pinned"] is False
    st, pi = await api.public("/fapi/v1/premiumIndex", symbol=SYM)
    assert "markPricePinned" not in pi
    assert (await api.control("POST", "/mark", {"symbol": SYM, "price": None}))[0] == 400


async def test_legacy_switch_off(api, server):
    server.gateway.legacy_conditional_orders = False
    a = await api.new_account()
    st, body = await a.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "SELL", "type": "STOP_MARKET",
                                                          "stopPrice": "49000", "quantity": "0.010"})
    assert (st, body) == (400, {"code": -4120, "msg": "Order type not supported for this endpoint. "
                                                      "Please use the Algo Order API endpoints instead."})


async def test_algo_order_api(api, server, session):
    maker, taker = await _long_position(api)
    base = {"algoType": "CONDITIONAL", "symbol": SYM, "side": "SELL", "quantity": "0.010", "reduceOnly": "true",
            "workingType": "MARK_PRICE"}
    assert (await taker.signed("POST", "/fapi/v1/algoOrder", {**base, "type": "STOP_MARKET"}))[1] == \
        {"code": -1102, "msg": "Mandatory parameter 'triggerPrice' was not sent, was empty/null, or malformed."}
    assert (await taker.signed("POST", "/fapi/v1/algoOrder", {**base, "type": "LIMIT", "price": "1"}))[1] == \
        {"code": -1116, "msg": "Invalid orderType."}
    assert (await taker.signed("POST", "/fapi/v1/algoOrder", {**base, "algoType": "VP", "type": "STOP_MARKET",
                                                               "triggerPrice": "49000"}))[1]["code"] == -1130
    st, lk = await taker.keyed("POST", "/fapi/v1/listenKey")
    async with session.ws_connect(server.ws_url + "/private/ws?listenKey=" + lk["listenKey"]) as ws:
        st, a = await taker.signed("POST", "/fapi/v1/algoOrder", {**base, "type": "STOP_MARKET",
                                                                   "triggerPrice": "49000", "clientAlgoId": "algo-1"},
                                   body=True)
        assert st == 200, a
        assert (a["algoType"], a["orderType"], a["algoStatus"], a["triggerPrice"], a["clientAlgoId"],
                a["quantity"], a["reduceOnly"], a["workingType"]) == \
            ("CONDITIONAL", "STOP_MARKET", "NEW", "49000.00", "algo-1", "0.010", True, "MARK_PRICE")
        upd, _ = await _recv_until(ws, lambda m: m.get("e") == "ALGO_UPDATE")
        assert upd["o"]["aid"] == a["algoId"] and upd["o"]["X"] == "NEW" and upd["o"]["caid"] == "algo-1"
        # algo orders are not regular orders
        assert (await taker.signed("GET", "/fapi/v1/order", {"symbol": SYM, "orderId": a["algoId"]}))[1]["code"] \
            == -2013
        assert (await taker.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM}))[1] == []
        st, opens = await taker.signed("GET", "/fapi/v1/openAlgoOrders", {"symbol": SYM})
        assert [x["algoId"] for x in opens] == [a["algoId"]] and opens[0]["actualOrderId"] == ""
        st, tp = await taker.signed("POST", "/fapi/v1/algoOrder", {**base, "type": "TAKE_PROFIT", "price": "52000",
                                                                    "triggerPrice": "52000", "timeInForce": "GTC"})
        assert st == 200 and tp["orderType"] == "TAKE_PROFIT" and tp["price"] == "52000.00"
        st, c = await taker.signed("DELETE", "/fapi/v1/algoOrder", {"algoId": tp["algoId"]})
        assert (st, c) == (200, {"algoId": tp["algoId"], "clientAlgoId": tp["clientAlgoId"], "code": "200",
                                 "msg": "success"})
        assert (await taker.signed("DELETE", "/fapi/v1/algoOrder", {"algoId": tp["algoId"]}))[1]["code"] == -2011
        canceled, _ = await _recv_until(ws, lambda m: m.get("e") == "ALGO_UPDATE" and m["o"]["X"] == "CANCELED")
        assert canceled["o"]["aid"] == tp["algoId"]

        await api.control("POST", "/mark", {"symbol": SYM, "price": "48950"})
        trig, _ = await _recv_until(ws, lambda m: m.get("e") == "ALGO_UPDATE" and m["o"]["X"] == "TRIGGERED")
        child = int(trig["o"]["ai"])
        fill, _ = await _recv_until(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["x"] == "TRADE")
        assert fill["o"]["i"] == child and fill["o"]["o"] == "MARKET" and fill["o"]["X"] == "FILLED"
        fin, _ = await _recv_until(ws, lambda m: m.get("e") == "ALGO_UPDATE" and m["o"]["X"] == "FINISHED")
        assert fin["o"]["aid"] == a["algoId"] and fin["o"]["aq"] == "0.010"

    st, q = await taker.signed("GET", "/fapi/v1/algoOrder", {"clientAlgoId": "algo-1"})
    assert st == 200 and q["algoStatus"] == "FINISHED" and q["actualOrderId"] == str(child) and q["triggerTime"] > 0
    st, allalgo = await taker.signed("GET", "/fapi/v1/allAlgoOrders", {"symbol": SYM})
    assert [x["algoId"] for x in allalgo] == [a["algoId"], tp["algoId"]]
    assert [x["algoStatus"] for x in allalgo] == ["FINISHED", "CANCELED"]
    st, regular = await taker.signed("GET", "/fapi/v1/order", {"symbol": SYM, "orderId": child})
    assert st == 200 and regular["status"] == "FILLED"
    assert await _position_amt(taker) == "0"
    # cancel-all of algo orders
    await api.control("POST", "/mark", {"symbol": SYM, "price": None})
    st, _ = await maker.signed("POST", "/fapi/v1/algoOrder", {**base, "reduceOnly": "false", "type": "STOP_MARKET",
                                                               "triggerPrice": "60000", "side": "BUY"})
    assert st == 200, _
    assert (await maker.signed("DELETE", "/fapi/v1/algoOpenOrders", {"symbol": SYM})) == \
        (200, {"code": 200, "msg": "The operation of cancel all open order is done."})
    assert (await maker.signed("GET", "/fapi/v1/openAlgoOrders", {}))[1] == []


async def test_ccxt_stop_loss_and_take_profit(api, server):
    maker, taker = await _long_position(api)
    ex = _ccxt(server.rest_url, taker.key, taker.secret)
    sym = "BTC/USDT:USDT"
    try:
        await ex.load_markets()
        sl = await ex.create_order(sym, "market", "sell", 0.01, None,
                                   {"stopLossPrice": 49000, "reduceOnly": True, "workingType": "MARK_PRICE"})
        assert sl["status"] == "open" and sl["triggerPrice"] == 49000 and sl["id"]
        tp = await ex.create_order(sym, "market", "sell", 0.01, None,
                                   {"takeProfitPrice": 55000, "reduceOnly": True, "workingType": "MARK_PRICE"})
        assert tp["status"] == "open"
        opens = await ex.fetch_open_orders(sym, params={"trigger": True})
        assert sorted(o["id"] for o in opens) == sorted([sl["id"], tp["id"]])
        assert await ex.fetch_open_orders(sym) == []
        canceled = await ex.cancel_order(tp["id"], sym, {"trigger": True})
        assert canceled["id"] == tp["id"]
        st, _ = await api.control("POST", "/mark", {"symbol": SYM, "price": "48950"})
        assert st == 200
        done = await ex.fetch_order(sl["id"], sym, {"trigger": True})
        assert done["status"] == "closed"
        positions = await ex.fetch_positions([sym])
        assert positions == [] or positions[0]["contracts"] in (0, None)
    finally:
        await ex.close()


async def test_connector_stop_market(api, server):
    um = pytest.importorskip("binance.um_futures")
    maker, taker = await _long_position(api)
    t = um.UMFutures(key=taker.key, secret=taker.secret, base_url=server.rest_url)

    def place():
        o = t.new_order(symbol=SYM, side="SELL", type="STOP_MARKET", stopPrice=49000, closePosition="true",
                        workingType="MARK_PRICE")
        assert o["type"] == "STOP_MARKET" and o["status"] == "NEW"
        assert [x["orderId"] for x in t.get_orders(symbol=SYM)] == [o["orderId"]]
        return o

    o = await asyncio.to_thread(place)
    st, _ = await api.control("POST", "/mark", {"symbol": SYM, "price": "48950"})
    assert st == 200

    def check():
        q = t.query_order(symbol=SYM, orderId=o["orderId"])
        assert q["status"] == "FILLED" and q["origType"] == "STOP_MARKET" and q["avgPrice"].startswith("48900")
        assert t.get_position_risk(symbol=SYM) == []
        assert t.get_orders(symbol=SYM) == []

    await asyncio.to_thread(check)


async def test_triggered_legacy_stop_limit_keeps_working_under_its_id(api):
    maker, taker = await _long_position(api)
    st, o = await taker.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "SELL", "type": "STOP",
                                                           "quantity": "0.010", "price": "49500", "stopPrice": "49000",
                                                           "workingType": "MARK_PRICE", "reduceOnly": "true"})
    assert st == 200 and o["type"] == "STOP" and o["price"] == "49500.00", o
    st, _ = await api.control("POST", "/mark", {"symbol": SYM, "price": "48950"})
    assert st == 200
    st, opens = await taker.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM})
    assert [(x["orderId"], x["status"], x["origType"], x["price"]) for x in opens] == \
        [(o["orderId"], "NEW", "STOP", "49500.00")]
    st, one = await taker.signed("GET", "/fapi/v1/openOrder", {"symbol": SYM, "orderId": o["orderId"]})
    assert st == 200 and one["orderId"] == o["orderId"]
    st, c = await taker.signed("DELETE", "/fapi/v1/order", {"symbol": SYM, "orderId": o["orderId"]})
    assert st == 200 and c["orderId"] == o["orderId"] and c["status"] == "CANCELED", c
    assert (await taker.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM}))[1] == []
    assert (await taker.signed("DELETE", "/fapi/v1/order", {"symbol": SYM, "orderId": o["orderId"]}))[1]["code"] \
        == -2011
