"""Position accounting: unrealized PnL, fills, flips, fees (spec 3.1, 5)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from exchange.perp import apply_fill, commission, liquidation_fee, unrealized_pnl

M = 100_000_000


def test_flip_realizes_the_closed_part_and_reopens_at_fill(btc):
    nu = btc.notional_unit
    # long 2 BTC @ 60,000; sell 5 BTC @ 61,000 -> +2,000 realized, short 3 @ 61,000
    qty, cost, realized = apply_fill(2_000, btc.notional(600_000, 2_000), -5_000, 610_000, nu)
    assert (qty, cost, realized) == (-3_000, 183_000 * M, 2_000 * M)
    # short 3 @ 61,000; buy 4 @ 62,000 -> -3,000 realized, long 1 @ 62,000
    assert apply_fill(qty, cost, 4_000, 620_000, nu) == (1_000, 62_000 * M, -3_000 * M)


def test_add_partial_close_and_upnl(btc):
    nu = btc.notional_unit
    q, c, r = apply_fill(0, 0, 1_000, 600_000, nu)
    q, c, r2 = apply_fill(q, c, 1_000, 620_000, nu)             # avg 61,000
    assert (q, c, r, r2) == (2_000, 122_000 * M, 0, 0)
    assert btc.avg_price_str(q, c) == "61000.00000000"
    assert unrealized_pnl(q, c, 630_000, nu) == 4_000 * M
    assert unrealized_pnl(-q, c, 630_000, nu) == -4_000 * M
    q, c, r = apply_fill(q, c, -500, 630_000, nu)               # close 0.5 @ 63,000: +1,000
    assert (q, c, r) == (1_500, 91_500 * M, 1_000 * M)


def test_partial_close_rounds_realized_down():
    # long 3 lots with cost 10 (avg 3.33): closing 1 lot at price 4 (nu 1)
    assert apply_fill(3, 10, -1, 4, 1) == (2, 6, 0)             # cost share ceil(10/3)=4 -> 4-4
    # short 3 lots cost 10: closing 1 lot at 3 -> share floor(10/3)=3 -> 0
    assert apply_fill(-3, 10, 1, 3, 1) == (-2, 7, 0)


fills = st.lists(st.tuples(st.integers(min_value=-50, max_value=50).filter(bool),
                           st.integers(min_value=1, max_value=1_000)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(fills=fills, nu=st.sampled_from([1, 7, 1_000]))
def test_realized_pnl_is_exact_over_a_round_trip(fills, nu):
    qty = cost = realized = cash = 0
    for fq, price in fills:
        qty, cost, r = apply_fill(qty, cost, fq, price, nu)
        realized += r
        cash -= fq * price * nu
    # close whatever is left at the last price
    last = fills[-1][1]
    if qty:
        cash += qty * last * nu
        qty, cost, r = apply_fill(qty, cost, -qty, last, nu)
        realized += r
    assert qty == 0 and cost == 0
    assert realized == cash


def test_commission_and_clearance_fee():
    assert commission(1_000 * M, 50_000) == 50_000_000         # taker 0.05 % of 1,000 = 0.50
    assert commission(1_000 * M, 20_000) == 20_000_000
    assert commission(3, 50_000_000) == 2                        # charge rounds up
    assert commission(3, -50_000_000) == -1                      # rebate rounds toward zero
    assert liquidation_fee(100_000 * M, 1_250_000, 10**20) == 1_250 * M
    assert liquidation_fee(100_000 * M, 1_250_000, 300 * M) == 300 * M
    assert liquidation_fee(100_000 * M, 1_250_000, -5) == 0
