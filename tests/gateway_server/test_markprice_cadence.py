"""markPrice stream cadence (spec §9.3): ``<s>@markPrice`` and ``!markPrice@arr`` every 3 s,
the ``@1s`` variants every second, on real time (not venue time: a virtual clock advanced by
hours must not replay one push per venue second)."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from live_server import serving

SYM = "BTCUSDT"
T0 = 1_700_000_040_000
STREAMS = ("btcusdt@markPrice@1s", "btcusdt@markPrice", "!markPrice@arr@1s", "!markPrice@arr")


@pytest.fixture
async def vserver(tmp_path):
    async with serving(tmp_path, clock="virtual", start_ms=T0) as srv:
        yield srv


async def _barrier(ws, mid: int) -> list:
    """Everything the server queued before it read this request (one queue per socket)."""
    await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": mid})
    got = []
    while True:
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data.get("id") == mid and "result" in data:
            return got
        got.append(data)


async def test_mark_price_cadence_on_the_stream_timer(vserver, session):
    hub = vserver.gateway.hub
    await hub.stop()             # the test drives the stream timer itself: hub.tick(real seconds)
    async with session.ws_connect(vserver.ws_url + "/market/stream?streams=" + "/".join(STREAMS)) as ws:
        assert await _barrier(ws, 0) == []
        pushed: dict[str, list] = {s: [] for s in STREAMS}
        m0 = 5000.0
        for k in range(13):                      # 0 s .. 6 s of stream time in half seconds
            hub.tick(m0 + k * 0.5)
            for env in await _barrier(ws, k + 1):
                pushed[env["stream"]].append(k * 0.5)
                data = env["data"]
                evs = data if isinstance(data, list) else [data]
                assert [ev["s"] for ev in evs] == (sorted(hub.gw.formats) if "!" in env["stream"] else [SYM])
                assert all(ev["e"] == "markPriceUpdate" and ev["E"] == T0 for ev in evs), evs
            await asyncio.sleep(0.12)            # stay under 10 incoming messages a second
    one_s = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    three_s = [0.0, 3.0, 6.0]
    assert pushed == {"btcusdt@markPrice@1s": one_s, "!markPrice@arr@1s": one_s,
                      "btcusdt@markPrice": three_s, "!markPrice@arr": three_s}


async def test_mark_price_pushed_in_real_seconds(server, session):
    """The running stream timer: @1s pushes about once a second, the 3 s stream about every
    three.  Measured as mean intervals over several pushes (a loaded machine delays single
    pushes; a stream pushing at twice its cadence still fails), no upper bound on time."""
    loop = asyncio.get_running_loop()
    arrivals: dict[str, list] = {"btcusdt@markPrice@1s": [], "btcusdt@markPrice": []}
    fast, slow = arrivals["btcusdt@markPrice@1s"], arrivals["btcusdt@markPrice"]
    async with session.ws_connect(server.ws_url + "/stream?streams=btcusdt@markPrice@1s/btcusdt@markPrice") as ws:
        end = loop.time() + 30                      # generous: only a dead stream gets there
        while len(fast) < 4 or len(slow) < 2:
            msg = await ws.receive(timeout=end - loop.time())
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            env = json.loads(msg.data)
            arrivals[env["stream"]].append(loop.time())
    fast_mean = (fast[3] - fast[0]) / 3
    assert fast_mean >= 0.8, fast                   # twice a second would be 0.5
    assert slow[1] - slow[0] >= 2.0, slow           # every second would be 1.0
