"""The one door into the venue.

Every command - from the gateway, a flow source, the control API or a timer -
goes through ``Sequencer``.  For a group of commands (everything that arrived
in one event-loop turn) it:

1. stamps each with the next seq and a timestamp from the clock,
2. applies each to the venue and appends the command record, then its event
   records, to the journal buffer (records stay in seq order: c1 e1.. c2 e2..),
3. commits the group to the journal with one write (fsync by policy),
4. publishes (seq, ts, command, events, book) to subscribers (gateway fan-out,
   projections), and only then acknowledges the callers.

``book`` is what the command changed in the order books: ``{symbol: [(side,
price, qty), ...]}`` (qty 0: the level is gone), or None.  The books log the
levels a match touches, and each book names itself in the sequencer's list of
touched books at its first change after a drain; the sequencer takes the logs of
the books named there right after the command is applied, so the changes travel
with the command's committed result and no subscriber reads a live book (which,
behind deferred commits, already holds later commands' orders).

Why applying before the write is still "journal first": steps 1-3 run in one
synchronous stretch of the event loop, so no request, stream or flow source
can observe the venue between a command's application and the write of its
record, and nobody is told anything before step 3 succeeded.  If the write
fails the sequencer stops for good (``failed``): the in-memory venue may hold
commands the journal lacks, so it must never answer again; a restart rebuilds
from the journal, which holds exactly what was acknowledged.

A source that runs many groups in one synchronous stretch (replay as fast as
possible) may defer step 3 and 4 over several groups (``execute(defer=True)``
then ``commit()``): one journal write for all of them.  Its own model of what
happened is told inline, as each command is applied (``subscribe(inline=True)``);
everybody else still hears only of committed commands.

Timers (mark refresh, premium sampling, funding, expiry) are commands too: the
sequencer asks each timer for its commands when its due time has come and
stamps them with that due time, so they are journaled like everything else.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Iterable, NamedTuple, Optional

from exchange.contract.records import new_record
from exchange.contract.timers import Timer

log = logging.getLogger("paperex.sequencer")

#: ``callback(seq, ts, command, events, book)``
Subscriber = Callable[[int, int, Any, list, Optional[dict]], None]


class SequencerFailed(RuntimeError):
    """The journal could not be written: the sequencer accepts nothing more."""


class Executed(NamedTuple):
    """What one command did: its seq and time, the venue's events and the book levels it changed."""
    seq: int
    ts: int
    command: Any
    events: list
    error: Optional[str] = None
    book: Optional[dict] = None     # symbol -> [(side, price, qty), ...] (qty 0: level gone)


# built with records.new_record (a NamedTuple's own __new__ is a Python function):
# one per command, on the hot path of every source
_new = new_record


def _books_of(venue: Any) -> dict[str, Any]:
    """symbol -> order book of the venue (empty for a venue without books)."""
    symbols = getattr(venue, "symbols", None)
    if not symbols or not hasattr(venue, "book"):
        return {}
    return {sym: venue.book(sym) for sym in symbols}


def _take_book_changes(books: dict, touched: list) -> Optional[dict]:
    """The levels the books named in ``touched`` logged since the last call, per symbol
    (None: no change).  Each book names itself there when it logs its first change after a
    drain (``report_changes_to``), so a command asks only the books it changed, not every
    book of a many-symbol venue."""
    out = None
    for sym in touched:
        ch = books[sym].changed_levels()
        if ch:
            if out is None:
                out = {}
            out[sym] = ch
    touched.clear()
    return out


