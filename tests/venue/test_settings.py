"""Account commands: create, deposit, withdraw, leverage, margin type, position mode; isolated margin."""
from exchange.contract import codes as C
from exchange.contract.commands import (
    CancelOrder, CreateAccount, Deposit, SetIndexPrice, SetLeverage, SetMarginType, SetPositionMode,
    Withdraw,
)
from exchange.contract.events import (
    AccountCreated, BalanceChanged, CommandRejected, Income, LeverageChanged, MarginTypeChanged,
    OrderFilled, PositionModeChanged,
)

from conftest import BTC, USDT, limit, lots, only, px


def rej(ev):
    assert len(ev) == 1 and isinstance(ev[0], CommandRejected), ev
    return ev[0].code, ev[0].msg


def small_account(v, aid=4, usdt=1000):
    v.apply(0, CreateAccount(aid))
    v.apply(0, Deposit(aid, usdt * USDT))


def test_create_deposit_withdraw(bare):
    v = bare
    assert v.apply(0, CreateAccount(7)) == [AccountCreated(7)]
    assert rej(v.apply(0, CreateAccount(7)))[0] == -1109
    assert rej(v.apply(0, CreateAccount(0)))[0] == -1109
    assert rej(v.apply(0, Deposit(8, 5)))[0] == -1109
    assert rej(v.apply(0, Deposit(7, 0))) == (-4055, "Amount must be positive.")
    ev = v.apply(0, Deposit(7, 500 * USDT))
    assert ev == [BalanceChanged(7, C.R_DEPOSIT, 500 * USDT, 500 * USDT, 500 * USDT),
                  Income(7, C.I_TRANSFER, "", 500 * USDT, 1, 0)]
    assert rej(v.apply(0, Withdraw(7, 501 * USDT))) == (-2018, "Balance is insufficient.")
    ev = v.apply(0, Withdraw(7, 200 * USDT))
    assert ev[0] == BalanceChanged(7, C.R_WITHDRAW, 300 * USDT, 300 * USDT, -200 * USDT)
    mi = v.money_identity()
    assert (mi["deposits"], mi["withdrawals"], mi["wallets"], mi["balanced"]) == (500 * USDT, 200 * USDT, 300 * USDT, True)


def test_withdraw_respects_margin_needs(venue):
    small_account(venue)
    oid = venue.apply(1, limit(4, C.BUY, 200, px(50000)))[0].order_id    # IM 10,000/20 = 500
    assert venue.account(4)["max_withdraw"] == 500 * USDT
    assert rej(venue.apply(2, Withdraw(4, 501 * USDT)))[0] == -2018
    venue.apply(2, Withdraw(4, 500 * USDT))
    venue.apply(3, CancelOrder(4, BTC, oid))
    assert venue.account(4)["max_withdraw"] == 500 * USDT


def test_withdraw_ignores_positive_upnl(venue):
    small_account(venue)
    venue.apply(1, limit(2, C.SELL, 200, px(50000)))
    venue.apply(1, limit(4, C.BUY, 200, px(50000)))        # long 0.2, IM 500, taker fee 5
    venue.apply(2, SetIndexPrice(BTC, px(51000)))          # UPNL +200, IM 510
    acc = venue.account(4)
    assert acc["cross_upnl"] == 200 * USDT
    assert acc["available_balance"] == (995 + 200 - 510) * USDT
    assert acc["max_withdraw"] == (995 - 510) * USDT


def test_set_leverage(venue):
    assert rej(venue.apply(0, SetLeverage(1, BTC, 0))) == (-4028, "Leverage 0 is not valid")
    assert rej(venue.apply(0, SetLeverage(1, BTC, 151)))[0] == -4028
    assert rej(venue.apply(0, SetLeverage(1, "NOPE", 5)))[0] == -1121
    assert venue.apply(0, SetLeverage(1, BTC, 150)) == [LeverageChanged(1, BTC, 150, 300_000 * USDT)]
    assert venue.apply(0, SetLeverage(1, BTC, 21)) == [LeverageChanged(1, BTC, 21, 70_000_000 * USDT)]
    # a 10 BTC position (500,000 USDT) does not fit the 300,000 cap of 150x
    venue.apply(0, Deposit(1, 1_000_000 * USDT))
    venue.apply(1, limit(2, C.SELL, lots("10"), px(50000)))
    venue.apply(1, limit(1, C.BUY, lots("10"), px(50000)))
    assert rej(venue.apply(2, SetLeverage(1, BTC, 150))) == (
        -2027, "Exceeded the maximum allowable position at current leverage.")
    assert venue.apply(2, SetLeverage(1, BTC, 100))[0].max_notional == 800_000 * USDT


