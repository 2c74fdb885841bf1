"""The venue's in-place position/margin arithmetic agrees with the pure functions in exchange.perp."""
from hypothesis import given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.perp import margin as pm
from exchange.perp import position as pp
from exchange.contract.codes import BOTH
from exchange.venue.accounts import OrderAgg
from exchange.venue.positions import Position, apply_fill
from exchange.venue.risk import slot_order_margin
from exchange.venue.spec import SymbolSpec

fills = st.lists(st.tuples(st.booleans(), st.integers(1, 5000), st.integers(1, 2_000_000)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(fills)
def test_apply_fill_matches_perp(seq):
    unit = 10_000
    pos = Position("BTCUSDT", BOTH)
    qty, cost, realized = 0, 0, 0
    for buy, q, price in seq:
        pnl, _, _ = apply_fill(pos, buy, q, price * q * unit, price * unit)
        qty, cost, r = pp.apply_fill(qty, cost, q if buy else -q, price, unit)
        realized += r
        assert (pos.qty, pos.entry, pos.realized, pnl) == (qty, cost, realized, r)


def test_bracket_lookups_match_perp():
    for inst in DEFAULT_INSTRUMENTS.values():
        spec = SymbolSpec(inst)
        for lev in range(1, spec.max_leverage + 1):
            assert spec.max_notional(lev) == pm.max_notional_for_leverage(inst.brackets, lev)
        for n in [0, 1, 10**8, 299_999 * 10**8, 300_000 * 10**8, 300_001 * 10**8, 5 * 10**17, 10**19]:
            assert spec.maint_margin(n) == pm.maint_margin(inst.brackets, n)


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**15, 10**15), st.integers(0, 10**15), st.integers(0, 10**15), st.integers(1, 150))
def test_one_way_order_margin_matches_perp(pn, bid, ask, lev):
    agg = OrderAgg()
    agg.buy_notional, agg.sell_notional = bid, ask
    im, worst = slot_order_margin(agg, BOTH, pn, lev)
    assert im == pm.one_way_order_margin(pn, bid, ask, lev)
    assert worst == max(abs(pn + bid), abs(pn - ask))
