"""Websocket keep-alive and connection age (spec §9.2) on a real server with tiny intervals:
the server pings on its interval, drops a client that sends no pong, keeps one that does,
and closes market and user-data sockets at their maximum age."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from exchange.serve import start
from exchange.gateway.ws.market_streams import MAX_LIFETIME_S, PING_INTERVAL_S, PONG_TIMEOUT_S

WS = aiohttp.WSMsgType
PING_S = 0.1
PONG_TIMEOUT = 0.6


@pytest.fixture
async def fast_server(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False,
                      ws_ping_interval_s=PING_S, ws_pong_timeout_s=PONG_TIMEOUT)
    try:
        yield srv
    finally:
        await srv.stop()


async def _until_close(ws, timeout: float) -> tuple[list, aiohttp.WSMessage, float]:
    """Read (without answering) until the socket closes; (pings with loop times, close msg, time)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    pings = []
    while True:
        left = end - loop.time()
        assert left > 0, f"socket still open after {timeout} s ({len(pings)} pings)"
        msg = await ws.receive(timeout=left)
        if msg.type == WS.PING:
            pings.append(loop.time())
        elif msg.type in (WS.CLOSE, WS.CLOSED, WS.CLOSING, WS.ERROR):
            return pings, msg, loop.time()


async def test_binance_defaults(tmp_path):
    assert (PING_INTERVAL_S, PONG_TIMEOUT_S, MAX_LIFETIME_S) == (180.0, 600.0, 86_400.0)
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "d", fsync="never", demo=False)
    try:
        hub = srv.gateway.hub
        assert (hub.ping_interval_s, hub.pong_timeout_s, hub.max_lifetime_s) == (180.0, 600.0, 86_400.0)
    finally:
        await srv.stop()
    for bad in ({"ws_pong_timeout_s": 0}, {"ws_max_lifetime_s": -1.0},
                {"ws_ping_interval_s": 5.0, "ws_pong_timeout_s": 5.0}):
        with pytest.raises(ValueError):
            await start(host="127.0.0.1", port=0, data_dir=None, demo=False, **bad)


async def test_server_pings_and_drops_a_client_without_pongs(fast_server, session):
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    async with session.ws_connect(fast_server.ws_url + "/ws/btcusdt@markPrice@1s", autoping=False) as ws:
        pings, msg, t_close = await _until_close(ws, timeout=10)
        assert msg.type == WS.CLOSE and msg.data == 1008 and msg.extra == "pong timeout", msg
    # pinged on the interval until the timeout
    assert len(pings) >= 3, pings
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert all(g >= PING_S * 0.5 for g in gaps), gaps
    assert PONG_TIMEOUT * 0.9 <= t_close - t0 < PONG_TIMEOUT + 3, t_close - t0
    assert fast_server.gateway.hub.pong_timeouts == 1
    assert fast_server.gateway.hub.slow_disconnects == 0


async def test_client_answering_pings_stays_connected(fast_server, session):
    # aiohttp answers pings inside receive() (whose own timeout restarts at every ping):
    # a client reading, as every real one does, bounded from outside
    async with session.ws_connect(fast_server.ws_url + "/ws", autoping=True) as ws:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ws.receive(), PONG_TIMEOUT * 2.5)
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 7})
        msg = await ws.receive(timeout=5)
        assert msg.type == WS.TEXT and msg.json() == {"result": [], "id": 7}
    assert fast_server.gateway.hub.pong_timeouts == 0


async def test_unsolicited_pongs_keep_the_connection(fast_server, session):
    loop = asyncio.get_running_loop()
    async with session.ws_connect(fast_server.ws_url + "/ws", autoping=False) as ws:
        end = loop.time() + PONG_TIMEOUT * 2.5
        pings = 0
        while loop.time() < end:
            await ws.pong(b"")
            try:
                msg = await ws.receive(timeout=PING_S)
            except asyncio.TimeoutError:
                continue
            assert msg.type == WS.PING, msg      # never a close
            pings += 1
        assert pings >= 3                       # pinged although the client is never idle
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type != WS.PING:
                break
        assert msg.type == WS.TEXT and msg.json()["id"] == 1
    assert fast_server.gateway.hub.pong_timeouts == 0


async def test_server_answers_client_pings(fast_server, session):
    async with session.ws_connect(fast_server.ws_url + "/ws", autoping=False) as ws:
        await ws.ping(b"hello")
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type != WS.PING:
                break
        assert msg.type == WS.PONG and msg.data == b"hello"


async def test_market_and_user_sockets_closed_at_max_age(tmp_path, session):
    age = 0.5
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=True,
                      ws_max_lifetime_s=age)
    try:
        async with session.post(srv.rest_url + "/fapi/v1/listenKey",
                                headers={"X-MBX-APIKEY": srv.demo["apiKey"]}) as r:
            assert r.status == 200
            key = (await r.json())["listenKey"]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        async with session.ws_connect(srv.ws_url + "/market/ws/btcusdt@aggTrade") as market, \
                session.ws_connect(srv.ws_url + "/private/ws?listenKey=" + key) as user:
            for ws in (market, user):
                msg = await ws.receive(timeout=10)
                assert msg.type == WS.CLOSE and msg.data == 1000, msg
                assert msg.extra == "24 hour connection limit"
            assert age * 0.9 <= loop.time() - t0 < age + 5
            assert market.closed and user.closed
        assert not srv.gateway.hub.conns
    finally:
        await srv.stop()
