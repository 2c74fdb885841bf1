"""Every market stream (#15 item 3) through a real server and real websocket clients:
``depth@0ms``, ``continuousKline``, ``!contractInfo``, and Binance's answer to a stream paperex
does not serve (a SUBSCRIBE error, an HTTP 400 at the upgrade), never silence."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from gwhelpers import recv_until, two_accounts

LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
INVALID = {"code": 2, "msg": "Invalid request: invalid stream"}


async def _ask(ws, msg: dict) -> dict:
    await ws.send_str(json.dumps(msg))
    return json.loads((await ws.receive(timeout=5)).data)


async def test_depth_0ms_pushes_every_book_change_at_once(api, server, session):
    """nautilus_trader's default book stream: one diff per committed command, U == u = the
    update id REST depth shows, pu chaining the diffs; applying them to the REST snapshot
    gives the REST book."""
    a, b = await two_accounts(api)
    async with session.ws_connect(server.ws_url + "/ws/btcusdt@depth@0ms") as ws:
        await asyncio.sleep(0.05)
        _, snap = await a.public("/fapi/v1/depth", symbol="BTCUSDT", limit=1000)
        book = {"b": {p: q for p, q in snap["bids"]}, "a": {p: q for p, q in snap["asks"]}}
        last = snap["lastUpdateId"]
        await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010", "price": "50010"})
        await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "BUY", "quantity": "0.020", "price": "49990"})
        await b.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                  "quantity": "0.004"})
        diffs = []
        while len(diffs) < 3:
            m = json.loads((await ws.receive(timeout=5)).data)
            assert m["e"] == "depthUpdate" and m["s"] == "BTCUSDT"
            diffs.append(m)
        for d in diffs:
            assert d["U"] == d["u"] and d["pu"] == last and d["u"] > last
            last = d["u"]
            for side in ("b", "a"):
                for p, q in d[side]:
                    if float(q) == 0:
                        book[side].pop(p, None)
                    else:
                        book[side][p] = q
        assert diffs[0]["a"] == [["50010.00", "0.010"]] and diffs[0]["b"] == []
        assert diffs[1]["b"] == [["49990.00", "0.020"]]
        assert diffs[2]["a"] == [["50010.00", "0.006"]]
        _, rest = await a.public("/fapi/v1/depth", symbol="BTCUSDT", limit=1000)
        assert rest["lastUpdateId"] == last
        assert dict(rest["bids"]) == book["b"] and dict(rest["asks"]) == book["a"]


async def test_continuous_kline_and_contract_info(api, server, session):
    a, b = await two_accounts(api)
    url = server.ws_url + "/stream?streams=btcusdt_perpetual@continuousKline_1m/!contractInfo"
    async with session.ws_connect(url) as ws:
        assert await _ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {
            "result": ["btcusdt_perpetual@continuousKline_1m", "!contractInfo"], "id": 1}
        await a.signed("POST", "/fapi/v1/order", {**LIMIT, "side": "SELL", "quantity": "0.010", "price": "50000"})
        await b.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                  "quantity": "0.004"})
        msg, _ = await recv_until(ws, lambda m: m.get("stream") == "btcusdt_perpetual@continuousKline_1m")
        d = msg["data"]
        assert d["e"] == "continuous_kline" and d["ps"] == "BTCUSDT" and d["ct"] == "PERPETUAL"
        k = d["k"]
        assert k["i"] == "1m" and k["o"] == k["c"] == "50000.00" and k["v"] == "0.004" and k["n"] == 1
        assert k["T"] == k["t"] + 59_999 and "s" not in k
        _, rest = await a.public("/fapi/v1/continuousKlines", pair="BTCUSDT", contractType="PERPETUAL",
                              interval="1m")
        assert rest[-1][0] == k["t"] and rest[-1][4] == k["c"]


@pytest.mark.parametrize("names", [
    ["btcusdt@depth@1ms"], ["btcusdt@nope"], ["nosuchusdt@aggTrade"], ["btcusdt@compositeIndex"],
    ["!assetIndex@arr"], ["btcusdt@depth5@0ms"], ["btcusdt_current_quarter@continuousKline_1m"],
    ["btcusdt_perpetual@continuousKline_7m"], ["not asdfads"], ["btcusdt@aggTrade", "btcusdt@kline_9m"],
])
async def test_subscribe_to_a_stream_paperex_does_not_serve_is_an_error(server, session, names):
    """Binance USD-M refuses such a SUBSCRIBE with code 2 "invalid stream"; nothing of it is
    subscribed (a good name beside a bad one neither)."""
    async with session.ws_connect(server.ws_url + "/ws") as ws:
        assert await _ask(ws, {"method": "SUBSCRIBE", "params": names, "id": 7}) == {"error": INVALID, "id": 7}
        assert await _ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 8}) == {"result": [], "id": 8}
        # the socket stays open and usable
        assert await _ask(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@depth@0ms"], "id": 9}) == \
            {"result": None, "id": 9}


@pytest.mark.parametrize("path", ["/ws/btcusdt@nope", "/stream?streams=btcusdt@aggTrade/ethusdt@nope",
                                  "/market/stream?streams=!assetIndex@arr", "/public/ws/btcusdt@compositeIndex"])
async def test_a_bad_stream_in_the_url_is_refused_at_the_upgrade(server, session, path):
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        async with session.ws_connect(server.ws_url + path):
            pass
    assert exc.value.status == 400
    async with session.get(server.rest_url + path) as r:      # the same answer, readable
        assert r.status == 400 and await r.json() == {"error": INVALID, "id": None}


async def test_url_segments_that_are_no_stream_still_connect(server, session):
    """ccxt.pro's pool index and a listenKey-shaped name are not streams: the socket opens."""
    for path in ("/ws/0", "/stream?streams=btcusdt@depth@0ms/0"):
        async with session.ws_connect(server.ws_url + path) as ws:
            assert (await _ask(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 1}))["id"] == 1
