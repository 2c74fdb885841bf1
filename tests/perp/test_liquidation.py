"""Liquidation and bankruptcy prices (spec 4.2-4.4) and ADL ranking (spec 4.6)."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.perp import (
    FALLS, RISES, adl_quantile, adl_quantiles, adl_score, bankruptcy_price, bracket_for_notional,
    initial_margin, is_liquidatable_at, liquidation_price, liquidation_price_exact,
    liquidation_trigger, maint_margin, margin_ratio, unrealized_pnl,
)

M = 100_000_000


def nearest_cent(ticks_root: Fraction, ticks_per_unit: int) -> Fraction:
    """Round a root in ticks to 2 decimals of price, as the spec prints it."""
    return Fraction(round(ticks_root * 100 / ticks_per_unit), 100)


# -- isolated, one-way (2026 BTC table, tick 0.10) ----------------------------

def test_isolated_long_worked_example(btc):
    # Long 6 BTC @ 60,000, isolated wallet 18,000 -> LP 57,236.18, bracket 2
    leg = (6_000, btc.notional(600_000, 6_000))
    exact = liquidation_price_exact([leg], 18_000 * M, btc.brackets, btc.notional_unit)
    assert exact == Fraction(56_950 * 10 * 1000, 995)          # (60,000 - 18,300/6) / 0.995
    assert nearest_cent(exact, 10) == Fraction("57236.18")
    assert liquidation_trigger([leg], 18_000 * M, btc.brackets, btc.notional_unit) == (572_362, FALLS)
    assert btc.ticks_to_price(572_362) == "57236.20"            # rounded up: toward the trader's safe side
    assert bracket_for_notional(btc.brackets, btc.notional(572_362, 6_000)).bracket == 2


def test_isolated_short_worked_example(btc):
    leg = (-6_000, btc.notional(600_000, 6_000))
    exact = liquidation_price_exact([leg], 18_000 * M, btc.brackets, btc.notional_unit)
    assert exact == Fraction(63_050 * 10 * 1000, 1005)          # (60,000 + 3,050) / 1.005
    assert nearest_cent(exact, 10) == Fraction("62736.32")
    assert liquidation_trigger([leg], 18_000 * M, btc.brackets, btc.notional_unit) == (627_363, RISES)


def test_bankruptcy_prices_worked_example(btc):
    cost = btc.notional(600_000, 6_000)
    assert bankruptcy_price([(6_000, cost)], 18_000 * M, btc.notional_unit) == 570_000
    assert bankruptcy_price([(-6_000, cost)], 18_000 * M, btc.notional_unit) == 630_000
    assert bankruptcy_price([(6_000, cost), (-6_000, cost)], 0, btc.notional_unit) is None


def test_bankruptcy_price_rounds_toward_entry(btc):
    # long 3 lots @ 1000 ticks, wallet 1 money unit: exact BP just below entry
    nu = btc.notional_unit
    assert bankruptcy_price([(3, 3 * 1000 * nu)], 1, nu) == 1000
    assert bankruptcy_price([(-3, 3 * 1000 * nu)], 1, nu) == 1000


def test_bracket_recheck_example(btc):
    # Long 5 BTC @ 60,100, 100x: first pass in bracket 2 gives 59,737.69, but that is bracket 1
    cost = btc.notional(601_000, 5_000)
    wallet = initial_margin(cost, 100)
    assert wallet == 3_005 * M
    first_pass = Fraction((60_100 * 5 - 3_305) * 1000, 995 * 5)
    assert nearest_cent(first_pass, 1) == Fraction("59737.69")
    assert bracket_for_notional(btc.brackets, 5 * first_pass * M).bracket == 1
    exact = liquidation_price_exact([(5_000, cost)], wallet, btc.brackets, btc.notional_unit)
    assert exact == Fraction((60_100 * 5 - 3_005) * 1000 * 10, 996 * 5)
    assert nearest_cent(exact, 10) == Fraction("59737.95")
    assert liquidation_price([(5_000, cost)], wallet, btc.brackets, btc.notional_unit) == 597_380


# -- Binance's published cross example (2021 tables, tick 0.01, step 0.001) -------------

NU = 1000
WB = 153_544_301_000_000                                         # 1,535,443.01
BTC_LEG = (109_488, 109_488 * 3_248_198 * NU)                    # 109.488 @ 32,481.98
BTC_MARK = 3_196_727
ETH_LEG = (3_683_979, 3_683_979 * 145_684 * NU)                  # 3,683.979 @ 1,456.84
ETH_MARK = 133_518


def _others(brackets, leg, mark):
    q, c = leg
    return maint_margin(brackets, q * mark * NU), unrealized_pnl(q, c, mark, NU)


def test_cross_example_components(btc_2021_brackets, eth_2021_brackets):
    emm, eup = _others(eth_2021_brackets, ETH_LEG, ETH_MARK)
    bmm, bup = _others(btc_2021_brackets, BTC_LEG, BTC_MARK)
    assert ETH_LEG[0] * ETH_MARK * NU == 491_877_508_122_000     # N 4,918,775.08
    assert emm == 35_651_250_812_200                              # 356,512.51
    assert eup == -44_819_288_514_000                             # -448,192.89
    assert bmm == 7_120_081_144_400                               # 71,200.81
    assert bup == -5_635_456_848_000                              # -56,354.57
    # account margin ratio 427,713.32 / 1,030,895.56 = 41.5 %
    assert emm + bmm == 42_771_331_956_600
    assert WB + eup + bup == 103_089_555_638_000
    assert margin_ratio(emm + bmm, WB + eup + bup) == 41_489_492


def test_cross_one_way_liquidation_prices(btc_2021_brackets, eth_2021_brackets):
    emm, eup = _others(eth_2021_brackets, ETH_LEG, ETH_MARK)
    bmm, bup = _others(btc_2021_brackets, BTC_LEG, BTC_MARK)
    exact_btc = liquidation_price_exact([BTC_LEG], WB, btc_2021_brackets, NU,
                                        other_maint_margin=emm, other_upnl=eup)
    # (WB - TMM1 + UPNL1 + cum - Q*EP) / (Q*MMR - Q), all in money / ticks
    assert exact_btc == Fraction((WB - emm + eup + 16_300 * M - BTC_LEG[1]) * 1000,
                                 NU * (109_488 * 25 - 109_488 * 1000))
    assert nearest_cent(exact_btc, 100) == Fraction("26316.89")
    assert liquidation_trigger([BTC_LEG], WB, btc_2021_brackets, NU, other_maint_margin=emm,
                               other_upnl=eup) == (2_631_690, FALLS)
    exact_eth = liquidation_price_exact([ETH_LEG], WB, eth_2021_brackets, NU,
                                        other_maint_margin=bmm, other_upnl=bup)
    assert nearest_cent(exact_eth, 100) == Fraction("1153.26")
    assert liquidation_price([ETH_LEG], WB, eth_2021_brackets, NU, other_maint_margin=bmm,
                             other_upnl=bup) == 115_326


def test_isolated_variants_of_cross_example(btc_2021_brackets, eth_2021_brackets):
    exact_btc = liquidation_price_exact([BTC_LEG], WB, btc_2021_brackets, NU)
    exact_eth = liquidation_price_exact([ETH_LEG], WB, eth_2021_brackets, NU)
    assert nearest_cent(exact_btc, 100) == Fraction("18778.73")
    assert nearest_cent(exact_eth, 100) == Fraction("1114.78")
    assert liquidation_price([BTC_LEG], WB, btc_2021_brackets, NU) == 1_877_873
    assert liquidation_price([ETH_LEG], WB, eth_2021_brackets, NU) == 111_479


# -- hedge mode ------------------------------------------------------------------

def test_cross_hedge_legs_share_one_price(btc):
    # LONG 6 @ 60,000 and SHORT 2 @ 61,000 in one cross wallet of 20,000 (2026 table).
    # At LP the long leg (~330k) is in bracket 2, the short leg (~110k) in bracket 1:
    # LP = (20,000 + 300 + 0 - 360,000 + 122,000) / (6*0.005 + 2*0.004 - 6 + 2) = 54,946.996...
    legs = [(6_000, btc.notional(600_000, 6_000)), (-2_000, btc.notional(610_000, 2_000))]
    exact = liquidation_price_exact(legs, 20_000 * M, btc.brackets, btc.notional_unit)
    assert exact == Fraction(217_700 * 10 * 1000, 3_962)
    assert liquidation_trigger(legs, 20_000 * M, btc.brackets, btc.notional_unit) == (549_470, FALLS)


def test_cross_perfect_hedge_liquidates_on_the_way_up(btc):
    # LONG 1 and SHORT 1 @ 60,000, wallet 1,000: PnL cancels, but both legs' MM grow with
    # price: 1,000 = 2 x 0.004 x P -> P = 125,000.
    cost = btc.notional(600_000, 1_000)
    legs = [(1_000, cost), (-1_000, cost)]
    assert liquidation_trigger(legs, 1_000 * M, btc.brackets, btc.notional_unit) == (1_250_000, RISES)
    assert is_liquidatable_at(legs, 1_000 * M, btc.brackets, btc.notional_unit, 1_250_000)
    assert not is_liquidatable_at(legs, 1_000 * M, btc.brackets, btc.notional_unit, 1_249_999)


def test_isolated_hedge_legs_are_independent(btc):
    long_leg = (6_000, btc.notional(600_000, 6_000))
    short_leg = (-2_000, btc.notional(610_000, 2_000))
    short_wallet = initial_margin(short_leg[1], 100)
    assert short_wallet == 1_220 * M
    assert liquidation_price([long_leg], 18_000 * M, btc.brackets, btc.notional_unit) == 572_362
    # (61,000 + 1,220/2) / 1.004 = 61,364.54... -> rounded down
    exact = liquidation_price_exact([short_leg], short_wallet, btc.brackets, btc.notional_unit)
    assert exact == Fraction(61_610 * 10 * 1000, 1004)
    assert liquidation_price([short_leg], short_wallet, btc.brackets, btc.notional_unit) == 613_645


def test_no_liquidation_price_cases(btc):
    nu = btc.notional_unit
    cost = btc.notional(600_000, 1_000)
    # 1x long fully funded: LP <= 0 -> Binance shows "--"
    assert liquidation_price([(1_000, cost)], cost, btc.brackets, nu) is None
    assert liquidation_price([], 100 * M, btc.brackets, nu) is None
    assert liquidation_price([(0, 0)], 100 * M, btc.brackets, nu) is None
    # a short already under water at any price
    assert liquidation_trigger([(-1_000, cost)], -cost, btc.brackets, nu) == (0, RISES)


# -- properties ------------------------------------------------------------------

@st.composite
def isolated_position(draw):
    inst = DEFAULT_INSTRUMENTS[draw(st.sampled_from(["BTCUSDT", "ETHUSDT"]))]
    entry = draw(st.integers(min_value=inst.min_price_ticks, max_value=inst.max_price_ticks // 10))
    lots = draw(st.integers(min_value=1, max_value=2_000_000))
    n = inst.notional(entry, lots)
    assume(n <= inst.brackets[-1].notional_cap)
    lev_max = bracket_for_notional(inst.brackets, n).initial_leverage
    lev = draw(st.integers(min_value=1, max_value=lev_max))
    extra = draw(st.integers(min_value=0, max_value=n // 10))
    return inst, entry, lots, n, initial_margin(n, lev) + extra


@settings(max_examples=200, deadline=None)
@given(pos=isolated_position(), side=st.sampled_from([1, -1]))
def test_liquidation_price_is_on_the_right_side_and_tight(pos, side):
    inst, entry, lots, cost, wallet = pos
    nu, bs = inst.notional_unit, inst.brackets
    legs = [(side * lots, cost)]
    # healthy at entry (IM at an allowed leverage always exceeds MM)
    assert not is_liquidatable_at(legs, wallet, bs, nu, entry)
    t = liquidation_trigger(legs, wallet, bs, nu)
    bp = bankruptcy_price(legs, wallet, nu)
    if side == 1:
        if t is None:
            assert not is_liquidatable_at(legs, wallet, bs, nu, 1)
            return
        lp, d = t
        assert d == FALLS and 0 < lp <= entry
        assert not is_liquidatable_at(legs, wallet, bs, nu, lp + 1)    # never misses
        if lp > 1:
            assert is_liquidatable_at(legs, wallet, bs, nu, lp - 1)    # at most one tick early
        assert bp <= lp                                               # bankruptcy beyond liquidation
    else:
        assert t is not None
        lp, d = t
        assert d == RISES and lp >= entry
        assert not is_liquidatable_at(legs, wallet, bs, nu, lp - 1)
        assert is_liquidatable_at(legs, wallet, bs, nu, lp + 1)
        assert bp >= lp


@settings(max_examples=150, deadline=None)
@given(pos=isolated_position(), side=st.sampled_from([1, -1]))
def test_closing_at_bankruptcy_price_never_overdraws(pos, side):
    inst, entry, lots, cost, wallet = pos
    bp = bankruptcy_price([(side * lots, cost)], wallet, inst.notional_unit)
    if bp is None or bp <= 0:
        return
    assert wallet + unrealized_pnl(side * lots, cost, bp, inst.notional_unit) >= 0


# -- ADL -----------------------------------------------------------------------

def test_adl_score_example():
    # WB 1,000, UPNL +400, MM 50 -> 0.40 x 50/1,400 = 0.0142857...
    assert adl_score(1_000 * M, 400 * M, 50 * M) == 1_428_571
    assert adl_score(1_000 * M, -400 * M, 50 * M) == 0
    assert adl_score(-500 * M, 400 * M, 50 * M) == 0                 # equity <= 0
    # tiny wallets are measured against 1 USDT, not blown up
    # WB 0, UPNL 10, MM 1 -> PnlPercent 10/1 = 10, MarginRatio 1/10 -> 1.0
    assert adl_score(0, 10 * M, 1 * M) == 100_000_000


def test_adl_quantiles():
    assert [adl_quantile(r, 5) for r in range(1, 6)] == [0, 1, 2, 3, 4]
    assert adl_quantile(1, 1) == 4
    assert adl_quantiles([5, 1, 3, 3, 9]) == [3, 0, 2, 2, 4]
    assert adl_quantiles([]) == []
    with pytest.raises(ValueError):
        adl_quantile(0, 3)


@settings(max_examples=300, deadline=None)
@given(ql=st.integers(0, 3_000_000), qs=st.integers(0, 3_000_000),
       el=st.integers(10_000, 2_000_000), es=st.integers(10_000, 2_000_000),
       wb=st.integers(-10**6 * M, 10**8 * M), omm=st.integers(0, 10**6 * M),
       oup=st.integers(-10**6 * M, 10**6 * M))
def test_cross_trigger_never_misses(ql, qs, el, es, wb, omm, oup):
    """With one leg open (whatever the other positions), one tick past the returned price
    on the safe side is not liquidatable - so an index keyed on it never skips a
    liquidation.  Two open hedge legs can have a band instead (see the next test)."""
    if ql and qs:
        qs = 0
    inst = DEFAULT_INSTRUMENTS["BTCUSDT"]
    nu, bs = inst.notional_unit, inst.brackets
    legs = [(ql, ql * el * nu), (-qs, qs * es * nu)]
    t = liquidation_trigger(legs, wb, bs, nu, other_maint_margin=omm, other_upnl=oup)
    if t is None:
        return
    lp, d = t

    def liq(m):
        return is_liquidatable_at(legs, wb, bs, nu, m, other_maint_margin=omm, other_upnl=oup)

    if d == FALLS:
        assert lp > 0 and not liq(lp + 1)
    else:
        assert lp == 0 or not liq(lp - 1)


def test_two_open_hedge_legs_can_be_liquidatable_on_both_sides():
    """Why the never-miss guarantee stops at one leg: a cross hedge (1,000 BTC long,
    900 short, both at 60,000, 3M USDT wallet) is safe only inside a band - the net
    long loses below it, the maintenance margin of both legs outgrows the wallet
    above it - so no single (price, direction) trigger can describe it."""
    inst = DEFAULT_INSTRUMENTS["BTCUSDT"]
    nu, bs = inst.notional_unit, inst.brackets
    legs = [(1_000_000, 1_000_000 * 600_000 * nu), (-900_000, 900_000 * 600_000 * nu)]
    wallet = 3_000_000 * M

    def liq(m):
        return is_liquidatable_at(legs, wallet, bs, nu, m)

    assert liq(400_000)                                   # 40,000: below the band
    assert not liq(600_000) and not liq(2_000_000)        # 60,000 .. 200,000: safe
    assert liq(5_000_000)                                 # 500,000: above the band
