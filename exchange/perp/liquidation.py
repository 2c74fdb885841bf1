"""Liquidation and bankruptcy prices (perp-mechanics 4.2-4.4).

A position is a *leg* ``(qty, cost)``: signed lots (+ long, - short) and its
entry notional in money units.  One function covers every case of Binance's
formula:

* isolated, one-way: one leg, ``wallet_balance`` = the isolated wallet;
* isolated, hedge: call once per leg (each leg has its own wallet);
* cross, one-way: one leg, ``wallet_balance`` = cross wallet, plus the
  maintenance margin and unrealized PnL of the account's *other* cross
  positions at their own marks;
* cross, hedge: the symbol's LONG and SHORT legs together (they share one
  liquidation price), plus the other symbols as above.

In money units, with ``nu`` = notional unit and ``sign`` = +1/-1 per leg,
Binance's formula reads::

    LP = (WB - TMM + UPNL + sum cum - sum sign*cost) * RATE_SCALE
         / (nu * (sum |q|*MMR - RATE_SCALE * sum q))

with each leg's MMR/cum taken from the bracket of its notional *at LP*,
found by iterating to a fixed point (spec 4.2 "bracket re-evaluation").
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from exchange.contract.instruments import Bracket
from exchange.perp.margin import bracket_for_notional, is_liquidatable, maint_margin
from exchange.perp.position import unrealized_pnl
from exchange.units import RATE_SCALE

Leg = tuple[int, int]   # (signed qty in lots, entry notional in money units)

#: direction values returned by ``liquidation_trigger``
FALLS = -1   # liquidated when mark <= price (long-like)
RISES = +1   # liquidated when mark >= price (short-like)


def _ceil_frac(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def _floor_frac(x: Fraction) -> int:
    return x.numerator // x.denominator


def is_liquidatable_at(legs: Sequence[Leg], wallet_balance: int, brackets: Sequence[Bracket],
                       notional_unit: int, mark_price: int, *, other_maint_margin: int = 0,
                       other_upnl: int = 0) -> bool:
    """The exact integer trigger ``margin balance <= maintenance margin`` at ``mark_price``.

    This, not the rounded liquidation price, is the ground truth: the venue
    should confirm with it whenever a mark reaches a position's liquidation
    price.  Maintenance margins round up as in ``margin.maint_margin``.
    """
    mb = wallet_balance + other_upnl
    mm = other_maint_margin
    for q, c in legs:
        if q == 0:
            continue
        mb += unrealized_pnl(q, c, mark_price, notional_unit)
        mm += maint_margin(brackets, abs(q) * mark_price * notional_unit)
    return mm > 0 and mb <= mm


def _solve(legs: Sequence[Leg], chosen: Sequence[Bracket | None], wallet_balance: int,
           other_maint_margin: int, other_upnl: int) -> tuple[int, int]:
    """(money numerator, lots*RATE denominator) of the root for a fixed bracket choice."""
    num = wallet_balance - other_maint_margin + other_upnl
    den = 0
    for (q, c), b in zip(legs, chosen):
        if q == 0:
            continue
        mmr = b.maint_margin_rate if b is not None else 0
        cum = b.cum if b is not None else 0
        num += cum - (c if q > 0 else -c)
        den += abs(q) * mmr - RATE_SCALE * q
    return num, den


def liquidation_trigger(legs: Sequence[Leg], wallet_balance: int, brackets: Sequence[Bracket],
                        notional_unit: int, *, other_maint_margin: int = 0, other_upnl: int = 0,
                        ref_price: int | None = None) -> tuple[int, int] | None:
    """``(price_ticks, direction)`` at which the legs get liquidated, or None if no
    positive mark price liquidates them.

    ``direction`` is ``FALLS`` (-1: liquidated once mark <= price, a net
    long) or ``RISES`` (+1: once mark >= price, a net short or a cross
    hedge whose maintenance margin dominates).  The venue indexes the
    position by this pair.

    Rounding: the exact root is rounded *toward the safe side of the trader*
    - up for FALLS, down for RISES - so the reported price is reached no
    later than the real one; then it is nudged outward until the next tick
    beyond it is provably not liquidatable under the integer trigger
    (``is_liquidatable_at``).  So a mark strictly beyond the returned price
    on the safe side never liquidates, and a mark at or past it must be
    confirmed with ``is_liquidatable_at`` (it may fall short by < 1 tick).

    RISES with a root <= 0 returns ``(0, RISES)``: liquidatable at any price.

    Limit: with both legs of a cross hedge open, maintenance margin grows with
    the price on both legs, so the margin curve can be crossed on *both* sides
    of the mark (a safe band, not a half-line).  One (price, direction) pair
    cannot describe that: the result is then one of the roots and carries no
    never-miss guarantee.  Index such positions by a band and confirm with
    ``is_liquidatable_at`` (``exchange.venue.liquidation`` does).
    ``ref_price`` (e.g. the mark) only seeds the bracket search; the result
    does not depend on it except on pathological tables.
    """
    live = [(q, c) for q, c in legs if q != 0]
    if not live:
        return None

    def notional_at(q: int, price: "int | Fraction") -> "int | Fraction":
        return abs(q) * max(price, 0) * notional_unit

    if ref_price is not None:
        chosen = [bracket_for_notional(brackets, notional_at(q, ref_price)) for q, _ in live]
    else:
        chosen = [bracket_for_notional(brackets, c) for _, c in live]
    num, den = _solve(live, chosen, wallet_balance, other_maint_margin, other_upnl)
    for _ in range(2 * len(brackets) * len(live) + 2):
        if den == 0:
            break
        root = Fraction(num * RATE_SCALE, notional_unit * den)
        nxt = [bracket_for_notional(brackets, notional_at(q, root)) for q, _ in live]
        if nxt == chosen:
            break
        chosen = nxt
        num, den = _solve(live, chosen, wallet_balance, other_maint_margin, other_upnl)

    def liq(m: int) -> bool:
        return is_liquidatable_at(live, wallet_balance, brackets, notional_unit, m,
                                  other_maint_margin=other_maint_margin, other_upnl=other_upnl)

    if den == 0:
        # margin balance minus maintenance margin does not move with price
        return (0, RISES) if num <= 0 else None
    root = Fraction(num * RATE_SCALE, notional_unit * den)
    if den < 0:
        lp = _ceil_frac(root)
        for _ in range(64):
            if lp + 1 > 0 and liq(lp + 1):
                lp += 1
            else:
                break
        return (lp, FALLS) if lp > 0 else None
    lp = max(_floor_frac(root), 0)
    for _ in range(64):
        if lp - 1 >= 0 and liq(lp - 1):
            lp -= 1
        else:
            break
    return lp, RISES


def index_key(q: int, cost: int, wallet_adj: int, brackets: Sequence[Bracket], notional_unit: int,
              mark: int) -> "tuple[int, int] | None | bool":
    """Liquidation-index key of one leg: ``(key, FALLS)`` (re-examine once mark <= key) or
    ``(key, RISES)`` (once mark >= key); None when no positive mark liquidates it;
    ``False`` when the bracket iteration does not settle (then ask ``liquidation_trigger``).

    ``wallet_adj`` = wallet - other maintenance margin + other UPNL.  The root of
    ``wallet_adj + UPNL(P) = MM(P)`` (the formula of ``liquidation_trigger`` for one leg)
    with the bracket at the root found by iteration from the bracket at ``mark``, in
    integers only; the key is moved one tick (four for notional units below 4) past the
    root toward the safe side, so the integer trigger (maintenance margin rounded up)
    cannot fire beyond it: the key is conservative, the exact check decides.
    """
    last = len(brackets) - 1
    if q > 0:
        aq = q
        scost = cost
    else:
        aq = -q
        scost = -cost
    n = aq * mark * notional_unit
    i = 0
    while i < last and n > brackets[i].notional_cap:
        i += 1
    for _ in range(last + 3):
        b = brackets[i]
        num = wallet_adj + b.cum - scost
        den = aq * b.maint_margin_rate - RATE_SCALE * q
        rn = num * RATE_SCALE
        rd = notional_unit * den
        r = rn // rd
        nr = aq * (r if r > 0 else 0) * notional_unit
        j = 0
        while j < last and nr > brackets[j].notional_cap:
            j += 1
        if j == i:
            break
        i = j
    else:
        return False
    pad = 1 if aq * notional_unit >= 4 else 4
    if den < 0:
        key = r + pad
        return (key, FALLS) if key > 0 else None
    key = -((-rn) // rd) - pad
    return (key if key > 0 else 0, RISES)


def leg_index_key(q: int, cost: int, wallet_adj: int, brackets: Sequence[Bracket], notional_unit: int,
                  mark: int) -> "tuple[int, int] | None | bool":
    """``True`` when the leg is already at or below maintenance margin at ``mark``
    (``is_liquidatable``), else its ``index_key``: what the liquidation index needs to know
    about an account whose only position is this leg, in one call."""
    if is_liquidatable(wallet_adj + unrealized_pnl(q, cost, mark, notional_unit),
                       maint_margin(brackets, abs(q) * mark * notional_unit)):
        return True
    return index_key(q, cost, wallet_adj, brackets, notional_unit, mark)


def liquidation_price(legs: Sequence[Leg], wallet_balance: int, brackets: Sequence[Bracket],
                      notional_unit: int, *, other_maint_margin: int = 0, other_upnl: int = 0,
                      ref_price: int | None = None) -> int | None:
    """Liquidation price in ticks (``liquidationPrice``), None when Binance shows "--".

    Long-like results round up and short-like round down (toward the
    trader's safe side); see ``liquidation_trigger`` for the guarantee.
    """
    t = liquidation_trigger(legs, wallet_balance, brackets, notional_unit,
                            other_maint_margin=other_maint_margin, other_upnl=other_upnl,
                            ref_price=ref_price)
    return None if t is None else t[0]


def liquidation_price_exact(legs: Sequence[Leg], wallet_balance: int, brackets: Sequence[Bracket],
                            notional_unit: int, *, other_maint_margin: int = 0,
                            other_upnl: int = 0) -> Fraction | None:
    """The unrounded root in ticks, for display at more decimals than the tick and
    for tests against published figures.  None when the root is undefined."""
    live = [(q, c) for q, c in legs if q != 0]
    if not live:
        return None
    chosen = [bracket_for_notional(brackets, c) for _, c in live]
    for _ in range(2 * len(brackets) * len(live) + 2):
        num, den = _solve(live, chosen, wallet_balance, other_maint_margin, other_upnl)
        if den == 0:
            return None
        root = Fraction(num * RATE_SCALE, notional_unit * den)
        nxt = [bracket_for_notional(brackets, abs(q) * max(root, 0) * notional_unit) for q, _ in live]
        if nxt == chosen:
            return root
        chosen = nxt
    return root


def bankruptcy_price(legs: Sequence[Leg], wallet_balance: int, notional_unit: int, *,
                     other_upnl: int = 0) -> int | None:
    """Price in ticks at which the backing margin is exactly used up (spec 4.4).

    Solves ``WB + other UPNL + UPNL(legs at P) = 0``: the liquidation formula
    with MMR and cum dropped.  Isolated long: ``EP - WB/Q``; short ``EP + WB/Q``.
    Rounded toward the entry (up for a net long, down for a net short), so
    closing the position at the returned price never loses more than the
    wallet - the liquidation order's limit price is therefore safe for the
    insurance fund.  May be <= 0 for a long that can never go bankrupt;
    None when the legs are net flat (price does not change the balance).
    """
    num = wallet_balance + other_upnl
    net = 0
    for q, c in legs:
        if q == 0:
            continue
        num -= c if q > 0 else -c
        net += q
    if net == 0:
        return None
    root = Fraction(-num, notional_unit * net)
    return _ceil_frac(root) if net > 0 else _floor_frac(root)
