"""Liquidation through the venue, with hand-computed numbers (perp-mechanics 4)."""
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract import codes as C
from exchange.contract.commands import (
    CreateAccount, Deposit, FundInsurance, SetIndexPrice, SetLeverage, SetMarginType, SetMarkPrice,
    SetPositionMode,
)
from exchange.contract.events import (
    ForceOrder, Income, InsuranceFundChanged, MarginCall, OrderCanceled, OrderFilled, PositionClosedOut,
)

from conftest import BTC, USDT, limit, lots, market, only, px


def setup(deposits=(100_000, 100_000, 100_000, 100_000)):
    v = Venue(DEFAULT_INSTRUMENTS)
    for a, d in enumerate(deposits, start=1):
        v.apply(0, CreateAccount(a))
        v.apply(0, Deposit(a, d * USDT))
    v.apply(0, SetIndexPrice(BTC, px(60000)))
    return v


def iso_long(v, qty, acct=1, counter=2):
    v.apply(0, SetMarginType(acct, BTC, C.ISOLATED))
    v.apply(0, limit(counter, C.SELL, lots(qty), px(60000)))
    v.apply(0, market(acct, C.BUY, lots(qty)))


def test_isolated_liquidation_prices_worked_example():
    v = setup()
    iso_long(v, 6)
    assert v.accounts[1].positions[(BTC, 0)].iso_wallet == 18_000 * USDT
    assert v.liquidation_price(1, BTC, C.BOTH) == 572_362          # 57,236.18 rounded up
    # the short side: 62,736.32 rounded down
    v.apply(0, SetMarginType(3, BTC, C.ISOLATED))
    v.apply(0, limit(4, C.BUY, lots(6), px(60000)))
    v.apply(0, market(3, C.SELL, lots(6)))
    assert v.liquidation_price(3, BTC, C.BOTH) == 627_363
    row = [r for r in v.position_risk(1) if r["symbol"] == BTC][0]
    assert row["liquidation_price"] == 572_362
    # the index holds the position under its liquidation price
    st = v.symbols[BTC]
    assert (572_362, 1, C.BOTH) in st.liq_falls        # floor(root) + 1 tick


def test_cross_one_way_liquidation_price():
    # maker fee 0.02 % of 360,000 = 72: wallet after the fill 18,000 -> same price as isolated
    v = setup((18_072, 100_000, 100_000, 100_000))
    v.apply(0, limit(1, C.BUY, lots(6), px(60000)))
    v.apply(0, market(2, C.SELL, lots(6)))
    assert v.accounts[1].cross_wallet == 18_000 * USDT
    assert v.liquidation_price(1, BTC, C.BOTH) == 572_362


def test_cross_hedge_shared_liquidation_price():
    # long 6 + short 2 @ 60,000, wallet 18,000 after maker fees 72 + 24:
    # LP = (18,000 + 300 + 0 - 360,000 + 120,000) / (6*0.005 + 2*0.004 - 6 + 2) = 55,956.59
    v = setup((18_096, 100_000, 100_000, 100_000))
    v.apply(0, SetPositionMode(1, 1))
    v.apply(0, SetLeverage(1, BTC, 50))
    v.apply(0, limit(1, C.BUY, lots(6), px(60000), position_side=C.LONG))
    v.apply(0, market(2, C.SELL, lots(6)))
    v.apply(0, limit(1, C.SELL, lots(2), px(60000), position_side=C.SHORT))
    v.apply(0, market(3, C.BUY, lots(2)))
    assert v.accounts[1].cross_wallet == 18_000 * USDT
    assert v.liquidation_price(1, BTC, C.LONG) == v.liquidation_price(1, BTC, C.SHORT) == 559_566


def test_liquidation_with_insurance_fund_gain():
    # isolated long 2 BTC @ 60,000, 20x: wallet 6,000, BP 57,000, LP 57,228.92
    v = setup()
    iso_long(v, 2)
    assert v.liquidation_price(1, BTC, C.BOTH) == 572_290
    v.apply(0, limit(1, C.SELL, lots(1), px(61000)))      # an open order: canceled by the liquidation
    v.apply(0, limit(3, C.BUY, lots(5), px(57100)))
    ev = v.apply(1, SetMarkPrice(BTC, px(57230)))
    assert not only(ev, ForceOrder)                         # above the liquidation price
    ev = v.apply(2, SetMarkPrice(BTC, px(57200)))
    mc = only(ev, MarginCall)
    assert [(m.account_id, m.qty, m.isolated_wallet) for m in mc] == [(1, 2000, 6_000 * USDT)]
    assert [(c.account_id, c.reason) for c in only(ev, OrderCanceled)] == [(1, C.CANCEL_LIQUIDATION)]
    fo = only(ev, ForceOrder)
    assert fo == [ForceOrder(BTC, fo[0].order_id, 1, C.SELL, C.BOTH, px(57000), 2000, 2000, 114_200 * USDT,
                             C.FILLED)]
    fills = only(ev, OrderFilled)
    assert [(f.account_id, f.price, f.qty, f.fee) for f in fills] == [
        (1, px(57100), 2000, 0), (3, px(57100), 2000, 2284 * 10**6)]
    # 6,000 - 5,800 loss = 200 left: the clearance fee (1.25 % x 114,200 = 1,427.50) is capped at 200
    assert [i.amount for i in only(ev, Income) if i.income_type == C.I_INSURANCE_CLEAR] == [-200 * USDT]
    assert v.insurance_fund == 200 * USDT
    assert v.accounts[1].positions[(BTC, 0)].qty == 0
    assert v.accounts[1].cross_wallet == (100_000 - 60 - 6_000) * USDT
    assert v.money_identity()["balanced"]
    assert v.order(1, BTC, fo[0].order_id)["client_order_id"].startswith("autoclose-")


