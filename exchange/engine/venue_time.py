"""Venue time: waits measured on the venue's clock (the latency scheduler of injected request
and websocket delays)."""
from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from typing import Callable, Optional

log = logging.getLogger("paperex.faults")


class VenueTime:
    """Waits measured on the venue's clock, so that under ``--clock virtual`` a latency is
    venue time: a delayed request executes when the virtual clock has advanced by its delay.

    * Wall clock: a plain ``asyncio.sleep``.
    * Virtual clock moved by someone (a running flow, ``advance()``, its own ``speed``): the
      wait ends when the clock passes the due time; ``VirtualClock.listeners`` wakes it, a
      sped-up clock is also waited for in real time (``ms / speed``).
    * Virtual clock standing still (no speed, no running flow; the ``paperex_server``
      fixture's default): nobody would ever move it, so the requests in flight move it
      themselves, earliest due first (``drive``): the clock goes to that due time, timers
      firing on the way (``Sequencer.advance``), the request runs stamped with it, and only
      when it has finished does the clock move on.  The client waits no real time, and a
      sequential bot gets the same journal on every run.  Websocket deliveries never move
      the clock (a delivery would make events that make deliveries: time would run away);
      on a still clock they wait the same number of real milliseconds instead.

    ``advance_to`` is how the control API's ``clock/advance`` moves the clock while
    requests wait: it stops at each due time so each runs at its own moment, interleaved
    with the timers, not after the whole jump.
    """

    SETTLE_S = 5.0            # at most this long for a released request to finish (never hangs the clock)
    RECHECK_S = 0.1           # a waiting request looks again whether the clock stands still (flow paused)
    COMPACT_AT = 1024         # heap size at which timed-out waits are first dropped

    def __init__(self, clock, sequencer, flow_moves_clock: Callable[[], bool] = lambda: False,
                 stopped_error: Callable[[], BaseException] = lambda: ConnectionResetError("stopped")) -> None:
        # stopped_error: what a wait raises once the scheduler is stopped (the gateway's
        # "disconnected" answer); flow_moves_clock: is a running flow moving the clock?
        self.stopped_error = stopped_error
        self.clock = clock
        self.sequencer = sequencer
        self.flow_moves_clock = flow_moves_clock
        self._heap: list[tuple[int, int, asyncio.Future, bool]] = []   # (due_ms, n, future, drive)
        self._n = 0
        self._busy = 0        # released waits whose work (a request's handler) has not finished
        self._idle: Optional[asyncio.Event] = None
        self._driver: Optional[asyncio.Task] = None
        self._hooked = False
        self._compact_at = self.COMPACT_AT
        self.stopped = False

    @property
    def virtual(self) -> bool:
        return bool(getattr(self.clock, "virtual", False))

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def still(self) -> bool:
        """A virtual clock that moves only when told and that no running flow moves."""
        c = self.clock
        return bool(getattr(c, "virtual", False)) and getattr(c, "speed", None) is None \
            and not self.flow_moves_clock()

    @staticmethod
    def ms_int(ms: float) -> int:
        """Venue time is integer milliseconds: a delay is rounded to the nearest one."""
        return int(ms + 0.5) if ms > 0 else 0

    # ------------------------------------------------------------------ waits
    async def until(self, due: int, *, drive: bool = False, wall_fallback: bool = False) -> bool:
        """Wait until the virtual clock reaches ``due`` (ms).  ``drive``: on a still clock this
        wait moves it (a request in flight); ``wall_fallback``: on a still clock give up after
        the same number of real milliseconds (a websocket delivery).  True when a clock move
        released this wait: the caller then owes :meth:`done` when its work is finished."""
        clock = self.clock
        loop = asyncio.get_running_loop()
        deadline = None
        if wall_fallback and self.still():
            deadline = loop.time() + max(0, due - clock.now_ms()) / 1000.0
        if not self._hooked:
            clock.listeners.append(self._release)
            self._hooked = True
        while True:
            if self.stopped:
                raise self.stopped_error()
            now = clock.now_ms()
            if now >= due:
                return False
            timeout: Optional[float] = None
            speed = getattr(clock, "speed", None)
            if speed is not None:
                timeout = (due - now) / speed / 1000.0
            elif drive and not self.still():
                timeout = self.RECHECK_S
            if deadline is not None:
                left = deadline - loop.time()
                if left <= 0:
                    return False
                timeout = left if timeout is None else min(timeout, left)
            fut = loop.create_future()
            self._n += 1
            if len(self._heap) >= self._compact_at:
                self._compact()
            heapq.heappush(self._heap, (due, self._n, fut, drive))
            if drive:
                self._kick()
            try:
                await asyncio.wait((fut,), timeout=timeout)
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    self.done()           # released just before the caller was cancelled
                else:
                    fut.cancel()
                raise
            if fut.done():
                fut.result()              # raises when stopped
                return True
            fut.cancel()                  # timed out: the heap drops it lazily; look again

    @contextlib.asynccontextmanager
    async def after(self, ms: float, *, drive: bool = False, wall_fallback: bool = False):
        """``async with venue_time.after(ms):`` the body runs ``ms`` of venue time from now."""
        if not self.virtual:
            if ms > 0:
                await asyncio.sleep(ms / 1000.0)
            yield
            return
        d = self.ms_int(ms)
        released = d > 0 and await self.until(self.now_ms() + d, drive=drive, wall_fallback=wall_fallback)
        try:
            yield
        finally:
            if released:
                self.done()

    def done(self) -> None:
        self._busy -= 1
        if self._busy <= 0:
            self._busy = 0
            if self._idle is not None:
                self._idle.set()

    def _compact(self) -> None:
        """Drop the waits that timed out: on a still clock nothing pops them."""
        live = [e for e in self._heap if not e[2].done()]
        heapq.heapify(live)
        self._heap = live
        self._compact_at = max(self.COMPACT_AT, 2 * len(live))   # amortized O(1) per wait

    def _release(self, now: int) -> None:
        """The clock stands at ``now``: every wait due by then may go (the clock's listener)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            fut = heapq.heappop(heap)[2]
            if not fut.done():
                fut.set_result(None)
                self._busy += 1

    def next_due(self, drive_only: bool = False) -> Optional[int]:
        """The earliest due time still waited for (only the ``drive`` waits: requests)."""
        due = None
        for d, _, fut, drive in self._heap:
            if (drive or not drive_only) and not fut.done() and (due is None or d < due):
                due = d
        return due

    # ------------------------------------------------------------ moving the clock
    def _kick(self) -> None:
        if self._driver is None and self.still():
            self._driver = asyncio.get_running_loop().create_task(self._drive(), name="paperex-venue-time")

    async def _drive(self) -> None:
        """A still clock: move it to the earliest request in flight, let that run, repeat."""
        try:
            for _ in range(3):            # requests arriving in the same moment register first
                await asyncio.sleep(0)
            while not self.stopped and self.still():
                due = self.next_due(drive_only=True)
                if due is None:
                    break
                await self.advance_to(due)
        except Exception:                 # e.g. the sequencer failed: the waits fail with it
            log.exception("moving the virtual clock for delayed requests failed")
        finally:
            self._driver = None

    async def advance_to(self, target: int) -> list:
        """Move the virtual clock to ``target``, stopping at every wait due on the way so
        each runs at its own venue time; returns what ``Sequencer.advance`` executed."""
        seq = self.sequencer
        clock = self.clock
        results: list = []
        while True:
            nxt = self.next_due()
            stop = target if nxt is None or nxt > target else nxt
            now = clock.now_ms()
            if stop >= now:
                results.extend(seq.advance(stop - now))
            self._release(clock.now_ms())
            await self._settle()
            if stop >= target:
                return results

    async def _settle(self) -> None:
        """Let the waits just released run (a request handler submits and is acknowledged)."""
        await asyncio.sleep(0)
        if self._busy <= 0:
            return
        self._idle = idle = asyncio.Event()
        try:
            await asyncio.wait_for(idle.wait(), self.SETTLE_S)
        except asyncio.TimeoutError:
            log.warning("a delayed request did not finish within %.0f s; the clock moves on", self.SETTLE_S)
        finally:
            self._idle = None

    def stop(self) -> None:
        """Server shutdown: requests still waiting are answered -1001 (nothing done)."""
        self.stopped = True
        if self._driver is not None:
            self._driver.cancel()
        for _, _, fut, _ in self._heap:
            if not fut.done():
                fut.set_exception(self.stopped_error())
        self._heap.clear()
        if self._hooked:
            try:
                self.clock.listeners.remove(self._release)
            except ValueError:
                pass
            self._hooked = False


# -------------------------------------------------------------------- injector
