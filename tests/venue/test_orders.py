"""Order acceptance: filters, client order ids, reduce-only, margin, cancel and modify."""
import dataclasses
from decimal import Decimal

import pytest

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract import codes as C
from exchange.contract.commands import (
    CancelAllOrders, CancelOrder, CreateAccount, Deposit, ModifyOrder, NewOrder, SetIndexPrice,
    SetLeverage, SetPositionMode,
)
from exchange.contract.events import (
    CommandRejected, OrderAccepted, OrderCanceled, OrderExpired, OrderFilled, OrderModified,
    OrderRejected,
)

from conftest import BTC, USDT, kinds, limit, lots, market, only, px


def rejected(ev):
    assert len(ev) == 1 and isinstance(ev[0], (OrderRejected, CommandRejected)), ev
    return ev[0].code, ev[0].msg


def accepted(ev):
    assert isinstance(ev[0], OrderAccepted), ev
    return ev[0].order_id


def test_order_ids_are_sequential_and_client_id_assigned(venue):
    a = venue.apply(1, limit(1, C.BUY, lots("0.01"), px(49000)))
    b = venue.apply(1, limit(1, C.BUY, lots("0.01"), px(49000), client_order_id="mine-1"))
    assert (a[0].order_id, b[0].order_id) == (1, 2)
    assert a[0].client_order_id == "pex1" and b[0].client_order_id == "mine-1"


@pytest.mark.parametrize("order,code,msg", [
    (limit(1, C.BUY, 0, px(50000)), -4003, "Quantity less than or equal to zero."),
    (limit(1, C.BUY, 10, 0), -4001, "Price less than 0."),
    (limit(1, C.BUY, 10, 5567), -4013, "Price less than min price."),          # minPrice 556.80
    (limit(1, C.SELL, 10, 45_297_641), -4002, "Price greater than max price."),  # maxPrice 4529764
    (limit(1, C.BUY, 1_000_001, px(50000)), -4005, "Quantity greater than max quantity."),
    (market(1, C.BUY, 120_001), -4005, "Quantity greater than max quantity."),  # MARKET_LOT_SIZE 120
    (NewOrder(1, BTC, C.BUY, C.MARKET, C.GTC, 10, px(50000)), -1106, "Parameter 'price' sent when not required."),
    (limit(1, C.BUY, 10, px("52500.1")), -4016, "Limit price can't be higher than 52500.00."),
    (limit(1, C.SELL, 10, px("47499.9")), -4024, "Limit price can't be lower than 47500.00."),
    (limit(1, C.BUY, 1, px("49999.9")), -4164,
     "Order's notional must be no smaller than 50 (unless you choose reduce only)."),
    (limit(1, 2, 10, px(50000)), -1117, "Invalid side."),
    (NewOrder(1, BTC, C.BUY, 7, C.GTC, 10, px(50000)), -1116, "Invalid orderType."),
    (limit(1, C.BUY, 10, px(50000), tif=9), -1115, "Invalid timeInForce."),
    (limit(1, C.BUY, 10, px(50000), position_side=5), -4060, "Invalid position side."),
    (limit(1, C.BUY, 10, px(50000), position_side=C.LONG), -4061,
     "Order's position side does not match user's setting."),
    (limit(1, C.BUY, 10, px(50000), symbol="XYZUSDT"), -1121, "Invalid symbol."),
    (limit(99, C.BUY, 10, px(50000)), -1109, "Invalid account."),
    (limit(1, C.BUY, 10, px(50000), client_order_id="bad id!"), -4015, "Client order id is not valid."),
    (limit(1, C.BUY, 10, px(50000), client_order_id="x" * 37), -4015, "Client order id is not valid."),
])
def test_filters_answer_with_binance_codes(venue, order, code, msg):
    before = venue.state_digest()
    assert rejected(venue.apply(1, order)) == (code, msg)
    assert venue.state_digest() == before


