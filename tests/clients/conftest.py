"""Fixtures for the clients/ tests: a fake Binance USD-M server (see usdm_fake.py) and a client on it."""
import asyncio

import pytest

from usdm_fake import KEY, SECRET, start_fake


@pytest.fixture
async def fake():
    fb, runner = await start_fake()
    try:
        yield fb
    finally:
        await asyncio.wait_for(runner.cleanup(), 5)


@pytest.fixture
async def client(fake):
    from clients.usdm import UsdmClient
    async with UsdmClient(KEY, SECRET, base_url=fake.url, reconnect_min_delay=0.01, reconnect_max_delay=0.05,
                          timeout=5) as c:
        yield c
