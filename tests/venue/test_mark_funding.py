"""Mark price rule, premium sampling, funding settlement, pinning, timers (perp-mechanics 1.2, 2)."""
from exchange.engine.runtime import Runtime
from exchange.contract import codes as C
from exchange.contract.commands import (
    RefreshMarkPrice, SamplePremium, SetIndexPrice, SetMarkPrice, SettleFunding,
)
from exchange.contract.events import (
    BalanceChanged, CommandRejected, FundingSettled, Income, MarkPriceChanged, PositionChanged, PremiumSampled,
)
from exchange.contract.commands import SetMarginType

from conftest import BTC, USDT, funded_venue, limit, lots, market, only, px

H = 3_600_000


def fresh():
    return funded_venue(60000)


def test_mark_rule_worked_example():
    # index 60,000; F 0.0001; 2 h to the 16:00 funding; basis MA +12; last 60,018 -> mark 60,012
    v = fresh()
    t = 14 * H
    v.apply(t, limit(3, C.BUY, lots(1), px(60006)))
    v.apply(t, limit(3, C.SELL, lots(1), px(60018)))
    for _ in range(3):      # impact bid 60,006 over the index: premium 6 / 60,000 = 0.0001 = the estimate
        assert v.apply(t, SamplePremium(BTC)) == [PremiumSampled(BTC, 10_000, 10_000)]
    assert list(v.symbols[BTC].basis) == [240, 240, 240]      # (60006 + 60018)/2 - 60000 = 12 = 240 half-ticks
    v.apply(t, limit(2, C.BUY, lots("0.01"), px(60018)))
    assert v.symbols[BTC].last_price == px(60018)
    ev = v.apply(t, RefreshMarkPrice(BTC))
    assert ev == [MarkPriceChanged(BTC, px(60012), px(60000), 10_000, 16 * H, px(60000), 0)]
    pi = v.premium_index(BTC)
    assert (pi["mark_price"], pi["index_price"], pi["last_funding_rate"], pi["interest_rate"],
            pi["next_funding_time"], pi["mark_pinned"]) == (px(60012), px(60000), 10_000, 10_000, 16 * H, 0)
    # once the rule runs, an index update no longer drags the mark along
    ev = v.apply(t + 1, SetIndexPrice(BTC, px(61000)))
    assert [type(e).__name__ for e in ev] == ["IndexPriceChanged"]
    assert v.mark_price(BTC) == px(60012)


def test_mark_equals_index_without_trades_or_book():
    v = fresh()
    ev = v.apply(1000, RefreshMarkPrice(BTC))
    assert ev[0].price == px(60000) and v.symbols[BTC].mark_rule == 0    # the rule agrees: nothing changes


def test_set_mark_pins_until_released():
    v = fresh()
    v.apply(1, SetMarkPrice(BTC, px(59000)))
    assert v.premium_index(BTC)["mark_pinned"] == 1
    v.apply(2, SetIndexPrice(BTC, px(60500)))
    assert v.mark_price(BTC) == px(59000)
    assert v.apply(3, RefreshMarkPrice(BTC))[0] == MarkPriceChanged(BTC, px(59000), px(60500), 10_000, 8 * H,
                                                                   px(60500), 1)
    ev = v.apply(4, SetMarkPrice(BTC, 0))                 # release
    assert ev[0].pinned == 0 and v.premium_index(BTC)["mark_pinned"] == 0
    v.apply(5, RefreshMarkPrice(BTC))
    assert v.mark_price(BTC) == px(60500)
    assert isinstance(v.apply(6, SetMarkPrice(BTC, 0))[0], CommandRejected)     # nothing to release
    assert isinstance(v.apply(6, SetMarkPrice(BTC, -5))[0], CommandRejected)


def test_premium_average_and_funding_rate_clamp():
    v = fresh()
    # impact bid/ask 60,030 / 60,036 around index 60,000 -> premium 0.0005 -> F = 0.0001 (case A)
    v.apply(0, limit(3, C.BUY, lots(5), px(60030)))
    v.apply(0, limit(3, C.SELL, lots(5), px(60036)))
    v.apply(5000, SamplePremium(BTC))
    assert v.symbols[BTC].last_premium == 50_000
    assert v.premium_index(BTC)["last_funding_rate"] == 10_000
    # case B: 60,072 / 60,080 -> premium 0.0012 -> F = 0.0007
    w = fresh()
    w.apply(0, limit(3, C.BUY, lots(5), px(60072)))
    w.apply(0, limit(3, C.SELL, lots(5), px(60080)))
    w.apply(5000, SamplePremium(BTC))
    assert w.symbols[BTC].last_premium == 120_000
    assert w.premium_index(BTC)["last_funding_rate"] == 70_000
    # linear weights: samples 0.0012 then 0 -> (1*0.0012 + 2*0) / 3 = 0.0004 -> F = 0.0001
    w.apply(10_000, SetIndexPrice(BTC, px(60076)))          # index between the impact prices: premium 0
    w.apply(10_000, SamplePremium(BTC))
    st = w.symbols[BTC]
    assert (st.premium_count, st.last_premium, st.premium_sum) == (2, 0, 120_000)
    assert w.premium_index(BTC)["last_funding_rate"] == 10_000
    # a side too thin for the impact notional (30,000 USDT) gives no sample
    thin = fresh()
    thin.apply(0, limit(3, C.BUY, lots("0.1"), px(59990)))
    thin.apply(0, limit(3, C.SELL, lots("0.1"), px(60010)))
    assert thin.apply(5000, SamplePremium(BTC)) == []            # no sample, no event
    assert thin.symbols[BTC].premium_count == 0 and list(thin.symbols[BTC].basis) == [0]


