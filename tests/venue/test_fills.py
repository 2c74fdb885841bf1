"""Fills, fees, average entry and realized PnL, with hand-computed numbers.

BTCUSDT: tick 0.10 USDT, lot 0.001 BTC -> one tick x one lot = 0.0001 USDT = 10_000 money units.
Fees: maker 0.02 %, taker 0.05 %.
"""
from exchange.contract import codes as C
from exchange.contract.events import (
    BalanceChanged, Income, OrderExpired, OrderFilled, PositionChanged,
)

from conftest import BTC, ETH, USDT, kinds, limit, lots, market, only, px


def pos(v, account, symbol=BTC, pside=C.BOTH):
    p = v.accounts[account].positions.get((symbol, pside))
    return (p.qty, p.entry, p.realized) if p else (0, 0, 0)


def wallet(v, account):
    return v.accounts[account].cross_wallet


def test_taker_and_maker_fees_and_event_order(venue):
    venue.apply(1, limit(2, C.SELL, lots("1"), px(50000)))
    ev = venue.apply(2, market(1, C.BUY, lots("0.4")))
    assert kinds(ev) == ["OrderAccepted", "OrderFilled", "Income", "OrderFilled", "Income",
                         "BalanceChanged", "PositionChanged", "BalanceChanged", "PositionChanged"]
    taker, maker = only(ev, OrderFilled)
    # 0.4 BTC x 50,000 = 20,000 USDT; taker 0.05 % = 10 USDT, maker 0.02 % = 4 USDT
    assert (taker.account_id, taker.is_maker, taker.fee, taker.qty, taker.price) == (1, 0, 10 * USDT, 400, 500_000)
    assert (maker.account_id, maker.is_maker, maker.fee) == (2, 1, 4 * USDT)
    assert taker.trade_id == maker.trade_id == 1
    assert taker.counter_order_id == maker.order_id and maker.counter_order_id == taker.order_id
    assert taker.status == C.FILLED and maker.status == C.PARTIALLY_FILLED
    assert taker.cum_quote == 20_000 * USDT
    inc = only(ev, Income)
    assert [(i.account_id, i.income_type, i.amount) for i in inc] == [
        (1, C.I_COMMISSION, -10 * USDT), (2, C.I_COMMISSION, -4 * USDT)]
    assert wallet(venue, 1) == (100_000 - 10) * USDT
    assert wallet(venue, 2) == (100_000 - 4) * USDT
    b1 = only(ev, BalanceChanged)[0]
    assert (b1.account_id, b1.reason, b1.wallet_balance, b1.balance_change) == (1, C.R_ORDER, (100_000 - 10) * USDT, 0)
    p1 = only(ev, PositionChanged)[0]
    assert (p1.qty, p1.entry_notional) == (400, 20_000 * USDT)
    assert pos(venue, 2)[0] == -400
    assert venue.fees_collected == 14 * USDT and venue.rounding_residue == 0


def test_average_entry_partial_close_and_flip(venue):
    # account 1 buys 0.4 @ 50,000 (from 2) and 0.6 @ 51,000 (from 3) with one limit order
    venue.apply(1, limit(2, C.SELL, lots("0.4"), px(50000)))
    venue.apply(1, limit(3, C.SELL, lots("0.6"), px(51000)))
    ev = venue.apply(2, limit(1, C.BUY, lots("1"), px(51000)))
    fills = [f for f in only(ev, OrderFilled) if f.account_id == 1]
    assert [(f.price, f.qty) for f in fills] == [(px(50000), 400), (px(51000), 600)]
    # entry notional 20,000 + 30,600 = 50,600 USDT -> average entry 50,600
    assert pos(venue, 1) == (1000, 50_600 * USDT, 0)
    rows = venue.position_risk(1)
    num, den = rows[0]["entry_price"]
    assert num * 1 == 50_600 * USDT and den == 1000 * 10_000      # 50,600 USDT / (1000 lots * unit)
    assert num // den == px(50600)
    # taker fees 10 + 15.3
    assert wallet(venue, 1) == 100_000 * USDT - 2530 * 10**6

    # partial close: sell 0.25 @ 52,000 into account 2's bid (account 2 is short 0.4 @ 50,000)
    venue.apply(3, limit(2, C.BUY, lots("0.25"), px(52000)))
    ev = venue.apply(4, limit(1, C.SELL, lots("0.25"), px(52000)))
    f1 = [f for f in only(ev, OrderFilled) if f.account_id == 1][0]
    f2 = [f for f in only(ev, OrderFilled) if f.account_id == 2][0]
    # account 1: basis removed 50,600 x 0.25 = 12,650; exit 13,000 -> +350
    assert f1.realized_pnl == 350 * USDT
    # account 2: short basis removed 20,000 x 0.25/0.4 = 12,500; cost 13,000 -> -500
    assert f2.realized_pnl == -500 * USDT
    assert pos(venue, 1) == (750, 37_950 * USDT, 350 * USDT)
    assert pos(venue, 2) == (-150, 7_500 * USDT, -500 * USDT)
    pnl_rows = [(i.account_id, i.amount) for i in only(ev, Income) if i.income_type == C.I_REALIZED_PNL]
    assert pnl_rows == [(1, 350 * USDT), (2, -500 * USDT)]

    # flip: account 1 sells 1.0 @ 50,000 into account 3's bid (account 3 is short 0.6 @ 51,000)
    venue.apply(5, limit(3, C.BUY, lots("1"), px(50000)))
    ev = venue.apply(6, limit(1, C.SELL, lots("1"), px(50000)))
    f1 = [f for f in only(ev, OrderFilled) if f.account_id == 1][0]
    f3 = [f for f in only(ev, OrderFilled) if f.account_id == 3][0]
    # account 1 closes 0.75 (basis 37,950) at 37,500 -> -450, opens short 0.25 @ 50,000
    assert f1.realized_pnl == -450 * USDT
    assert pos(venue, 1) == (-250, 12_500 * USDT, -100 * USDT)
    # account 3 closes short 0.6 (basis 30,600) for 30,000 -> +600, opens long 0.4 @ 50,000
    assert f3.realized_pnl == 600 * USDT
    assert pos(venue, 3) == (400, 20_000 * USDT, 600 * USDT)
    # positions net to zero; money identity holds
    assert sum(pos(venue, a)[0] for a in (1, 2, 3)) == 0
    assert venue.money_identity()["balanced"]


