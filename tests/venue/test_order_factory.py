"""``orders.new_order`` (the order path's constructor, a C call when compiled) makes the same
Order as ``Order(...)``: every slot, compiled and pure (PAPEREX_PURE=1)."""
from __future__ import annotations

from hypothesis import given, strategies as st

from exchange.venue.orders import Order, new_order

values = st.one_of(st.integers(-2 ** 70, 2 ** 70), st.text(max_size=5), st.none())


@given(st.lists(values, min_size=17, max_size=17))
def test_new_order_matches_constructor(args):
    a = Order(*args)
    b = new_order(*args)
    assert type(b) is Order
    for name in Order.__slots__:
        assert getattr(a, name) == getattr(b, name), name
    assert a.state() == b.state()


@given(st.one_of(st.integers(-2 ** 70, 2 ** 70), st.sampled_from([0, 1, 2 ** 63 - 2, 2 ** 63 - 1, 2 ** 63, -2 ** 63])))
def test_default_client_order_id(oid):
    from exchange.venue.orders import default_client_order_id
    assert default_client_order_id(oid) == f"pex{oid}"
