"""Helpers shared by the gateway server tests (imported by name: the test directories are not packages)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import aiohttp
from yarl import URL


async def recv_until(ws, pred, timeout=5.0):
    """Receive JSON messages until ``pred(msg)``; returns (match, everything received)."""
    seen = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        left = end - loop.time()
        assert left > 0, f"timed out; received {seen[-5:]}"
        msg = await ws.receive(timeout=left)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        seen.append(data)
        if pred(data):
            return data, seen


def usdm_config(base: str, key: str, secret: str, ws: str | None = None) -> dict:
    """ccxt's binanceusdm options pointed at the server: its REST routes and, given the server's
    websocket base ``ws``, the websockets ccxt.pro opens (ws.linear and the WebSocket API)."""
    api = {"fapiPublic": base + "/fapi/v1", "fapiPrivate": base + "/fapi/v1",
           "fapiPublicV2": base + "/fapi/v2", "fapiPrivateV2": base + "/fapi/v2",
           "fapiPublicV3": base + "/fapi/v3", "fapiPrivateV3": base + "/fapi/v3",
           "fapiData": base + "/futures/data"}
    if ws is not None:
        api["ws"] = {"linear": ws + "/ws", "ws-api": {"linear": ws + "/ws-fapi/v1"}}
    return {"apiKey": key, "secret": secret, "urls": {"api": api},
            "options": {"fetchCurrencies": False, "fetchMargins": False}}


def ccxt_usdm(base: str, key: str, secret: str):
    """ccxt binanceusdm (async) pointed at the server, with Binance's linear exception map."""
    import ccxt as ccxt_sync
    import ccxt.async_support as ccxt
    ex = ccxt.binanceusdm(usdm_config(base, key, secret))
    linear = ccxt_sync.binanceusdm().describe()["exceptions"].get("linear", {}).get("exact", {})
    if linear:
        ex.exceptions["exact"] = {**ex.exceptions["exact"], **linear}
    return ex


def ccxt_pro_usdm(server, key: str, secret: str):
    """ccxt.pro binanceusdm, unmodified, pointed at ``server``'s REST routes and websockets."""
    import ccxt.pro as ccxtpro
    return ccxtpro.binanceusdm(usdm_config(server.rest_url, key, secret, ws=server.ws_url))


async def two_accounts(api: "Api", symbol: str = "BTCUSDT", index: str = "50000") -> tuple["Api", "Api"]:
    """A market to trade in: ``symbol``'s index price set, and two fresh accounts (100000 USDT each)."""
    st, body = await api.control("POST", "/index", {"symbol": symbol, "price": index})
    assert st == 200, body
    return await api.new_account(), await api.new_account()


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
        # encoded=True: send the bytes that were signed (yarl would re-quote %3A, %2C, %40 ...)
        url = URL(f"{self.base}{path}?{qs}&signature={sig}", encoded=True)
        async with self.s.request(method, url, headers=h) as r:
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


class ServerThread:
    """A real ``paperex serve`` (demo account, fsync never) on its own event loop in a thread,
    for synchronous tests.  Rate limits are off: hundreds of generated requests a minute
    would (rightly) meet -1003 and hide the answer under test (the limiter has its own
    tests); the mark / premium / funding timers are cleared before it is ready, so the state
    digest moves only with the requests a test sends."""

    def __init__(self, data_dir) -> None:
        import threading
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._run, args=(data_dir,), daemon=True)
        self.t.start()
        assert self.ready.wait(20)

    def _run(self, data_dir) -> None:
        from exchange.gateway.ratelimit import RateLimitConfig
        from exchange.serve import start
        asyncio.set_event_loop(self.loop)
        self.srv = self.loop.run_until_complete(start(host="127.0.0.1", port=0, data_dir=data_dir,
                                                      fsync="never", demo=True,
                                                      rate_limits=RateLimitConfig(enabled=False)))
        self.srv.runtime.sequencer.timers.clear()
        self.ready.set()
        self.loop.run_forever()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(20)

    def stop(self) -> None:
        self.run(self.srv.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(20)
