"""RawRequest.from_aiohttp against a real aiohttp request: raw query bytes, form body, signature."""
import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from exchange.gateway.auth import DictKeyStore, SecurityType, authenticate, sign
from exchange.gateway.errors import BinanceError
from exchange.gateway.params import RawRequest

SECRET, KEY, TS = "s3cret", "k3y", 1_700_000_000_000


async def _handler(request):
    raw = await RawRequest.from_aiohttp(request)
    try:
        params = raw.params()
        ctx = authenticate(raw, params, SecurityType.TRADE, DictKeyStore({KEY: (SECRET, 42)}), wall_ms=TS)
    except BinanceError as e:
        return web.json_response(e.to_body(), status=e.http_status, headers=e.headers)
    return web.json_response({"account": ctx.account_id, "query": raw.raw_query.decode(),
                              "cid": params.get("newClientOrderId"), "qty": str(params.get_decimal("quantity"))})


async def _run():
    app = web.Application()
    app.router.add_route("*", "/fapi/v1/order", _handler)
    async with TestClient(TestServer(app)) as client:
        # ccxt style: form body; a percent-encoded client id must be signed as sent
        body = f"symbol=BTCUSDT&newClientOrderId=a%2Fb%3Ac&quantity=0.010&timestamp={TS}"
        r = await client.post("/fapi/v1/order", data=f"{body}&signature={sign(SECRET, body)}",
                              headers={"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200, await r.text()
        assert await r.json() == {"account": 42, "query": "", "cid": "a/b:c", "qty": "0.010"}
        # FC style: everything in the raw query, JSON content type, empty body
        q = f"symbol=BTCUSDT&newClientOrderId=x%2Dy&quantity=1&timestamp={TS}"
        # (encoded=True: keep %2D as sent - the server must sign the raw bytes, not a normalized form)
        r = await client.post(URL(f"/fapi/v1/order?{q}&signature={sign(SECRET, q)}", encoded=True),
                              headers={"X-MBX-APIKEY": KEY, "Content-Type": "application/json;charset=utf-8"})
        assert r.status == 200, await r.text()
        assert (await r.json())["query"] == f"{q}&signature={sign(SECRET, q)}"
        # python-binance style: DELETE with a form body
        r = await client.delete("/fapi/v1/order", data=f"{body}&signature={sign(SECRET, body)}",
                                headers={"x-mbx-apikey": KEY})
        assert r.status == 200
        # bad signature -> 400 -1022 JSON
        r = await client.post(f"/fapi/v1/order?{q}&signature=00", headers={"X-MBX-APIKEY": KEY})
        assert r.status == 400 and await r.json() == {"code": -1022, "msg": "Signature for this request is not valid."}


def test_aiohttp_bridge():
    asyncio.run(_run())
