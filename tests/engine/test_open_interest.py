"""The open-interest fold: the long positions' lots, whatever order the changes come in."""
from hypothesis import given, strategies as st

from exchange.engine.open_interest import OpenInterest

changes = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 2), st.integers(-50, 50)), max_size=60)


@given(changes)
def test_lots_are_the_sum_of_the_long_positions_last_quantities(seq):
    oi = OpenInterest()
    last: dict = {}
    for account, side, qty in seq:
        oi.position_changed(account, side, qty)
        last[(account, side)] = qty
        assert oi.lots == sum(q for q in last.values() if q > 0)
    # a closed position is forgotten; an open one is kept with its signed quantity
    assert oi.positions == {k: q for k, q in last.items() if q}
