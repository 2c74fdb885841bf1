"""Margin: brackets, maintenance / initial margin, max notional, order cost (spec 3.2-3.6)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.perp import (
    bracket_for_notional, initial_margin, is_liquidatable, maint_margin, margin_ratio,
    max_leverage, max_notional_for_leverage, one_way_order_margin, order_open_loss,
    slot_order_margin, unrealized_pnl,
)
from exchange.contract.codes import BOTH
from exchange.units import RATE_SCALE

M = 100_000_000

SPEC_CUM_BTC = [0, 300, 1_500, 12_000, 132_000, 482_000, 2_982_000, 14_482_000, 26_482_000,
                41_482_000, 121_482_000, 421_482_000]
SPEC_CUM_ETH = [0, 300, 1_500, 12_000, 132_000, 382_000, 2_007_000, 9_507_000, 17_507_000,
                27_507_000, 80_507_000, 280_507_000]


def test_derived_cum_matches_the_published_tables():
    assert [b.cum for b in DEFAULT_INSTRUMENTS["BTCUSDT"].brackets] == [c * M for c in SPEC_CUM_BTC]
    assert [b.cum for b in DEFAULT_INSTRUMENTS["ETHUSDT"].brackets] == [c * M for c in SPEC_CUM_ETH]


def test_bracket_continuity_rule_and_boundaries():
    for inst in DEFAULT_INSTRUMENTS.values():
        bs = inst.brackets
        for prev, b in zip(bs, bs[1:]):
            assert b.notional_floor == prev.notional_cap
            assert b.cum * RATE_SCALE == prev.cum * RATE_SCALE + b.notional_floor * (
                b.maint_margin_rate - prev.maint_margin_rate)
            # MM at the boundary is the same whichever bracket's formula is used
            f = b.notional_floor
            assert f * prev.maint_margin_rate // RATE_SCALE - prev.cum == f * b.maint_margin_rate // RATE_SCALE - b.cum


def test_bracket_lookup_is_floor_exclusive_cap_inclusive(btc):
    bs = btc.brackets
    assert bracket_for_notional(bs, 0).bracket == 1
    assert bracket_for_notional(bs, 300_000 * M).bracket == 1
    assert bracket_for_notional(bs, 300_000 * M + 1).bracket == 2
    assert bracket_for_notional(bs, -360_000 * M).bracket == 2
    assert bracket_for_notional(bs, 10**30).bracket == 12     # beyond the table: last bracket


def test_worked_margin_example_isolated(btc):
    # spec 3.6: long 6 BTC @ 60,000, 20x, mark 60,000
    n = btc.notional(600_000, 6_000)
    assert n == 360_000 * M
    assert bracket_for_notional(btc.brackets, n).bracket == 2
    assert initial_margin(n, 20) == 18_000 * M
    mm = maint_margin(btc.brackets, n)
    assert mm == 1_500 * M
    assert margin_ratio(mm, 18_000 * M) == 8_333_334          # 8.33 %, rounded up


def test_worked_margin_example_cross(btc):
    # spec 3.6 cross variant: wallet 50,000, mark 58,000
    cost = btc.notional(600_000, 6_000)
    upnl = unrealized_pnl(6_000, cost, 580_000, btc.notional_unit)
    assert upnl == -12_000 * M
    mb = 50_000 * M + upnl
    assert mb == 38_000 * M
    mm = maint_margin(btc.brackets, btc.notional(580_000, 6_000))
    assert mm == 1_440 * M
    assert margin_ratio(mm, mb) == 3_789_474                  # 3.79 %
    assert not is_liquidatable(mb, mm)
    assert is_liquidatable(mm, mm)
    assert not is_liquidatable(0, 0)                          # nothing open, nothing to liquidate


def test_max_notional_for_leverage_table(btc):
    # spec 3.3, 2026 BTC table
    table = {150: 300_000, 101: 300_000, 100: 800_000, 76: 800_000, 75: 3_000_000, 51: 3_000_000,
             50: 12_000_000, 26: 12_000_000, 25: 70_000_000, 21: 70_000_000, 20: 100_000_000,
             11: 100_000_000, 10: 230_000_000, 5: 480_000_000, 4: 600_000_000, 3: 800_000_000,
             2: 1_200_000_000, 1: 1_800_000_000}
    for lev, cap in table.items():
        assert max_notional_for_leverage(btc.brackets, lev) == cap * M, lev
    assert max_leverage(btc.brackets) == 150
    with pytest.raises(ValueError):
        max_notional_for_leverage(btc.brackets, 151)
    with pytest.raises(ValueError):
        max_notional_for_leverage(btc.brackets, 0)


def test_order_margin_binance_example():
    # spec 3.5: 1 BTC, 20x, mark 9,259.84, order 9,253.30 (tick 0.01, step 0.001 -> nu 1000)
    nu = 1000
    qty, price, mark = 1000, 925_330, 925_984
    assert initial_margin(qty * price * nu, 20) == 46_266_500_000          # 462.665
    assert order_open_loss(qty, price, mark, True, nu) == 0
    # one order, no position: the slot's margin is the order cost (initial margin + open loss)
    n = qty * price * nu
    buy_loss = order_open_loss(qty, price, mark, True, nu)
    assert slot_order_margin(BOTH, 0, n, 0, buy_loss, 0, 20) == (46_266_500_000, n)  # Binance shows 462.67
    assert order_open_loss(qty, price, mark, False, nu) == 654 * M // 100  # 6.54
    sell_loss = order_open_loss(qty, price, mark, False, nu)
    assert slot_order_margin(BOTH, 0, 0, n, 0, sell_loss, 20) == (46_920_500_000, n)  # 469.205, shows 469.21


def test_initial_margin_rounds_up():
    assert initial_margin(10, 3) == 4
    assert initial_margin(-9, 3) == 3


def test_one_way_order_margin_only_charges_growth():
    L = 10
    # flat, 1,000 of bids and 400 of asks: the larger side is charged
    assert one_way_order_margin(0, 1_000 * M, 400 * M, L) == 100 * M
    # long 1,000: a 1,000 ask would only close it -> free
    assert one_way_order_margin(1_000 * M, 0, 1_000 * M, L) == 0
    # long 1,000: a 1,500 ask flips to short 500 -> still below the position's IM
    assert one_way_order_margin(1_000 * M, 0, 1_500 * M, L) == 0
    # long 1,000: a 3,000 ask flips to short 2,000 -> 100 extra
    assert one_way_order_margin(1_000 * M, 0, 3_000 * M, L) == 100 * M
    # long 1,000 plus 500 bids -> 50 extra
    assert one_way_order_margin(1_000 * M, 500 * M, 0, L) == 50 * M


notionals = st.integers(min_value=0, max_value=2_000_000_000 * M)


@settings(max_examples=300, deadline=None)
@given(a=notionals, b=notionals, sym=st.sampled_from(["BTCUSDT", "ETHUSDT"]))
def test_maint_margin_monotone(a, b, sym):
    bs = DEFAULT_INSTRUMENTS[sym].brackets
    lo, hi = min(a, b), max(a, b)
    assert 0 <= maint_margin(bs, lo) <= maint_margin(bs, hi)


@settings(max_examples=300, deadline=None)
@given(i=st.integers(min_value=1, max_value=11), d=st.integers(min_value=0, max_value=10**9),
       sym=st.sampled_from(["BTCUSDT", "ETHUSDT"]))
def test_maint_margin_continuous_across_boundaries(i, d, sym):
    bs = DEFAULT_INSTRUMENTS[sym].brackets
    f = bs[i].notional_floor
    # a step of d money units either side of a boundary moves MM by at most d x max MMR (+1 for rounding)
    top = max(b.maint_margin_rate for b in bs)
    bound = d * top // RATE_SCALE + 1
    assert maint_margin(bs, f + d) - maint_margin(bs, f) <= bound
    assert maint_margin(bs, f) - maint_margin(bs, max(0, f - d)) <= bound


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=M, max_value=1_800_000_000 * M))
def test_maint_margin_below_initial_margin_at_max_leverage(n):
    # any leverage a bracket allows leaves a position healthy at its entry
    # (from 1 USDT up: below that, rounding both up to one money unit ties them)
    bs = DEFAULT_INSTRUMENTS["BTCUSDT"].brackets
    b = bracket_for_notional(bs, n)
    assert maint_margin(bs, n) < initial_margin(n, b.initial_leverage)
