"""One running exchange: venue, journal, sequencer, clock and timers, wired together.

The gateway, the flow sources and the control API all hold a ``Runtime`` and
send commands only through ``runtime.sequencer``; they read state through
``runtime.venue``'s query methods (reads never change state, and they run on
the same event loop as the sequencer, so they never see a half-applied command).

With a data directory the journal lives in ``DIR/journal`` and snapshots in
``DIR/snapshots`` (every ``snapshot_every`` commands and on a clean close).
Opening an existing directory loads the newest usable snapshot and replays,
verifying, only the journal after it, so the run continues where it stopped.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Optional

from exchange.engine.clock import VirtualClock, WallClock
from exchange.contract.instruments import DEFAULT_INSTRUMENTS, Instrument
from exchange.journal import JournalError, JournalReader, JournalWriter
from exchange.engine.replay import new_venue, replay
from exchange.contract.venue_config import instruments_from_config, venue_config
from exchange.engine.sequencer import Sequencer
from exchange.engine.snapshots import durable_mark, load_latest, write_snapshot

log = logging.getLogger("paperex.runtime")


class Runtime:
    def __init__(self, instruments: Optional[dict[str, Instrument]] = None, *,
                 data_dir: "str | Path | None" = None, clock: Any = None,
                 fsync: str = "batch", timers: bool = True, snapshot_every: int = 1_000_000) -> None:
        instruments = dict(instruments or DEFAULT_INSTRUMENTS)
        self.clock = clock if clock is not None else WallClock()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.journal: Optional[JournalWriter] = None
        self.restored_commands = 0
        self.snapshot_seq = 0
        # process-level hook after each snapshot (paperex serve: exchange.engine.heap.settle)
        self.after_snapshot: Optional[Callable[[], None]] = None
        #: called as ``f(snapshot_dir, seq)`` after each venue snapshot: what the layers
        #: above keep beside it (the gateway's projection checkpoint)
        self.snapshot_companions: list[Callable[[Path, int], Any]] = []
        self.snapshot_every = snapshot_every if data_dir is not None else 0
        last_seq = 0
        if self.data_dir is not None:
            journal_dir = self.data_dir / "journal"
            if journal_dir.exists() and any(journal_dir.glob("*.journal")):
                # the journal's own configuration wins: a run continues as it started
                stored = JournalReader(journal_dir).config
                instruments = instruments_from_config(stored)
                # a snapshot proves how far the journal got: recovery refuses to
                # cut a "torn" tail back before it (that would be damage, not a crash)
                self.journal = JournalWriter(journal_dir, stored, fsync=fsync,
                                             must_reach=durable_mark(self.data_dir / "snapshots"))
                for torn in self.journal.torn_tails:
                    log.warning("journal recovery: %s", torn)
                result = self._restore(journal_dir)
                self.venue = result.venue
                self.restored_commands = result.commands
                last_seq = self.journal.last_seq or 0
                if result.last_ts and self.clock.virtual:
                    self.clock.advance_to(result.last_ts)
            else:
                self.journal = JournalWriter(journal_dir, venue_config(instruments), fsync=fsync)
                self.venue = new_venue(instruments)
        else:
            self.venue = new_venue(instruments)
        self.instruments = instruments
        self.sequencer = Sequencer(self.venue, self.journal, self.clock, last_seq=last_seq)
        if self.snapshot_every:
            self.sequencer.on_commit(self._maybe_snapshot)
        if timers:
            # mark refresh, premium sampling and funding are journaled timer commands
            from exchange.contract.timers import venue_timers
            for timer in venue_timers(instruments):
                self.sequencer.add_timer(timer)

    def _restore(self, journal_dir: Path) -> Any:
        """The newest usable snapshot, then the journal's tail after it, verified."""
        found = load_latest(self.data_dir / "snapshots", self.journal.last_seq or 0)
        if found is None:
            result = replay(journal_dir, verify=True)
        else:
            venue, seq, ts = found
            self.snapshot_seq = seq
            if seq == self.journal.last_seq:
                # a clean shutdown: nothing after the snapshot to read
                from exchange.engine.replay import ReplayResult
                result = ReplayResult(venue, last_seq=seq, first_ts=ts, last_ts=ts)
            else:
                result = replay(journal_dir, verify=True, venue=venue, after_seq=seq)
            if result.last_ts is None:
                result.last_ts = ts
        if result.divergence is not None:
            result = self._repair_tail(journal_dir, result)
        return result

    def write_snapshot(self) -> Optional[Path]:
        """Snapshot the venue at the sequencer's last seq (between commit groups)."""
        if self.data_dir is None or self.sequencer.seq == 0:
            return None
        if self.journal is not None and not self.journal.closed:
            # never let a snapshot get ahead of what is durable in the journal
            self.journal.sync()
        path = write_snapshot(self.data_dir / "snapshots", self.venue, self.sequencer.seq,
                              self.sequencer.last_ts,
                              journal_end=self.journal.end_mark if self.journal is not None else None)
        self.snapshot_seq = self.sequencer.seq
        for companion in self.snapshot_companions:
            try:
                companion(self.data_dir / "snapshots", self.sequencer.seq)
            except Exception:   # a companion only saves start-up time; the snapshot stands
                log.exception("snapshot companion failed at seq %d", self.sequencer.seq)
        if self.after_snapshot is not None:
            self.after_snapshot()
        return path

    def _maybe_snapshot(self) -> None:
        # called once per commit, not per command: the venue already holds every
        # committed group, and a snapshot is labelled with the sequencer's last seq
        if self.snapshot_every and self.sequencer.seq - self.snapshot_seq >= self.snapshot_every:
            self.write_snapshot()

    def _repair_tail(self, journal_dir: Path, result: Any) -> Any:
        """A crash can cut a commit group short: its last command is on file but
        not all of its events.  That group was never acknowledged, so it is cut.
        A divergence anywhere else means the journal and the venue disagree:
        refuse to start rather than serve a state nobody can reproduce."""
        div = result.divergence
        cut_short = (len(div.journaled) < len(div.produced)
                     and div.produced[:len(div.journaled)] == div.journaled)
        if div.seq != result.last_seq or not cut_short:
            raise JournalError(f"journal {journal_dir} does not replay: {div}")
        self.journal.truncate_from(div.seq)
        log.warning("dropped the unacknowledged tail command seq %d (a crash cut its events short)", div.seq)
        found = load_latest(self.data_dir / "snapshots", div.seq - 1)
        if found is None:
            return replay(journal_dir, verify=True)
        return replay(journal_dir, verify=True, venue=found[0], after_seq=found[1])

    @classmethod
    def virtual(cls, start_ms: int, speed: Optional[float] = None, **kw: Any) -> "Runtime":
        return cls(clock=VirtualClock(start_ms, speed), **kw)

    def close(self, snapshot: bool = True) -> None:
        """Close the journal; on a clean shutdown also write a snapshot so the next
        start replays nothing."""
        if self.journal is not None and not self.journal.closed:
            if self.sequencer.failed is None:
                self.sequencer.commit()     # groups a source deferred are told and written
            self.journal.close()
            if snapshot and self.sequencer.failed is None and self.sequencer.seq > self.snapshot_seq:
                self.write_snapshot()
