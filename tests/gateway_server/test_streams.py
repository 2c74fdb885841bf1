"""Websockets through the real server: control messages, user data, market streams, depth sync."""
from __future__ import annotations

import asyncio
import json
import random


from gwhelpers import recv_until as _recv_until, two_accounts

LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}


async def test_control_messages(server, session):
    async with session.ws_connect(server.ws_url + "/market/ws/0") as ws:
        await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade", "btcusdt@depth@100ms"],
                                      "id": 1}))
        assert json.loads((await ws.receive(timeout=5)).data) == {"result": None, "id": 1}
        await ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
        assert json.loads((await ws.receive(timeout=5)).data) == {
            "result": ["btcusdt@aggTrade", "btcusdt@depth@100ms"], "id": 2}
        await ws.send_str(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 3}))
        assert json.loads((await ws.receive(timeout=5)).data) == {"result": None, "id": 3}
        await ws.send_str(json.dumps({"method": "GET_PROPERTY", "params": ["combined"], "id": 4}))
        assert json.loads((await ws.receive(timeout=5)).data) == {"result": False, "id": 4}
        await ws.send_str(json.dumps({"method": "NOPE", "id": 5}))
        err = json.loads((await ws.receive(timeout=5)).data)
        assert err["id"] == 5 and err["error"]["code"] == 2
        await ws.send_str("{not json")
        assert json.loads((await ws.receive(timeout=5)).data)["error"]["code"] == 3


async def test_market_streams(api, server, session):
    a, b = await two_accounts(api)
    url = server.ws_url + "/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@trade/btcusdt@depth5@100ms"
    async with session.ws_connect(url) as ws:
        await asyncio.sleep(0.05)
        await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010", "price": "50000"})
        bt, _ = await _recv_until(ws, lambda m: m.get("stream") == "btcusdt@bookTicker")
        assert bt["data"]["a"] == "50000.00" and bt["data"]["A"] == "0.010" and bt["data"]["e"] == "bookTicker"
        await b.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                  "quantity": "0.004"})
        agg, _ = await _recv_until(ws, lambda m: m.get("stream") == "btcusdt@aggTrade")
        d = agg["data"]
        assert d["e"] == "aggTrade" and d["s"] == "BTCUSDT" and d["p"] == "50000.00" and d["q"] == "0.004"
        assert d["m"] is False and isinstance(d["a"], int) and "M" not in d
        part, _ = await _recv_until(ws, lambda m: m.get("stream") == "btcusdt@depth5@100ms"
                                    and m["data"]["a"] == [["50000.00", "0.006"]])
        assert {"U", "u", "pu", "E", "T"} <= set(part["data"])


async def test_user_data_stream(api, server, session):
    maker, taker = await two_accounts(api)
    st, lk = await maker.keyed("POST", "/fapi/v1/listenKey")
    key = lk["listenKey"]
    # ccxt.pro style private URL, and binance-futures-connector style SUBSCRIBE on the root
    async with session.ws_connect(server.ws_url + f"/private/ws?listenKey={key}") as ws, \
            session.ws_connect(server.ws_url + "/ws") as fc:
        await fc.send_str(json.dumps({"method": "SUBSCRIBE", "params": [key], "id": 1700000000000}))
        assert json.loads((await fc.receive(timeout=5)).data) == {"result": None, "id": 1700000000000}
        st, o = await maker.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010",
                                                              "price": "50000", "newClientOrderId": "u-1"})
        assert st == 200
        new, _ = await _recv_until(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE")
        assert new["o"]["x"] == "NEW" and new["o"]["X"] == "NEW" and new["o"]["c"] == "u-1"
        assert new["o"]["i"] == o["orderId"] and new["o"]["ps"] == "BOTH" and new["o"]["q"] == "0.010"
        await taker.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                      "quantity": "0.010"})
        trade, _ = await _recv_until(ws, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["x"] == "TRADE")
        t = trade["o"]
        assert t["X"] == "FILLED" and t["l"] == "0.010" and t["z"] == "0.010" and t["L"] == "50000.00"
        assert t["m"] is True and t["N"] == "USDT" and t["n"] == "0.10000000" and isinstance(t["t"], int)
        acc, _ = await _recv_until(ws, lambda m: m.get("e") == "ACCOUNT_UPDATE")
        a = acc["a"]
        assert a["m"] == "ORDER" and a["B"][0]["a"] == "USDT" and a["B"][0]["wb"] == "99999.90000000"
        assert a["P"][0]["s"] == "BTCUSDT" and a["P"][0]["pa"] == "-0.010" and a["P"][0]["mt"] == "cross"
        # the connector-style socket got the same events
        fc_trade, _ = await _recv_until(fc, lambda m: m.get("e") == "ORDER_TRADE_UPDATE" and m["o"]["x"] == "TRADE")
        assert fc_trade == trade
        await maker.signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 7})
        cfg, _ = await _recv_until(ws, lambda m: m.get("e") == "ACCOUNT_CONFIG_UPDATE")
        assert cfg["ac"] == {"s": "BTCUSDT", "l": 7}