def test_min_notional_boundary_and_reduce_only_waiver(venue):
    accepted(venue.apply(1, limit(1, C.BUY, 1, px(50000))))          # exactly 50 USDT
    venue.apply(1, limit(2, C.SELL, 1, px(50000)))                   # fills it: account 1 long 0.001
    ev = venue.apply(1, limit(1, C.SELL, 1, px(49000), reduce_only=1))   # 49 USDT, reduce-only
    accepted(ev)


def test_min_qty_filter():
    inst = dataclasses.replace(DEFAULT_INSTRUMENTS[BTC], min_qty=Decimal("0.010"),
                               market_min_qty=Decimal("0.010"), max_num_orders=2)
    v = Venue([inst])
    v.apply(0, CreateAccount(1))
    v.apply(0, Deposit(1, 100_000 * USDT))
    assert rejected(v.apply(1, limit(1, C.BUY, 9, px(50000)))) == (-4004, "Quantity less than min quantity.")
    assert rejected(v.apply(1, market(1, C.BUY, 9))) == (-4004, "Quantity less than min quantity.")
    accepted(v.apply(1, limit(1, C.BUY, 10, px(50000))))
    accepted(v.apply(1, limit(1, C.BUY, 10, px(50000))))
    assert rejected(v.apply(1, limit(1, C.BUY, 10, px(50000)))) == (-2025, "Reach max open order limit.")


def test_client_order_id_unique_among_open_orders(venue):
    oid = accepted(venue.apply(1, limit(1, C.BUY, 10, px(49000), client_order_id="abc")))
    assert rejected(venue.apply(1, limit(1, C.BUY, 10, px(49000), client_order_id="abc"))) == \
        (-4116, "clientOrderId is duplicated")
    # another account may use it
    accepted(venue.apply(1, limit(2, C.BUY, 10, px(49000), client_order_id="abc")))
    # cancel by client id, then the id is free again
    ev = venue.apply(2, CancelOrder(1, BTC, 0, "abc"))
    assert isinstance(ev[0], OrderCanceled) and ev[0].order_id == oid
    assert venue.order(1, BTC, client_order_id="abc")["status"] == C.CANCELED
    oid2 = accepted(venue.apply(3, limit(1, C.BUY, 10, px(49000), client_order_id="abc")))
    assert venue.order(1, BTC, client_order_id="abc")["order_id"] == oid2
    assert venue.order(1, BTC, order_id=oid)["status"] == C.CANCELED


def test_cancel_unknown_and_foreign_orders(venue):
    oid = accepted(venue.apply(1, limit(1, C.BUY, 10, px(49000))))
    assert rejected(venue.apply(2, CancelOrder(2, BTC, oid))) == (-2011, "Unknown order sent.")
    assert rejected(venue.apply(2, CancelOrder(1, BTC, 12345))) == (-2011, "Unknown order sent.")
    assert rejected(venue.apply(2, CancelOrder(1, "ETHUSDT", oid))) == (-2011, "Unknown order sent.")
    ev = venue.apply(2, CancelOrder(1, BTC, oid))
    # the event carries the order as the wire shows it (no subscriber asks the venue)
    assert ev == [OrderCanceled(oid, 1, BTC, 10, C.CANCEL_USER, C.BUY, C.BOTH, 0, 0, f"pex{oid}", C.LIMIT,
                                C.GTC, px(49000), 10, 0, C.STP_NONE)]
    assert rejected(venue.apply(2, CancelOrder(1, BTC, oid))) == (-2011, "Unknown order sent.")
    assert venue.account(1)["open_order_initial_margin"] == 0


