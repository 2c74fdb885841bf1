"""Every ``clients.UsdmClient`` method against a real ``paperex serve`` (the
``paperex_server`` fixture): market data, orders and batches, algo orders,
account and position settings, listen keys.

Each call goes through a recorder; the last check is that every public method of
the client ran (and answered without error) at least once here.  The fake server
(``usdm_fake.py``) stays for what paperex cannot produce on demand: dropped
connections, expired listen keys and server errors in the stream tests.
"""
from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from clients import BinanceAPIError, UsdmClient

BTC, ETH = "BTCUSDT", "ETHUSDT"
HOUR = 3600


def public_methods() -> dict[str, str]:
    """name -> canonical name (aliases such as ``time`` = ``server_time`` count once)."""
    out, seen = {}, {}
    for name, fn in vars(UsdmClient).items():
        if name.startswith("_") or not inspect.iscoroutinefunction(fn):
            continue
        out[name] = seen.setdefault(fn, name)
    return out


class Recorder:
    """The client, recording which methods answered without an exception."""

    def __init__(self, client: UsdmClient, ran: set):
        self._client, self._ran = client, ran

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args, **kw):
            result = await attr(*args, **kw)
            self._ran.add(name)
            return result
        return call

    async def refused(self, code: int, name: str, *args, **kw) -> None:
        """``name`` answered with Binance error ``code`` (what Binance answers there too)."""
        with pytest.raises(BinanceAPIError) as e:
            await getattr(self._client, name)(*args, **kw)
        assert e.value.code == code, e.value
        self._ran.add(name)


async def test_every_client_method_against_paperex(paperex_server):
    ran: set = set()
    srv = paperex_server
    mkey, msec, _ = await srv.create_account("1000000")
    tkey, tsec, taker_id = await srv.create_account("20000")
    await srv.set_index_price(BTC, "50000")
    await srv.set_index_price(ETH, "3000")
    async with srv.client(mkey, msec) as raw_m, srv.client(tkey, tsec) as raw_t:
        m, t = Recorder(raw_m, ran), Recorder(raw_t, ran)
        await market_data_before_trading(m)
        await orders_and_batches(m, t)
        await algo_orders(t)
        await account_and_settings(srv, m, t, taker_id)
        await market_data_after_trading(srv, m, t)
        await listen_keys(t)
        offset = await t.sync_time()
        assert isinstance(offset, int)
    # close(): a client used only for that
    c = Recorder(srv.client(tkey, tsec), ran)
    await c.ping()
    await c.close()

    methods = public_methods()
    canonical_ran = {methods[n] for n in ran if n in methods}
    missing = sorted(set(methods.values()) - canonical_ran)
    assert not missing, f"UsdmClient methods never run against paperex: {missing}"


async def market_data_before_trading(m):
    assert await m.ping() == {}
    assert await m.server_time() == 1_767_225_600_000          # the fixture's virtual start, no time passed
    info = await m.exchange_info()
    assert set(info.symbols) == {BTC, ETH}
    assert (await m.open_interest(BTC)).open_interest == 0
    # the generic entry point: any endpoint, raw JSON
    assert (await m.request("GET", "/fapi/v2/ticker/price", {"symbol": ETH}))["symbol"] == ETH
    funding = await m.funding_info()
    assert {row["symbol"] for row in funding} == {BTC, ETH} and all(row["fundingIntervalHours"] == 8
                                                                   for row in funding)