async def test_depth_sync_rebuilds_rest_book(api, server, session):
    """The documented local-book procedure (snapshot + @depth@100ms diffs) ends equal to REST depth."""
    await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    accts = [await api.new_account("1000000") for _ in range(3)]
    rng = random.Random(7)
    open_ids: list = []

    async def activity(n):
        for _ in range(n):
            await asyncio.sleep(0.004)      # spread over several 100 ms diff windows
            acct = rng.choice(accts)
            r = rng.random()
            if r < 0.6 or not open_ids:
                side = rng.choice(("BUY", "SELL"))
                px = 50000 + (rng.randint(-40, -1) if side == "BUY" else rng.randint(1, 40)) * 5
                st, o = await acct.signed("POST", "/fapi/v1/order", {
                    **LIMIT, "side": side, "quantity": f"{rng.randint(1, 20) / 1000:.3f}", "price": str(px)})
                if st == 200:
                    open_ids.append((acct, o["orderId"]))
            elif r < 0.85:
                acct, oid = open_ids.pop(rng.randrange(len(open_ids)))
                await acct.signed("DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": oid})
            else:
                await acct.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": rng.choice(("BUY", "SELL")),
                                                             "type": "MARKET", "quantity": "0.005"})

    async with session.ws_connect(server.ws_url + "/public/ws/0") as ws:
        await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}))
        assert json.loads((await ws.receive(timeout=5)).data) == {"result": None, "id": 1}
        buffered: list = []

        async def reader():
            async for msg in ws:
                buffered.append(json.loads(msg.data))

        rt = asyncio.create_task(reader())
        await asyncio.gather(activity(40), activity(40))
        st, snap = await api.public("/fapi/v1/depth", symbol="BTCUSDT", limit=1000)
        last_id = snap["lastUpdateId"]
        await asyncio.gather(activity(60), activity(60))
        st, final = await api.public("/fapi/v1/depth", symbol="BTCUSDT", limit=1000)
        for _ in range(100):
            if buffered and buffered[-1]["u"] >= final["lastUpdateId"]:
                break
            await asyncio.sleep(0.05)
        rt.cancel()

    bids = {p: q for p, q in snap["bids"]}
    asks = {p: q for p, q in snap["asks"]}
    events = [e for e in buffered if e["u"] >= last_id]
    assert events, "no diff after the snapshot"
    assert events[0]["U"] <= last_id <= events[0]["u"]
    prev = None
    for e in events:
        assert e["e"] == "depthUpdate" and e["s"] == "BTCUSDT"
        if prev is not None:
            assert e["pu"] == prev, "pu chain broken"
        prev = e["u"]
        for side, book in (("b", bids), ("a", asks)):
            for p, q in e[side]:
                if float(q) == 0:
                    book.pop(p, None)
                else:
                    book[p] = q
    assert prev == final["lastUpdateId"]
    assert sorted(bids.items(), key=lambda x: -float(x[0])) == [tuple(x) for x in final["bids"]]
    assert sorted(asks.items(), key=lambda x: float(x[0])) == [tuple(x) for x in final["asks"]]
    assert final["bids"] and final["asks"]
    assert len(events) >= 3, len(events)
