"""Re-executing a journal: the test of truth.

A journal holds, in seq order, each command record followed by the event
records it produced.  ``replay`` feeds every command to a fresh venue built
from the configuration in the journal header; with ``verify`` it checks that
each command produces exactly its journaled events (same kinds, same fields,
same order) and stops at the first divergence, naming the seq and both sides.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from exchange.contract.instruments import Instrument
from exchange.contract.venue_config import instruments_from_config
from exchange.journal import EVENT_KIND_BASE, JournalReader, is_command

def new_venue(instruments: dict[str, Instrument]):
    from exchange.venue import Venue
    return Venue(instruments)


@dataclass
class Divergence:
    seq: int
    command: Any
    journaled: list
    produced: list

    def __str__(self) -> str:
        for i, (a, b) in enumerate(zip(self.journaled, self.produced)):
            if a != b:
                return (f"seq {self.seq}: event {i} differs\n  journaled: {a}\n  produced:  {b}"
                        f"\n  command: {self.command}")
        return (f"seq {self.seq}: {len(self.journaled)} events journaled, {len(self.produced)} produced"
                f"\n  journaled: {self.journaled[len(self.produced):]}"
                f"\n  produced:  {self.produced[len(self.journaled):]}\n  command: {self.command}")


@dataclass
class ReplayResult:
    venue: Any
    commands: int = 0
    events: int = 0
    first_ts: Optional[int] = None
    last_ts: Optional[int] = None
    last_seq: int = 0
    elapsed_s: float = 0.0
    divergence: Optional[Divergence] = None
    torn_tail: Optional[str] = None
    stopped_early: bool = False
    extra: dict = field(default_factory=dict)


def replay(journal_dir: "str | Path", *, verify: bool = False, until_seq: Optional[int] = None,
           until_time: Optional[int] = None, venue: Any = None, after_seq: int = 0,
           progress: Optional[Callable[[int], None]] = None,
           on_command: Optional[Callable[[int, int, Any, list], None]] = None) -> ReplayResult:
    """Rebuild the venue from ``journal_dir``.  ``venue`` + ``after_seq`` let a caller
    start from a restored snapshot: only records after that seq are applied.
    ``on_command(seq, ts, command, events)`` is told of every re-executed command with
    the events it produced now (a projection rebuilt by re-execution: leaderboard, view)."""
    from exchange.contract.commands import SeedHistory, command_from_record

    reader = JournalReader(journal_dir)
    instruments = instruments_from_config(reader.config)
    if venue is None:
        venue = new_venue(instruments)
    from_seq = after_seq + 1 if after_seq else None
    result = ReplayResult(venue)
    result.last_seq = after_seq
    apply = venue.apply
    t0 = time.perf_counter()
    cur_seq = None
    cur_cmd = None
    expected: list = []
    produced: list = []

    def close_group() -> bool:
        if verify and cur_seq is not None and expected != produced:
            result.divergence = Divergence(cur_seq, cur_cmd, expected, produced)
            return False
        return True

    for seq, ts, kind, payload in reader.records(from_seq):
        if kind < EVENT_KIND_BASE:      # a command
            if not close_group():
                break
            if (until_seq is not None and seq > until_seq) or \
                    (until_time is not None and ts > until_time):
                result.stopped_early = True
                cur_seq = None
                break
            cmd = command_from_record([kind, payload])
            events = apply(ts, cmd)
            if on_command is not None:
                on_command(seq, ts, cmd, events)
            cur_seq, cur_cmd = seq, cmd
            if type(cmd) is SeedHistory:      # reported (and expanded) by replay_main
                result.extra["history"] = (seq, ts, cmd)
            if verify:
                # to_record() is what msgpack reads back: lists of ints and strs (the
                # registry admits no other field type), so the two compare as they are
                produced = [ev.to_record() for ev in events]
                expected = []
            result.commands += 1
            result.events += len(events)
            if result.first_ts is None:
                result.first_ts = ts
            result.last_ts = ts
            result.last_seq = seq
            if progress is not None and result.commands % 100_000 == 0:
                progress(result.commands)
        elif verify:
            expected.append([kind, payload])
    else:
        close_group()
    result.elapsed_s = time.perf_counter() - t0
    if reader.torn_tail is not None:
        result.torn_tail = str(reader.torn_tail)
    return result


def committed_results(journal_dir: "str | Path", *, until_seq: Optional[int] = None,
                      until_time: Optional[int] = None):
    """Yield ``(seq, ts, command, events)`` as journaled, without re-executing anything:
    how a projection that reads only committed results is rebuilt from a journal."""
    from exchange.contract.commands import command_from_record
    from exchange.contract.events import event_from_record

    reader = JournalReader(journal_dir)
    cur = None
    for rec in reader.records():
        if is_command(rec.kind):
            if cur is not None:
                yield cur
            if (until_seq is not None and rec.seq > until_seq) or \
                    (until_time is not None and rec.ts > until_time):
                return
            cur = (rec.seq, rec.ts, command_from_record([rec.kind, rec.payload]), [])
        elif cur is not None:
            cur[3].append(event_from_record([rec.kind, rec.payload]))
    if cur is not None:
        yield cur
