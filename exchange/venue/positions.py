"""Positions: signed quantity and exact entry notional, realized PnL on reduce/close/flip.

The entry price is never stored: ``entry_notional`` is the integer money sum of
the notionals that built the open quantity, so the average entry price is
``entry_notional / (|qty| * notional_unit)`` ticks, exactly.

How a fill changes ``(qty, entry_notional)`` and what it realizes is
``exchange.perp.position.apply_fill`` (its rounding: realized PnL, a payout,
rounds down; over a position's life it is exact).

Money identity consequence: across all accounts, the sum of realized PnL equals
the sum of the open positions' signed entry notionals (long +, short -), i.e.
minus their unrealized PnL at any common price.  See Venue.money_identity.
"""
from __future__ import annotations

from exchange.perp import apply_fill


class Position:
    __slots__ = ("symbol", "position_side", "qty", "entry", "realized", "iso_wallet", "update_time")

    def __init__(self, symbol: str, position_side: int) -> None:
        self.symbol = symbol
        self.position_side = position_side
        self.qty = 0            # signed lots (SHORT side positions are <= 0)
        self.entry = 0          # entry notional, money, >= 0
        self.realized = 0       # cumulative realized PnL, money (``cr``)
        self.iso_wallet = 0     # isolated margin wallet, money
        self.update_time = 0

    def signed_entry(self) -> int:
        return self.entry if self.qty >= 0 else -self.entry

    def state(self) -> list:
        return [self.symbol, self.position_side, self.qty, self.entry, self.realized,
                self.iso_wallet, self.update_time]


def fill_position(pos: Position, buy, q, price, unit) -> tuple:
    """Book a fill of ``q`` lots (> 0; a buy when ``buy``) at ``price`` ticks on ``pos``
    (``exchange.perp.apply_fill`` does the arithmetic).  Returns (realized_pnl,
    closed_lots, opened_lots): the lots that closed part of the old position and
    those that grew it or opened the other way."""
    old = pos.qty
    qty, entry, pnl = apply_fill(old, pos.entry, q if buy else -q, price, unit)
    pos.qty = qty
    pos.entry = entry
    if old == 0 or (old > 0) == buy:
        return pnl, 0, q
    aold = old if old > 0 else -old
    closed = q if q < aold else aold
    pos.realized += pnl
    return pnl, closed, q - closed
