"""Random command sequences with marks, funding, liquidations, ADL and conditional orders.

After every command: the money identity holds (insurance fund included);
funding is zero-sum (payers' charges = receivers' credits + residue); no
position is at or below maintenance margin after the liquidation step; the
open-position registry and the liquidation index agree with the positions.
Two venues (compiled and reference books) fed the same commands give the same
events and digest; a venue restored from a snapshot taken half-way and fed the
rest gives the same events and digest as the full run.
"""
import msgpack
from hypothesis import HealthCheck, given, settings, strategies as st

import matching
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
from exchange.contract.commands import command_from_record
from exchange.contract.events import event_from_record
from exchange.contract import codes as C
from exchange.contract.commands import (
    AdjustIsolatedMargin, CancelOrder, CreateAccount, Deposit, FundInsurance, NewOrder, RefreshMarkPrice,
    SamplePremium, SetIndexPrice, SetLeverage, SetMarginType, SetMarkPrice, SetPositionMode, SettleFunding,
)
from exchange.contract.events import FundingSettled, Income
from matching.reference import ReferenceBook

USDT = 100_000_000
SYMS = ["BTCUSDT", "ETHUSDT"]
BASE = {"BTCUSDT": 500_000, "ETHUSDT": 300_000}
ACCOUNTS = [1, 2, 3, 4, 5]
H = 3_600_000


