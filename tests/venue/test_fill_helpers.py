"""Compiled-only helpers of the order path against the Python lines they replace:
``_riskmath._fee_c`` (the fee split of a fill, VenueCore._fill), ``_riskmath._product_c``
(venue._notional), ``_riskmath._limit_ok_c`` (the common case of venue.limit_filter_error), ``_riskmath._apply_fill_c``
(positions.apply_fill)."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.units import RATE_SCALE
from exchange.venue import venue
from exchange.venue.positions import Position, apply_fill
from exchange.venue.spec import SymbolSpec

from conftest import python_twin

_riskmath = pytest.importorskip("exchange.venue._riskmath", exc_type=ImportError,
                                reason="compiled-only helper (not built, or PAPEREX_PURE=1)")

I64 = 2 ** 63
edge = st.sampled_from([0, 1, -1, I64 - 1, -I64, I64, -I64 - 1, 2 ** 70, -(2 ** 70), 3037000499, 3037000500,
                        RATE_SCALE, RATE_SCALE - 1, -RATE_SCALE + 1])
ints = st.one_of(st.integers(-10 ** 16, 10 ** 16), st.integers(-2 ** 80, 2 ** 80), edge)


def _fee_py(n, rate):
    nr = n * rate
    return -((-nr) // RATE_SCALE), nr // RATE_SCALE


@given(ints, ints)
def test_fee_split(n, rate):
    got = _riskmath._fee_c(n, rate)
    if got is NotImplemented:
        # only when an input or a result does not fit 64 bits
        fee, booked = _fee_py(n, rate)
        assert not all(-I64 <= v < I64 for v in (n, rate, n * rate, fee, booked))
    else:
        assert got == _fee_py(n, rate)
        assert all(type(v) is int for v in got)


def test_fee_split_not_int():
    assert _riskmath._fee_c(True, 5) is NotImplemented
    assert _riskmath._fee_c(5, 2.0) is NotImplemented


@given(ints, ints, ints)
def test_product(a, b, c):
    got = _riskmath._product_c(a, b, c)
    assert got == a * b * c and type(got) is int


@pytest.mark.parametrize("v", [0, 1, -1, 2 ** 15, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), 2 ** 45 + 7, 2 ** 60 - 1,
                               -(2 ** 60 - 1), 2 ** 60, -(2 ** 60), 2 ** 63 - 1, -(2 ** 63), 2 ** 63, -(2 ** 63) - 1])
def test_int_reading_at_digit_boundaries(v):
    # _riskmath reads one- and two-digit ints inline, longer ones through the C API
    assert _riskmath._product_c(v, 1, 1) == v
    assert _riskmath._product_c(1, v, -1) == -v


def test_product_not_int():
    # anything but ints takes Python's product, whatever it is
    assert _riskmath._product_c(True, 5, 2) == 10
    assert _riskmath._product_c(5, 2.5, 2) == 25.0 and type(_riskmath._product_c(5, 2.5, 2)) is float


EXACT_VENUE = python_twin(venue, "_limit_ok_c")    # the exact limit_filter_error
SPEC = SymbolSpec(DEFAULT_INSTRUMENTS[sorted(DEFAULT_INSTRUMENTS)[0]])
near = st.integers(-3, 3)


@settings(max_examples=3000, deadline=None)
@given(side=st.sampled_from([0, 1]), dp=near, dq=near, dm=near,
       where=st.sampled_from(["min", "max", "mark", "any"]), big=st.sampled_from([0, I64, -I64 - 1, 2 ** 70]))
def test_limit_filters_common_case(side, dp, dq, dm, where, big):
    # prices and quantities around each filter's edge, and values beyond 64 bits
    mark = 10 ** 6 + dm * 1000
    if where == "min":
        price, qty = SPEC.min_price + dp, SPEC.min_qty + dq
    elif where == "max":
        price, qty = (SPEC.max_price or 10 ** 9) + dp, (SPEC.max_qty or 10 ** 9) + dq
    elif where == "mark":
        cap = mark * (SPEC.percent_up if side == 0 else SPEC.percent_down) // RATE_SCALE
        price, qty = cap + dp, SPEC.min_qty + abs(dq)
    else:
        price, qty = mark + dp * 7919, big or dq
    for m in (mark, 0, big):
        ok = _riskmath._limit_ok_c(SPEC, side, price, qty, m)
        exact = EXACT_VENUE.limit_filter_error(SPEC, side, price, qty, m)
        if ok:
            assert exact is None
        elif all(-I64 <= v < I64 for v in (price, qty, m)):
            assert exact is not None
        assert venue.limit_filter_error(SPEC, side, price, qty, m) == exact


@settings(max_examples=3000, deadline=None)
@given(qty=st.one_of(st.integers(-10 ** 6, 10 ** 6), edge), entry=st.one_of(st.integers(0, 10 ** 15), edge),
       realized=ints, buy=st.sampled_from([True, False, 0, 1, 2]), q=st.one_of(st.integers(1, 10 ** 6), edge),
       price_unit=st.one_of(st.integers(1, 10 ** 10), edge))
@example(qty=-I64, entry=0, realized=0, buy=True, q=1, price_unit=1)
def test_apply_fill(qty, entry, realized, buy, q, price_unit):
    a, b = Position("BTCUSDT", 0), Position("BTCUSDT", 0)
    a.qty, a.entry, a.realized = b.qty, b.entry, b.realized = qty, entry, realized
    got = _riskmath._apply_fill_c(a, buy, q, price_unit * q, price_unit)
    if got is NotImplemented:
        assert a.state() == b.state()        # untouched: the caller runs apply_fill
        return
    assert got == apply_fill(b, buy, q, price_unit * q, price_unit)
    assert a.state() == b.state()
    assert all(type(v) is int for v in got)
