"""The venue's timers: what the sequencer must fire for the mark, premium and funding rules.

``venue_timers(symbols)`` returns ``exchange.sequencer.Timer`` objects, in the
order the sequencer must break ties at equal due times (perp-mechanics 9.1):
premium samples first (every 5 s), then mark refreshes (every second; the
liquidation check and MARK_PRICE triggers run inside them), then funding at
each funding-interval boundary (so funding settles after that tick's
liquidations, with the boundary's mark).  Mark and premium timers do not
catch up after a gap of real time; funding does.
"""
from __future__ import annotations

from exchange.sequencer import Timer

from .commands import RefreshMarkPrice, SamplePremium, SettleFunding
from .spec import MARK_INTERVAL_MS, SAMPLE_INTERVAL_MS


def venue_timers(instruments) -> list:
    """Timers for ``instruments`` (a dict symbol -> Instrument, or an iterable of Instruments)."""
    if isinstance(instruments, dict):
        instruments = list(instruments.values())
    insts = sorted(instruments, key=lambda i: i.symbol)
    timers = []
    for inst in insts:
        sym = inst.symbol
        timers.append(Timer(f"premium:{sym}", SAMPLE_INTERVAL_MS,
                            lambda ts, s=sym: [SamplePremium(s)], catch_up=False))
    for inst in insts:
        sym = inst.symbol
        timers.append(Timer(f"mark:{sym}", MARK_INTERVAL_MS,
                            lambda ts, s=sym: [RefreshMarkPrice(s)], catch_up=False))
    for inst in insts:
        sym = inst.symbol
        timers.append(Timer(f"funding:{sym}", int(inst.funding_interval_hours) * 3_600_000,
                            lambda ts, s=sym: [SettleFunding(s)], catch_up=True))
    return timers
