"""Differential and invariant tests: the compiled book against the reference book.

Random sequences of submits, cancels and modifies over every order kind and
self-trade-prevention mode must give identical reports, depth, best prices,
per-level queues and changed-level sets from both books after every operation,
and both must keep the book invariants: with small values (dense matching), and
over the venue's whole price and quantity range plus the 64-bit edges, where
both books refuse what does not fit (``matching.limits``).
"""
import random
from array import array
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching
from matching import (
    BUY, CANCELED, EXPIRED, FILL, MARKET, MODIFIED, OP_CANCEL, OP_MODIFY, OP_SUBMIT,
    REASON_BAD_QUANTITY, REJECTED, REPORT_WIDTH, RESTED, SELL,
)
from matching.reference import ReferenceBook
from hypothesis_profiles import examples

pytestmark = pytest.mark.skipif(matching.CompiledBook is None, reason="compiled book not built")

PRICES = st.integers(min_value=95, max_value=105)
submit_op = st.tuples(st.just("submit"), st.integers(1, 3), st.sampled_from([BUY, SELL]), PRICES,
                      st.integers(1, 8), st.integers(0, 4), st.integers(0, 3))
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 60))
modify_op = st.tuples(st.just("modify"), st.integers(0, 60), PRICES, st.integers(1, 10))
ops_strategy = st.lists(st.one_of(submit_op, submit_op, cancel_op, modify_op), min_size=1, max_size=120)


class Tracker:
    """Follows every order through the reports to check fill accounting."""

    def __init__(self):
        self.qty = {}
        self.filled = {}

    def apply(self, op, reports):
        for r in reports:
            kind = r[0]
            if kind == FILL:
                _, taker, maker, _, _, _, q, maker_left = r
                assert q > 0
                self.filled[taker] += q
                self.filled[maker] += q
                assert maker_left == self.qty[maker] - self.filled[maker]
            elif kind == MODIFIED:
                _, oid, _, qty, remaining, _ = r
                self.qty[oid] = qty
                assert remaining == qty - self.filled[oid]
            elif kind in (RESTED, EXPIRED, CANCELED):
                oid = r[1]
                left = r[3] if kind == RESTED else r[2]
                assert left == self.qty[oid] - self.filled[oid] > 0

    def submitted(self, oid, qty):
        self.qty[oid] = qty
        self.filled[oid] = 0


def check_invariants(book):
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None:
        assert bid < ask, "book is crossed"
    count = 0
    for side in (BUY, SELL):
        levels = book.depth(side, 10**6)
        prices = [p for p, _ in levels]
        assert prices == sorted(prices, reverse=(side == BUY))
        for price, qty in levels:
            orders = book.level_orders(side, price)
            assert orders, "empty level kept"
            assert all(left > 0 for _, _, left in orders), "order with nothing left rests"
            assert qty == sum(left for _, _, left in orders)
            count += len(orders)
    assert count == len(book)


def in_int64(*values):
    return all(-(1 << 63) <= v < 1 << 63 for v in values)


def run_both(ops, check_every=True):
    cy, ref = matching.CompiledBook(), ReferenceBook()
    cy_touched, ref_touched = [], []
    cy.report_changes_to(cy_touched, "book")
    ref.report_changes_to(ref_touched, "book")
    tracker = Tracker()
    next_id = 1
    cases = run_both.cases = set()
    for op in ops:
        if op[0] == "submit":
            _, owner, side, price, qty, kind, stp = op
            oid = next_id
            next_id += 1
            if kind == MARKET:
                price = 0
            args = (oid, owner, side, price, qty, kind, stp)
            a, b = cy.submit(*args), ref.submit(*args)
            if a and a[0][0] != REJECTED:
                tracker.submitted(oid, qty)
            elif a[0][2] == REASON_BAD_QUANTITY and 0 < qty and in_int64(qty):
                cases.add("level overflow refused")
            values = (owner, price, qty)
        elif op[0] == "cancel":
            a, b = cy.cancel(op[1]), ref.cancel(op[1])
            values = (op[1],)
        else:
            a, b = cy.modify(op[1], op[2], op[3]), ref.modify(op[1], op[2], op[3])
            values = op[1:]
            if a[0][0] == REJECTED and a[0][2] == REASON_BAD_QUANTITY and 0 < op[3] and in_int64(*values):
                cases.add("level overflow refused")
        assert a == b, (op, a, b)
        if not in_int64(*values) and a[0][0] == REJECTED:
            cases.add("wide refused")
        if any(r[0] == FILL and r[6] >= 1 << 31 for r in a):
            cases.add("fill >= 2**31")
        tracker.apply(op, a)
        if check_every:
            assert cy.best_bid() == ref.best_bid() and cy.best_ask() == ref.best_ask()
            # a book names itself when, and only when, it logged a change since the last drain
            changed = cy.changed_levels()
            assert changed == ref.changed_levels()
            assert cy_touched == ref_touched == (["book"] if changed else []), (op, changed, cy_touched)
            cy_touched.clear()
            ref_touched.clear()
            for side in (BUY, SELL):
                assert cy.depth(side, 100) == ref.depth(side, 100)
                if any(q >= 1 << 62 for _, q in ref.depth(side, 100)):
                    cases.add("level total >= 2**62")
                for price, _ in ref.depth(side, 100):
                    assert cy.level_orders(side, price) == ref.level_orders(side, price)
            check_invariants(cy)
            check_invariants(ref)
    return cy, ref


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops_strategy)
def test_random_sequences_agree(ops):
    run_both(ops)


