"""Where the sequencer's time comes from.

Time enters the venue only as the timestamp the sequencer stamps on a command
(integer milliseconds since the Unix epoch).  Two clocks:

* ``WallClock`` - live trading: real time.
* ``VirtualClock`` - simulation.  With ``speed=None`` time moves only when it
  is told to (``advance`` / ``advance_to``: stepping by command, or a flow
  source jumping straight to its next event, i.e. as fast as possible); with
  ``speed=x`` it runs at x times real time from where it stands.

Both are monotonic: ``now_ms`` never goes back.

A ``VirtualClock`` tells its ``listeners`` (callables taking the new time) each
time it is moved, whoever moves it (a flow, ``Sequencer.advance``, the replay
driver): what waits for venue time (the gateway's latency model) is woken by
the move instead of polling.  A sped-up clock also moves between those calls.
"""
from __future__ import annotations

import time
from typing import Callable, Optional


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
        self.listeners: list[Callable[[int], None]] = []

    def now_ms(self) -> int:
        if self.speed is None:
            return self._base_ms
        return self._base_ms + int((time.monotonic() - self._base_real) * 1000 * self.speed)

    def _rebase(self, ts_ms: int) -> None:
        self._base_ms = ts_ms
        self._base_real = time.monotonic()
        for listener in self.listeners:
            listener(ts_ms)

    def advance(self, ms: int) -> int:
        """Move time forward by ``ms`` (>= 0); returns the new time."""
        if ms < 0:
            raise ValueError("time cannot go backwards")
        self._rebase(self.now_ms() + int(ms))
        return self._base_ms

    def advance_to(self, ts_ms: int) -> int:
        """Move time forward to ``ts_ms`` if it is later than now; returns the time."""
        # once per replay group: a stopped clock's time is its base, no call to ask it
        now = self._base_ms if self.speed is None else self.now_ms()
        ts = int(ts_ms)
        self._rebase(ts if ts > now else now)
        return self._base_ms