def test_cancel_all(venue):
    for p in (49000, 49100, 49200):
        venue.apply(1, limit(1, C.BUY, 10, px(p)))
    venue.apply(1, limit(1, C.BUY, 10, 290_000, symbol="ETHUSDT"))
    ev = venue.apply(2, CancelAllOrders(1, BTC))
    assert [e.order_id for e in ev] == [1, 2, 3] and all(e.reason == C.CANCEL_ALL for e in ev)
    assert [o["symbol"] for o in venue.open_orders(1)] == ["ETHUSDT"]
    assert venue.apply(3, CancelAllOrders(1, BTC)) == []
    assert venue.book(BTC).best_bid() is None


def test_gtx_and_fok_refusals_record_nothing(venue):
    venue.apply(1, limit(2, C.SELL, lots("0.1"), px(50000)))
    before = venue.state_digest()
    assert rejected(venue.apply(2, limit(1, C.BUY, lots("0.1"), px(50000), tif=C.GTX)))[0] == -5022
    assert rejected(venue.apply(2, limit(1, C.BUY, lots("0.2"), px(50000), tif=C.FOK))) == (
        -5021, "Due to the order could not be filled immediately, the FOK order has been rejected.")
    assert venue.state_digest() == before
    ev = venue.apply(3, limit(1, C.BUY, lots("0.1"), px(50000), tif=C.FOK))
    assert kinds(ev)[:2] == ["OrderAccepted", "OrderFilled"]
    accepted(venue.apply(3, limit(1, C.BUY, lots("0.1"), px(49000), tif=C.GTX)))


def test_market_take_bound(venue):
    # a resting ask 5.2 % above mark: a market buy may not reach it
    venue.apply(1, limit(2, C.SELL, lots("0.1"), px(52600)))
    assert rejected(venue.apply(2, market(1, C.BUY, lots("0.1"))))[0] == -4131
    venue.apply(3, limit(3, C.SELL, lots("0.1"), px(52000)))
    ev = venue.apply(4, market(1, C.BUY, lots("0.2")))
    # fills 0.1 at 52,000, the rest would cross the 52,500 bound: expires
    assert [(f.price, f.qty) for f in only(ev, OrderFilled) if f.account_id == 1] == [(px(52000), 100)]
    e = only(ev, OrderExpired)[0]
    assert (e.remaining, e.reason) == (100, C.ER_MARKET_NOT_FILLED)


def test_margin_insufficient():
    v = Venue(DEFAULT_INSTRUMENTS)
    v.apply(0, CreateAccount(4))
    v.apply(0, Deposit(4, 1000 * USDT))
    v.apply(0, SetIndexPrice(BTC, px(50000)))
    # leverage 20: 0.4 BTC @ 50,000 = 20,000 USDT -> IM 1,000 = the whole wallet
    assert rejected(v.apply(1, limit(4, C.BUY, 401, px(50000)))) == (-2019, "Margin is insufficient.")
    oid = accepted(v.apply(1, limit(4, C.BUY, 400, px(50000))))
    assert v.account(4)["available_balance"] == 0
    assert rejected(v.apply(1, limit(4, C.BUY, 1, px(50000))))[0] == -2019
    v.apply(2, CancelOrder(4, BTC, oid))
    # open loss: a sell 1,000 below mark costs IM 931 + open loss 0.38 x 1,000 = 1,311 > 1,000
    assert rejected(v.apply(3, limit(4, C.SELL, 380, px(49000))))[0] == -2019
    # the same buy has no open loss: 931 <= 1,000
    accepted(v.apply(3, limit(4, C.BUY, 380, px(49000))))
    assert v.account(4)["open_order_initial_margin"] == 931 * USDT
    # a sell now nets against the resting buy (one-way): max(|0+18,620|, |0-18,620|)/20 -> no extra IM
    accepted(v.apply(4, limit(4, C.SELL, 380, px(51000))))