# --------------------------------------------------------------- value edges
# Prices and quantities over everything the venue can submit (ticks up to an
# instrument's max price, lots up to its max quantity; a max of 0 means no
# limit) and the 64-bit edges beyond: clustered around a drawn base so orders
# still cross and share levels.
INT64_MAX = (1 << 63) - 1
PRICE_BASES = [1, 95, 5_568, 45_297_640, 30_617_700, 1 << 31, 1 << 32, 1 << 53, 1 << 62, INT64_MAX - 20]
# quantity regimes: one per example, so its orders meet orders of their own size
REGIMES = [[(1 << 31) - 1, 1 << 31, 1 << 32, 3 << 30], [(1 << 62) - 1, 1 << 62, (1 << 62) + 1, 1 << 61],
           [INT64_MAX - 1, INT64_MAX, INT64_MAX // 2, INT64_MAX // 2 + 1]]
VENUE_QTYS = [1, 2, 8, 120_000, 1_000_000, 10_000_000]
WIDE = [1 << 63, (1 << 63) + 5, 1 << 64, -(1 << 63) - 1]       # beyond 64 bits: refused by both books


def one_in(n, common, rare):
    """``common`` with odds n-1 : 1 against ``rare``."""
    # (st.one_of would pick its last branch far more often than 1 in n)
    return st.sampled_from(range(n)).flatmap(lambda k: rare if k == 0 else common)


@st.composite
def edge_ops(draw):
    base = draw(st.sampled_from(PRICE_BASES))
    price = one_in(8, st.integers(-2, 2).map(lambda d: max(1, min(INT64_MAX, base + d))),
                   st.sampled_from([0, -1] + WIDE))
    regime = draw(st.sampled_from(REGIMES + [VENUE_QTYS]))
    qty = one_in(10, st.sampled_from(regime * 4 + VENUE_QTYS), st.sampled_from([0, -1] + WIDE))
    ident = one_in(8, st.integers(0, 60), st.sampled_from(WIDE))
    submit = st.tuples(st.just("submit"), one_in(10, st.integers(1, 3), st.sampled_from(WIDE)),
                       st.sampled_from([BUY, SELL]), price, qty, st.integers(0, 4), st.integers(0, 3))
    return draw(st.lists(st.one_of(submit, submit, submit, st.tuples(st.just("cancel"), ident),
                                   st.tuples(st.just("modify"), ident, price, qty)), min_size=10, max_size=60))


def test_edge_value_sequences_agree():
    """Both books agree (or both refuse) over the venue's whole range and the
    64-bit edges: e.g. two resting 2**62 orders at one price (a level total of
    2**63 would not fit: the second is refused), a quantity of 2**63."""
    seen, done = Counter(), Counter()

    @settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(edge_ops())
    def prop(ops):
        run_both(ops)
        done["n"] += 1
        seen.update(run_both.cases)

    prop()
    # each edge is exercised, not just generated
    for case, floor in {"level total >= 2**62": 0.1, "level overflow refused": 0.02, "wide refused": 0.5,
                        "fill >= 2**31": 0.03}.items():
        assert seen[case] >= floor * done["n"], (case, seen, done)


@pytest.mark.parametrize("seed", range(4))
def test_long_seeded_sequences_agree(seed):
    rng = random.Random(seed)
    ops = []
    for _ in range(5000):
        r = rng.random()
        if r < 0.55:
            ops.append(("submit", rng.randint(1, 4), rng.randint(0, 1), rng.randint(90, 110),
                        rng.randint(1, 20), rng.choice([0, 0, 0, 1, 2, 3, 4]), rng.randint(0, 3)))
        elif r < 0.85:
            ops.append(("cancel", rng.randint(1, len(ops) + 1)))
        else:
            ops.append(("modify", rng.randint(1, len(ops) + 1), rng.randint(90, 110), rng.randint(1, 25)))
    cy, ref = run_both(ops, check_every=False)
    for side in (BUY, SELL):
        assert cy.depth(side, 1000) == ref.depth(side, 1000)
    assert cy.changed_levels() == ref.changed_levels()
    check_invariants(cy)


def encode(ops):
    flat = array("q")
    next_id = 1
    for op in ops:
        if op[0] == "submit":
            _, owner, side, price, qty, kind, stp = op
            flat.extend([OP_SUBMIT, next_id, owner, side, 0 if kind == MARKET else price, qty, kind, stp])
            next_id += 1
        elif op[0] == "cancel":
            flat.extend([OP_CANCEL, op[1], 0, 0, 0, 0, 0, 0])
        else:
            flat.extend([OP_MODIFY, op[1], 0, 0, op[2], op[3], 0, 0])
    return flat


@settings(max_examples=100, deadline=None)
@given(ops_strategy)
def test_batch_entry_point_equals_single_calls(ops):
    single = ReferenceBook()
    expected = []
    next_id = 1
    for i, op in enumerate(ops):
        if op[0] == "submit":
            _, owner, side, price, qty, kind, stp = op
            reports = single.submit(next_id, owner, side, 0 if kind == MARKET else price, qty, kind, stp)
            next_id += 1
        elif op[0] == "cancel":
            reports = single.cancel(op[1])
        else:
            reports = single.modify(op[1], op[2], op[3])
        for r in reports:
            expected.append((i,) + r + (0,) * (REPORT_WIDTH - 1 - len(r)))
    flat = encode(ops)
    for book in (matching.CompiledBook(), ReferenceBook()):
        out = book.execute_batch(flat)
        rows = [tuple(out[k:k + REPORT_WIDTH]) for k in range(0, len(out), REPORT_WIDTH)]
        assert rows == expected
        for side in (BUY, SELL):
            assert book.depth(side, 100) == single.depth(side, 100)
