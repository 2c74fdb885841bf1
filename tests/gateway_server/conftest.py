"""A real paperex server on an ephemeral 127.0.0.1 port, driven with a real aiohttp client."""
from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from exchange.gateway.serve import start


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class Api:
    """A minimal Binance-style client: query-string (FC style) or form-body (ccxt style) signing."""

    def __init__(self, session: aiohttp.ClientSession, base: str, key: str | None = None,
                 secret: str | None = None) -> None:
        self.s = session
        self.base = base
        self.key = key
        self.secret = secret

    async def public(self, path: str, **params):
        async with self.s.get(self.base + path, params=params) as r:
            return r.status, await r.json(content_type=None)

    async def signed(self, method: str, path: str, params: dict | None = None, *, body: bool = False,
                     ts: int | None = None, secret: str | None = None, headers: dict | None = None):
        p = dict(params or {})
        p["timestamp"] = ts if ts is not None else int(time.time() * 1000)
        qs = urlencode(p)
        sig = sign(secret or self.secret, qs)
        h = {"X-MBX-APIKEY": self.key} if self.key else {}
        h.update(headers or {})
        if body and method in ("POST", "PUT", "DELETE"):
            async with self.s.request(method, self.base + path, data=f"{qs}&signature={sig}",
                                      headers={**h, "Content-Type": "application/x-www-form-urlencoded"}) as r:
                return r.status, await r.json(content_type=None)
        async with self.s.request(method, f"{self.base}{path}?{qs}&signature={sig}", headers=h) as r:
            return r.status, await r.json(content_type=None)

    async def keyed(self, method: str, path: str, params: dict | None = None):
        async with self.s.request(method, self.base + path, params=params or {},
                                  headers={"X-MBX-APIKEY": self.key}) as r:
            return r.status, await r.json(content_type=None)

    async def control(self, method: str, path: str, payload: dict | None = None):
        async with self.s.request(method, self.base + "/paperex/v1" + path, json=payload) as r:
            return r.status, await r.json(content_type=None)

    async def new_account(self, balance: str = "100000") -> "Api":
        st, acc = await self.control("POST", "/accounts", {"balance": balance})
        assert st == 200, acc
        api = Api(self.s, self.base, acc["apiKey"], acc["secretKey"])
        api.account_id = acc["accountId"]
        return api


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
