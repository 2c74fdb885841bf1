"""A real paperex server (wall clock, ephemeral 127.0.0.1 port) for the fault-injection tests."""
from __future__ import annotations

import aiohttp
import pytest

from exchange.serve import start


@pytest.fixture
async def fserver(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False)
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def fsession():
    async with aiohttp.ClientSession() as s:
        yield s
