"""A signed trading workflow between two accounts through the real server."""
from __future__ import annotations


async def test_public_endpoints(api):
    assert await api.public("/fapi/v1/ping") == (200, {})
    st, t = await api.public("/fapi/v1/time")
    assert st == 200 and isinstance(t["serverTime"], int)
    assert (await api.public("/api/v3/ping"))[0] == 200
    st, info = await api.public("/fapi/v1/exchangeInfo", symbol="ETHUSDT")
    assert st == 200 and [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    btc = info["symbols"][0]
    f = {x["filterType"]: x for x in btc["filters"]}
    assert f["PRICE_FILTER"]["tickSize"] == "0.10" and f["LOT_SIZE"]["stepSize"] == "0.001"
    assert f["MIN_NOTIONAL"]["notional"] == "50" and btc["marginAsset"] == "USDT"
    assert info["rateLimits"][0] == {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                     "intervalNum": 1, "limit": 2400}
    for path in ("/fapi/v1/ticker/24hr", "/fapi/v1/ticker/price", "/fapi/v2/ticker/price",
                 "/fapi/v1/ticker/bookTicker", "/fapi/v1/premiumIndex"):
        st, body = await api.public(path)
        assert st == 200 and isinstance(body, list) and len(body) == 2, (path, body)
        st, body = await api.public(path, symbol="BTCUSDT")
        assert st == 200 and body["symbol"] == "BTCUSDT", (path, body)
    st, oi = await api.public("/fapi/v1/openInterest", symbol="BTCUSDT")
    assert st == 200 and oi["openInterest"] == "0.000"
    for lim, ok in ((5, True), (1000, True), (3, False), (1500, False)):
        st, body = await api.public("/fapi/v1/depth", symbol="BTCUSDT", limit=lim)
        assert (st == 200) == ok, body
    assert (await api.public("/fapi/v1/depth", symbol="BTCUSDT", limit=3))[1] == \
        {"code": -4021, "msg": "3 is not valid depth limit"}
    assert (await api.public("/fapi/v1/klines", symbol="BTCUSDT", interval="1s"))[1] == \
        {"code": -1120, "msg": "Invalid interval."}


async def test_trading_workflow(api, server):
    st, _ = await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    assert st == 200
    maker = await api.new_account()
    taker = await api.new_account()

    st, lev = await taker.signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 10}, body=True)
    assert st == 200 and lev == {"leverage": 10, "maxNotionalValue": lev["maxNotionalValue"], "symbol": "BTCUSDT"}
    st, body = await taker.signed("POST", "/fapi/v1/marginType", {"symbol": "BTCUSDT", "marginType": "CROSSED"})
    assert st == 400 and body == {"code": -4046, "msg": "No need to change margin type."}
    st, dual = await taker.signed("GET", "/fapi/v1/positionSide/dual")
    assert st == 200 and dual == {"dualSidePosition": False}

    # maker rests two asks, taker lifts one with a market order
    st, o1 = await maker.signed("POST", "/fapi/v1/order", {
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
        "price": "50000", "newClientOrderId": "mk-1"}, body=True)
    assert st == 200 and o1["status"] == "NEW" and o1["clientOrderId"] == "mk-1", o1
    assert o1["price"] == "50000.00" and o1["origQty"] == "0.010" and o1["updateTime"] > 0
    st, o2 = await maker.signed("POST", "/fapi/v1/order", {
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.020",
        "price": "50100"})
    assert st == 200, o2
    st, depth = await api.public("/fapi/v1/depth", symbol="BTCUSDT", limit=5)
    assert depth["asks"] == [["50000.00", "0.010"], ["50100.00", "0.020"]] and depth["lastUpdateId"] > 0

    st, mo = await taker.signed("POST", "/fapi/v1/order", {
        "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010",
        "newOrderRespType": "RESULT"}, body=True)
    assert st == 200, mo
    assert mo["status"] == "FILLED" and mo["executedQty"] == "0.010" and mo["avgPrice"] == "50000.00000"
    assert mo["cumQuote"] == "500.00000" and mo["type"] == "MARKET"

    # queries
    st, q = await maker.signed("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "mk-1"})
    assert st == 200 and q["status"] == "FILLED" and q["orderId"] == o1["orderId"]
    st, opens = await maker.signed("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
    assert [o["orderId"] for o in opens] == [o2["orderId"]]
    st, alls = await maker.signed("GET", "/fapi/v1/allOrders", {"symbol": "BTCUSDT"})
    assert [o["orderId"] for o in alls] == [o1["orderId"], o2["orderId"]]
    st, trades = await taker.signed("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"})
    assert st == 200 and len(trades) == 1
    t = trades[0]
    assert t["buyer"] is True and t["maker"] is False and t["price"] == "50000.00" and t["qty"] == "0.010"
    assert t["commission"] == "0.25000000" and t["commissionAsset"] == "USDT"
    st, mtrades = await maker.signed("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"})
    assert mtrades[0]["maker"] is True and mtrades[0]["commission"] == "0.10000000"

    st, pos = await taker.signed("GET", "/fapi/v3/positionRisk", {"symbol": "BTCUSDT"})
    assert st == 200 and len(pos) == 1
    assert pos[0]["positionAmt"] == "0.010" and pos[0]["entryPrice"] == "50000.0" and pos[0]["notional"] == "500.00000000"
    st, pos2 = await maker.signed("GET", "/fapi/v2/positionRisk")
    btc = [p for p in pos2 if p["symbol"] == "BTCUSDT"][0]
    assert btc["positionAmt"] == "-0.010" and btc["marginType"] == "cross" and btc["isAutoAddMargin"] == "false"
    assert len(pos2) == 2

    st, bal = await taker.signed("GET", "/fapi/v3/balance")
    assert st == 200 and bal[0]["asset"] == "USDT" and bal[0]["balance"] == "99999.75000000"
    assert bal[0]["updateTime"] > 0
    st, acct = await taker.signed("GET", "/fapi/v3/account")
    assert acct["totalWalletBalance"] == "99999.75000000" and acct["assets"][0]["updateTime"] > 0
    assert acct["positions"][0]["positionAmt"] == "0.010"
    st, acct2 = await taker.signed("GET", "/fapi/v2/account")
    assert st == 200 and acct2["canTrade"] is True and len(acct2["positions"]) == 2

    st, inc = await taker.signed("GET", "/fapi/v1/income")
    assert st == 200
    assert [(r["incomeType"], r["income"]) for r in inc] == [("TRANSFER", "100000.00000000"),
                                                            ("COMMISSION", "-0.25000000")]
    assert inc[1]["symbol"] == "BTCUSDT" and inc[1]["tradeId"] != ""

    # cancel the second ask, then cancel-all on an empty book
    st, c = await maker.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": o2["orderId"]})
    assert st == 200 and c["status"] == "CANCELED" and c["orderId"] == o2["orderId"]
    st, c = await maker.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": o2["orderId"]})
    assert st == 400 and c == {"code": -2011, "msg": "Unknown order sent."}
    st, c = await maker.signed("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"}, body=True)
    assert st == 200 and c == {"code": 200, "msg": "The operation of cancel all open order is done."}

    # modify
    st, o3 = await maker.signed("POST", "/fapi/v1/order", {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002",
        "price": "49000"})
    st, m = await maker.signed("PUT", "/fapi/v1/order", {
        "symbol": "BTCUSDT", "side": "BUY", "orderId": o3["orderId"], "quantity": "0.003", "price": "49100"})
    assert st == 200 and m["price"] == "49100.00" and m["origQty"] == "0.003", m

    # batch: one good, one bad
    import json
    st, b = await maker.signed("POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps([
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002",
         "price": "48000"},
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002",
         "price": "48000.05"}])}, body=True)
    assert st == 200 and b[0]["status"] == "NEW" and b[1] == {"code": -4014, "msg": "Price not increased by tick size."}

    st, br = await taker.signed("GET", "/fapi/v1/leverageBracket", {"symbol": "BTCUSDT"})
    assert st == 200 and br[0]["brackets"][0]["initialLeverage"] == 150
    st, cr = await taker.signed("GET", "/fapi/v1/commissionRate", {"symbol": "BTCUSDT"})
    assert cr == {"symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": "0.0005",
                  "rpiCommissionRate": "0"}

    # public views of the trade
    st, tr = await api.public("/fapi/v1/trades", symbol="BTCUSDT")
    assert st == 200 and tr[-1]["price"] == "50000.00" and tr[-1]["isBuyerMaker"] is False
    st, ag = await api.public("/fapi/v1/aggTrades", symbol="BTCUSDT")
    assert ag[-1]["q"] == "0.010" and "M" not in ag[-1]
    st, kl = await api.public("/fapi/v1/klines", symbol="BTCUSDT", interval="1m")
    assert st == 200 and kl[-1][1] == "50000.00" and kl[-1][5] == "0.010" and len(kl[-1]) == 12
    st, oi = await api.public("/fapi/v1/openInterest", symbol="BTCUSDT")
    assert oi["openInterest"] == "0.010"
    st, tp = await api.public("/fapi/v1/ticker/price", symbol="BTCUSDT")
    assert tp["price"] == "50000.00"
    st, pi = await api.public("/fapi/v1/premiumIndex", symbol="BTCUSDT")
    assert pi["markPrice"] == "50000.00000000"

    # listen key is one per api key
    st, k1 = await taker.keyed("POST", "/fapi/v1/listenKey")
    st, k2 = await taker.keyed("POST", "/fapi/v1/listenKey")
    assert st == 200 and k1 == k2 and len(k1["listenKey"]) == 64
    assert (await taker.keyed("PUT", "/fapi/v1/listenKey"))[1] == k1
    assert (await taker.keyed("DELETE", "/fapi/v1/listenKey"))[1] == {}
    assert (await taker.keyed("PUT", "/fapi/v1/listenKey")) == (400, {"code": -1125, "msg": "This listenKey does not exist."})

    st, state = await api.control("GET", "/state")
    assert state["moneyIdentity"] is True and state["lastSeq"] > 0
