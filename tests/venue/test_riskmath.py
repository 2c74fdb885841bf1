"""The margin arithmetic in 128-bit C (``_riskmath``) against its exact Python twin (the
bodies of ``risk.slot_order_margin`` / ``risk.available_balance``, loaded from source with
the C helper switched off)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import risk
from exchange.contract import codes as C
from exchange.venue.accounts import Account, OrderAgg
from exchange.venue.positions import Position
from exchange.venue.symbol_state import SymbolState
from exchange.venue.spec import SymbolSpec

from conftest import python_twin

_riskmath = pytest.importorskip("exchange.venue._riskmath", exc_type=ImportError,
                                reason="compiled-only helper (not built, or PAPEREX_PURE=1)")


EXACT = python_twin(risk, "_slot_order_margin_c", "_available_balance_c", "_reserve_order_margin_c",
                    "_release_order_margin_c")
SYMS = sorted(DEFAULT_INSTRUMENTS)[:3]
I64 = 2 ** 63
big = st.sampled_from([0, 1, -1, I64 - 1, I64, -I64, -I64 - 1, 2 ** 70, -(2 ** 70), 2 ** 126])
money = st.one_of(st.integers(-10 ** 15, 10 ** 15), big)
small = st.one_of(st.integers(-10 ** 15, 10 ** 15), st.just(0))


def _agg(vals):
    a = OrderAgg()
    a.buy_notional, a.sell_notional, a.buy_loss, a.sell_loss = vals
    return a


@settings(max_examples=3000, deadline=None)
@given(vals=st.tuples(money, money, money, money), ps=st.sampled_from([0, 1, 2]),
       pn=money, lev=st.one_of(st.integers(1, 125), st.sampled_from([I64 - 1, 2 ** 64])))
def test_slot_order_margin_matches(vals, ps, pn, lev):
    agg = _agg(vals)
    exact = EXACT.slot_order_margin(agg, ps, pn, lev)
    got = _riskmath.slot_order_margin(agg, ps, pn, lev)
    if got is not NotImplemented:
        assert got == exact
    assert risk.slot_order_margin(agg, ps, pn, lev) == exact


def test_slot_order_margin_zero_leverage_raises_like_python():
    agg = _agg((5, 0, 0, 0))
    assert _riskmath.slot_order_margin(agg, 0, 0, 0) is NotImplemented
    with pytest.raises(ZeroDivisionError):
        risk.slot_order_margin(agg, 0, 0, 0)


position = st.tuples(st.sampled_from(SYMS), st.sampled_from([0, 1, 2]),
                     st.one_of(st.integers(-5000, 5000), st.sampled_from([0, I64, -(2 ** 64)])),
                     st.one_of(st.integers(0, 10 ** 13), big))
slot = st.tuples(st.sampled_from(SYMS), st.sampled_from([0, 1, 2]), st.tuples(small, small, small, small))


@settings(max_examples=3000, deadline=None)
@given(wallet=money, positions=st.lists(position, max_size=5), slots=st.lists(slot, max_size=5),
       marks=st.tuples(*[st.one_of(st.integers(0, 2_000_000), st.sampled_from([I64 - 1, 2 ** 64]))
                         for _ in SYMS]),
       sets=st.tuples(*[st.one_of(st.none(), st.tuples(st.integers(1, 125), st.sampled_from([C.CROSSED, C.ISOLATED])))
                        for _ in SYMS]))
def test_available_balance_matches(wallet, positions, slots, marks, sets):
    symbols = {}
    for sym, mark in zip(SYMS, marks):
        s = SymbolState(SymbolSpec(DEFAULT_INSTRUMENTS[sym]))
        s.mark = mark
        symbols[sym] = s
    acct = Account(1)
    acct.cross_wallet = wallet
    for sym, st_ in zip(SYMS, sets):
        if st_ is not None:
            acct.settings[sym] = [st_[0], st_[1]]
    for sym, ps, q, entry in positions:
        if sym not in acct.settings:
            acct.settings[sym] = [20, C.CROSSED]      # a position always has settings
        p = Position(sym, ps)
        p.qty = q
        p.entry = entry
        acct.positions[(sym, ps)] = p
    for sym, ps, vals in slots:
        acct.aggs[(sym, ps)] = _agg(vals)
    exact = EXACT.available_balance(acct, symbols)
    got = _riskmath.available_balance(acct, symbols)
    if got is not NotImplemented:
        assert got == exact
    assert risk.available_balance(acct, symbols) == exact
    assert EXACT.account_margin(acct, symbols)[0] == exact


@settings(max_examples=3000, deadline=None)
@given(vals=st.tuples(money, money, money, money), lots=st.tuples(small, small), side=st.sampled_from([0, 1]),
       qty=small, notional=money, loss=small, ps=st.sampled_from([0, 1, 2]), pn=money,
       lev=st.sampled_from([0, 1, 2, 20, 125, 200]), table=st.lists(money, max_size=130))
def test_reserve_order_margin_matches(vals, lots, side, qty, notional, loss, ps, pn, lev, table):
    a, b = _agg(vals), _agg(vals)
    a.buy_lots, a.sell_lots = b.buy_lots, b.sell_lots = lots
    got = _riskmath._reserve_order_margin_c(a, side, qty, notional, loss, ps, pn, lev, table)
    if got < 0:
        assert a.state() == b.state()        # untouched: the caller runs the Python lines
        return
    assert got == EXACT.reserve_order_margin(b, side, qty, notional, loss, ps, pn, lev, table)
    assert a.state() == b.state()


@settings(max_examples=3000, deadline=None)
@given(vals=st.tuples(money, money, money, money), lots=st.tuples(money, money), side=st.sampled_from([0, 1]),
       q=money, price=money, loss=money, unit=st.one_of(st.sampled_from([1, 10, 1000]), big))
def test_release_order_margin_matches(vals, lots, side, q, price, loss, unit):
    a, b = _agg(vals), _agg(vals)
    a.buy_lots, a.sell_lots = b.buy_lots, b.sell_lots = lots
    if not _riskmath._release_order_margin_c(a, side, q, price, loss, unit):
        assert a.state() == b.state()        # untouched: the caller runs the Python lines
        EXACT.release_order_margin(a, side, q, price, loss, unit)
    EXACT.release_order_margin(b, side, q, price, loss, unit)
    assert a.state() == b.state()
    c = _agg(vals)
    c.buy_lots, c.sell_lots = lots
    risk.release_order_margin(c, side, q, price, loss, unit)
    assert c.state() == b.state()