def test_funding_payment_worked_example_and_zero_sum():
    v = fresh()
    v.apply(0, limit(2, C.SELL, lots(6), px(60000)))
    v.apply(0, market(1, C.BUY, lots(6)))
    w1, w2 = v.accounts[1].cross_wallet, v.accounts[2].cross_wallet
    ev = v.apply(8 * H, SettleFunding(BTC))
    assert ev[0] == FundingSettled(BTC, 8 * H, 10_000, px(60000), 2, 36 * USDT, 36 * USDT)
    assert [(i.account_id, i.income_type, i.amount) for i in only(ev, Income)] == [
        (1, C.I_FUNDING_FEE, -36 * USDT), (2, C.I_FUNDING_FEE, 36 * USDT)]
    assert [(b.account_id, b.reason, b.balance_change) for b in only(ev, BalanceChanged)] == [
        (1, C.R_FUNDING_FEE, -36 * USDT), (2, C.R_FUNDING_FEE, 36 * USDT)]
    assert v.accounts[1].cross_wallet == w1 - 36 * USDT and v.accounts[2].cross_wallet == w2 + 36 * USDT
    assert v.money_identity()["balanced"]
    # the same boundary is settled once
    assert isinstance(v.apply(8 * H + 5, SettleFunding(BTC))[0], CommandRejected)
    assert v.funding_history(BTC) == [(8 * H, 10_000, px(60000))]
    assert v.premium_index(BTC)["settled_funding_rate"] == 10_000


def test_funding_rounding_residue_and_isolated_wallet():
    v = fresh()
    v.apply(0, SetMarginType(1, BTC, C.ISOLATED))
    v.apply(0, SetMarkPrice(BTC, 600_001))
    v.apply(0, limit(2, C.SELL, 7, 600_001))
    v.apply(0, limit(3, C.SELL, 6, 600_001))
    v.apply(0, market(1, C.BUY, 13))
    iso = v.accounts[1].positions[(BTC, 0)].iso_wallet
    before = v.rounding_residue
    st = v.symbols[BTC]
    st.premium_sum, st.premium_count = 100_001, 1       # P = 0.00100001 -> F = P - 0.0005 = 0.00050001
    ev = v.apply(8 * H, SettleFunding(BTC))
    head = ev[0]
    assert head.funding_rate == 50_001
    # long 13 lots pays ceil, shorts receive floor: the difference is the residue
    raw = 13 * 600_001 * 10_000 * 50_001
    assert head.paid == -((-raw) // 10**8)
    assert head.received == (7 * 600_001 * 10_000 * 50_001) // 10**8 + (6 * 600_001 * 10_000 * 50_001) // 10**8
    assert v.rounding_residue - before == head.paid - head.received > 0
    pc = only(ev, PositionChanged)
    assert pc and pc[0].account_id == 1 and pc[0].isolated_wallet == iso - head.paid
    assert v.accounts[1].positions[(BTC, 0)].iso_wallet == iso - head.paid
    assert v.money_identity()["balanced"]


def test_negative_funding_shorts_pay():
    v = fresh()
    st = v.symbols[BTC]
    v.apply(0, limit(2, C.SELL, lots(1), px(60000)))
    v.apply(0, market(1, C.BUY, lots(1)))
    st.premium_sum, st.premium_count = -10**6, 1       # average premium -1 % -> F = floor -0.3 %
    ev = v.apply(8 * H, SettleFunding(BTC))
    assert ev[0].funding_rate == -300_000
    assert [(i.account_id, i.amount) for i in only(ev, Income)] == [(1, 180 * USDT), (2, -180 * USDT)]


def test_runtime_installs_timers_in_rule_order():
    rt = Runtime.virtual(8 * H - 5_000)
    names = [t.name for t in rt.sequencer.timers]
    assert names == ["premium:BTCUSDT", "premium:ETHUSDT", "mark:BTCUSDT", "mark:ETHUSDT",
                     "funding:BTCUSDT", "funding:ETHUSDT"]
    rt.sequencer.execute([SetIndexPrice(BTC, px(60000))])
    res = rt.sequencer.advance(5_000)
    kinds = [(r.ts, type(r.command).__name__, r.command.symbol) for r in res]
    at_boundary = [k for k in kinds if k[0] == 8 * H]
    assert at_boundary == [(8 * H, "SamplePremium", BTC), (8 * H, "SamplePremium", "ETHUSDT"),
                           (8 * H, "RefreshMarkPrice", BTC), (8 * H, "RefreshMarkPrice", "ETHUSDT"),
                           (8 * H, "SettleFunding", BTC), (8 * H, "SettleFunding", "ETHUSDT")]
    assert sum(1 for k in kinds if k[1] == "RefreshMarkPrice" and k[2] == BTC) == 5
    rt.close()
