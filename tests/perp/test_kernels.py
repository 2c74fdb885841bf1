"""Each compiled perp kernel (``exchange/perp/_kernels.pyx``) against its Python specification.

One differential test per kept pair (ARCHITECTURE rule 8).  For realistic inputs the
kernel must answer from its C arithmetic alone (the specification is replaced by a
tripwire while it runs) and equal the specification; for any input - beyond 64 bits,
products beyond 128, bools, INT64_MIN, zero divisors - it must give exactly what the
specification gives (or raise what it raises), which it does by running it.
"""
from __future__ import annotations

import importlib
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import given, settings, strategies as st

import exchange.perp as perp
from exchange.contract.codes import BOTH, LONG, SHORT
from exchange.contract.instruments import DEFAULT_INSTRUMENTS, Bracket
from exchange.perp import fees, funding, liquidation, margin, position
from exchange.units import RATE_SCALE
from exchange.venue.spec import SymbolSpec
from matching.accelerator import PURE

if PURE:
    pytest.skip("PAPEREX_PURE=1 runs the specifications only (tests/perp tests them)", allow_module_level=True)
# built with the extensions: an ImportError here is a failure, not a skip
K = importlib.import_module("exchange.perp._kernels")

I64 = 2 ** 63
TABLES = [SymbolSpec(i).bracket_table for i in DEFAULT_INSTRUMENTS.values()]
# a one-tier table with a cap beyond 64 bits (the venue's fallback when an instrument lists none)
TABLES.append((Bracket(1, 125, 0, 10 ** 30, 400_000, 0),))
EXTREME = [0, 1, -1, 2, I64 - 1, -I64 + 1, I64, -I64, -I64 - 1, 2 ** 64, 2 ** 70, -(2 ** 70), 2 ** 126,
           -(2 ** 127), 2 ** 200]
any_int = st.one_of(st.integers(-10 ** 15, 10 ** 15), st.sampled_from(EXTREME),
                    st.integers(-(2 ** 130), 2 ** 130))


def _answer(f, *args):
    """(result, None) or (None, exception type): the kernel must raise what the spec raises."""
    try:
        return f(*args), None
    except Exception as e:      # noqa: BLE001 - compared, not swallowed
        return None, type(e)


@contextmanager
def c_only(module, name):
    """While inside, the specification ``module.name`` fails the test if the kernel calls it."""
    def tripwire(*args):
        raise AssertionError(f"kernel fell back to {module.__name__}.{name}{args}")
    with mock.patch.object(module, name, tripwire):
        yield


def test_package_exports_the_kernels_when_built():
    for name in ("apply_fill", "unrealized_pnl", "commission_split", "funding_payment", "initial_margin",
                 "slot_order_margin", "slot_margin_change", "leg_index_key"):
        assert getattr(perp, name) is getattr(K, name), name


def test_rate_scale_constant():
    assert K.commission_split(RATE_SCALE, 1) == (1, 1)


# ------------------------------------------------------------------ apply_fill

@settings(max_examples=1500, deadline=None)
@given(qty=st.integers(-10 ** 7, 10 ** 7), price=st.integers(1, 2 * 10 ** 6), fill=st.integers(-10 ** 7, 10 ** 7),
       fill_price=st.integers(1, 2 * 10 ** 6), unit=st.sampled_from([1, 3, 1_000, 10_000, 100_000]))
def test_apply_fill_realistic(qty, price, fill, fill_price, unit):
    cost = abs(qty) * price * unit + (price % 7 if qty else 0)       # entry notional off the grid too
    exact = position.apply_fill(qty, cost, fill, fill_price, unit)
    with c_only(position, "apply_fill"):
        assert K.apply_fill(qty, cost, fill, fill_price, unit) == exact


@settings(max_examples=1500, deadline=None)
@given(qty=any_int, cost=any_int, fill=any_int, fill_price=any_int, unit=any_int)
def test_apply_fill_any_input(qty, cost, fill, fill_price, unit):
    assert K.apply_fill(qty, cost, fill, fill_price, unit) == position.apply_fill(qty, cost, fill, fill_price, unit)


def test_apply_fill_odd_types_run_the_specification():
    assert K.apply_fill(True, 5, -1, 3, 1) == position.apply_fill(True, 5, -1, 3, 1)
    assert K.apply_fill(2, 10, -1, 2.5, 1) == position.apply_fill(2, 10, -1, 2.5, 1)


# ------------------------------------------------------------------ unrealized_pnl, commission, initial margin

@settings(max_examples=1000, deadline=None)
@given(qty=st.integers(-10 ** 7, 10 ** 7), cost=st.integers(0, 10 ** 17), mark=st.integers(1, 10 ** 7),
       unit=st.sampled_from([1, 1_000, 10_000]))
