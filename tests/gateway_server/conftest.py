"""A real paperex server on an ephemeral 127.0.0.1 port, driven with a real aiohttp client."""
from __future__ import annotations

import pytest

from gwhelpers import Api, sign  # noqa: F401 - re-exported for the tests
from live_server import server, session  # noqa: F401 - the fixtures


@pytest.fixture
async def api(server, session):
    return Api(session, server.rest_url)
