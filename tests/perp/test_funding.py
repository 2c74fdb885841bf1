"""Premium index and funding (spec 2.1-2.7)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from exchange.perp import (
    add_premium_sample, average_premium, average_premium_from_sum, funding_amount,
    funding_payment, funding_rate, impact_bid_ask, impact_margin_notional,
    interest_rate_for_interval, premium_index, premium_index_from_book,
)

M = 100_000_000
CAP, FLOOR, I = 300_000, -300_000, 10_000        # +-0.30 %, 0.01 %


def test_interest_and_impact_notional():
    assert interest_rate_for_interval(8) == 10_000
    assert interest_rate_for_interval(4) == 5_000
    assert interest_rate_for_interval(1) == 1_250
    assert impact_margin_notional(125) == 25_000 * M
    assert impact_margin_notional(150) == 30_000 * M
    assert impact_margin_notional(20) == 4_000 * M


def test_premium_case_a():
    # index 60,000, impact bid 60,030, impact ask 60,036 -> 30/60,000 = 0.0005
    assert premium_index(600_300, 600_360, 600_000) == 50_000
    # index between the impact prices -> no premium; below both -> negative premium
    assert premium_index(599_990, 600_010, 600_000) == 0
    assert premium_index(599_000, 599_400, 600_000) == -100_000


def test_funding_rate_cases():
    assert funding_rate(50_000, I, CAP, FLOOR) == 10_000      # case A: F = I
    assert funding_rate(120_000, I, CAP, FLOOR) == 70_000     # case B: 0.0012 - 0.0005
    assert funding_rate(-30_000, I, CAP, FLOOR) == 10_000     # case C
    assert funding_rate(1_000_000, I, CAP, FLOOR) == CAP      # capped
    assert funding_rate(-1_000_000, I, CAP, FLOOR) == FLOOR
    with pytest.raises(ValueError):
        funding_rate(0, I, -1, 1)


def test_funding_payment_worked_example(btc):
    # 6 BTC at settlement mark 60,000 and F = 0.0001 -> 36 USDT
    nu = btc.notional_unit
    assert funding_payment(6_000, 600_000, 10_000, nu) == -36 * M
    assert funding_payment(-6_000, 600_000, 10_000, nu) == 36 * M
    # negative rate: shorts pay longs
    assert funding_payment(6_000, 600_000, -10_000, nu) == 36 * M
    assert funding_payment(-6_000, 600_000, -10_000, nu) == -36 * M
    assert funding_payment(0, 600_000, 10_000, nu) == 0


def test_funding_rounding_direction():
    # notional 3 money units at 0.5 (50,000,000) -> 1.5: payer charged 2, receiver gets 1
    assert funding_amount(1, 3, 50_000_000, 1) == (2, 1)
    assert funding_payment(1, 3, 50_000_000, 1) == -2
    assert funding_payment(-1, 3, 50_000_000, 1) == 1


def test_average_premium_weights_latest_most():
    assert average_premium([]) == 0
    assert average_premium([0, 0, 30]) == 15                 # (1*0 + 2*0 + 3*30) / 6
    assert average_premium([30, 0, 0]) == 5
    assert average_premium([-7, -7]) == -7
    assert average_premium([-1, 0]) == 0                      # -1/3 toward zero


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=-10**7, max_value=10**7), max_size=200))
def test_running_sums_match_the_batch_average(samples):
    w, n = 0, 0
    for s in samples:
        w, n = add_premium_sample(w, n, s)
    assert n == len(samples)
    assert average_premium_from_sum(w, n) == average_premium(samples)


def test_premium_from_book():
    nu = 10_000                                               # BTC: tick 0.1 x lot 0.001
    imn = 30_000 * M
    # bids: 0.3 BTC @ 60,040 then plenty @ 60,020; asks plenty @ 60,050
    bids = [(600_400, 300), (600_200, 10_000)]
    asks = [(600_500, 10_000)]
    # sell 30,000 USDT: 18,012 at 60,040 (0.3 BTC), 11,988 at 60,020 (0.19973... BTC)
    ib, ia = impact_bid_ask(bids, asks, imn, nu)
    assert (ib, ia) == (600_320, 600_500)          # 60,032.006.. rounded down
    p = premium_index_from_book(bids, asks, 600_000, imn, nu)
    # exact impact bid = 30,000 / (0.3 + 11,988/60,020) = 60,032.0064.. -> premium 0.00053344..
    assert p == 53_344
    # rounding the impact bid to ticks first would have given 32/60,000 = 0.00053333
    assert premium_index(ib, ia, 600_000) == 53_333
    # too thin
    assert premium_index_from_book([(600_000, 1)], asks, 600_000, imn, nu) is None
    assert impact_bid_ask(bids, [], imn, nu) is None


@settings(max_examples=200, deadline=None)
@given(qty=st.integers(min_value=1, max_value=10**7), mark=st.integers(min_value=1, max_value=10**8),
       rate=st.integers(min_value=-3_000_000, max_value=3_000_000),
       nu=st.sampled_from([1, 10, 1_000, 10_000]))
def test_funding_is_zero_sum_up_to_rounding_residue(qty, mark, rate, nu):
    long_side = funding_payment(qty, mark, rate, nu)
    short_side = funding_payment(-qty, mark, rate, nu)
    residue = -(long_side + short_side)
    assert 0 <= residue <= 1                                  # the venue never creates money
    if rate:
        assert (long_side < 0) == (rate > 0) or long_side == 0
    exact = qty * mark * nu * rate
    if exact % 100_000_000 == 0:
        assert residue == 0 and long_side == -exact // 100_000_000


@settings(max_examples=200, deadline=None)
@given(p=st.integers(min_value=-10**7, max_value=10**7), i=st.integers(min_value=0, max_value=20_000))
def test_funding_rate_properties(p, i):
    f = funding_rate(p, i, CAP, FLOOR)
    assert FLOOR <= f <= CAP
    if abs(i - p) <= 50_000:
        assert f == i
