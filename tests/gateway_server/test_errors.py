"""Binance error shapes through the real server: status + {"code", "msg"}, never a 500."""
from __future__ import annotations

import time

import aiohttp

LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
         "price": "50000"}


async def test_unknown_path_is_binance_404(api, session):
    async with session.get(api.base + "/fapi/v1/positionRisk") as r:
        assert r.status == 404
        assert r.content_type == "application/json"
        assert await r.json() == {"code": -5000, "msg": "Path /fapi/v1/positionRisk, Method GET is invalid"}
    async with session.patch(api.base + "/fapi/v1/order") as r:
        assert r.status == 404 and (await r.json())["code"] == -5000
    async with session.get(api.base + "/index.html") as r:
        assert r.status == 404 and (await r.json())["code"] == -5000
    async with session.post(api.base + "/") as r:       # GET / is the dashboard (#16); nothing else is
        assert r.status == 404 and (await r.json())["code"] == -5000
    async with session.get(api.base + "/ws") as r:   # not an upgrade: still JSON
        assert r.status >= 400 and "code" in await r.json(content_type=None)


async def test_auth_errors(api, session):
    acct = await api.new_account()
    st, body = await acct.signed("GET", "/fapi/v3/account", secret="wrong")
    assert (st, body) == (400, {"code": -1022, "msg": "Signature for this request is not valid."})
    st, body = await acct.signed("GET", "/fapi/v3/account", ts=int(time.time() * 1000) - 60_000)
    assert (st, body) == (400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
    st, body = await acct.signed("GET", "/fapi/v3/account", ts=int(time.time() * 1000) + 5_000)
    assert st == 400 and body["code"] == -1021
    async with session.get(api.base + "/fapi/v3/account", params={"timestamp": 1}) as r:
        assert r.status == 401 and await r.json() == {"code": -2014, "msg": "API-key format invalid."}
    async with session.get(api.base + "/fapi/v3/account", params={"timestamp": 1},
                           headers={"X-MBX-APIKEY": "nope"}) as r:
        assert r.status == 401 and (await r.json())["code"] == -2015
    async with session.get(api.base + "/fapi/v3/account", params={"timestamp": int(time.time() * 1000)},
                           headers={"X-MBX-APIKEY": acct.key}) as r:
        assert r.status == 400 and await r.json() == {
            "code": -1102, "msg": "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."}
    async with session.post(api.base + "/fapi/v1/listenKey") as r:
        assert r.status == 401 and (await r.json())["code"] == -2014
    # rate-limit headers on every response
    async with session.get(api.base + "/fapi/v1/depth", params={"symbol": "BTCUSDT"}) as r:
        assert int(r.headers["X-MBX-USED-WEIGHT-1M"]) >= 10


async def test_order_errors(api):
    await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    a = await api.new_account("1000")
    b = await api.new_account()

    async def order(acct, **over):
        p = {**LIMIT, **over}
        p = {k: v for k, v in p.items() if v is not None}
        return await acct.signed("POST", "/fapi/v1/order", p)

    assert await order(a, symbol="FOOUSDT") == (400, {"code": -1121, "msg": "Invalid symbol."})
    assert await order(a, side="HOLD") == (400, {"code": -1117, "msg": "Invalid side."})
    assert await order(a, type="ICEBERG") == (400, {"code": -1116, "msg": "Invalid orderType."})
    assert await order(a, quantity=None) == (400, {
        "code": -1102, "msg": "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."})
    assert await order(a, quantity="1e-05") == (400, {
        "code": -1100,
        "msg": "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."})
    assert await order(a, price="50000.05") == (400, {"code": -4014, "msg": "Price not increased by tick size."})
    assert await order(a, price="50000.001") == (400, {"code": -1111, "msg": "Precision is over the maximum defined for this asset."})
    assert await order(a, quantity="0.0005") == (400, {"code": -1111, "msg": "Precision is over the maximum defined for this asset."})
    assert await order(a, quantity="0.001", price="49000") == (400, {
        "code": -4164, "msg": "Order's notional must be no smaller than 50 (unless you choose reduce only)."})
    assert (await order(a, price="60000"))[1]["code"] == -4016
    assert await order(a, quantity="99999999999999999999") == (400, {"code": -4005, "msg": "Quantity greater than max quantity."})
    # conditional types are served on /fapi/v1/order (legacy, on by default): stopPrice is mandatory
    assert await order(a, type="STOP_MARKET") == (400, {
        "code": -1102, "msg": "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."})
    assert await order(a, quantity="1") == (400, {"code": -2019, "msg": "Margin is insufficient."})
    assert (await order(a, type="MARKET", price="1"))[1]["code"] == -1106
    # unknown order / another account's order
    st, mine = await order(b)
    assert st == 200
    assert await a.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": mine["orderId"]}) == \
        (400, {"code": -2011, "msg": "Unknown order sent."})
    assert await a.signed("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": mine["orderId"]}) == \
        (400, {"code": -2013, "msg": "Order does not exist."})
    assert await a.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT"}) == (400, {
        "code": -1102, "msg": "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!"})
    assert await a.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 999999}) == \
        (400, {"code": -2011, "msg": "Unknown order sent."})
    # b's order is untouched
    st, still = await b.signed("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
    assert [o["orderId"] for o in still] == [mine["orderId"]]
    assert (await a.signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 500})) == \
        (400, {"code": -4028, "msg": "Leverage 500 is not valid"})


async def test_control_api_errors(api):
    assert (await api.control("POST", "/clock/advance", {"seconds": 10}))[0] == 400
    st, body = await api.control("POST", "/index", {"symbol": "NOPE", "price": "1"})
    assert st == 400 and body["code"] == -1121
    st, body = await api.control("POST", "/accounts", {"balance": "abc"})
    assert st == 400 and set(body) == {"code", "msg"}
    st, body = await api.control("POST", "/accounts/99/deposit", {"amount": "1"})
    assert st == 404 and body["code"] == -1109
    st, h = await api.control("GET", "/health")
    assert st == 200 and h["status"] == "ok"
