"""A real paperex server on an ephemeral 127.0.0.1 port, driven with a real aiohttp client."""
from __future__ import annotations

import aiohttp
import pytest

from exchange.serve import start
from gwhelpers import Api, sign  # noqa: F401 - re-exported for the tests


@pytest.fixture
async def server(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False)
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def api(server, session):
    return Api(session, server.rest_url)
