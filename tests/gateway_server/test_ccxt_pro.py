"""ccxt.pro binanceusdm, unmodified, over the server's websockets: the split routes
(/public/ws, /market/ws, /private/ws?listenKey=) it rewrites ws.linear into."""
import asyncio

import pytest

pytest.importorskip("ccxt.pro")

from gwhelpers import ccxt_pro_usdm  # noqa: E402


async def test_ccxt_pro_order_book_trades_and_own_orders(api, server):
    await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    maker = await api.new_account("100000")
    taker = await api.new_account("100000")
    mx = ccxt_pro_usdm(server, maker.key, maker.secret)
    tx = ccxt_pro_usdm(server, taker.key, taker.secret)
    try:
        await mx.load_markets()
        await tx.load_markets()
        sym = "BTC/USDT:USDT"
        await mx.create_order(sym, "limit", "sell", 0.05, 50010)
        await mx.create_order(sym, "limit", "buy", 0.05, 49990)
        book = await asyncio.wait_for(mx.watch_order_book(sym), 10)
        assert book["asks"][0][0] == 50010 and book["bids"][0][0] == 49990

        own_orders = asyncio.ensure_future(mx.watch_orders(sym))
        trades = asyncio.ensure_future(tx.watch_trades(sym))
        # both subscriptions live before the trade (watch_orders first fetches a listenKey
        # and the leverage brackets over REST, then connects to /private/ws)
        for _ in range(100):
            if any("/private/ws?listenKey=" in url for url in mx.clients) and tx.clients:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await tx.create_order(sym, "market", "buy", 0.02)
        seen = await asyncio.wait_for(trades, 10)
        assert seen and seen[-1]["price"] == 50010 and seen[-1]["amount"] == 0.02
        orders = await asyncio.wait_for(own_orders, 10)
        assert any(o["side"] == "sell" and o["filled"] == 0.02 for o in orders)

        # the book stream follows: the ask shrank by the fill (the update may already
        # be in ccxt's local book, so look before waiting for another one)
        for _ in range(50):
            book = mx.orderbooks.get(sym)
            if book is not None and book["asks"] and list(book["asks"][0]) == [50010, 0.03]:
                break
            try:
                await asyncio.wait_for(mx.watch_order_book(sym), 0.2)
            except asyncio.TimeoutError:
                pass
        assert list(mx.orderbooks[sym]["asks"][0]) == [50010, 0.03]
    finally:
        await mx.close()
        await tx.close()