class Sequencer:
    def __init__(self, venue: Any, journal: Any, clock: Any, *, last_seq: int = 0) -> None:
        self.venue = venue
        self.journal = journal          # a JournalWriter, or None for an unjournaled venue (tests)
        self.clock = clock
        self.seq = last_seq
        self.last_ts = 0
        self.timers: list[Timer] = []
        self.subscribers: list[Subscriber] = []
        self.inline_subscribers: list[Subscriber] = []
        self.commit_hooks: list[Callable[[], None]] = []
        self._deferred: list[Executed] = []     # applied and buffered, not yet committed
        # earliest timer due time, or earlier (whoever moves a timer moves it later)
        self._next_timer_due = 0
        self._queue: list[tuple[Any, asyncio.Future]] = []
        self._flush_scheduled = False
        self._runner: Optional[asyncio.Task] = None
        self.commands_total = 0
        self.events_total = 0
        self.failed: Optional[str] = None
        self._books = _books_of(venue)
        self._touched: list[str] = []       # symbols whose books logged changes since the last take
        for sym, book in self._books.items():
            book.changed_levels()           # a restored venue's books: start with an empty change log
            book.report_changes_to(self._touched, sym)

    # ------------------------------------------------------------- set-up
    def add_timer(self, timer: Timer, now_ms: Optional[int] = None) -> None:
        now = self.clock.now_ms() if now_ms is None else now_ms
        timer.next_due = timer.first_due_after(now)
        self.timers.append(timer)
        self._next_timer_due = min(self._next_timer_due, timer.next_due)

    def subscribe(self, callback: Subscriber, *, inline: bool = False) -> None:
        """Call ``callback(seq, ts, command, events, book)`` for every command, in seq order.

        Ordinary subscribers (stream fan-out, projections) are told
        after the command's group is committed to the journal.  ``inline``
        subscribers are told as soon as the command is applied, before the
        commit: only for an in-process flow source whose next commands depend
        on what the last ones did (the replay LP learns its fills) and which
        tells nobody outside - see ``execute(defer=True)``."""
        (self.inline_subscribers if inline else self.subscribers).append(callback)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once after each commit that published commands,
        once the subscribers have been told of all of them: for what looks at the
        venue as a whole (snapshots) rather than at each command."""
        self.commit_hooks.append(callback)

    # --------------------------------------------------------- synchronous core
    def execute(self, commands: Iterable[Any], *, defer: bool = False) -> list[Executed]:
        """Run due timers, then ``commands``, as one journaled group.

        ``defer=True`` applies the group and buffers its records but neither
        commits the journal nor tells the ordinary subscribers: a source that
        runs many groups in one synchronous stretch (replay as fast as possible)
        commits them together with :meth:`commit`, one journal write for many
        groups.  Nothing leaves the process before that commit, so journal first
        still holds; the next non-deferred ``execute`` commits them too."""
        if self.failed:
            raise SequencerFailed(self.failed)
        now = self.clock.now_ms()
        stamped: list[tuple[int, int, Any]] = []
        if self.timers and self._next_timer_due <= now:
            for ts, cmd in self._due_timer_commands(now):
                stamped.append(self._stamp(ts, cmd))
        # the group's commands share one time (``_stamp`` inlined: one call less per command)
        seq = self.seq
        ts = now if now > self.last_ts else self.last_ts
        for cmd in commands:
            seq += 1
            stamped.append((seq, ts, cmd))
        if seq != self.seq:
            self.seq = seq
            self.last_ts = ts
        journal = self.journal
        if not stamped:
            if not defer:
                self.commit()  # commits deferred groups; lets the batch fsync policy run when idle
            return []
        results = []
        apply = self.venue.apply
        books = self._books
        touched = self._touched
        inline = self.inline_subscribers
        try:
            for seq, ts, cmd in stamped:
                try:
                    events = apply(ts, cmd)
                    error = None
                except Exception as exc:  # a venue bug must not take the exchange down
                    log.exception("venue failed on seq %d (%r)", seq, cmd)
                    events, error = [], f"{type(exc).__name__}: {exc}"
                book = _take_book_changes(books, touched) if touched else None
                if journal is not None:
                    journal.append_command(seq, ts, cmd, events)
                results.append(_new(Executed, (seq, ts, cmd, events, error, book)))
                for sub in inline:
                    try:
                        sub(seq, ts, cmd, events, book)
                    except Exception:  # a broken subscriber must not block the venue
                        log.exception("inline subscriber failed on seq %d", seq)
        except Exception as exc:
            self._fail(exc)
        self._deferred += results
        if not defer:
            self.commit()
        return results

    def commit(self) -> None:
        """Commit the applied groups to the journal (one write), then tell the subscribers."""
        done = self._deferred
        journal = self.journal
        if journal is not None:
            try:
                journal.commit()
            except Exception as exc:
                self._fail(exc)
        if not done:
            return
        self._deferred = []
        self.commands_total += len(done)
        self.events_total += sum([len(r[3]) for r in done])
        subscribers = self.subscribers
        if subscribers:
            for r in done:
                for sub in subscribers:
                    try:
                        sub(r[0], r[1], r[2], r[3], r[5])
                    except Exception:  # a broken subscriber must not block the venue
                        log.exception("subscriber failed on seq %d", r[0])
        for hook in self.commit_hooks:
            try:
                hook()
            except Exception:  # as for a subscriber
                log.exception("commit hook failed after seq %d", done[-1][0])

    def _fail(self, exc: Exception) -> None:
        self.failed = f"journal write failed: {exc}"
        self._deferred = []
        log.critical("sequencer stopped: %s", self.failed)
        raise SequencerFailed(self.failed) from exc

    def _stamp(self, ts: int, cmd: Any) -> tuple[int, int, Any]:
        self.seq += 1
        if ts < self.last_ts:
            ts = self.last_ts  # time never goes back inside the journal
        self.last_ts = ts
        return self.seq, ts, cmd

    def _due_timer_commands(self, now: int) -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        if not self.timers:
            return out
        while True:
            timer = min(self.timers, key=lambda t: t.next_due)
            due = timer.next_due
            if due > now:
                self._next_timer_due = due
                return out
            if not timer.catch_up and not self.clock.virtual:
                # skip to the latest missed tick
                last = timer.first_due_after(now) - timer.interval_ms
                due = max(due, last)
            for cmd in timer.make(due):
                out.append((due, cmd))
            timer.next_due = due + timer.interval_ms

    def advance(self, ms: int) -> list[Executed]:
        """Virtual clock: move time forward, firing every timer on the way."""
        target = self.clock.now_ms() + ms
        results: list[Executed] = []
        while True:
            due = min((t.next_due for t in self.timers), default=None)
            if due is None or due > target:
                break
            self.clock.advance_to(due)
            results.extend(self.execute(()))
        self.clock.advance_to(target)
        results.extend(self.execute(()))
        return results

    # ------------------------------------------------------------ async front
    async def submit(self, command: Any) -> Executed:
        """Queue ``command``; resolves once it and its events are journaled."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._queue.append((command, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await fut

    def _flush(self) -> None:
        self._flush_scheduled = False
        queue, self._queue = self._queue, []
        if not queue:
            return
        try:
            results = self.execute([cmd for cmd, _ in queue])
        except Exception as exc:  # journal failure: nobody is acknowledged
            log.exception("sequencer group failed")
            for _, fut in queue:
                if not fut.done():
                    fut.set_exception(exc)
            return
        # timer results come first; callers' commands are the last len(queue)
        for (_, fut), res in zip(queue, results[len(results) - len(queue):]):
            if not fut.done():
                fut.set_result(res)

    async def run_timers(self, tick_s: float = 0.05) -> None:
        """Fire due timers while nothing else is arriving (wall or sped-up clock)."""
        while True:
            await asyncio.sleep(tick_s)
            if not self._queue:
                self.execute(())

    def start(self, tick_s: float = 0.05) -> None:
        if self._runner is None and (not self.clock.virtual or self.clock.speed is not None):
            self._runner = asyncio.get_running_loop().create_task(self.run_timers(tick_s))

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
            self._runner = None
        if self._queue:
            self._flush()