def test_max_position_at_leverage(venue):
    venue.apply(0, Deposit(1, 1_000_000 * USDT))
    venue.apply(0, SetLeverage(1, BTC, 150))      # 150x -> max notional 300,000 USDT
    assert rejected(venue.apply(1, limit(1, C.BUY, 6001, px(50000)))) == (
        -2027, "Exceeded the maximum allowable position at current leverage.")
    accepted(venue.apply(1, limit(1, C.BUY, 6000, px(50000))))
    assert rejected(venue.apply(1, limit(1, C.BUY, 1, px(50000))))[0] == -2027


def test_reduce_only_rules(venue):
    # no position: reduce-only refused either way
    assert rejected(venue.apply(1, limit(1, C.SELL, 10, px(50000), reduce_only=1))) == (
        -2022, "ReduceOnly Order is rejected.")
    venue.apply(1, limit(2, C.SELL, lots("0.1"), px(50000)))
    venue.apply(1, limit(1, C.BUY, lots("0.1"), px(50000)))       # account 1 long 0.1
    assert rejected(venue.apply(2, limit(1, C.BUY, 10, px(49000), reduce_only=1)))[0] == -2022
    assert rejected(venue.apply(2, limit(1, C.SELL, 101, px(51000), reduce_only=1)))[0] == -2022
    ro1 = accepted(venue.apply(2, limit(1, C.SELL, 60, px(51000), reduce_only=1)))
    assert rejected(venue.apply(2, limit(1, C.SELL, 41, px(51000), reduce_only=1)))[0] == -2022
    ro2 = accepted(venue.apply(2, limit(1, C.SELL, 40, px(51000), reduce_only=1)))
    # reduce-only orders need no margin
    assert venue.account(1)["open_order_initial_margin"] == 0
    # closing the position with a plain order knocks the reduce-only orders out, newest first
    venue.apply(3, limit(3, C.BUY, lots("0.1"), px(50000)))
    ev = venue.apply(3, limit(1, C.SELL, lots("0.1"), px(50000)))
    exp = only(ev, OrderExpired)
    assert [(e.order_id, e.reason) for e in exp] == [(ro2, C.ER_REDUCE_ONLY), (ro1, C.ER_REDUCE_ONLY)]
    assert kinds(ev)[-4:] == ["BalanceChanged", "PositionChanged", "BalanceChanged", "PositionChanged"]
    assert venue.open_orders(1) == []


def test_reduce_only_partial_knockout(venue):
    venue.apply(1, limit(2, C.SELL, lots("0.1"), px(50000)))
    venue.apply(1, limit(1, C.BUY, lots("0.1"), px(50000)))       # long 0.1
    ro1 = accepted(venue.apply(2, limit(1, C.SELL, 50, px(51000), reduce_only=1)))
    ro2 = accepted(venue.apply(2, limit(1, C.SELL, 50, px(51500), reduce_only=1)))
    venue.apply(3, limit(3, C.BUY, 40, px(50000)))
    ev = venue.apply(3, limit(1, C.SELL, 40, px(50000)))          # long 0.06 left: 50 + 50 no longer fit
    assert [e.order_id for e in only(ev, OrderExpired)] == [ro2]
    assert [o["order_id"] for o in venue.open_orders(1)] == [ro1]


def test_hedge_mode_orders(venue):
    venue.apply(0, SetPositionMode(1, 1))
    assert rejected(venue.apply(1, limit(1, C.BUY, 10, px(50000))))[0] == -4061
    assert rejected(venue.apply(1, limit(1, C.BUY, 10, px(50000), position_side=C.LONG, reduce_only=1))) == (
        -1106, "Parameter 'reduceonly' sent when not required.")
    # closing a LONG that does not exist is refused
    assert rejected(venue.apply(1, limit(1, C.SELL, 10, px(50000), position_side=C.LONG)))[0] == -2022
    venue.apply(1, limit(2, C.SELL, lots("0.1"), px(50000)))
    venue.apply(2, limit(1, C.BUY, lots("0.1"), px(50000), position_side=C.LONG))
    venue.apply(2, limit(3, C.BUY, lots("0.1"), px(50000)))
    venue.apply(3, limit(1, C.SELL, lots("0.1"), px(50000), position_side=C.SHORT))
    p = {(r["position_side"]): r["qty"] for r in venue.position_risk(1)}
    assert p == {C.LONG: 100, C.SHORT: -100}
    # SELL + LONG closes the long
    venue.apply(4, limit(3, C.BUY, lots("0.1"), px(50100)))
    ev = venue.apply(4, limit(1, C.SELL, lots("0.1"), px(50100), position_side=C.LONG))
    f = [x for x in only(ev, OrderFilled) if x.account_id == 1][0]
    assert f.realized_pnl == 10 * USDT and f.position_side == C.LONG
    assert venue.accounts[1].positions[(BTC, C.LONG)].qty == 0
    assert venue.accounts[1].positions[(BTC, C.SHORT)].qty == -100


