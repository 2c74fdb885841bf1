"""Position accounting in integers: notional, unrealized PnL, fills.

A position is ``(qty, cost)``: signed lots (+ long, - short) and its entry
notional in money units (``|qty| x average entry price``).  Keeping the
entry *notional* instead of an average price keeps everything exact: the
average of fills is usually off the tick grid, but the sum of fill notionals
is always a whole number of money units.
"""
from __future__ import annotations

from exchange.units import div_ceil, div_floor


def notional(qty: int, price: int, notional_unit: int) -> int:
    """``|qty| x price`` in money units (exact)."""
    return abs(qty) * price * notional_unit


def unrealized_pnl(qty: int, cost: int, mark_price: int, notional_unit: int) -> int:
    """``side x (|Q| x mark - entry notional)``, money units; exact, so no rounding."""
    if qty == 0:
        return 0
    value = abs(qty) * mark_price * notional_unit
    return value - cost if qty > 0 else cost - value


def apply_fill(qty: int, cost: int, fill_qty: int, fill_price: int,
               notional_unit: int) -> tuple[int, int, int]:
    """New ``(qty, cost)`` and the realized PnL after a fill of ``fill_qty`` lots
    (signed: + buy, - sell) at ``fill_price`` ticks.

    A fill in the position's direction adds to it; against it, it closes up
    to the whole position and any remainder opens the other way at the fill
    price (a flip).  On a partial close the closed share of ``cost`` is
    rounded so that the realized PnL rounds *down* (a payout): up for a long,
    down for a short.  The leftover share stays in ``cost`` and is realized
    with the rest, so over a position's life realized PnL sums exactly to
    exit notional minus entry notional - rounding only moves money in time.
    """
    if fill_qty == 0:
        return qty, cost, 0
    fill_abs = abs(fill_qty)
    if qty == 0 or (qty > 0) == (fill_qty > 0):
        return qty + fill_qty, cost + fill_abs * fill_price * notional_unit, 0
    pos_abs = abs(qty)
    close = min(fill_abs, pos_abs)
    if close == pos_abs:
        cost_closed = cost
    elif qty > 0:
        cost_closed = div_ceil(cost * close, pos_abs)
    else:
        cost_closed = div_floor(cost * close, pos_abs)
    exit_value = close * fill_price * notional_unit
    realized = exit_value - cost_closed if qty > 0 else cost_closed - exit_value
    rest = fill_abs - close
    if rest == 0:
        new_qty = qty + fill_qty
        return new_qty, cost - cost_closed, realized
    # flip: the position is closed in full and the remainder opens the other way
    new_qty = rest if fill_qty > 0 else -rest
    return new_qty, rest * fill_price * notional_unit, realized
