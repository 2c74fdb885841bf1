"""The venue's position bookkeeping and bracket tables agree with the formulas in exchange.perp."""
from hypothesis import given, settings, strategies as st

from exchange.contract.codes import BOTH
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.perp import margin as pm
from exchange.perp import position as pp
from exchange.venue.positions import Position, fill_position
from exchange.venue.spec import SymbolSpec

fills = st.lists(st.tuples(st.booleans(), st.integers(1, 5000), st.integers(1, 2_000_000)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(fills)
def test_fill_position_books_what_perp_apply_fill_computes(seq):
    unit = 10_000
    pos = Position("BTCUSDT", BOTH)
    qty, cost, realized = 0, 0, 0
    for buy, q, price in seq:
        old = pos.qty
        pnl, closed, opened = fill_position(pos, buy, q, price, unit)
        qty, cost, r = pp.apply_fill(qty, cost, q if buy else -q, price, unit)
        realized += r
        assert (pos.qty, pos.entry, pos.realized, pnl) == (qty, cost, realized, r)
        # the lots: what closed the old position, what grew it or opened the other way
        assert closed + opened == q
        assert closed == (min(q, abs(old)) if old and (old > 0) != buy else 0)


def test_bracket_lookups_match_perp():
    for inst in DEFAULT_INSTRUMENTS.values():
        spec = SymbolSpec(inst)
        for lev in range(1, spec.max_leverage + 1):
            assert spec.max_notional(lev) == pm.max_notional_for_leverage(inst.brackets, lev)
        for n in [0, 1, 10**8, 299_999 * 10**8, 300_000 * 10**8, 300_001 * 10**8, 5 * 10**17, 10**19]:
            assert spec.maint_margin(n) == pm.maint_margin(inst.brackets, n)
