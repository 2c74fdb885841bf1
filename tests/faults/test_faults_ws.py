"""Websocket faults: a dropped connection (no close frame), a delayed connection, a late user
event, a listenKey that expires early; the ws latency model keeps every message in order.
Each fault is journaled (InjectFault) and the journal replays."""
from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from clients import UsdmClient
from faultbot import bot_on_user_stream
from faulthelpers import SYMBOL, configure, eventually, market, new_account, stop_and_verify


async def _setup(srv, session):
    key, secret, aid = await new_account(session, srv.rest_url)
    await market(session, srv.rest_url)
    c = UsdmClient(key, secret, base_url=srv.rest_url)
    lk = await c.new_listen_key()
    return c, aid, lk


async def _collect(ws, into: list, stamps: list) -> None:
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            into.append(json.loads(msg.data))
            stamps.append(time.time() * 1000)


async def _place(c, i):
    return await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", str(49000 - 10 * i), new_client_order_id=f"w{i}")


async def test_ws_drop_closes_without_frame(server, session):
    c, aid, lk = await _setup(server, session)
    async with c:
        await configure(session, server.rest_url, {"seed": 1, "rules": [
            {"id": "drop", "kind": "ws_drop", "path": "/private/*", "every": 2, "times": 1}]})
        ws = await session.ws_connect(f"{server.ws_url}/private/ws?listenKey={lk}")
        await _place(c, 0)
        first = await ws.receive(timeout=5)
        assert first.type == aiohttp.WSMsgType.TEXT and json.loads(first.data)["o"]["c"] == "w0"
        await _place(c, 1)                         # its event is the 2nd message: the connection is cut
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
        assert ws.close_code in (None, 1006)        # abnormal closure: no close frame was sent
        await ws.close()
        # the key is still valid: a reconnect gets the next events
        ws2 = await session.ws_connect(f"{server.ws_url}/ws/{lk}")
        await _place(c, 2)
        m = await ws2.receive(timeout=5)
        assert json.loads(m.data)["o"]["c"] == "w2"
        await ws2.close()
    faults = await stop_and_verify(server)
    assert [(f.kind, f.account_id) for _, f in faults] == [("ws_drop", aid)]
    assert "ORDER_TRADE_UPDATE drop" in faults[0][1].detail


@pytest.mark.parametrize("kind", ["ws_delay", "user_event_late"])
async def test_delayed_delivery_keeps_order(server, session, kind):
    c, aid, lk = await _setup(server, session)
    got, stamps = [], []
    async with c:
        await configure(session, server.rest_url, {"rules": [
            {"id": "d", "kind": kind, "path": "/stream", "every": 1, "times": 1, "ms": 300}]})
        ws = await session.ws_connect(f"{server.ws_url}/stream?streams={lk}")
        reader = asyncio.get_running_loop().create_task(_collect(ws, got, stamps))
        t0 = time.time() * 1000
        for i in range(5):
            await _place(c, i)
        await eventually(lambda: len(got) >= 5)
        reader.cancel()
        await ws.close()
    assert stamps[0] - t0 >= 280                    # the first event waited 300 ms ...
    assert [m["data"]["o"]["c"] for m in got] == [f"w{i}" for i in range(5)]   # ... and nothing overtook it
    faults = await stop_and_verify(server)
    assert [(f.kind, f.account_id) for _, f in faults] == [(kind, aid)]


async def test_user_event_late_skips_market_messages(server, session):
    c, aid, lk = await _setup(server, session)
    async with c:
        await configure(session, server.rest_url, {"rules": [
            {"id": "late", "kind": "user_event_late", "every": 1, "ms": 10}]})
        ws = await session.ws_connect(f"{server.ws_url}/ws/btcusdt@markPrice@1s")
        m = await ws.receive(timeout=5)
        assert json.loads(m.data)["e"] == "markPriceUpdate"
        await ws.close()
        state = await configure(session, server.rest_url, {})
        assert state["rules"][0]["fired"] == 0
    assert await stop_and_verify(server) == []


