"""Conditional orders and isolated margin transfers."""
from exchange.contract import codes as C
from exchange.contract.commands import (
    AdjustIsolatedMargin, CancelOrder, NewOrder, SetMarginType, SetMarkPrice,
)
from exchange.contract.events import (
    CommandRejected, OrderAccepted, OrderExpired, OrderFilled, OrderRejected, OrderTriggered,
    PositionMarginChanged,
)

from conftest import BTC, USDT, limit, lots, market, only, px


def cond(account, side, otype, qty, stop, price=0, **kw):
    return NewOrder(account, BTC, side, otype, C.GTC, qty, price, stop_price=stop, **kw)


def test_stop_market_fires_on_mark_and_immediate_trigger_is_refused(venue):
    ev = venue.apply(1, cond(1, C.SELL, C.STOP_MARKET, lots(1), px(50100), working_type=C.MARK_PRICE))
    assert ev[0].code == -2021 and ev[0].msg == "Order would immediately trigger."
    ev = venue.apply(1, cond(1, C.BUY, C.STOP_MARKET, lots(1), px(50500), working_type=C.MARK_PRICE,
                             client_order_id="s1"))
    acc = ev[0]
    assert isinstance(acc, OrderAccepted) and acc.order_type == C.STOP_MARKET and acc.stop_price == px(50500)
    assert venue.open_orders(1)[0]["stop_price"] == px(50500)
    venue.apply(2, limit(2, C.SELL, lots(1), px(50600)))
    assert not only(venue.apply(3, SetMarkPrice(BTC, px(50499))), OrderTriggered)
    ev = venue.apply(4, SetMarkPrice(BTC, px(50500)))
    trig = only(ev, OrderTriggered)
    assert trig and trig[0].order_id == acc.order_id and trig[0].new_order_id > acc.order_id
    fills = only(ev, OrderFilled)
    assert fills[0].account_id == 1 and fills[0].price == px(50600)
    assert venue.order(1, BTC, acc.order_id)["status"] == C.TRIGGERED
    assert venue.accounts[1].positions[(BTC, 0)].qty == lots(1)


def test_take_profit_limit_on_contract_price_and_cancel(venue):
    venue.apply(0, limit(2, C.SELL, lots(1), px(50000)))
    venue.apply(0, market(1, C.BUY, lots(1)))                 # last price 50,000; account 1 long 1
    ev = venue.apply(1, cond(1, C.SELL, C.TAKE_PROFIT, lots(1), px(50200), price=px(50150), reduce_only=1))
    tp = ev[0].order_id
    ev = venue.apply(1, cond(1, C.SELL, C.TAKE_PROFIT, lots(1), px(50300), price=px(50250), reduce_only=1))
    other = ev[0].order_id
    assert [type(e) for e in venue.apply(2, CancelOrder(1, BTC, other))] != [CommandRejected]
    venue.apply(3, limit(3, C.BUY, lots(2), px(50150)))
    venue.apply(3, limit(2, C.SELL, lots("0.1"), px(50200)))   # rests above the bid
    ev = venue.apply(4, limit(3, C.BUY, lots("0.1"), px(50200)))   # trade at 50,200: the TP fires
    trig = only(ev, OrderTriggered)
    assert [(t.order_id, t.trigger_price) for t in trig] == [(tp, px(50200))]
    fills = [f for f in only(ev, OrderFilled) if f.account_id == 1]
    assert [(f.price, f.qty) for f in fills] == [(px(50150), lots(1))]
    assert venue.accounts[1].positions[(BTC, 0)].qty == 0
    assert venue.order(1, BTC, tp)["new_order_id"] == trig[0].new_order_id


def test_trailing_stop_and_close_position(venue):
    venue.apply(0, limit(2, C.SELL, lots(1), px(50000)))
    venue.apply(0, market(1, C.BUY, lots(1)))
    ev = venue.apply(1, NewOrder(1, BTC, C.SELL, C.TRAILING_STOP_MARKET, C.GTC, lots(1), 0, 1,
                                 callback_rate=1_000_000, working_type=C.MARK_PRICE))
    ts_id = ev[0].order_id
    ev = venue.apply(1, NewOrder(1, BTC, C.SELL, C.STOP_MARKET, C.GTC, 0, 0, stop_price=px(40000),
                                 close_position=1, working_type=C.MARK_PRICE))
    sl_id = ev[0].order_id
    bad = venue.apply(1, NewOrder(1, BTC, C.SELL, C.STOP_MARKET, C.GTC, 5, 0, stop_price=px(40000),
                                  close_position=1))
    assert bad[0].code == -4137
    bad = venue.apply(1, NewOrder(1, BTC, C.SELL, C.TRAILING_STOP_MARKET, C.GTC, 5, 0, callback_rate=20_000_000))
    assert bad[0].code == -4136
    venue.apply(2, SetMarkPrice(BTC, px(51000)))            # new high
    venue.apply(2, limit(3, C.BUY, lots(2), px(50400)))
    ev = venue.apply(3, SetMarkPrice(BTC, px(50500)))      # pull-back 0.98 % < 1 %: waits
    assert not only(ev, OrderTriggered)
    ev = venue.apply(4, SetMarkPrice(BTC, px(50490)))      # 1 % below 51,000
    trig = only(ev, OrderTriggered)
    assert [t.order_id for t in trig] == [ts_id]
    assert venue.accounts[1].positions[(BTC, 0)].qty == 0
    # the closePosition stop finds no position when it fires: it expires
    ev = venue.apply(5, SetMarkPrice(BTC, px(40000)))
    exp = only(ev, OrderExpired)
    assert [(e.order_id, e.reason) for e in exp] == [(sl_id, C.ER_NO_POSITION)]


def test_isolated_margin_add_and_remove(venue):
    venue.apply(0, SetMarginType(1, BTC, C.ISOLATED))
    rej = venue.apply(0, AdjustIsolatedMargin(1, BTC, C.BOTH, 100 * USDT, 1))
    assert rej[0].code == -4054
    venue.apply(0, limit(2, C.SELL, lots(1), px(50000)))
    venue.apply(0, market(1, C.BUY, lots(1)))                 # iso wallet 2,500
    pos = venue.accounts[1].positions[(BTC, 0)]
    lp0 = venue.liquidation_price(1, BTC, C.BOTH)
    ev = venue.apply(1, AdjustIsolatedMargin(1, BTC, C.BOTH, 500 * USDT, 1))
    assert ev[0] == PositionMarginChanged(1, BTC, C.BOTH, 500 * USDT, 1, 3_000 * USDT)
    assert venue.liquidation_price(1, BTC, C.BOTH) < lp0
    assert venue.apply(1, AdjustIsolatedMargin(1, BTC, C.BOTH, 501 * USDT, 2))[0].code == -4051
    venue.apply(1, AdjustIsolatedMargin(1, BTC, C.BOTH, 500 * USDT, 2))
    assert pos.iso_wallet == 2_500 * USDT
    assert venue.apply(1, AdjustIsolatedMargin(2, BTC, C.BOTH, 5 * USDT, 1))[0].code == -4049
    assert venue.apply(1, AdjustIsolatedMargin(1, BTC, C.BOTH, 10**9 * USDT, 1))[0].code == -4050
    assert venue.money_identity()["balanced"]