def test_unrealized_pnl_realistic(qty, cost, mark, unit):
    exact = position.unrealized_pnl(qty, cost, mark, unit)
    with c_only(position, "unrealized_pnl"):
        assert K.unrealized_pnl(qty, cost, mark, unit) == exact


@settings(max_examples=1000, deadline=None)
@given(any_int, any_int, any_int, any_int)
def test_unrealized_pnl_any_input(qty, cost, mark, unit):
    assert K.unrealized_pnl(qty, cost, mark, unit) == position.unrealized_pnl(qty, cost, mark, unit)


@settings(max_examples=1000, deadline=None)
@given(n=st.integers(-10 ** 18, 10 ** 18), rate=st.integers(-10 ** 6, 10 ** 7))
def test_commission_split_realistic(n, rate):
    exact = fees.commission_split(n, rate)
    with c_only(fees, "commission_split"):
        assert K.commission_split(n, rate) == exact


@settings(max_examples=1000, deadline=None)
@given(any_int, any_int)
def test_commission_split_any_input(n, rate):
    assert K.commission_split(n, rate) == fees.commission_split(n, rate)


@settings(max_examples=1000, deadline=None)
@given(n=st.integers(-10 ** 18, 10 ** 18), lev=st.integers(1, 125))
def test_initial_margin_realistic(n, lev):
    exact = margin.initial_margin(n, lev)
    with c_only(margin, "initial_margin"):
        assert K.initial_margin(n, lev) == exact


@settings(max_examples=1000, deadline=None)
@given(any_int, any_int)
def test_initial_margin_any_input(n, lev):
    assert _answer(K.initial_margin, n, lev) == _answer(margin.initial_margin, n, lev)


@settings(max_examples=1500, deadline=None)
@given(q=st.integers(-10 ** 7, 10 ** 7), mark=st.integers(1, 2 * 10 ** 6), rate=st.integers(-3 * 10 ** 6, 3 * 10 ** 6),
       unit=st.sampled_from([1, 3, 1_000, 10_000, 100_000]))
def test_funding_payment_realistic(q, mark, rate, unit):
    exact = funding.funding_payment(q, mark, rate, unit)
    with c_only(funding, "funding_payment"):
        assert K.funding_payment(q, mark, rate, unit) == exact


@settings(max_examples=1500, deadline=None)
@given(any_int, any_int, any_int, any_int)
def test_funding_payment_any_input(q, mark, rate, unit):
    assert K.funding_payment(q, mark, rate, unit) == funding.funding_payment(q, mark, rate, unit)


# ------------------------------------------------------------------ slot_order_margin

sides = st.sampled_from([BOTH, LONG, SHORT])


@settings(max_examples=1500, deadline=None)
@given(ps=sides, pn=st.integers(-10 ** 17, 10 ** 17), bn=st.integers(0, 10 ** 17), sn=st.integers(0, 10 ** 17),
       bl=st.integers(0, 10 ** 15), sl=st.integers(0, 10 ** 15), lev=st.integers(1, 125))
def test_slot_order_margin_realistic(ps, pn, bn, sn, bl, sl, lev):
    exact = margin.slot_order_margin(ps, pn, bn, sn, bl, sl, lev)
    with c_only(margin, "slot_order_margin"):
        assert K.slot_order_margin(ps, pn, bn, sn, bl, sl, lev) == exact


@settings(max_examples=1500, deadline=None)
@given(ps=st.one_of(sides, any_int), pn=any_int, bn=any_int, sn=any_int, bl=any_int, sl=any_int,
       lev=st.one_of(st.integers(-3, 125), any_int))
def test_slot_order_margin_any_input(ps, pn, bn, sn, bl, sl, lev):
    assert _answer(K.slot_order_margin, ps, pn, bn, sn, bl, sl, lev) == \
        _answer(margin.slot_order_margin, ps, pn, bn, sn, bl, sl, lev)



# ------------------------------------------------------------------ slot_margin_change

@settings(max_examples=1500, deadline=None)
@given(ps=sides, pn=st.integers(-10 ** 17, 10 ** 17), bn=st.integers(0, 10 ** 17), sn=st.integers(0, 10 ** 17),
       bl=st.integers(0, 10 ** 15), sl=st.integers(0, 10 ** 15), lev=st.integers(1, 125), side=st.sampled_from([0, 1]),
       n=st.integers(0, 10 ** 17), loss=st.integers(0, 10 ** 15))
def test_slot_margin_change_realistic(ps, pn, bn, sn, bl, sl, lev, side, n, loss):
    exact = margin.slot_margin_change(ps, pn, bn, sn, bl, sl, lev, side, n, loss)
    with c_only(margin, "slot_margin_change"):
        assert K.slot_margin_change(ps, pn, bn, sn, bl, sl, lev, side, n, loss) == exact