def test_fee_rounding_goes_to_residue():
    """ETHUSDT: tick 0.01, lot 0.001 -> unit 1,000 money units.  7 lots @ 3000.01:
    notional 21.00007 USDT = 2,100,007,000; maker fee exact 420,001.4 -> charged 420,002;
    taker exact 1,050,003.5 -> charged 1,050,004; the two fractions go to the residue."""
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    from exchange.venue import Venue
    from exchange.contract.commands import CreateAccount, Deposit
    v = Venue(DEFAULT_INSTRUMENTS)
    for a in (1, 2):
        v.apply(0, CreateAccount(a))
        v.apply(0, Deposit(a, 1000 * USDT))
    v.apply(1, limit(1, C.SELL, 7, 300_001, symbol=ETH))
    ev = v.apply(2, limit(2, C.BUY, 7, 300_001, symbol=ETH))
    taker, maker = only(ev, OrderFilled)
    assert taker.fee == 1_050_004 and maker.fee == 420_002
    assert v.fees_collected == 1_050_003 + 420_001
    assert v.rounding_residue == 2
    assert v.money_identity()["balanced"]


def test_partial_close_rounds_realized_pnl_down():
    """Long 7 (4 @ 3000.01 + 3 @ 3000.02 ETH lots x1000); close 2/7: basis ceil(E*2/7)."""
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    from exchange.venue import Venue
    from exchange.contract.commands import CreateAccount, Deposit
    v = Venue(DEFAULT_INSTRUMENTS)
    for a in (1, 2):
        v.apply(0, CreateAccount(a))
        v.apply(0, Deposit(a, 100_000 * USDT))
    v.apply(1, limit(2, C.SELL, 4000, 300_001, symbol=ETH))
    v.apply(1, limit(2, C.SELL, 3000, 300_002, symbol=ETH))
    v.apply(2, limit(1, C.BUY, 7000, 300_002, symbol=ETH))
    E = 300_001 * 4000 * 1000 + 300_002 * 3000 * 1000
    assert E == 2_100_010_000_000
    assert pos(v, 1, ETH)[:2] == (7000, E)
    v.apply(3, limit(2, C.BUY, 2000, 300_001, symbol=ETH))
    ev = v.apply(4, limit(1, C.SELL, 2000, 300_001, symbol=ETH))
    f1 = [f for f in only(ev, OrderFilled) if f.account_id == 1][0]
    removed = 600_002_857_143                      # ceil(2,100,010,000,000 x 2 / 7)
    assert f1.realized_pnl == 600_002_000_000 - removed == -857_143
    assert pos(v, 1, ETH)[:2] == (5000, E - removed)
    # account 2 was short 7000 with the same basis; its close removes floor(E*2/7)
    f2 = [f for f in only(ev, OrderFilled) if f.account_id == 2][0]
    assert f2.realized_pnl == 600_002_857_142 - 600_002_000_000
    assert v.money_identity()["balanced"]
    # closing everything makes realized PnL exactly zero-sum
    v.apply(5, limit(2, C.BUY, 5000, 300_001, symbol=ETH))
    v.apply(6, limit(1, C.SELL, 5000, 300_001, symbol=ETH))
    assert pos(v, 1, ETH)[0] == pos(v, 2, ETH)[0] == 0
    assert pos(v, 1, ETH)[2] + pos(v, 2, ETH)[2] == 0
    mi = v.money_identity()
    assert mi["open_basis"] == 0 and mi["balanced"]


def test_market_order_without_liquidity_expires(venue):
    ev = venue.apply(1, market(1, C.BUY, lots("0.1")))
    assert kinds(ev) == ["OrderAccepted", "OrderExpired"]
    e = ev[1]
    assert (e.reason, e.status, e.remaining) == (C.ER_MARKET_NOT_FILLED, C.EXPIRED, 100)
    assert venue.order(1, BTC, order_id=ev[0].order_id)["status"] == C.EXPIRED


def test_ioc_remainder_expires_and_stp(venue):
    venue.apply(1, limit(2, C.SELL, lots("0.1"), px(50000)))
    ev = venue.apply(2, limit(1, C.BUY, lots("0.3"), px(50000), tif=C.IOC))
    assert kinds(ev)[:2] == ["OrderAccepted", "OrderFilled"]
    exp = only(ev, OrderExpired)[0]
    assert (exp.remaining, exp.reason, exp.status) == (200, C.ER_IOC, C.EXPIRED)
    # self-trade prevention: EXPIRE_MAKER expires account 1's own resting order
    venue.apply(3, limit(1, C.SELL, lots("0.1"), px(50010)))
    venue.apply(3, limit(2, C.SELL, lots("0.1"), px(50020)))
    ev = venue.apply(4, limit(1, C.BUY, lots("0.1"), px(50020), stp=C.STP_EXPIRE_MAKER))
    exp = only(ev, OrderExpired)[0]
    assert (exp.account_id, exp.reason, exp.status) == (1, C.ER_STP, C.EXPIRED_IN_MATCH)
    f = only(ev, OrderFilled)
    assert {x.account_id for x in f} == {1, 2} and f[0].price == px(50020)
