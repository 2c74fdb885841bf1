"""The venue's timers: what the sequencer must fire for the mark, premium and funding rules.

``venue_timers(symbols)`` returns ``exchange.engine.sequencer.Timer`` objects, in the
order the sequencer must break ties at equal due times (perp-mechanics 9.1):
premium samples first (every 5 s), then mark refreshes (every second; the
liquidation check and MARK_PRICE triggers run inside them), then funding at
each funding-interval boundary (so funding settles after that tick's
liquidations, with the boundary's mark).  Mark and premium timers do not
catch up after a gap of real time; funding does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from exchange.contract.commands import RefreshMarkPrice, SamplePremium, SettleFunding

# the venue's cadences (perp-mechanics 9.1): premium samples every 5 s, mark refresh every second
SAMPLE_INTERVAL_MS = 5_000
MARK_INTERVAL_MS = 1_000


@dataclass
class Timer:
    """Fires at every multiple of ``interval_ms`` (plus ``phase_ms``) of the clock.

    ``make(ts)`` returns the commands to run at that time.  ``catch_up=False``
    fires only the latest missed tick after a gap of real time (a mark refresh
    does not need replaying second by second after a restart; funding does).
    """
    name: str
    interval_ms: int
    make: Callable[[int], list]
    phase_ms: int = 0
    catch_up: bool = True
    next_due: int = field(default=0, init=False)

    def first_due_after(self, ts: int) -> int:
        k = (ts - self.phase_ms) // self.interval_ms + 1
        return k * self.interval_ms + self.phase_ms




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
