"""`paperex serve`'s default market: the synthetic flow trades beside the gateway."""
import asyncio

import aiohttp

from exchange.gateway.serve import start, start_flow


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
            async with s.get(f"{srv.rest_url}/fapi/v1/trades", params={"symbol": "BTCUSDT"}) as r:
                assert len(await r.json()) > 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await srv.stop()
