"""Serve on a data dir, trade, stop, serve again: keys, accounts, orders, positions and history survive."""
from __future__ import annotations

import aiohttp

from exchange.serve import start

from gwhelpers import Api

LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}


async def test_restart_keeps_everything(tmp_path):
    data = tmp_path / "data"
    srv = await start(host="127.0.0.1", port=0, data_dir=data, fsync="always", demo=True)
    demo_key = srv.demo["apiKey"]
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(s, srv.rest_url)
            await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
            a = await api.new_account()
            b = await api.new_account()
            await a.signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5})
            st, rest = await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.030",
                                                                  "price": "50100", "newClientOrderId": "keep-me"})
            assert st == 200
            await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010", "price": "50000"})
            st, mo = await b.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                               "quantity": "0.010"})
            assert st == 200
            # conditional orders: an algo stop (b) and a legacy stop on /fapi/v1/order (a)
            st, algo = await b.signed("POST", "/fapi/v1/algoOrder", {
                "algoType": "CONDITIONAL", "symbol": "BTCUSDT", "side": "SELL", "type": "STOP_MARKET",
                "quantity": "0.010", "triggerPrice": "40000", "reduceOnly": "true"})
            assert st == 200, algo
            st, legacy = await a.signed("POST", "/fapi/v1/order", {
                "symbol": "BTCUSDT", "side": "BUY", "type": "STOP_MARKET", "stopPrice": "60000",
                "closePosition": "true"})
            assert st == 200, legacy
            before = await observed(api, a, b)
            keys = (a.key, a.secret, b.key, b.secret)
    finally:
        await srv.stop()

    srv = await start(host="127.0.0.1", port=0, data_dir=data, fsync="always", demo=True)
    try:
        assert srv.demo["apiKey"] == demo_key          # no second demo account
        async with aiohttp.ClientSession() as s:
            api = Api(s, srv.rest_url)
            a = Api(s, srv.rest_url, keys[0], keys[1])
            b = Api(s, srv.rest_url, keys[2], keys[3])
            after = await observed(api, a, b)
            for k in ("acct", "pos", "open", "trades", "income", "all", "lev", "algo", "b_open"):
                assert after[k] == before[k], k
            assert [x["algoId"] for x in after["algo"]] == [algo["algoId"]] and after["b_open"] == []
            assert legacy["orderId"] in [x["orderId"] for x in after["open"]]
            assert after["open"][0]["clientOrderId"] == "keep-me"
            assert after["depth"]["bids"] == before["depth"]["bids"] and after["depth"]["asks"] == before["depth"]["asks"]
            assert after["depth"]["lastUpdateId"] >= before["depth"]["lastUpdateId"]
            assert after["state"]["stateDigest"] == before["state"]["stateDigest"]
            # and trading goes on: cancel the surviving order
            st, c = await a.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "keep-me"})
            assert st == 200 and c["status"] == "CANCELED"
    finally:
        await srv.stop()


async def observed(api, a, b) -> dict:
    """What a restart must keep: both accounts' orders, positions, trades and
    income, the book and the venue state, as the REST API shows them."""
    return {
        "algo": (await b.signed("GET", "/fapi/v1/openAlgoOrders"))[1],
        "b_open": (await b.signed("GET", "/fapi/v1/openOrders"))[1],
        "acct": (await b.signed("GET", "/fapi/v3/account"))[1],
        "pos": (await b.signed("GET", "/fapi/v3/positionRisk"))[1],
        "open": (await a.signed("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"}))[1],
        "trades": (await b.signed("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"}))[1],
        "income": (await b.signed("GET", "/fapi/v1/income"))[1],
        "all": (await a.signed("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT"}))[1],
        "depth": (await api.public("/fapi/v1/depth", symbol="BTCUSDT"))[1],
        "lev": (await a.signed("GET", "/fapi/v1/symbolConfig", {"symbol": "BTCUSDT"}))[1],
        "state": (await api.control("GET", "/state"))[1],
    }
