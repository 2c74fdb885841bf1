"""Real clients, unmodified, against the WebSocket API and the new key types:
Binance's official SDK (``binance-sdk-derivatives-trading-usds-futures``: REST and WebSocket
API with an HMAC key, then with an Ed25519 key: REST signatures and ``session.logon``), and
ccxt.pro binanceusdm's ``createOrderWs`` / ``cancelOrderWs`` / ``fetchBalanceWs``."""
from __future__ import annotations

import asyncio

import pytest

from exchange.gateway.keytypes import generate_key_pair

sdk = pytest.importorskip("binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures")
from binance_common.configuration import ConfigurationRestAPI, ConfigurationWebSocketAPI  # noqa: E402

ccxtpro = pytest.importorskip("ccxt.pro")
from gwhelpers import ccxt_pro_usdm  # noqa: E402

SYM = "BTCUSDT"


def _client(server, key: str, *, secret: str | None = None, private: str | None = None):
    cred = {"api_secret": secret} if secret else {"private_key": private}
    return sdk.DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(api_key=key, base_path=server.rest_url, **cred),
        config_ws_api=ConfigurationWebSocketAPI(api_key=key, stream_url=server.ws_url + "/ws-fapi/v1", **cred))


async def test_official_sdk_hmac_rest_and_ws_api(api, server):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    st, acc = await api.control("POST", "/accounts", {"balance": "100000"})
    c = _client(server, acc["apiKey"], secret=acc["secretKey"])
    rest = await asyncio.to_thread(c.rest_api.new_order, symbol=SYM, side="BUY", type="LIMIT",
                                   time_in_force="GTC", quantity=0.01, price=49000)
    assert rest.data().order_id == 1 and rest.data().status == "NEW"
    ws = await c.websocket_api.create_connection()
    try:
        placed = await ws.new_order(symbol=SYM, side="BUY", type="LIMIT", time_in_force="GTC", quantity=0.02,
                                    price=49100, new_client_order_id="sdk:1/x")  # signed URL-encoded
        o = placed.data().result
        assert o.order_id == 2 and o.client_order_id == "sdk:1/x" and o.reduce_only is False
        assert {r.rateLimitType for r in placed.rate_limits} == {"REQUEST_WEIGHT", "ORDERS"}
        q = (await ws.query_order(symbol=SYM, order_id=1)).data().result
        assert q.status == "NEW" and q.price == "49000.00"
        m = (await ws.modify_order(symbol=SYM, order_id=2, side="BUY", quantity=0.02, price=49200)).data().result
        assert m.price == "49200.00"
        bal = (await ws.futures_account_balance_v2()).data().result
        assert bal[0].asset == "USDT" and bal[0].balance == "100000.00000000"
        assert (await ws.account_information()).data().result is not None
        pos = (await ws.position_information_v2(symbol=SYM)).data().result
        assert pos[0].symbol == SYM and pos[0].position_amt == "0.000"
        assert (await ws.symbol_price_ticker(symbol=SYM)).data().actual_instance.result.symbol == SYM
        assert (await ws.symbol_order_book_ticker(symbol=SYM)).data().actual_instance.result.bid_price == "49200.00"
        assert (await ws.order_book(symbol=SYM, limit=5)).data().result.last_update_id > 0
        lk = (await ws.start_user_data_stream()).data().result.listen_key
        assert (await ws.keepalive_user_data_stream()).data().result.listen_key == lk
        canceled = (await ws.cancel_order(symbol=SYM, order_id=2)).data().result
        assert canceled.status == "CANCELED"
        # an error reaches the SDK's caller as Binance's
        bad = await ws.cancel_order(symbol=SYM, order_id=2)
        assert "-2011" in str(bad.data())
    finally:
        await ws.close_connection()


