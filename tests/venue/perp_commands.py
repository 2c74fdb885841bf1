"""Random perp command sequences for the venue properties (test_properties_m2.py,
test_twin_properties.py): orders near the mark, conditional orders, index and
mark moves including crashes, premium samples, funding settlements across 8-hour
intervals, margin and leverage changes, on five accounts from rich to thin.

``next_ts`` is the venue clock of the sequences: 700 ms per command, and a
``SettleFunding`` usually moves the clock into the next funding interval (so the
settlement really pays; now and then it does not, which must be refused).
"""
from __future__ import annotations

from collections import Counter

from hypothesis import strategies as st

from exchange.contract import codes as C
from exchange.contract.commands import (
    AdjustIsolatedMargin, CancelOrder, CreateAccount, Deposit, FundInsurance, NewOrder, RefreshMarkPrice,
    SamplePremium, SetIndexPrice, SetLeverage, SetMarginType, SetMarkPrice, SetPositionMode, SettleFunding,
)
from exchange.contract.events import FundingSettled, ForceOrder, OrderFilled, PositionClosedOut

USDT = 100_000_000
SYMS = ["BTCUSDT", "ETHUSDT"]
BASE = {"BTCUSDT": 500_000, "ETHUSDT": 300_000}
ACCOUNTS = [1, 2, 3, 4, 5]
STEP_MS = 700
FUNDING_INTERVAL_MS = 8 * 3_600_000      # the default instruments' interval

SETUP = ([CreateAccount(a) for a in ACCOUNTS]
         + [Deposit(1, 2_000_000 * USDT), Deposit(2, 2_000_000 * USDT), Deposit(3, 20_000 * USDT),
            Deposit(4, 3_000 * USDT), Deposit(5, 800 * USDT)]
         + [SetIndexPrice(s, BASE[s]) for s in SYMS]
         + [SetLeverage(4, "BTCUSDT", 100), SetLeverage(5, "BTCUSDT", 125), SetLeverage(5, "ETHUSDT", 100),
            SetMarginType(4, "ETHUSDT", C.ISOLATED)])


def next_ts(ts: int, command, draw, settle: bool = False) -> int:
    """The venue time of the next command: ``STEP_MS`` later, or for most funding
    settlements (all when ``settle``) the first millisecond of the next funding
    interval."""
    if isinstance(command, SettleFunding) and (settle or draw(st.integers(0, 7))):
        return ts - ts % FUNDING_INTERVAL_MS + FUNDING_INTERVAL_MS + 1
    return ts + STEP_MS


EPILOGUE = 3


def draw_sequence_command(draw, v, i: int, n: int):
    """Command ``i`` of ``n`` (the setup not counted): random, except that every
    sequence ends with a funding settlement of both symbols in a new interval and
    a mark crash or spike of 12-30% on one, so that funding and liquidation are
    exercised whenever the random part left positions open."""
    if i < n - EPILOGUE:
        return draw_command(draw, v)
    if i < n - 1:
        return SettleFunding(SYMS[i - (n - EPILOGUE)])
    # against the thinnest account's position, if any
    open_positions = [((sym, ps), pos.qty) for a in (5, 4, 3)
                      for (sym, ps), pos in sorted(v.accounts[a].positions.items()) if pos.qty]
    if open_positions and draw(st.integers(0, 3)):
        (sym, _), qty = open_positions[0]
        sign = -1 if qty > 0 else 1
    else:
        sym, sign = draw(st.sampled_from(SYMS)), draw(st.sampled_from([-1, 1]))
    mark = v.symbols[sym].mark or BASE[sym]
    return SetMarkPrice(sym, mark + sign * draw(st.integers(mark * 12 // 100, mark * 30 // 100)))


def draw_command(draw, v):
    k = draw(st.integers(0, 99))
    sym = draw(st.sampled_from(SYMS))
    s = v.symbols[sym]
    mark = s.mark or BASE[sym]
    a = draw(st.sampled_from(ACCOUNTS + [4, 5]))      # the thin, leveraged accounts twice as often
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
        # index / mark moves: small steps, and (k >= 64) crashes and spikes of 8-25%,
        # which liquidate the thin accounts' leveraged positions
        if k < 64:
            move = draw(st.one_of(st.integers(-400, 400), st.integers(-(mark // 4), mark // 4)))
        else:
            move = draw(st.integers(mark // 12, mark // 4)) * draw(st.sampled_from([-1, 1]))
        cls = draw(st.sampled_from([SetIndexPrice, SetIndexPrice, SetMarkPrice]))
        p = max(1, mark + move)
        if cls is SetMarkPrice and draw(st.integers(0, 3)) == 0:
            p = 0 if s.mark_pinned else p
        return cls(sym, p)
    if k < 75:
        return RefreshMarkPrice(sym)
    if k < 79:
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


def cases(events) -> set[str]:
    """The behaviours an event list shows, for the floors on how often a property
    exercised them."""
    seen = set()
    for e in events:
        if isinstance(e, FundingSettled) and e.positions:
            seen.add("funding paid")
        elif isinstance(e, ForceOrder):
            seen.add("liquidation")
        elif isinstance(e, OrderFilled) and e.status == C.PARTIALLY_FILLED:
            seen.add("partial fill")
        elif isinstance(e, PositionClosedOut):
            seen.add("adl" if e.kind == C.CLOSE_ADL else "closed out")
    return seen


def assert_floors(counts: Counter, examples: int, floors: dict[str, float]) -> None:
    """Each case happened in at least its share of the examples: a generator that
    stops producing a case fails the property instead of passing vacuously."""
    assert examples > 0
    short = {case: (counts[case], share) for case, share in floors.items() if counts[case] < share * examples}
    assert not short, f"cases seen in too few of {examples} examples (seen, floor share): {short}"