async def orders_and_batches(m, t):
    # a maker's ladder, placed in one batch
    placed = await m.batch_orders([
        {"symbol": BTC, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.5", "price": "50010"},
        {"symbol": BTC, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.5", "price": "50020"},
        {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.5", "price": "49990"},
        {"symbol": BTC, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.0001",
         "price": "49980"},                                   # finer than the 0.001 step: refused alone
    ])
    assert [type(x) for x in placed[:3]] == [type(placed[0])] * 3 and placed[0].status == "NEW"
    assert isinstance(placed[3], BinanceAPIError) and placed[3].code == -1111
    ask1, ask2, bid1 = placed[:3]
    # moved in one batch: the second ask down one level
    moved = await m.modify_batch_orders([{"symbol": BTC, "orderId": ask2.order_id, "side": "SELL",
                                          "quantity": "0.4", "price": "50015"}])
    assert moved[0].price == Decimal("50015") and moved[0].orig_qty == Decimal("0.4")
    # one order modified on its own
    bid1 = await m.modify_order(BTC, "BUY", "0.6", "49995", order_id=bid1.order_id)
    assert bid1.price == Decimal("49995") and bid1.orig_qty == Decimal("0.6")
    assert (await m.get_open_order(BTC, order_id=bid1.order_id)).status == "NEW"
    depth = await m.depth(BTC, 5)
    assert depth.bids == [(Decimal("49995.0"), Decimal("0.600"))]
    assert depth.asks == [(Decimal("50010.0"), Decimal("0.500")), (Decimal("50015.0"), Decimal("0.400"))]
    # validation only: nothing rests
    probe = await t.test_order(BTC, "BUY", "LIMIT", "0.01", "40000", time_in_force="GTC")
    assert probe["symbol"] == BTC and probe["origQty"] == "0.010" and await t.open_orders(BTC) == []
    # the taker buys through the first ask
    fill = await t.new_order(BTC, "BUY", "MARKET", "0.6")
    assert fill.status == "FILLED" and fill.avg_price > Decimal("50010")
    assert (await t.get_order(BTC, order_id=fill.order_id)).executed_qty == Decimal("0.6")
    trades = await t.user_trades(BTC)
    assert [(x.price, x.qty) for x in trades] == [(Decimal("50010"), Decimal("0.5")),
                                                   (Decimal("50015"), Decimal("0.1"))]
    assert [x.price for x in await m.trades(BTC)] == [Decimal("50010"), Decimal("50015")]
    assert [x.price for x in await m.historical_trades(BTC)] == [Decimal("50010"), Decimal("50015")]
    assert sum(a.qty for a in await m.agg_trades(BTC)) == Decimal("0.6")
    # cancel in a batch, one by one, and all at once
    extra = await m.new_order(BTC, "BUY", "LIMIT", "0.1", "49000", new_client_order_id="extra-1")
    gone = await m.cancel_batch_orders(BTC, order_ids=[extra.order_id, 987654321])
    assert gone[0].status == "CANCELED" and isinstance(gone[1], BinanceAPIError) and gone[1].code == -2011
    assert (await m.cancel_order(BTC, order_id=ask2.order_id)).status == "CANCELED"
    assert (await m.open_orders(BTC))[0].order_id == bid1.order_id
    assert (await m.cancel_all(BTC))["code"] == 200
    assert await m.open_orders(BTC) == []
    history = await m.all_orders(BTC)
    assert {o.order_id: o.status for o in history} == {
        ask1.order_id: "FILLED", ask2.order_id: "CANCELED", bid1.order_id: "CANCELED", extra.order_id: "CANCELED"}
    # the dead-man switch: armed, then disarmed
    armed = await m.countdown_cancel_all(BTC, 60_000)
    assert armed["symbol"] == BTC and int(armed["countdownTime"]) == 60_000
    assert int((await m.countdown_cancel_all(BTC, 0))["countdownTime"]) == 0


async def algo_orders(t):
    # the taker is long 0.6 BTC: a stop-loss and a take-profit through the algo API
    sl = await t.new_algo_order(BTC, "SELL", "STOP_MARKET", trigger_price="45000", close_position=True,
                                working_type="MARK_PRICE", client_algo_id="sl-1")
    tp = await t.new_algo_order(BTC, "SELL", "TAKE_PROFIT_MARKET", trigger_price="56000", close_position=True,
                                working_type="MARK_PRICE")
    assert sl.algo_status == "NEW" and sl.trigger_price == Decimal("45000")
    assert (await t.get_algo_order(client_algo_id="sl-1")).algo_id == sl.algo_id
    assert {a.algo_id for a in await t.open_algo_orders(BTC)} == {sl.algo_id, tp.algo_id}
    await t.cancel_algo_order(algo_id=tp.algo_id)
    assert [a.algo_id for a in await t.open_algo_orders(BTC)] == [sl.algo_id]
    assert (await t.cancel_all_algo_orders(BTC))["code"] == 200
    assert await t.open_algo_orders(BTC) == []
    assert {a.algo_id: a.algo_status for a in await t.all_algo_orders(BTC)} == {
        sl.algo_id: "CANCELED", tp.algo_id: "CANCELED"}


async def account_and_settings(srv, m, t, taker_id):
    acct = await t.account()
    assert acct.total_wallet_balance < Decimal("20000")                 # the taker fee
    assert [b.asset for b in await t.balance() if b.balance] == ["USDT"]
    pos = [p for p in await t.position_risk(BTC) if p.position_amt]
    assert len(pos) == 1 and pos[0].position_amt == Decimal("0.6")
    rates = await t.commission_rate(BTC)
    assert (rates.maker, rates.taker) == (Decimal("0.0002"), Decimal("0.0005"))
    brackets = await t.leverage_bracket(BTC)
    assert brackets[0]["symbol"] == BTC and brackets[0]["brackets"][0]["initialLeverage"] == 150
    quantiles = await t.adl_quantile(BTC)
    assert quantiles[0]["symbol"] == BTC and set(quantiles[0]["adlQuantile"]) >= {"LONG", "SHORT", "BOTH"}
    config = await t.account_config()
    assert config["dualSidePosition"] is False and config["canTrade"] is True
    sym_config = await t.symbol_config(BTC)
    assert sym_config[0]["symbol"] == BTC and sym_config[0]["marginType"] == "CROSSED"
    # isolated margin on ETH (no position there), leverage, then margin on the BTC position
    assert (await t.change_margin_type(ETH, "ISOLATED"))["code"] == 200
    assert (await t.symbol_config(ETH))[0]["marginType"] == "ISOLATED"
    assert (await t.change_leverage(BTC, 20))["leverage"] == 20
    await t.new_order(ETH, "BUY", "LIMIT", "1", "2990")      # rests: the isolated ETH side needs a position
    await m.new_order(ETH, "SELL", "MARKET", "1")
    added = await t.position_margin(ETH, "50", 1)
    assert added["code"] == 200 and Decimal(str(added["amount"])) == 50
    eth = [p for p in await t.position_risk(ETH) if p.position_amt][0]
    assert eth.isolated_margin > Decimal("50")
    await t.refused(-4068, "set_position_mode", True)        # positions open: Binance refuses
    assert await m.get_position_mode() is False
    await m.cancel_all(ETH)
    # hedge mode on and off, on an account without positions
    hkey, hsec, _ = await srv.create_account("1000")
    async with srv.client(hkey, hsec) as raw_h:
        h = Recorder(raw_h, m._ran)
        assert (await h.set_position_mode(True))["code"] == 200
        assert await h.get_position_mode() is True
        assert (await h.account_config())["dualSidePosition"] is True
        assert (await h.set_position_mode(False))["code"] == 200
        assert await h.get_position_mode() is False
    assert await t.get_multi_assets_margin() is False
    # single-asset (USDT) margin only: switching it off again is -4171 as on Binance, on is refused
    await t.refused(-4171, "set_multi_assets_margin", False)
    await t.refused(-1000, "set_multi_assets_margin", True)
    income = await t.income(BTC)
    assert {i.income_type for i in income} >= {"COMMISSION"}


async def market_data_after_trading(srv, m, t):
    # a two-sided book for the premium samples, then 8 hours: marks every second, premium
    # samples every minute, one funding settlement
    await m.new_order(BTC, "BUY", "LIMIT", "1", "49900")       # deeper than the impact notional
    await m.new_order(BTC, "SELL", "LIMIT", "1", "50100")
    await srv.advance(8 * HOUR)
    last = await t.premium_index(BTC)
    assert last.symbol == BTC and last.mark_price > 0
    settled = await m.funding_rate(BTC)
    assert len(settled) == 1 and settled[0].funding_time == 1_767_225_600_000 + 8 * HOUR * 1000
    assert any(i.income_type == "FUNDING_FEE" for i in await t.income(BTC))
    for klines in (await m.klines(BTC, "1h"), await m.continuous_klines(BTC, "PERPETUAL", "1h")):
        assert klines[0].open == Decimal("50010") and sum(k.volume for k in klines) == Decimal("0.6")
    assert len(await m.mark_price_klines(BTC, "1h")) >= 8
    assert len(await m.index_price_klines(BTC, "1h")) >= 8
    assert len(await m.premium_index_klines(BTC, "1h")) >= 1
    day = await m.ticker_24hr(BTC)
    assert day.last_price == Decimal("50015") and day.volume == Decimal("0.6")
    assert (await m.ticker_price(BTC)).price == Decimal("50015")
    assert isinstance(await m.book_ticker(), list)
    oi = await m.open_interest(BTC)
    assert oi.open_interest == Decimal("0.6")
    # a liquidation on demand: the taker's cross long (20,000 USDT behind 0.6 BTC bought at
    # ~50,010: liquidated near 17,100), the index collapses
    await srv.set_index_price(BTC, "10000")
    await srv.advance(5)
    forced = await t.force_orders(BTC)
    assert forced and forced[0].side == "SELL" and forced[0].orig_qty == Decimal("0.6"), forced
    assert [p for p in await t.position_risk(BTC) if p.position_amt] == []


async def listen_keys(t):
    key = await t.new_listen_key()
    assert len(key) >= 32
    assert await t.keepalive_listen_key(key) == {"listenKey": key}
    assert await t.close_listen_key(key) == {}
    with pytest.raises(BinanceAPIError) as e:
        await t.keepalive_listen_key(key)
    assert e.value.code == -1125
