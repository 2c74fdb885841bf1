"""Positions: signed quantity and exact entry notional, realized PnL on reduce/close/flip.

The entry price is never stored: ``entry_notional`` is the integer money sum of
the notionals that built the open quantity, so the average entry price is
``entry_notional / (|qty| * notional_unit)`` ticks, exactly.

Reducing ``c`` lots of a position of ``|Q|`` lots removes cost basis
``entry_notional * c / |Q|``, rounded so the realized PnL (a payout) rounds
down: up for longs, down for shorts.  A full close removes the whole basis, so
over a position's life realized PnL is exact; rounding only moves PnL between
the partial closes of one position and never creates money.

Money identity consequence: across all accounts, the sum of realized PnL equals
the sum of the open positions' signed entry notionals (long +, short -), i.e.
minus their unrealized PnL at any common price.  See Venue.money_identity.
"""
from __future__ import annotations


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


def apply_fill(pos: Position, buy, q, notional, price_unit) -> tuple:
    """Apply a fill of ``q`` lots worth ``notional`` money (``price_unit`` = price * notional_unit,
    the money per lot).  Returns (realized_pnl, closed_lots, opened_lots)."""
    old = pos.qty
    if old == 0 or (old > 0) == buy:
        pos.qty = old + q if buy else old - q
        pos.entry += notional
        return 0, 0, q
    aold = old if old > 0 else -old
    closing = q if q < aold else aold
    entry = pos.entry
    if closing == aold:
        removed = entry
    elif old > 0:
        removed = -((-entry * closing) // aold)   # ceil: long PnL rounds down
    else:
        removed = (entry * closing) // aold       # floor: short PnL rounds down
    close_notional = price_unit * closing
    pnl = close_notional - removed if old > 0 else removed - close_notional
    opened = q - closing
    if opened:
        pos.qty = opened if buy else -opened
        pos.entry = notional - close_notional
    else:
        pos.qty = old + closing if buy else old - closing
        pos.entry = entry - removed
    pos.realized += pnl
    return pnl, closing, opened
