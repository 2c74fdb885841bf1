"""positionMargin (+ history), countdownCancelAll and PUT batchOrders through the real server."""
from __future__ import annotations

import asyncio
import time

SYM = "BTCUSDT"
LIMIT = {"symbol": SYM, "type": "LIMIT", "timeInForce": "GTC"}


async def test_position_margin(api):
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    maker = await api.new_account()
    trader = await api.new_account("1000")
    assert (await trader.signed("POST", "/fapi/v1/positionMargin", {"symbol": SYM, "amount": "10", "type": 1}))[1] \
        == {"code": -4049, "msg": "Add margin only support for isolated position."}
    st, _ = await trader.signed("POST", "/fapi/v1/marginType", {"symbol": SYM, "marginType": "ISOLATED"})
    assert st == 200
    assert (await trader.signed("POST", "/fapi/v1/positionMargin", {"symbol": SYM, "amount": "10", "type": 1})) == \
        (400, {"code": -4054, "msg": "Cannot add position margin: position is 0."})
    await maker.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010", "price": "50000"})
    st, _ = await trader.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                                           "quantity": "0.010"})
    assert st == 200
    st, before = await trader.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM})
    assert (await trader.signed("POST", "/fapi/v1/positionMargin", {"symbol": SYM, "amount": "10", "type": 3}))[1][
        "code"] == -1130
    st, body = await trader.signed("POST", "/fapi/v1/positionMargin", {"symbol": SYM, "amount": "25.5", "type": 1})
    assert (st, body) == (200, {"amount": 25.5, "code": 200, "msg": "Successfully modify position margin.",
                                "type": 1})
    st, after = await trader.signed("GET", "/fapi/v3/positionRisk", {"symbol": SYM})
    from decimal import Decimal
    assert Decimal(after[0]["isolatedWallet"]) - Decimal(before[0]["isolatedWallet"]) == Decimal("25.5")
    assert Decimal(after[0]["liquidationPrice"]) < Decimal(before[0]["liquidationPrice"])
    st, body = await trader.signed("POST", "/fapi/v1/positionMargin", {"symbol": SYM, "amount": "5", "type": 2})
    assert st == 200 and body["type"] == 2
    assert (await trader.signed("POST", "/fapi/v1/positionMargin", {"symbol": SYM, "amount": "100000",
                                                                     "type": 2}))[1]["code"] == -4051
    st, hist = await trader.signed("GET", "/fapi/v1/positionMargin/history", {"symbol": SYM})
    assert st == 200 and [(h["type"], h["amount"], h["deltaType"], h["positionSide"]) for h in hist] == \
        [(1, "25.50000000", "USER_ADJUST", "BOTH"), (2, "5.00000000", "USER_ADJUST", "BOTH")]
    st, hist = await trader.signed("GET", "/fapi/v1/positionMargin/history", {"symbol": SYM, "type": 2})
    assert len(hist) == 1


async def test_countdown_cancel_all(api):
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    a = await api.new_account()
    for price in ("49000", "48000"):
        st, _ = await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "BUY", "quantity": "0.010",
                                                          "price": price})
        assert st == 200
    assert (await a.signed("POST", "/fapi/v1/countdownCancelAll", {"symbol": SYM, "countdownTime": 300})) == \
        (200, {"symbol": SYM, "countdownTime": "300"})
    # a heartbeat re-arms the timer (to 2 s: the check that nothing was canceled yet must not
    # race the countdown on a loaded machine); countdownTime 0 would disarm it
    await asyncio.sleep(0.1)
    armed = time.monotonic()
    await a.signed("POST", "/fapi/v1/countdownCancelAll", {"symbol": SYM, "countdownTime": 2000})
    await asyncio.sleep(0.3)
    assert len((await a.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM}))[1]) == 2
    while (await a.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM}))[1]:    # wall time: the switch
        assert time.monotonic() - armed < 20, "the countdown never canceled"
        await asyncio.sleep(0.05)
    assert time.monotonic() - armed >= 1.95
    st, _ = await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "BUY", "quantity": "0.010", "price": "49000"})
    await a.signed("POST", "/fapi/v1/countdownCancelAll", {"symbol": SYM, "countdownTime": 200})
    await a.signed("POST", "/fapi/v1/countdownCancelAll", {"symbol": SYM, "countdownTime": 0})
    await asyncio.sleep(0.35)
    assert len((await a.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM}))[1]) == 1
    assert (await a.signed("POST", "/fapi/v1/countdownCancelAll", {"symbol": SYM}))[1]["code"] == -1102


async def test_batch_modify(api):
    import json
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    a = await api.new_account()
    ids = []
    for price in ("49000", "48000"):
        st, o = await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "BUY", "quantity": "0.010",
                                                          "price": price})
        ids.append(o["orderId"])
    batch = [{"symbol": SYM, "orderId": ids[0], "side": "BUY", "quantity": "0.020", "price": "49100"},
             {"symbol": SYM, "orderId": 999999, "side": "BUY", "quantity": "0.020", "price": "49100"},
             {"symbol": SYM, "orderId": ids[1], "side": "BUY", "quantity": "0.010", "price": "48000.05"}]
    st, res = await a.signed("PUT", "/fapi/v1/batchOrders", {"batchOrders": json.dumps(batch)}, body=True)
    assert st == 200 and len(res) == 3, res
    assert res[0]["orderId"] == ids[0] and res[0]["price"] == "49100.00" and res[0]["origQty"] == "0.020"
    assert res[1] == {"code": -2013, "msg": "Order does not exist."}
    assert res[2] == {"code": -4014, "msg": "Price not increased by tick size."}
    assert (await a.signed("PUT", "/fapi/v1/batchOrders", {"batchOrders": json.dumps(batch * 2)}, body=True)) == \
        (400, {"code": -4082, "msg": "Invalid number of batch place orders: 6"})
