"""`paperex serve`'s default market: the synthetic flow trades beside the gateway."""
import asyncio

import aiohttp

from exchange.serve import start, start_flow


async def test_default_flow_fills_the_book_served_over_rest(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path, clock="virtual",
                      start_ms=1_700_000_000_000)
    stop = asyncio.Event()
    task = start_flow(srv, "synthetic", seed=3, speed=20.0, stop=stop)
    try:
        async with aiohttp.ClientSession() as s:
            depth = {}
            for _ in range(100):  # bounded: at most ~10 s of wall time
                await asyncio.sleep(0.1)
                async with s.get(f"{srv.rest_url}/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 50}) as r:
                    depth = await r.json()
                if len(depth["bids"]) >= 20 and len(depth["asks"]) >= 20:
                    break
            assert len(depth["bids"]) >= 20 and len(depth["asks"]) >= 20
            assert float(depth["bids"][0][0]) < float(depth["asks"][0][0])
            trades: list = []
            for _ in range(100):  # bounded: the first trades come a step or two after the first quotes
                async with s.get(f"{srv.rest_url}/fapi/v1/trades", params={"symbol": "BTCUSDT"}) as r:
                    trades = await r.json()
                if trades:
                    break
                await asyncio.sleep(0.1)
            assert len(trades) > 0
            # the control API pauses the flow: no more commands arrive until resumed
            async with s.post(f"{srv.rest_url}/paperex/v1/flow/pause") as r:
                assert r.status == 200 and (await r.json())["paused"] is True
            await asyncio.sleep(0.2)
            seq = srv.runtime.sequencer.seq
            await asyncio.sleep(0.5)
            assert srv.runtime.sequencer.seq == seq
            async with s.post(f"{srv.rest_url}/paperex/v1/flow/resume") as r:
                assert (await r.json())["paused"] is False
            for _ in range(50):
                await asyncio.sleep(0.1)
                if srv.runtime.sequencer.seq > seq:
                    break
            assert srv.runtime.sequencer.seq > seq
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await srv.stop()


async def test_flow_control_without_a_flow_is_a_clear_error(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path, clock="virtual",
                      start_ms=1_700_000_000_000, demo=False)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{srv.rest_url}/paperex/v1/flow/pause") as r:
                assert r.status == 400
                body = await r.json()
                assert body["code"] == -1020 and "flow" in body["msg"]
    finally:
        await srv.stop()
