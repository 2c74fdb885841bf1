"""Layer 3 — the venue: the pure deterministic state machine over accounts, orders, positions
and books, and the liquidation engine with its index.  The arithmetic lives in
``exchange.perp``; the vocabulary (commands, events, codes) in ``exchange.contract``.

    from exchange.contract import commands as cmd
    from exchange.venue import Venue
    venue = Venue(instruments)
    events = venue.apply(ts_ms, cmd.NewOrder(...))

See ``venue.py`` for the rules and ``digest.py`` for the canonical state hash.
"""
from __future__ import annotations

from exchange.venue.venue import Venue

__all__ = ["Venue"]
