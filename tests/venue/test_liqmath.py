"""The liquidation index key in 128-bit C (``_liqmath``) against its exact Python twin."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue.liquidation import trigger_key, trigger_key_exact
from exchange.venue.spec import SymbolSpec

_liqmath = pytest.importorskip("exchange.venue._liqmath", exc_type=ImportError,
                               reason="compiled-only helper (not built, or PAPEREX_PURE=1)")

SPECS = [SymbolSpec(i) for i in DEFAULT_INSTRUMENTS.values()]
USDT = 100_000_000


def _c(q, cost, wallet, spec, mark):
    return _liqmath.trigger_key(q, cost, wallet, spec.brackets_mmr, spec.notional_unit, mark)


def realistic_positions(test):
    """One position of any realistic size, entry price, wallet and mark, on every symbol."""
    return settings(max_examples=3000, deadline=None)(given(
        spec=st.sampled_from(SPECS),
        q=st.integers(-2_000_000, 2_000_000).filter(bool),
        entry_price=st.integers(1, 2_000_000),
        wallet=st.integers(-10**7 * USDT, 10**8 * USDT),
        mark=st.integers(1, 2_000_000))(test))


@realistic_positions
def test_same_key_as_python_for_realistic_positions(spec, q, entry_price, wallet, mark):
    cost = abs(q) * entry_price * spec.notional_unit
    got = _c(q, cost, wallet, spec, mark)
    assert got is not NotImplemented
    assert got == trigger_key_exact(q, cost, wallet, spec, mark)
    assert trigger_key(q, cost, wallet, spec, mark) == got


@settings(max_examples=2000, deadline=None)
@given(spec=st.sampled_from(SPECS),
       q=st.integers(-(2**70), 2**70).filter(bool),
       cost=st.integers(0, 2**90),
       wallet=st.integers(-(2**90), 2**90),
       mark=st.integers(1, 2**64))
def test_extreme_inputs_fall_back_or_agree(spec, q, cost, wallet, mark):
    """Beyond 64-bit inputs or 128-bit products the C code declines; the public
    function then answers with the exact Python result."""
    got = _c(q, cost, wallet, spec, mark)
    exact = trigger_key_exact(q, cost, wallet, spec, mark)
    if got is not NotImplemented:
        assert got == exact
    assert trigger_key(q, cost, wallet, spec, mark) == exact


def test_floor_division_of_negative_numerators_matches_python():
    spec = SPECS[0]
    # a long whose wallet is deep in deficit: negative numerators in the root
    for q, price, wallet in [(1, 500_000, -5 * USDT), (-3, 400_000, -1), (7, 1, -(10**6) * USDT)]:
        cost = abs(q) * price * spec.notional_unit
        assert _c(q, cost, wallet, spec, 500_000) == trigger_key_exact(q, cost, wallet, spec, 500_000)


def _maint_margin_exact(spec, notional):
    for b in spec.brackets:
        if notional <= b[3]:
            break
    mm = -((-notional * b[4]) // 100_000_000) - b[5]
    return mm if mm > 0 else 0


@settings(max_examples=3000, deadline=None)
@given(spec=st.sampled_from(SPECS), notional=st.one_of(st.integers(0, 10**18), st.integers(0, 2**80)))
def test_maint_margin_in_c_matches_the_bracket_formula(spec, notional):
    got = _liqmath.maint_margin(notional, spec.brackets_mmr)
    exact = _maint_margin_exact(spec, notional)
    if notional < 2**63:
        assert got == exact
    else:
        assert got is NotImplemented
    assert spec.maint_margin(notional) == exact


def _cross_key_exact(q, cost, wallet, spec, mark):
    """The Python lines of ``Liquidation._reindex`` that ``_liqmath.cross_key`` replaces."""
    n = abs(q) * mark * spec.notional_unit
    u = n - cost if q > 0 else cost - n
    m = _maint_margin_exact(spec, n)
    if m > 0 and wallet + u - m <= 0:
        return True
    return trigger_key_exact(q, cost, wallet, spec, mark)


@realistic_positions
def test_cross_key_matches_python_for_realistic_positions(spec, q, entry_price, wallet, mark):
    cost = abs(q) * entry_price * spec.notional_unit
    got = _liqmath.cross_key(q, cost, wallet, spec.brackets_mmr, spec.notional_unit, mark)
    assert got is not NotImplemented
    assert got == _cross_key_exact(q, cost, wallet, spec, mark)


@settings(max_examples=2000, deadline=None)
@given(spec=st.sampled_from(SPECS),
       q=st.integers(-(2**70), 2**70).filter(bool),
       cost=st.integers(0, 2**90),
       wallet=st.integers(-(2**90), 2**90),
       mark=st.integers(1, 2**64))
def test_cross_key_extreme_inputs_fall_back_or_agree(spec, q, cost, wallet, mark):
    """(q = -2**63 once lost its sign in a conditional expression Cython typed long long.)"""
    got = _liqmath.cross_key(q, cost, wallet, spec.brackets_mmr, spec.notional_unit, mark)
    if got is not NotImplemented:
        assert got == _cross_key_exact(q, cost, wallet, spec, mark)


def test_cross_key_most_negative_quantity():
    spec = SPECS[0]
    q = -(2**63)
    assert _liqmath.cross_key(q, 0, 0, spec.brackets_mmr, spec.notional_unit, 1) == _cross_key_exact(q, 0, 0, spec, 1)
