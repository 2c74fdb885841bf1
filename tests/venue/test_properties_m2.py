"""Random command sequences with marks, funding, liquidations, ADL and conditional orders.

After every command: the money identity holds (insurance fund included) and the
rounding residue grew by no more than its rounding operations allow (at most one
unit per charged fill, less than one unit per position in a funding
settlement); funding is zero-sum (payers' charges = receivers' credits + the
residue it added); no position is at or below maintenance margin after the
liquidation step; the open-position registry and the liquidation index agree
with the positions.  Two venues (compiled and reference books) fed the same
commands give the same events and digest; a venue restored from a snapshot taken
half-way and fed the rest gives the same events and digest as the full run.

The commands are stamped across funding intervals (``perp_commands.next_ts``),
and the test counts what the examples exercised: funding that paid, liquidations,
partial fills, ADL.  Each must happen in a floor share of the examples.
"""
from collections import Counter

import msgpack
from hypothesis import HealthCheck, given, settings, strategies as st

import matching
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract.commands import command_from_record
from exchange.contract.events import event_from_record
from exchange.contract import codes as C
from exchange.contract.events import FundingSettled, Income, OrderFilled
from matching.reference import ReferenceBook
from hypothesis_profiles import examples
from perp_commands import EPILOGUE, SETUP, STEP_MS, assert_floors, cases, draw_sequence_command, next_ts

# share of examples that must show each case (measured: see the test's docstring)
FLOORS = {"funding paid": 0.5, "liquidation": 0.25, "partial fill": 0.5, "adl": 0.1}


def check(v, events, residue_before, open_before):
    mi = v.money_identity()
    assert mi["balanced"], mi
    fund_income = {}
    for e in events:
        rec = msgpack.unpackb(msgpack.packb(e.to_record()), raw=False)
        assert event_from_record(rec) == e
        if isinstance(e, Income) and e.income_type == C.I_FUNDING_FEE:
            fund_income[e.symbol] = fund_income.get(e.symbol, 0) + e.amount
    funding_residue = 0
    for e in events:
        if isinstance(e, FundingSettled):
            # zero-sum: what receivers got plus the residue is what payers paid; the
            # residue is the rounding of each position's payment (payers rounded up,
            # receivers down), less than one unit each
            assert fund_income.get(e.symbol, 0) == e.received - e.paid
            assert 0 <= e.paid - e.received < max(1, open_before[e.symbol]), (e, open_before)
            assert e.positions <= open_before[e.symbol]
            funding_residue += e.paid - e.received
    # every other unit of residue is a fee rounded up on a fill: at most one unit each
    fee_residue = v.rounding_residue - residue_before - funding_residue
    fills = sum(1 for e in events if isinstance(e, OrderFilled) and e.fee)
    assert 0 <= fee_residue <= fills, (fee_residue, fills)
    for sym, s in v.symbols.items():
        reg = {}
        for acct in v.accounts.values():
            for (psym, ps), pos in acct.positions.items():
                if psym == sym and pos.qty:
                    reg[acct.account_id * 4 + ps] = pos
        assert reg == s.positions
        assert sum(p.qty for p in reg.values()) == 0
    n_items = 0
    for acct in v.accounts.values():
        for (sym, g), (item, dirn) in acct.liq.items():
            lst = v.symbols[sym].liq_falls if dirn < 0 else v.symbols[sym].liq_rises
            assert item in lst
            n_items += 1
        # nobody is left at or below maintenance margin
        for key, pos in acct.positions.items():
            if pos.qty and acct.settings[key[0]][1] == C.ISOLATED and v.symbols[key[0]].mark:
                assert not v._iso_liquidatable(pos, v.symbols[key[0]]), (acct.account_id, key)
        if any(p.qty for k, p in acct.positions.items() if acct.settings[k[0]][1] != C.ISOLATED):
            assert not v._cross_liquidatable(acct), acct.account_id
    assert n_items == sum(len(s.liq_falls) + len(s.liq_rises) for s in v.symbols.values())


BOOKS = [ReferenceBook] + ([matching.CompiledBook] if matching.CompiledBook is not None else [])


def checked_apply(v, ts, c):
    before = v.rounding_residue
    open_before = {sym: len(s.positions) for sym, s in v.symbols.items()}
    ev = v.apply(ts, c)
    check(v, ev, before, open_before)
    return ev


def run(stamped, book, start=0, venue=None):
    v = venue or Venue(DEFAULT_INSTRUMENTS, history_limit=40, book_factory=book)
    return v, [[e.to_record() for e in v.apply(ts, c)] for ts, c in stamped[start:]]


def test_random_perp_sequences():
    """Measured with the ci profile (40 examples, derandomized; the compiled and the
    pure build draw different examples): funding paid in 31 / 31, liquidations in
    29 / 16, partial fills in 31 / 32, ADL in 29 / 15."""
    seen = Counter()
    done = Counter()

    @settings(max_examples=examples(40), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data(), st.integers(30, 160))
    def prop(data, n):
        v = Venue(DEFAULT_INSTRUMENTS, history_limit=40, book_factory=BOOKS[-1])
        stamped = [(i * STEP_MS, c) for i, c in enumerate(SETUP)]
        log1 = [[e.to_record() for e in v.apply(ts, c)] for ts, c in stamped]
        ts = stamped[-1][0]
        cut = len(SETUP) + n // 2
        snap = None
        case_set = set()
        for i in range(len(SETUP), len(SETUP) + n):
            if i == cut:
                snap = msgpack.unpackb(msgpack.packb(v.snapshot()), raw=False, strict_map_key=False)
            c = draw_sequence_command(data.draw, v, i - len(SETUP), n)
            assert command_from_record(msgpack.unpackb(msgpack.packb(c.to_record()), raw=False)) == c
            ts = next_ts(ts, c, data.draw, settle=i - len(SETUP) >= n - EPILOGUE)
            stamped.append((ts, c))
            ev = checked_apply(v, ts, c)
            case_set |= cases(ev)
            log1.append([e.to_record() for e in ev])
        # determinism across book implementations
        v2, log2 = run(stamped, BOOKS[0])
        assert log1 == log2
        assert v.state_digest() == v2.state_digest()
        # snapshot half-way + the tail == the full run
        r = Venue.restore(snap, book_factory=BOOKS[0])
        _, tail = run(stamped, None, start=cut, venue=r)
        assert tail == log1[cut:]
        assert r.state_digest() == v.state_digest()
        done["n"] += 1
        seen.update(case_set)

    prop()
    assert_floors(seen, done["n"], FLOORS)
