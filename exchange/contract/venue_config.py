"""The venue configuration a journal header carries: the instruments, as decimal strings.

Every layer that starts a venue from a journal (replay, snapshots, export, the runtime)
reads it here; ``instrument_to_config`` / ``instrument_from_config`` are the per-symbol codec.
"""
from __future__ import annotations

from typing import Any

from exchange.contract.instruments import Instrument, instrument_from_config, instrument_to_config

VENUE_CONFIG_FORMAT = "paperex-venue/1"


def venue_config(instruments: dict[str, Instrument]) -> dict:
    """The journal header's venue configuration (canonical: symbols sorted)."""
    return {"format": VENUE_CONFIG_FORMAT,
            "symbols": [instrument_to_config(instruments[s]) for s in sorted(instruments)]}


def instruments_from_config(config: Any) -> dict[str, Instrument]:
    if not isinstance(config, dict) or config.get("format") != VENUE_CONFIG_FORMAT:
        raise ValueError(f"journal header is not a paperex venue configuration ({VENUE_CONFIG_FORMAT})")
    return {c["symbol"]: instrument_from_config(c) for c in config["symbols"]}