def test_modify(venue):
    oid = accepted(venue.apply(1, limit(1, C.BUY, lots("0.1"), px(49000))))
    assert rejected(venue.apply(2, ModifyOrder(1, BTC, oid, px(49000), lots("0.1")))) == (
        -5027, "No need to modify the order.")
    assert rejected(venue.apply(2, ModifyOrder(1, BTC, 777, px(49000), 10))) == (-2013, "Order does not exist.")
    assert rejected(venue.apply(2, ModifyOrder(1, BTC, oid, px(53000), 100)))[0] == -4016
    ev = venue.apply(3, ModifyOrder(1, BTC, oid, px(49500), lots("0.2")))
    assert ev == [OrderModified(oid, 1, BTC, px(49500), 200, 0, C.BUY, C.BOTH, 0, f"pex{oid}", C.LIMIT, C.GTC, 0,
                                C.STP_NONE)]
    assert venue.account(1)["open_order_initial_margin"] == 200 * px(49500) * 10_000 // 20
    # a modify that crosses trades as a taker
    venue.apply(4, limit(2, C.SELL, lots("0.05"), px(50000)))
    ev = venue.apply(5, ModifyOrder(1, BTC, oid, px(50000), lots("0.2")))
    assert kinds(ev)[:2] == ["OrderModified", "OrderFilled"]
    f = only(ev, OrderFilled)[0]
    assert (f.order_id, f.is_maker, f.qty, f.filled_qty) == (oid, 0, 50, 50)
    # new quantity not above the filled quantity cancels the order
    ev = venue.apply(6, ModifyOrder(1, BTC, oid, px(50000), 50))
    assert kinds(ev) == ["OrderModified", "OrderCanceled"]
    assert ev[1].reason == C.CANCEL_MODIFY_FILLED
    assert venue.order(1, BTC, order_id=oid)["status"] == C.CANCELED
    assert venue.account(1)["open_order_initial_margin"] == 0


def test_percent_price_band_follows_the_mark(venue):
    # the band is kept per symbol and made again when the mark moves: checked at 50,000,
    # then at 60,000 (a buy the old cap refused passes, a sell the old floor allowed is
    # refused at the new floor), then back at 50,000
    assert rejected(venue.apply(1, limit(1, C.BUY, 10, px("52500.1")))) == (
        -4016, "Limit price can't be higher than 52500.00.")
    venue.apply(2, SetIndexPrice(BTC, px(60000)))
    assert venue.symbols[BTC].mark == px(60000)
    accepted(venue.apply(3, limit(1, C.BUY, 10, px("52500.1"))))
    assert rejected(venue.apply(4, limit(2, C.SELL, 10, px("56999.9")))) == (
        -4024, "Limit price can't be lower than 57000.00.")
    venue.apply(5, SetIndexPrice(BTC, px(50000)))
    assert rejected(venue.apply(6, limit(1, C.BUY, 10, px("52500.1")))) == (
        -4016, "Limit price can't be higher than 52500.00.")
    accepted(venue.apply(7, limit(2, C.SELL, 10, px("56999.9"))))