def test_liquidation_deficit_drawn_from_insurance_fund():
    v = setup()
    iso_long(v, 2)
    v.apply(0, FundInsurance(1_000 * USDT))
    v.apply(0, limit(3, C.BUY, lots(5), px(56900)))
    ev = v.apply(1, SetMarkPrice(BTC, px(56950)))          # gap through the bankruptcy price
    fo = only(ev, ForceOrder)[0]
    assert (fo.price, fo.filled_qty, fo.status) == (px(57000), 0, C.EXPIRED)
    co = only(ev, PositionClosedOut)
    assert [(c.account_id, c.kind, c.price, c.qty, c.realized_pnl) for c in co] == [
        (1, C.CLOSE_TAKEOVER, px(57000), 2000, -6_000 * USDT)]
    f = only(ev, InsuranceFundChanged)
    assert [(x.reason, x.change) for x in f] == [(C.F_TAKEOVER, -200 * USDT)]      # sold at 56,900: 100 x 2
    assert v.insurance_fund == 800 * USDT
    assert v.accounts[3].positions[(BTC, 0)].qty == 2000
    assert v.money_identity()["balanced"]


def test_auto_deleveraging_when_the_fund_cannot_cover():
    v = setup()
    iso_long(v, 2)                                           # account 2 is short 2 @ 60,000
    v.apply(0, limit(2, C.BUY, lots(1), px(50000)))          # account 2's order: canceled by ADL
    v.apply(0, limit(3, C.BUY, lots(5), px(56900)))
    q = v.adl_quantiles(BTC)
    assert q[(1, C.BOTH)] == 4 and q[(2, C.BOTH)] == 4       # one position per side
    ev = v.apply(1, SetMarkPrice(BTC, px(56950)))
    co = only(ev, PositionClosedOut)
    assert [(c.account_id, c.kind, c.side, c.price, c.qty, c.realized_pnl, c.counter_account_id) for c in co] == [
        (2, C.CLOSE_ADL, C.BUY, px(57000), 2000, 6_000 * USDT, 1),
        (1, C.CLOSE_ADL, C.SELL, px(57000), 2000, -6_000 * USDT, 2)]
    assert (2, C.CANCEL_LIQUIDATION) in [(c.account_id, c.reason) for c in only(ev, OrderCanceled)]
    assert v.accounts[2].positions[(BTC, 0)].qty == 0 and v.accounts[1].positions[(BTC, 0)].qty == 0
    assert v.insurance_fund == 0 and v.money_identity()["balanced"]


def test_cross_account_liquidated_and_nobody_left_below_maintenance():
    v = setup((3_000, 100_000, 100_000, 100_000))
    v.apply(0, SetLeverage(1, BTC, 50))
    v.apply(0, limit(2, C.SELL, lots(2), px(60000)))
    v.apply(0, market(1, C.BUY, lots(2)))                    # 120,000 notional on ~3,000
    v.apply(0, limit(3, C.BUY, lots(10), px(58000)))
    lp = v.liquidation_price(1, BTC, C.BOTH)
    ev = v.apply(1, SetMarkPrice(BTC, lp + 5))
    assert not only(ev, ForceOrder)
    ev = v.apply(2, SetMarkPrice(BTC, lp - 1))
    assert only(ev, ForceOrder)
    assert v.accounts[1].positions[(BTC, 0)].qty == 0
    assert v.accounts[1].cross_wallet >= 0
    assert v.money_identity()["balanced"]


def test_partial_liquidation_to_lower_bracket():
    # isolated long 6 BTC: 343,200 at mark 57,200 is bracket 2 -> first an IOC down to 300,000 (5.244 BTC)
    v = setup()
    iso_long(v, 6)
    v.apply(0, limit(3, C.BUY, lots(10), px(57100)))
    ev = v.apply(1, SetMarkPrice(BTC, px(57200)))
    fos = only(ev, ForceOrder)
    assert fos[0].qty == 756 and fos[0].price == px(57000)
    assert v.accounts[1].positions[(BTC, 0)].qty == 0 or not v._iso_liquidatable(
        v.accounts[1].positions[(BTC, 0)], v.symbols[BTC])
    assert v.money_identity()["balanced"]
