"""Open interest of one market, folded from committed ``PositionChanged`` events.

Binance counts open interest once, on the long side: the sum of the lots of every
long position (a hedge-mode account's LONG leg, a one-way account's positive
position).  Each ``PositionChanged`` carries a position's new signed quantity, so
the fold keeps the last quantity of every (account, position side) and moves the
total by the long part of the change.  The gateway's projection (REST
``openInterest``, the dashboard) and the calibration tape of the flow both read it.
"""
from __future__ import annotations


class OpenInterest:
    __slots__ = ("positions", "lots")

    def __init__(self) -> None:
        self.positions: dict[tuple[int, int], int] = {}   # (account, position side) -> signed lots
        self.lots = 0                                      # open interest: the long positions' lots

    def position_changed(self, account_id: int, position_side: int, qty: int) -> None:
        """A position's new signed quantity (0: closed)."""
        key = (account_id, position_side)
        old = self.positions.get(key, 0)
        if old > 0:
            self.lots -= old
        if qty > 0:
            self.lots += qty
        if qty:
            self.positions[key] = qty
        else:
            self.positions.pop(key, None)
