"""The trend follower (stop-loss + take-profit) against a real paperex with the synthetic flow on."""
import asyncio
from decimal import Decimal

import pytest

from clients import BinanceAPIError
from clients.bots.trend_follower import TrendFollower


async def _server_takes(c, mode: str) -> bool:
    """Does the server accept stop orders where ``mode`` puts them?"""
    if mode == "order":
        try:
            await c.test_order("ETHUSDT", "SELL", "STOP_MARKET", stopPrice="100", closePosition="true")
            return True
        except BinanceAPIError:
            return False
    if mode == "algo":
        try:
            await c.open_algo_orders("ETHUSDT")
            return True
        except BinanceAPIError:
            return False
    return True


@pytest.mark.parametrize("stop_mode", ["auto", "order", "algo", "client"])
@pytest.mark.paperex(flow="synthetic", scenario="trend", seed=4, speed=30)
async def test_trend_follower_enters_exits_by_its_levels_and_leaves_nothing(paperex_server, stop_mode):
    key, secret, _ = await paperex_server.create_account("50000")
    async with paperex_server.client(key, secret) as c:
        if not await _server_takes(c, stop_mode):
            pytest.skip(f"this server does not take stop orders in {stop_mode!r} mode")
        bot = TrendFollower(c, "ETHUSDT", fast=3, slow=8, stop_loss_pct=Decimal("0.05"),
                            take_profit_pct=Decimal("0.08"), cooldown=0.5, interval=0.2, stop_mode=stop_mode)
        report = await asyncio.wait_for(bot.run(duration=10), 40)
        print(report)
        assert report["stop_mode"] in ("order", "algo", "client")
        if stop_mode != "auto":
            assert report["stop_mode"] == stop_mode
        assert report["entries"] >= 1, report
        assert not report["errors"], report["errors"]
        # every closed round trip says why it closed; with levels this tight, at least one hit a level
        reasons = [t["exit_reason"] for t in report["trades"]]
        assert all(r in ("stop_loss", "take_profit", "closed", "bot_stopped") for r in reasons)
        assert any(r in ("stop_loss", "take_profit") for r in reasons), report["trades"]
        for t in report["trades"]:
            if t["exit_reason"] in ("stop_loss", "take_profit") and t["exit"] is not None:
                # a MARKET close once the mark crossed the level (by the bot or by the server's
                # STOP_MARKET / TAKE_PROFIT_MARKET): the fill is beyond the level, or near it
                long = t["side"] == "BUY"
                level = Decimal(t[t["exit_reason"]])
                exit_ = Decimal(t["exit"])
                worse = exit_ <= level if (long == (t["exit_reason"] == "stop_loss")) else exit_ >= level
                assert worse or abs(exit_ - level) / level < Decimal("0.002"), t
        # stopped cleanly: flat, nothing believed open, nothing open on the server
        assert bot.open_orders == {} and bot.open_algo == {}
        assert await c.open_orders("ETHUSDT") == []
        if report["stop_mode"] == "algo":
            assert await c.open_algo_orders("ETHUSDT") == []
        assert all(p.position_amt == 0 for p in await c.position_risk("ETHUSDT"))


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
            mode = await bot.detect_stop_mode()
            try:
                await c.test_order("BTCUSDT", "SELL", "STOP_MARKET", stopPrice="25000", closePosition="true")
                expected = "order"
            except Exception as e:
                expected = "algo" if getattr(e, "code", None) == -4120 else "client"
                if expected == "algo":
                    try:
                        await c.open_algo_orders("BTCUSDT")
                    except Exception:
                        expected = "client"
            assert mode == expected
