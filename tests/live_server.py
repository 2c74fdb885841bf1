"""Fixtures for the suites that drive a real paperex server with a real aiohttp client
(gateway_server/, faults/): their conftests import them from here.

``serving(tmp_path, **options)``: ``exchange.serve.start`` on an ephemeral 127.0.0.1 port (no demo
account, its journal in tmp_path; ``options`` as ``start`` takes them, e.g. a virtual clock),
stopped at the end of the block.  ``server``: that with the wall clock, for one test.  ``session``: an
``aiohttp.ClientSession`` closed after the test.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest

from exchange.serve import Server, start


@asynccontextmanager
async def serving(tmp_path: Path, **options: Any) -> AsyncIterator[Server]:
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False, **options)
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def server(tmp_path):
    async with serving(tmp_path) as srv:
        yield srv


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s