@settings(max_examples=1500, deadline=None)
@given(ps=st.one_of(sides, any_int), pn=any_int, bn=any_int, sn=any_int, bl=any_int, sl=any_int,
       lev=st.one_of(st.integers(-3, 125), any_int), side=st.one_of(st.sampled_from([0, 1]), any_int),
       n=any_int, loss=any_int)
def test_slot_margin_change_any_input(ps, pn, bn, sn, bl, sl, lev, side, n, loss):
    assert _answer(K.slot_margin_change, ps, pn, bn, sn, bl, sl, lev, side, n, loss) == \
        _answer(margin.slot_margin_change, ps, pn, bn, sn, bl, sl, lev, side, n, loss)


def test_slot_margin_change_is_slot_order_margin_before_and_after():
    # a buy of 50k notional (open loss 300) joins a one-way slot long 100k with 20k of sells, 10x
    before = margin.slot_order_margin(BOTH, 100_000, 0, 20_000, 0, 0, 10)[0]
    after, worst = margin.slot_order_margin(BOTH, 100_000, 50_000, 20_000, 300, 0, 10)
    assert K.slot_margin_change(BOTH, 100_000, 0, 20_000, 0, 0, 10, 0, 50_000, 300) == (before, after, worst)
    assert (before, after, worst) == (0, 5_300, 150_000)


USDT = 100_000_000
SPECS = [SymbolSpec(i) for i in DEFAULT_INSTRUMENTS.values()]


# ------------------------------------------------------------------ leg_index_key

@settings(max_examples=3000, deadline=None)
@given(spec=st.sampled_from(SPECS), q=st.integers(-2_000_000, 2_000_000).filter(bool),
       entry_price=st.integers(1, 2_000_000), wallet=st.integers(-10 ** 7 * USDT, 10 ** 8 * USDT),
       mark=st.integers(1, 2_000_000))
def test_leg_index_key_realistic(spec, q, entry_price, wallet, mark):
    cost = abs(q) * entry_price * spec.notional_unit
    args = (q, cost, wallet, spec.bracket_table, spec.notional_unit, mark)
    exact = liquidation.leg_index_key(*args)
    with c_only(liquidation, "leg_index_key"), c_only(liquidation, "index_key"):
        assert K.leg_index_key(*args) == exact


@settings(max_examples=2000, deadline=None)
@given(table=st.sampled_from(TABLES), q=any_int.filter(bool), cost=any_int, wallet=any_int,
       unit=st.one_of(st.sampled_from([1, 3, 1_000, 10_000]), any_int), mark=any_int)
def test_leg_index_key_any_input(table, q, cost, wallet, unit, mark):
    assert _answer(K.leg_index_key, q, cost, wallet, table, unit, mark) == \
        _answer(liquidation.leg_index_key, q, cost, wallet, table, unit, mark)


def test_leg_index_key_most_negative_quantity():
    spec = SPECS[0]
    t, u = spec.bracket_table, spec.notional_unit
    for q in (-I64, -I64 + 1, I64 - 1):
        assert K.leg_index_key(q, 0, 0, t, u, 1) == liquidation.leg_index_key(q, 0, 0, t, u, 1)


def test_leg_index_key_negative_numerators_bracket_edges_and_tables_it_cannot_hold():
    spec = SPECS[0]
    t, u = spec.bracket_table, spec.notional_unit
    for q, price, wallet in [(1, 500_000, -5 * USDT), (-3, 400_000, -1), (7, 1, -(10 ** 6) * USDT)]:
        cost = abs(q) * price * u
        assert K.leg_index_key(q, cost, wallet, t, u, 500_000) == \
            liquidation.leg_index_key(q, cost, wallet, t, u, 500_000)
    for table in TABLES:            # marks putting the notional at, below and above every cap
        for b in table[:-1]:
            for n in (b.notional_cap - 1, b.notional_cap, b.notional_cap + 1):
                q, mark = 1, n
                for wallet in (0, 10 ** 12, -(10 ** 9)):
                    args = (q, n, wallet, table, 1, mark)
                    assert K.leg_index_key(*args) == liquidation.leg_index_key(*args)
    big_rate = (Bracket(1, 125, 0, 10 ** 9, 2 ** 70, 0), Bracket(2, 100, 10 ** 9, 10 ** 12, 2 ** 71, 5))
    for table in (big_rate, list(t)):
        for mark in (1, 10 ** 4, 10 ** 6):
            args = (3, 3 * 10 ** 5, 10 ** 9, table, u, mark)
            assert _answer(K.leg_index_key, *args) == _answer(liquidation.leg_index_key, *args)