async def test_listen_key_expires_early(server, session):
    c, aid, lk = await _setup(server, session)
    async with c:
        await configure(session, server.rest_url, {"rules": [
            {"id": "exp", "kind": "listen_key_expire", "method": "PUT", "path": "/fapi/v1/listenKey",
             "every": 1, "times": 1}]})
        ws = await session.ws_connect(f"{server.ws_url}/ws/{lk}")
        with pytest.raises(Exception) as ei:
            await c.keepalive_listen_key(lk)
        assert getattr(ei.value, "code", None) == -1125        # the key expired before the keepalive
        m = json.loads((await ws.receive(timeout=5)).data)
        assert m["e"] == "listenKeyExpired" and m["listenKey"] == lk and isinstance(m["E"], int)
        await _place(c, 0)
        with pytest.raises(asyncio.TimeoutError):                # nothing more on the expired key
            await ws.receive(timeout=0.3)
        assert server.gateway.users.by_key.get(lk) is None
        new = await c.new_listen_key()
        assert new != lk
        await ws.close()
        # after_ms: the request runs, the key it has expires a little later
        await configure(session, server.rest_url, {"rules": [
            {"id": "later", "kind": "listen_key_expire", "method": "POST", "path": "/fapi/v1/listenKey",
             "every": 1, "times": 1, "after_ms": 200}]})
        ws = await session.ws_connect(f"{server.ws_url}/ws/{new}")
        t0 = time.time()
        assert await c.new_listen_key() == new
        m = json.loads((await ws.receive(timeout=5)).data)
        assert m["e"] == "listenKeyExpired" and m["listenKey"] == new and time.time() - t0 >= 0.18
        with pytest.raises(Exception) as ei:
            await c.keepalive_listen_key(new)
        assert getattr(ei.value, "code", None) == -1125
        await ws.close()
    faults = await stop_and_verify(server)
    assert [(f.kind, f.rule_id) for _, f in faults] == [("listen_key_expire", "exp"),
                                                         ("listen_key_expire", "later")]


async def test_bot_survives_ws_drops(server, session):
    """The bot's user stream is cut repeatedly; it reconnects, and its REST view is intact."""
    base = server.rest_url
    key, secret, aid = await new_account(session, base)
    await market(session, base)
    await configure(session, base, {"seed": 9, "rules": [
        {"id": "cut", "kind": "ws_drop", "path": "/private/*", "probability": 0.3, "account": aid}]})
    seen = []
    async with bot_on_user_stream(key, secret, base, seen, reconnect_max_delay=0.05) as (bot, us):
        for i in range(10):
            await bot.place(f"b{i}", str(49000 - 10 * i))
            await asyncio.sleep(0.03)
        await eventually(lambda: us.reconnects >= 1)
        await bot.check()
        # events the bot missed while cut off are recovered from REST
        missed = set(bot.open) - {e["o"]["c"] for e in seen if e.get("e") == "ORDER_TRADE_UPDATE"}
        for cid in missed:
            assert (await bot.lookup(cid)).status == "NEW"
    faults = await stop_and_verify(server)
    assert faults and all(f.kind == "ws_drop" and f.account_id == aid for _, f in faults)


async def test_ws_latency_model_delays_in_order(server, session):
    c, aid, lk = await _setup(server, session)
    got, stamps = [], []
    async with c:
        await configure(session, server.rest_url, {"seed": 4, "latency": {
            "ws": {"dist": "uniform", "low_ms": 40, "high_ms": 120}}})
        ws = await session.ws_connect(f"{server.ws_url}/private/ws?listenKey={lk}")
        reader = asyncio.get_running_loop().create_task(_collect(ws, got, stamps))
        await asyncio.gather(*(_place(c, i) for i in range(20)))
        await eventually(lambda: len(got) >= 20)
        reader.cancel()
        await ws.close()
        await configure(session, server.rest_url, {"latency": {"ws": None}})
        assert server.gateway.faults is None
    ids = [m["o"]["i"] for m in got]
    assert ids == sorted(ids)                        # venue order == delivery order
    lags = [s - m["E"] for m, s in zip(got, stamps)]
    assert min(lags) >= 35, lags                     # E is the venue's (wall) time of the event
    assert await stop_and_verify(server) == []      # latency is not a fault: nothing journaled
