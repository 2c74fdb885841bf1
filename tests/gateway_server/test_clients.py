"""Unmodified real clients against the server: ccxt binanceusdm (async) and binance-futures-connector."""
from __future__ import annotations

import asyncio

import pytest

ccxt = pytest.importorskip("ccxt.async_support")

from gwhelpers import ccxt_usdm as _ccxt  # noqa: E402


async def test_ccxt_binanceusdm(api, server):
    await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    maker = await api.new_account()
    taker = await api.new_account("2000")
    mx = _ccxt(server.rest_url, maker.key, maker.secret)
    tx = _ccxt(server.rest_url, taker.key, taker.secret)
    sym = "BTC/USDT:USDT"
    try:
        markets = await mx.load_markets()
        assert sym in markets and markets[sym]["precision"]["price"] == 0.1 and markets[sym]["contract"]
        await tx.load_markets()
        await tx.set_leverage(10, sym)
        sell = await mx.create_order(sym, "limit", "sell", 0.02, 50000)
        assert sell["status"] == "open" and sell["price"] == 50000
        ob = await mx.fetch_order_book(sym)
        assert ob["asks"][0][:2] == [50000.0, 0.02] and ob["nonce"] > 0
        buy = await tx.create_order(sym, "market", "buy", 0.01)
        assert buy["status"] == "closed" and buy["filled"] == 0.01 and buy["average"] == 50000
        bal = await tx.fetch_balance()
        # 2000 USDT less the taker fee on 0.01 BTC at 50,000 (0.05 %: 0.25 USDT); the
        # position's margin (500 USDT notional at 10x) is used, not free
        assert (bal["USDT"]["total"], bal["USDT"]["used"], bal["USDT"]["free"]) == (1999.75, 50.0, 1949.75)
        positions = await tx.fetch_positions([sym])
        assert len(positions) == 1 and positions[0]["contracts"] == 0.01 and positions[0]["side"] == "long"
        trades = await tx.fetch_my_trades(sym)
        assert len(trades) == 1 and trades[0]["price"] == 50000
        opens = await mx.fetch_open_orders(sym)
        assert [o["id"] for o in opens] == [sell["id"]] and opens[0]["remaining"] == 0.01
        canceled = await mx.cancel_order(sell["id"], sym)
        assert canceled["status"] == "canceled"
        ticker = await mx.fetch_ticker(sym)
        assert ticker["last"] == 50000
        assert (await mx.fetch_trades(sym))[-1]["price"] == 50000
        assert (await mx.fetch_ohlcv(sym, "1m"))[-1][1] == 50000
        fr = await mx.fetch_funding_rate(sym)
        assert fr["markPrice"] == 50000
        with pytest.raises(ccxt.InsufficientFunds):
            await tx.create_order(sym, "limit", "buy", 5, 49000)
        with pytest.raises(ccxt.OrderNotFound):
            await tx.cancel_order("123456789", sym)
    finally:
        await mx.close()
        await tx.close()


async def test_binance_futures_connector(api, server):
    um = pytest.importorskip("binance.um_futures")
    from binance.error import ClientError
    await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    maker = await api.new_account()
    taker = await api.new_account()
    m = um.UMFutures(key=maker.key, secret=maker.secret, base_url=server.rest_url)
    t = um.UMFutures(key=taker.key, secret=taker.secret, base_url=server.rest_url)

    def run():
        assert m.ping() == {}
        assert m.exchange_info()["symbols"][0]["symbol"] == "BTCUSDT"
        t.change_leverage(symbol="BTCUSDT", leverage=5)
        o = m.new_order(symbol="BTCUSDT", side="SELL", type="LIMIT", quantity=0.01, price=50000,
                        timeInForce="GTC")
        assert o["status"] == "NEW"
        assert m.depth(symbol="BTCUSDT", limit=5)["asks"] == [["50000.00", "0.010"]]
        t.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.01)
        assert m.query_order(symbol="BTCUSDT", orderId=o["orderId"])["status"] == "FILLED"
        assert t.get_position_risk(symbol="BTCUSDT")[0]["positionAmt"] == "0.010"
        assert t.balance()[0]["asset"] == "USDT"
        assert t.account()["assets"][0]["asset"] == "USDT"
        assert len(t.get_account_trades(symbol="BTCUSDT")) == 1
        key = t.new_listen_key()["listenKey"]
        assert t.renew_listen_key(key) == {"listenKey": key}
        try:
            t.cancel_order(symbol="BTCUSDT", orderId=424242)
        except ClientError as e:
            assert e.status_code == 400 and e.error_code == -2011
        else:
            raise AssertionError("cancel of an unknown order must fail")
        try:
            t.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity=0.00001, price=50000,
                        timeInForce="GTC")
        except ClientError as e:     # str(float) gives 1e-05: Binance answers -1100
            assert e.error_code == -1100
        else:
            raise AssertionError("1e-05 must be refused")

    await asyncio.to_thread(run)