def test_lowering_leverage_needs_margin(venue):
    small_account(venue)
    venue.apply(1, limit(2, C.SELL, 300, px(50000)))
    venue.apply(1, limit(4, C.BUY, 300, px(50000)))        # 15,000 notional, IM 750 at 20x
    assert rej(venue.apply(2, SetLeverage(4, BTC, 10))) == (
        -2028, "Leverage is smaller than permitted: insufficient margin balance.")
    assert venue.account(4)["settings"][BTC]["leverage"] == 20
    assert isinstance(venue.apply(2, SetLeverage(4, BTC, 16))[0], LeverageChanged)   # IM 937.5 < 992.5


def test_margin_type_rules(venue):
    assert rej(venue.apply(0, SetMarginType(1, BTC, C.CROSSED))) == (-4046, "No need to change margin type.")
    oid = venue.apply(1, limit(1, C.BUY, 10, px(49000)))[0].order_id
    assert rej(venue.apply(1, SetMarginType(1, BTC, C.ISOLATED))) == (
        -4047, "Margin type cannot be changed if there exists open orders.")
    venue.apply(1, CancelOrder(1, BTC, oid))
    venue.apply(1, limit(2, C.SELL, 10, px(50000)))
    venue.apply(1, limit(1, C.BUY, 10, px(50000)))
    assert rej(venue.apply(1, SetMarginType(1, BTC, C.ISOLATED))) == (
        -4048, "Margin type cannot be changed if there exists position.")
    assert venue.apply(1, SetMarginType(1, "ETHUSDT", C.ISOLATED)) == [MarginTypeChanged(1, "ETHUSDT", C.ISOLATED)]
    assert rej(venue.apply(1, SetMarginType(1, "ETHUSDT", 5)))[0] == -1130


def test_position_mode_rules(venue):
    assert rej(venue.apply(0, SetPositionMode(1, 0))) == (-4059, "No need to change position side.")
    oid = venue.apply(1, limit(1, C.BUY, 10, px(49000)))[0].order_id
    assert rej(venue.apply(1, SetPositionMode(1, 1))) == (
        -4067, "Position side cannot be changed if there exists open orders.")
    venue.apply(1, CancelOrder(1, BTC, oid))
    venue.apply(1, limit(2, C.SELL, 10, px(50000)))
    venue.apply(1, limit(1, C.BUY, 10, px(50000)))
    assert rej(venue.apply(1, SetPositionMode(1, 1))) == (
        -4068, "Position side cannot be changed if there exists position.")
    assert venue.apply(1, SetPositionMode(3, 1)) == [PositionModeChanged(3, 1)]


def test_isolated_margin_bookkeeping(venue):
    venue.apply(0, SetMarginType(1, BTC, C.ISOLATED))
    venue.apply(0, SetLeverage(1, BTC, 10))
    venue.apply(1, limit(2, C.SELL, lots("1"), px(50000)))
    venue.apply(1, limit(1, C.BUY, lots("1"), px(50000)))
    p = venue.accounts[1].positions[(BTC, C.BOTH)]
    # margin 50,000 / 10 = 5,000 moved to the isolated wallet; taker fee 25 from the cross wallet
    assert p.iso_wallet == 5000 * USDT
    assert venue.accounts[1].cross_wallet == (100_000 - 5000 - 25) * USDT
    assert venue.account(1)["wallet_balance"] == (100_000 - 25) * USDT
    # isolated position margin is not counted against the cross available balance
    assert venue.account(1)["available_balance"] == (100_000 - 5000 - 25) * USDT
    assert rej(venue.apply(2, SetLeverage(1, BTC, 5))) == (
        -4161, "Leverage reduction is not supported in Isolated Margin Mode with open positions.")
    # close half at 51,000: PnL +500 into the isolated wallet, then half of it released
    venue.apply(3, limit(3, C.BUY, lots("0.5"), px(51000)))
    ev = venue.apply(3, limit(1, C.SELL, lots("0.5"), px(51000)))
    assert [f.realized_pnl for f in only(ev, OrderFilled) if f.account_id == 1] == [500 * USDT]
    assert p.iso_wallet == 2750 * USDT
    assert venue.accounts[1].cross_wallet == 9_771_225 * 10**6     # 100,000 - 5,000 - 25 + 2,750 - 12.75
    # close the rest at 49,000: PnL -500, the whole isolated wallet comes back
    venue.apply(4, limit(3, C.BUY, lots("0.5"), px(49000)))
    venue.apply(4, limit(1, C.SELL, lots("0.5"), px(49000)))
    assert p.qty == 0 and p.iso_wallet == 0
    assert venue.accounts[1].cross_wallet == 99_950 * USDT     # 100,000 - 25 - 12.75 - 12.25, PnL +500 - 500
    assert venue.money_identity()["balanced"]