def draw_command(draw, v):
    k = draw(st.integers(0, 99))
    sym = draw(st.sampled_from(SYMS))
    s = v.symbols[sym]
    mark = s.mark or BASE[sym]
    a = draw(st.sampled_from(ACCOUNTS))
    acct = v.accounts[a]
    pside = draw(st.sampled_from([C.LONG, C.SHORT])) if acct.dual else C.BOTH
    if k < 45:
        otype = draw(st.sampled_from([C.LIMIT, C.LIMIT, C.MARKET]))
        price = mark + draw(st.integers(-40, 40)) * (10 if sym == "BTCUSDT" else 100) if otype == C.LIMIT else 0
        qty = draw(st.sampled_from([1, 10, 100, 500, 2000, 8000]))
        return NewOrder(a, sym, draw(st.sampled_from([0, 1])), otype, draw(st.sampled_from([C.GTC, C.GTC, C.IOC])),
                        qty, max(1, price), draw(st.sampled_from([0, 0, 0, 1])) if not acct.dual else 0, pside)
    if k < 52:
        otype = draw(st.sampled_from([C.STOP, C.STOP_MARKET, C.TAKE_PROFIT, C.TAKE_PROFIT_MARKET,
                                      C.TRAILING_STOP_MARKET]))
        side = draw(st.sampled_from([0, 1]))
        stop = max(1, mark + draw(st.integers(-3000, 3000)))
        close = 1 if otype in (C.STOP_MARKET, C.TAKE_PROFIT_MARKET) and draw(st.integers(0, 3)) == 0 else 0
        return NewOrder(a, sym, side, otype, C.GTC, 0 if close else draw(st.sampled_from([10, 100, 1000])),
                        max(1, stop + draw(st.integers(-50, 50))) if otype in (C.STOP, C.TAKE_PROFIT) else 0,
                        0, pside, "", 0,
                        0 if otype == C.TRAILING_STOP_MARKET else stop, draw(st.sampled_from([0, 1])),
                        draw(st.sampled_from([0, 1])), close, 0,
                        draw(st.sampled_from([100_000, 1_000_000])) if otype == C.TRAILING_STOP_MARKET else 0)
    if k < 57:
        mine = [o for o in v.orders.values() if o.account_id == a]
        if mine:
            o = draw(st.sampled_from(sorted(mine, key=lambda o: o.order_id)))
            return CancelOrder(a, o.symbol, o.order_id)
        return CancelOrder(a, sym, 1)
    if k < 72:
        # index / mark moves, including crashes and spikes
        move = draw(st.one_of(st.integers(-400, 400), st.integers(-(mark // 4), mark // 4)))
        cls = draw(st.sampled_from([SetIndexPrice, SetIndexPrice, SetMarkPrice]))
        p = max(1, mark + move)
        if cls is SetMarkPrice and draw(st.integers(0, 3)) == 0:
            p = 0 if s.mark_pinned else p
        return cls(sym, p)
    if k < 78:
        return RefreshMarkPrice(sym)
    if k < 82:
        return SamplePremium(sym)
    if k < 86:
        return SettleFunding(sym)
    if k < 89:
        return AdjustIsolatedMargin(a, sym, pside, draw(st.sampled_from([1, 100 * USDT, 5000 * USDT])),
                                    draw(st.sampled_from([1, 2])))
    if k < 91:
        return FundInsurance(draw(st.sampled_from([1, 1000 * USDT])))
    if k < 94:
        return SetLeverage(a, sym, draw(st.sampled_from([5, 20, 50, 100, 125])))
    if k < 97:
        return SetMarginType(a, sym, draw(st.sampled_from([C.CROSSED, C.ISOLATED])))
    if k < 98:
        return SetPositionMode(a, draw(st.sampled_from([0, 1])))
    return Deposit(a, draw(st.sampled_from([10 * USDT, 1000 * USDT])))


SETUP = ([CreateAccount(a) for a in ACCOUNTS]
         + [Deposit(1, 2_000_000 * USDT), Deposit(2, 2_000_000 * USDT), Deposit(3, 20_000 * USDT),
            Deposit(4, 3_000 * USDT), Deposit(5, 800 * USDT)]
         + [SetIndexPrice(s, BASE[s]) for s in SYMS]
         + [SetLeverage(4, "BTCUSDT", 100), SetLeverage(5, "BTCUSDT", 125), SetLeverage(5, "ETHUSDT", 100),
            SetMarginType(4, "ETHUSDT", C.ISOLATED)])


def check(v, events, residue_before):
    mi = v.money_identity()
    assert mi["balanced"], mi
    fund_income = 0
    for e in events:
        rec = msgpack.unpackb(msgpack.packb(e.to_record()), raw=False)
        assert event_from_record(rec) == e
        if isinstance(e, Income) and e.income_type == C.I_FUNDING_FEE:
            fund_income += e.amount
    settled = [e for e in events if isinstance(e, FundingSettled)]
    if settled:
        paid = sum(e.paid for e in settled)
        received = sum(e.received for e in settled)
        assert paid >= received and fund_income == received - paid     # zero-sum up to the residue
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


def run(commands, book, start=0, venue=None, checks=True):
    v = venue or Venue(DEFAULT_INSTRUMENTS, history_limit=40, book_factory=book)
    log = []
    for i, c in enumerate(commands[start:], start=start):
        before = v.rounding_residue
        ev = v.apply(i * 700, c)
        if checks:
            check(v, ev, before)
        log.append([e.to_record() for e in ev])
    return v, log


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), st.integers(30, 160))
def test_random_perp_sequences(data, n):
    v = Venue(DEFAULT_INSTRUMENTS, history_limit=40, book_factory=BOOKS[-1])
    commands = list(SETUP)
    log1 = []
    for i, c in enumerate(SETUP):
        ev = v.apply(i * 700, c)
        log1.append([e.to_record() for e in ev])
    cut = len(SETUP) + n // 2
    snap = None
    for i in range(len(SETUP), len(SETUP) + n):
        if i == cut:
            snap = msgpack.unpackb(msgpack.packb(v.snapshot()), raw=False, strict_map_key=False)
        c = draw_command(data.draw, v)
        assert command_from_record(msgpack.unpackb(msgpack.packb(c.to_record()), raw=False)) == c
        commands.append(c)
        before = v.rounding_residue
        ev = v.apply(i * 700, c)
        check(v, ev, before)
        log1.append([e.to_record() for e in ev])
    # determinism across book implementations
    v2, log2 = run(commands, BOOKS[0], checks=False)
    assert log1 == log2
    assert v.state_digest() == v2.state_digest()
    # snapshot half-way + the tail == the full run
    if snap is not None:
        r = Venue.restore(snap, book_factory=BOOKS[0])
        _, tail = run(commands, None, start=cut, venue=r, checks=False)
        assert tail == log1[cut:]
        assert r.state_digest() == v.state_digest()
