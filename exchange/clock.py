"""Where the sequencer's time comes from.

Time enters the venue only as the timestamp the sequencer stamps on a command
(integer milliseconds since the Unix epoch).  Two clocks:

* ``WallClock`` - live trading: real time.
* ``VirtualClock`` - simulation.  With ``speed=None`` time moves only when it
  is told to (``advance`` / ``advance_to``: stepping by command, or a flow
  source jumping straight to its next event, i.e. as fast as possible); with
  ``speed=x`` it runs at x times real time from where it stands.

Both are monotonic: ``now_ms`` never goes back.
"""
from __future__ import annotations

import time
from typing import Optional


class WallClock:
    virtual = False

    def __init__(self) -> None:
        self._last = 0

    def now_ms(self) -> int:
        now = time.time_ns() // 1_000_000
        # the system clock may step back (NTP); the venue's time never does
        if now < self._last:
            return self._last
        self._last = now
        return now

    def advance(self, ms: int) -> int:
        raise ValueError("the wall clock cannot be advanced; start with --clock virtual")

    def advance_to(self, ts_ms: int) -> int:
        raise ValueError("the wall clock cannot be advanced; start with --clock virtual")


class VirtualClock:
    virtual = True

    def __init__(self, start_ms: int, speed: Optional[float] = None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self._base_ms = int(start_ms)
        self.speed = speed
        self._base_real = time.monotonic()

    def now_ms(self) -> int:
        if self.speed is None:
            return self._base_ms
        return self._base_ms + int((time.monotonic() - self._base_real) * 1000 * self.speed)

    def _rebase(self, ts_ms: int) -> None:
        self._base_ms = ts_ms
        self._base_real = time.monotonic()

    def advance(self, ms: int) -> int:
        """Move time forward by ``ms`` (>= 0); returns the new time."""
        if ms < 0:
            raise ValueError("time cannot go backwards")
        self._rebase(self.now_ms() + int(ms))
        return self._base_ms

    def advance_to(self, ts_ms: int) -> int:
        """Move time forward to ``ts_ms`` if it is later than now; returns the time."""
        now = self.now_ms()
        self._rebase(max(now, int(ts_ms)))
        return self._base_ms
