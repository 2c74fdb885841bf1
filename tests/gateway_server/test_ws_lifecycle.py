"""Websocket lifecycle: slow consumers are cut off, shutdown sends a close frame."""
from __future__ import annotations

import asyncio

import aiohttp

from exchange.serve import start
from exchange.gateway.ws.market_streams import Conn


class _StuckWS:
    """A socket whose peer never reads: every send blocks."""

    def __init__(self) -> None:
        self.closed_with = None

    async def send_frame(self, data, opcode):
        await asyncio.Event().wait()

    async def close(self, code=1000, message=b""):
        self.closed_with = (code, message)


class _Hub:
    slow_disconnects = 0


async def test_slow_consumer_is_disconnected_not_buffered():
    hub = _Hub()
    ws = _StuckWS()
    conn = Conn(hub, ws, False, limit=10)
    conn.writer = asyncio.create_task(conn.run_writer())
    for i in range(1000):
        conn.send(b'{"n":%d}' % i)
    await asyncio.sleep(0.01)
    assert conn.closing and len(conn.queue) == 0
    assert ws.closed_with == (1008, b"slow consumer") and hub.slow_disconnects == 1
    conn.writer.cancel()


async def test_shutdown_closes_websockets_with_a_close_frame(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "d", fsync="never", demo=False)
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(srv.ws_url + "/ws/btcusdt@aggTrade") as ws:
            stopper = asyncio.create_task(srv.stop())
            msg = await ws.receive(timeout=10)
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1001
            await stopper
    assert srv.runtime.journal is None or srv.runtime.journal.closed
