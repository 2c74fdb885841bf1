"""The liquidation index in C++ (``_liqindex.LiqIndex``) against its pure-Python twin
(``liqindex.PyLiqIndex``, a SortedList): random add / remove / range-scan / bulk-replace
sequences, including keys and account ids beyond 64 bits, give the same items in the same
order and dirty the same accounts in the same order."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from exchange.venue.liqindex import PyLiqIndex

_liqindex = pytest.importorskip("exchange.venue._liqindex", exc_type=ImportError,
                                reason="compiled-only helper (not built, or PAPEREX_PURE=1)")

I64 = 2 ** 63
EDGE = [-(2 ** 100), -I64 - 1, -I64, -I64 + 1, -1, 0, 1, 2, 499_999, 500_000, 500_001,
        I64 - 2, I64 - 1, I64, I64 + 1, 2 ** 100]
small_keys = st.integers(499_990, 500_010)
keys = st.one_of(small_keys, st.sampled_from(EDGE), st.integers(-(2 ** 70), 2 ** 70))
aids = st.one_of(st.integers(1, 5), st.sampled_from([I64 - 1, I64, 2 ** 80]))
items = st.tuples(keys, aids, st.integers(0, 4))
ops = st.lists(st.one_of(
    st.tuples(st.just("add"), items),
    st.tuples(st.just("remove"), items),
    st.tuples(st.just("remove_present"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("from"), keys),
    st.tuples(st.just("upto"), keys),
    st.tuples(st.just("replace"), st.lists(st.integers(0, 10 ** 6), max_size=4), st.lists(items, max_size=4)),
    st.tuples(st.just("clear"),),
), max_size=80)


def _same(c, p):
    assert c.items() == list(p)
    assert list(c) == list(p)
    assert len(c) == len(p)
    assert bool(c) == bool(p)


@settings(max_examples=1500, deadline=None)
@given(ops=ops)
def test_compiled_index_matches_sortedlist(ops):
    c = _liqindex.LiqIndex()
    p = PyLiqIndex()
    for op in ops:
        kind = op[0]
        if kind == "add":
            c.add(op[1])
            p.add(op[1])
        elif kind == "remove":
            present = op[1] in p
            assert (op[1] in c) == present
            if present:
                c.remove(op[1])
                p.remove(op[1])
            else:
                with pytest.raises(ValueError):
                    c.remove(op[1])
        elif kind == "remove_present":
            if len(p):
                item = p[op[1] % len(p)]
                assert item in c
                c.remove(item)
                p.remove(item)
        elif kind in ("from", "upto"):
            dc: dict = {}
            dp: dict = {}
            getattr(c, "hits_" + kind)(op[1], dc)
            getattr(p, "hits_" + kind)(op[1], dp)
            assert list(dc) == list(dp)
        elif kind == "replace":
            removed = {p[i % len(p)] for i in op[1]} if len(p) else set()
            c.replace(removed, op[2])
            p.replace(removed, op[2])
        else:
            c.clear()
            p.clear()
        _same(c, p)


def test_scans_keep_item_order_and_ties():
    c = _liqindex.LiqIndex()
    p = PyLiqIndex()
    rows = [(5, 9, 3), (5, 2, 3), (5, 2, 0), (7, 1, 4), (3, 4, 3), (2 ** 70, 8, 3), (-(2 ** 70), 6, 3)]
    c.update(rows)
    p.update(rows)
    _same(c, p)
    for k in (-(2 ** 71), 0, 3, 5, 6, 7, 2 ** 64, 2 ** 71):
        for scan in ("hits_from", "hits_upto"):
            dc: dict = {}
            dp: dict = {}
            getattr(c, scan)(k, dc)
            getattr(p, scan)(k, dp)
            assert list(dc) == list(dp), (scan, k)


def test_duplicates_behave_as_a_multiset():
    c = _liqindex.LiqIndex()
    p = PyLiqIndex()
    for x in [(1, 1, 3), (1, 1, 3), (2 ** 64, 1, 3), (2 ** 64, 1, 3)]:
        c.add(x)
        p.add(x)
    c.remove((1, 1, 3))
    p.remove((1, 1, 3))
    c.remove((2 ** 64, 1, 3))
    p.remove((2 ** 64, 1, 3))
    _same(c, p)
    c.replace({(1, 1, 3), (2 ** 64, 1, 3)}, [(0, 0, 0)])
    p.replace({(1, 1, 3), (2 ** 64, 1, 3)}, [(0, 0, 0)])
    _same(c, p)
    with pytest.raises(ValueError):
        c.remove((1, 1, 3))
