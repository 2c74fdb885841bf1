"""The venue: a pure deterministic state machine over accounts, positions, orders and books.

    from exchange.venue import Venue, commands as cmd
    venue = Venue(instruments)
    events = venue.apply(ts_ms, cmd.NewOrder(...))

See ``venue.py`` for the rules, ``commands.py`` / ``events.py`` for the
vocabulary, ``digest.py`` for the canonical state hash.
"""
from __future__ import annotations

from . import codes, commands, events
from .commands import command_from_record
from .events import event_from_record
from .venue import Venue

__all__ = ["Venue", "codes", "commands", "events", "command_from_record", "event_from_record"]