async def test_official_sdk_ed25519_rest_and_session_logon(api, server):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    private, public = generate_key_pair("ED25519")
    st, acc = await api.control("POST", "/accounts", {"balance": "100000", "publicKey": public})
    assert st == 200 and acc["keyType"] == "ED25519"
    c = _client(server, acc["apiKey"], private=private)
    rest = await asyncio.to_thread(c.rest_api.new_order, symbol=SYM, side="SELL", type="LIMIT",
                                   time_in_force="GTC", quantity=0.01, price=51000, new_client_order_id="a:b/c")
    assert rest.data().client_order_id == "a:b/c"
    ws = await c.websocket_api.create_connection()
    try:
        # per-request Ed25519 signature
        first = (await ws.new_order(symbol=SYM, side="SELL", type="LIMIT", time_in_force="GTC", quantity=0.01,
                                    price=51100)).data().result
        assert first.status == "NEW"
        logon = await ws.send_signed_message({"method": "session.logon", "params": {}}, signer=ws.signer,
                                             api_key=True, session_logon=True)
        assert logon.data()["result"]["apiKey"] == acc["apiKey"]
        # logged on: the SDK sends neither apiKey nor signature any more
        placed = (await ws.new_order(symbol=SYM, side="SELL", type="LIMIT", time_in_force="GTC", quantity=0.01,
                                     price=51200)).data().result
        assert placed.status == "NEW" and placed.price == "51200.00"
        canceled = (await ws.cancel_order(symbol=SYM, order_id=placed.order_id)).data().result
        assert canceled.status == "CANCELED"
        status = await ws.send_message({"method": "session.status", "params": {}})
        assert status.data()["result"]["apiKey"] == acc["apiKey"]
    finally:
        await ws.close_connection()


async def test_ccxt_pro_order_ws_and_balance_ws(api, server):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    st, acc = await api.control("POST", "/accounts", {"balance": "100000"})
    ex = ccxt_pro_usdm(server, acc["apiKey"], acc["secretKey"])
    try:
        await ex.load_markets()
        sym = "BTC/USDT:USDT"
        o = await asyncio.wait_for(ex.create_order_ws(sym, "limit", "buy", 0.01, 49000), 10)
        assert o["status"] == "open" and o["price"] == 49000 and o["amount"] == 0.01, o
        c = await asyncio.wait_for(ex.cancel_order_ws(o["id"], sym), 10)
        assert c["status"] == "canceled" and c["id"] == o["id"], c
        bal = await asyncio.wait_for(ex.fetch_balance_ws(), 10)
        assert bal["USDT"]["total"] == 100000, bal["USDT"]
        bal2 = await asyncio.wait_for(ex.fetch_balance_ws({"method": "v2/account.balance"}), 10)
        assert bal2["USDT"]["total"] == 100000
        with pytest.raises(ccxtpro.OrderNotFound):
            await asyncio.wait_for(ex.cancel_order_ws(o["id"], sym), 10)
    finally:
        await ex.close()


@pytest.mark.parametrize("kind", ["ED25519", "RSA"])
async def test_ccxt_with_a_public_key_rest_and_ws_api(api, server, kind):
    """ccxt signs with the private key when its secret is a PEM (RSA by length): REST
    (base64 signature, URL-encoded) and per-request WebSocket API signatures."""
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    private, public = generate_key_pair(kind)
    st, acc = await api.control("POST", "/accounts", {"balance": "100000", "publicKey": public})
    ex = ccxt_pro_usdm(server, acc["apiKey"], private)
    try:
        await ex.load_markets()
        sym = "BTC/USDT:USDT"
        o = await ex.create_order(sym, "limit", "buy", 0.01, 49000, {"clientOrderId": "x:y/z"})
        assert o["clientOrderId"] == "x:y/z"
        assert (await ex.fetch_balance())["USDT"]["total"] == 100000
        w = await asyncio.wait_for(ex.create_order_ws(sym, "limit", "buy", 0.01, 48000), 10)
        assert w["status"] == "open" and w["price"] == 48000
        c = await asyncio.wait_for(ex.cancel_order_ws(o["id"], sym), 10)
        assert c["status"] == "canceled"
    finally:
        await ex.close()
