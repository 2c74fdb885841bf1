"""The record constructor's compiled kernel against its specification, ``tuple.__new__``."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from exchange.contract import events, records
from exchange.contract.commands import CancelOrder, NewOrder
from matching.accelerator import compiled

K = compiled("exchange.contract._records")
pytestmark = pytest.mark.skipif(K is None, reason="PAPEREX_PURE=1: the specification itself is records.new_record")

CLASSES = [NewOrder, CancelOrder, events.OrderFilled, events.OrderCanceled, events.Income, events.BalanceChanged]
fields = st.one_of(st.integers(), st.text(max_size=8), st.none())


def test_records_exports_the_kernel():
    assert records.new_record is K.new_record


@given(cls=st.sampled_from(CLASSES), data=st.data())
def test_same_record_as_tuple_new(cls, data):
    listed = data.draw(st.lists(fields, min_size=len(cls._fields), max_size=len(cls._fields)))
    for values in (tuple(listed), listed):
        made = K.new_record(cls, values)
        spec = tuple.__new__(cls, values)
        assert type(made) is cls and made == spec and made._fields == spec._fields
        assert [getattr(made, f) for f in cls._fields] == list(values)


def test_any_length_like_the_specification():
    # tuple.__new__ does not check a NamedTuple's length: neither does the kernel
    assert K.new_record(CancelOrder, (1,)) == tuple.__new__(CancelOrder, (1,))
    assert K.new_record(CancelOrder, ()) == ()


def test_plain_tuple_and_refusals_like_the_specification():
    t = (1, 2)
    assert K.new_record(tuple, t) == tuple.__new__(tuple, t)
    for bad in (int, dict):
        with pytest.raises(TypeError):
            tuple.__new__(bad, (1,))
        with pytest.raises(TypeError):
            K.new_record(bad, (1,))
    # a list (the journal's decoded records) and any other iterable, as the specification
    assert K.new_record(CancelOrder, [1, "BTCUSDT", 3, "x"]) == tuple.__new__(CancelOrder, [1, "BTCUSDT", 3, "x"])
    assert type(K.new_record(CancelOrder, [1, "BTCUSDT"])) is CancelOrder
    assert K.new_record(CancelOrder, iter((1, 2))) == tuple.__new__(CancelOrder, iter((1, 2)))
    with pytest.raises(TypeError):
        K.new_record(CancelOrder, 5)


def test_records_survive_the_collector():
    import gc
    made = [K.new_record(events.Income, (i, 1, "BTCUSDT", -i, i, 0)) for i in range(2000)]
    gc.collect()
    assert sum(r.account_id for r in made) == sum(range(2000))
