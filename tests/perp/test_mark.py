"""Mark price: median of Price1, Price2 and last (spec 1.2)."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings, strategies as st

from exchange.perp import basis_half_ticks, funding_basis_price, mark_price, moving_basis_price

H = 3_600_000


def test_worked_example():
    # index 60,000; funding 0.01 %; 2 h of 8 h left; basis MA +12; last 60,020 (tick 0.01)
    index, last = 6_000_000, 6_002_000
    samples = [basis_half_ticks(6_001_100, 6_001_300, index)] * 30     # mid 60,012 -> +12
    assert samples[0] == 2_400
    assert funding_basis_price(index, 10_000, 2 * H, 8 * H) == Fraction(600_015_000, 100)  # 60,001.50
    assert moving_basis_price(index, samples) == 6_001_200
    assert mark_price(index, last, 10_000, 2 * H, 8 * H, samples) == 6_001_200           # 60,012.00


def test_median_picks_each_candidate():
    # last is the middle value
    assert mark_price(100_000, 100_005, 0, H, 8 * H, [20]) == 100_005
    # no basis samples: Price2 = index = Price1 (rate 0) -> mark = index whatever the last trade
    assert mark_price(100_000, 150_000, 0, H, 8 * H, []) == 100_000
    # Price1 in the middle: index 100,000, rate 0.3 %, whole interval ahead -> 100,300
    assert mark_price(100_000, 101_000, 300_000, 8 * H, 8 * H, [0]) == 100_300


def test_rounds_half_to_even():
    # Price2 = index + 0.5 tick, last and Price1 straddle it
    assert mark_price(100, 200, 0, 0, 8 * H, [1]) == 100     # 100.5 -> 100
    assert mark_price(101, 200, 0, 0, 8 * H, [1]) == 102     # 101.5 -> 102


@settings(max_examples=200, deadline=None)
@given(index=st.integers(min_value=1, max_value=10**9), last=st.integers(min_value=1, max_value=10**9),
       rate=st.integers(min_value=-3_000_000, max_value=3_000_000),
       left=st.integers(min_value=0, max_value=8 * H),
       basis=st.lists(st.integers(min_value=-10**6, max_value=10**6), max_size=30))
def test_mark_lies_between_the_candidates(index, last, rate, left, basis):
    m = mark_price(index, last, rate, left, 8 * H, basis)
    cands = [funding_basis_price(index, rate, left, 8 * H), moving_basis_price(index, basis), Fraction(last)]
    assert min(cands) - Fraction(1, 2) <= m <= max(cands) + Fraction(1, 2)
    # and it is the median, rounded
    assert abs(m - sorted(cands)[1]) <= Fraction(1, 2)
