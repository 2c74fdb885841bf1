"""The trend follower (stop-loss + take-profit) against a real paperex, on a market the
test scripts on the virtual clock (no wall-time waiting for a level to be hit)."""
import asyncio
from decimal import Decimal

import pytest

from clients.bots.trend_follower import TrendFollower


ETH = "ETHUSDT"
TICK = Decimal("0.5")          # the scripted market's move per bot step


async def _until(cond, what: str, timeout: float = 20.0) -> None:
    """Wait (wall time, generous: a loaded machine) for ``cond`` — the user stream's
    report of something the venue already did."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("stop_mode", ["auto", "order", "algo", "client"])
async def test_trend_follower_enters_exits_by_its_levels_and_leaves_nothing(paperex_server, stop_mode):
    """A scripted market on the virtual clock: the index (and a maker's quotes around
    it) rises one step per bot step until the bot is long, then on until its
    take-profit level; every move is a second of venue time."""
    key, secret, _ = await paperex_server.create_account("50000")
    mkey, msec, _ = await paperex_server.create_account("1000000")
    async with paperex_server.client(key, secret) as c, paperex_server.client(mkey, msec) as m:
        # paperex takes stop orders in both places (conditional types on /order by default)
        await c.test_order(ETH, "SELL", "STOP_MARKET", stopPrice="100", closePosition="true")
        assert await c.open_algo_orders(ETH) == []

        async def market(price: Decimal) -> None:
            await paperex_server.set_index_price(ETH, price)
            await m.cancel_all(ETH)
            await m.new_order(ETH, "BUY", "LIMIT", quantity="20", price=str(price - TICK))
            await m.new_order(ETH, "SELL", "LIMIT", quantity="20", price=str(price + TICK))
            await paperex_server.advance(1)

        price = Decimal("3000")
        await market(price)
        bot = TrendFollower(c, ETH, fast=3, slow=8, stop_loss_pct=Decimal("0.05"),
                            take_profit_pct=Decimal("0.08"), cooldown=0, stop_mode=stop_mode)
        await bot._start_user_stream()
        try:
            await bot.setup()
            assert bot.stop_mode == ("order" if stop_mode == "auto" else stop_mode)
            for _ in range(30):                         # a steady rise: the fast EMA crosses above
                await bot.step()
                if bot.trade is not None:
                    break
                price += TICK
                await market(price)
            assert bot.trade is not None and bot.trade["side"] == "BUY", bot.report()
            take_profit = Decimal(bot.trade["take_profit"])
            if bot.stop_mode == "order":
                await _until(lambda: set(bot.protect.values()) <= set(bot.open_orders), "the protective orders")
            while price - TICK <= take_profit:          # on until the mark (and the bid) pass the level
                price += TICK
                await market(price)
            if bot.stop_mode == "order":
                await _until(lambda: bot.protect["take_profit"] not in bot.open_orders, "the take-profit fill")
            elif bot.stop_mode == "algo":
                await _until(lambda: bot.protect["take_profit"] not in bot.open_algo, "the algo trigger")
            await bot.step()
        finally:
            await bot._teardown_all()
        report = bot.report()
        print(report)
        assert not report["errors"], report["errors"]
        assert [t["exit_reason"] for t in report["trades"]] == ["take_profit"], report["trades"]
        t = report["trades"][0]
        # a MARKET close once the mark crossed the level (by the bot or the server's
        # TAKE_PROFIT_MARKET) sells to the maker's bid: at most a step and the half
        # spread below the level
        assert Decimal(t["exit"]) >= take_profit - 2 * TICK, t
        assert Decimal(t["pnl"]) > 0, t
        # stopped cleanly: flat, nothing believed open, nothing open on the server
        assert bot.open_orders == {} and bot.open_algo == {}
        assert await c.open_orders(ETH) == []
        assert await c.open_algo_orders(ETH) == []
        assert all(p.position_amt == 0 for p in await c.position_risk(ETH))


async def test_trend_follower_probes_where_stops_can_live(paperex_server):
    """``auto`` asks the server: STOP_MARKET on order/test, then the algo endpoints."""
    key, secret, _ = await paperex_server.create_account("10000")
    await paperex_server.set_index_price("BTCUSDT", "50000")
    async with paperex_server.client(key, secret) as c:
        bot = TrendFollower(c, "BTCUSDT")
        await bot.load_symbol()
        # an empty book has no bookTicker prices: give the probe a quote to halve
        mk, ms, _ = await paperex_server.create_account("100000")
        async with paperex_server.client(mk, ms) as m:
            await m.new_order("BTCUSDT", "BUY", "LIMIT", quantity="0.01", price="49990")
            await m.new_order("BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="50010")
            # paperex's default: conditional types on /fapi/v1/order, as Binance before 2025-12
            assert await bot.detect_stop_mode() == "order"
            # switched off (as Binance now): -4120 on /order, so the algo endpoints
            await asyncio.to_thread(paperex_server.call, _legacy_off(paperex_server))
            assert await bot.detect_stop_mode() == "algo"


async def _legacy_off(paperex_server) -> None:
    paperex_server.server.gateway.legacy_conditional_orders = False
