"""The market maker against a real paperex with the synthetic flow on, for a bounded time."""
import asyncio
from decimal import Decimal

import pytest

from clients.bots.market_maker import MarketMaker


@pytest.mark.paperex(flow="synthetic", scenario="calm", seed=5, speed=10)
async def test_market_maker_quotes_both_sides_and_its_view_matches_the_server(paperex_server):
    key, secret, _ = await paperex_server.create_account("50000")
    async with paperex_server.client(key, secret) as c:
        bot = MarketMaker(c, "BTCUSDT", spread_bps=Decimal(4), requote_bps=Decimal(1), interval=0.25)
        stop = asyncio.Event()
        run = asyncio.create_task(bot.run(duration=30, stop=stop))
        # quoting both sides within a few seconds
        for _ in range(100):
            await asyncio.sleep(0.1)
            if bot.quotes["BUY"] and bot.quotes["SELL"]:
                break
        assert bot.quotes["BUY"] and bot.quotes["SELL"], bot.report()
        await asyncio.sleep(4)
        # a quiet moment: no market flow, the stream delivers what happened; the view must be exact
        paperex_server.pause_flow()
        await asyncio.sleep(1.5)
        believed = set(bot.open_orders)
        on_server = {o.order_id for o in await c.open_orders("BTCUSDT")}
        assert believed == on_server, (believed, on_server)
        paperex_server.pause_flow(False)
        await asyncio.sleep(1)
        stop.set()
        report = await asyncio.wait_for(run, 20)
        print(report)
        assert report["steps"] >= 5
        assert report["orders_placed"] >= 2
        assert bot.open_orders == {}
        assert await c.open_orders("BTCUSDT") == []
        # inventory stayed within the bound (one quote of slack for a fill in flight)
        pos = await bot.refresh_position()
        assert abs(pos) <= bot.max_position + bot.qty


@pytest.mark.paperex(flow="synthetic", scenario="trend", seed=2, speed=20)
async def test_market_maker_flattens_on_exit_and_leaves_nothing(paperex_server):
    key, secret, _ = await paperex_server.create_account("50000")
    async with paperex_server.client(key, secret) as c:
        bot = MarketMaker(c, "ETHUSDT", spread_bps=Decimal(2), requote_bps=Decimal(1), interval=0.2,
                          flatten=True)
        report = await asyncio.wait_for(bot.run(duration=8), 30)
        print(report)
        assert report["steps"] >= 10
        assert bot.open_orders == {}
        assert await c.open_orders("ETHUSDT") == []
        assert all(p.position_amt == 0 for p in await c.position_risk("ETHUSDT"))
