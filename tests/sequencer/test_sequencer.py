"""Sequencer mechanics on a toy venue: journal first, group commit, timers, fan-out."""
import asyncio
from typing import NamedTuple

import pytest

from exchange.engine.clock import VirtualClock, WallClock
from exchange.journal import JournalReader, JournalWriter
from exchange.contract.timers import Timer
from exchange.engine.sequencer import Sequencer, SequencerFailed


class Add(NamedTuple):
    amount: int
    KIND = 1

    def to_record(self):
        return [self.KIND, [self.amount]]


class Tick(NamedTuple):
    KIND = 2

    def to_record(self):
        return [self.KIND, []]


class Total(NamedTuple):
    value: int
    KIND = 1001

    def to_record(self):
        return [self.KIND, [self.value]]


class ToyVenue:
    """Deterministic: a running total."""

    def __init__(self):
        self.total = 0
        self.ticks = []

    def apply(self, ts, cmd):
        if isinstance(cmd, Tick):
            self.ticks.append(ts)
            return []
        if cmd.amount < 0:
            raise ValueError("negative")
        self.total += cmd.amount
        return [Total(self.total)]


def test_group_is_journaled_in_seq_order_before_anyone_hears_of_it(tmp_path):
    jdir = tmp_path / "j"
    writer = JournalWriter(jdir, {"symbols": []}, fsync="never")
    seq = Sequencer(ToyVenue(), writer, VirtualClock(1_000))
    seen = []
    # a subscriber runs only after the commit: the records must be on file by then
    seq.subscribe(lambda s, ts, cmd, events, book: seen.append(
        [(r.seq, r.kind) for r in JournalReader(jdir)]))
    results = seq.execute([Add(5), Add(7)])
    assert [r.seq for r in results] == [1, 2]
    assert [r.events for r in results] == [[Total(5)], [Total(12)]]
    assert seen[0] == [(1, 1), (1, 1001), (2, 1), (2, 1001)]
    writer.close()
    recs = list(JournalReader(jdir))
    assert [(r.seq, r.ts, r.kind, r.payload) for r in recs] == [
        (1, 1000, 1, [5]), (1, 1000, 1001, [5]), (2, 1000, 1, [7]), (2, 1000, 1001, [12])]


def test_failed_journal_write_stops_the_sequencer(tmp_path):
    writer = JournalWriter(tmp_path / "j", {}, fsync="never")
    seq = Sequencer(ToyVenue(), writer, VirtualClock(0))
    seq.execute([Add(1)])
    writer.close()  # a closed writer refuses the next commit
    with pytest.raises(SequencerFailed):
        seq.execute([Add(2)])
    with pytest.raises(SequencerFailed):
        seq.execute([Add(3)])
    assert seq.failed


def test_venue_error_is_an_answer_not_a_crash(tmp_path):
    seq = Sequencer(ToyVenue(), None, VirtualClock(0))
    bad, good = seq.execute([Add(-1), Add(3)])
    assert bad.error and "negative" in bad.error and bad.events == []
    assert good.events == [Total(3)]


def test_timers_fire_at_their_due_times_when_advancing():
    clock = VirtualClock(10_500)
    venue = ToyVenue()
    seq = Sequencer(venue, None, clock)
    seq.add_timer(Timer("tick", 1_000, lambda ts: [Tick()]))
    seq.advance(3_000)
    assert venue.ticks == [11_000, 12_000, 13_000]
    assert clock.now_ms() == 13_500
    # seqs and timestamps are stamped in order
    assert seq.seq == 3 and seq.last_ts == 13_000


def test_virtual_clock_tells_its_listeners_every_move():
    """Whoever moves a virtual clock (a flow, Sequencer.advance), its listeners hear the new time:
    what waits for venue time (the gateway's latency model) is woken by it."""
    clock = VirtualClock(10_500)
    heard = []
    clock.listeners.append(heard.append)
    seq = Sequencer(ToyVenue(), None, clock)
    seq.add_timer(Timer("tick", 1_000, lambda ts: [Tick()]))
    seq.advance(2_000)                       # stops at each timer's due time on the way
    clock.advance(250)
    clock.advance_to(100)                    # never back: the listener hears where it stands
    assert heard == [11_000, 12_000, 12_500, 12_750, 12_750]


def test_wall_clock_cannot_advance():
    with pytest.raises(ValueError):
        Sequencer(ToyVenue(), None, WallClock()).advance(1000)


async def test_commands_in_one_loop_turn_are_one_group_commit(tmp_path):
    writer = JournalWriter(tmp_path / "j", {}, fsync="batch")
    seq = Sequencer(ToyVenue(), writer, VirtualClock(0))
    published = []
    seq.subscribe(lambda s, ts, cmd, events, book: published.append((s, cmd.amount)))
    before = writer.commits
    results = await asyncio.gather(*(seq.submit(Add(i)) for i in range(1, 51)))
    # the 50 commands and their events are one commit
    assert writer.commits - before == 1
    assert [r.seq for r in results] == list(range(1, 51))
    assert results[-1].events == [Total(sum(range(1, 51)))]
    assert published == [(i, i) for i in range(1, 51)]
    writer.close()
    assert len(list(JournalReader(tmp_path / "j").commands())) == 50


def test_deferred_groups_are_told_inline_then_written_and_published_at_commit(tmp_path):
    jdir = tmp_path / "j"
    writer = JournalWriter(jdir, {"symbols": []}, fsync="never")
    clock = VirtualClock(1_000)
    seq = Sequencer(ToyVenue(), writer, clock)
    inline, published = [], []
    seq.subscribe(lambda s, ts, cmd, events, book: inline.append((s, events)), inline=True)
    seq.subscribe(lambda s, ts, cmd, events, book: published.append(
        (s, [r.seq for r in JournalReader(jdir)])))
    seq.execute([Add(5)], defer=True)
    clock.advance_to(1_001)
    seq.execute([Add(7)], defer=True)
    # the source's own model heard of both; nobody else did, and nothing is on file
    assert inline == [(1, [Total(5)]), (2, [Total(12)])]
    assert published == [] and writer.last_seq is None
    seq.commit()
    # one write for both groups, and the subscribers ran after it
    assert writer.commits == 1
    assert published == [(1, [1, 1, 2, 2]), (2, [1, 1, 2, 2])]
    assert seq.commands_total == 2 and seq.events_total == 2
    seq.commit()                       # nothing pending: no second publication
    assert len(published) == 2


def test_an_ordinary_execute_commits_the_deferred_groups_first(tmp_path):
    writer = JournalWriter(tmp_path / "j", {"symbols": []}, fsync="never")
    seq = Sequencer(ToyVenue(), writer, VirtualClock(0))
    published = []
    seq.subscribe(lambda s, ts, cmd, events, book: published.append(s))
    seq.execute([Add(1)], defer=True)
    seq.execute([Add(2)])
    assert published == [1, 2] and writer.last_seq == 2


def test_a_failed_deferred_commit_tells_nobody_and_stops_the_sequencer(tmp_path):
    writer = JournalWriter(tmp_path / "j", {}, fsync="never")
    seq = Sequencer(ToyVenue(), writer, VirtualClock(0))
    published = []
    seq.subscribe(lambda s, ts, cmd, events, book: published.append(s))
    seq.execute([Add(1)], defer=True)
    writer._failed = "disk gone"           # what a failed write() leaves behind
    with pytest.raises(SequencerFailed):
        seq.commit()
    assert published == [] and seq.failed
    with pytest.raises(SequencerFailed):
        seq.execute([Add(2)])


def test_book_changes_name_only_the_books_a_command_changed_and_equal_a_poll_of_every_book():
    """The sequencer asks only the books that named themselves (``report_changes_to``); what it
    publishes equals draining every book of a second venue after each of the same commands."""
    import random
    from exchange.contract import codes as C
    from exchange.contract.commands import CancelOrder, CreateAccount, Deposit, NewOrder, SetIndexPrice
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    from exchange.venue import Venue

    def funded():
        v = Venue(DEFAULT_INSTRUMENTS)
        for a in (1, 2, 3):
            v.apply(0, CreateAccount(a))
            v.apply(0, Deposit(a, 10_000_000 * 100_000_000))
        v.apply(0, SetIndexPrice("BTCUSDT", 500_000))
        v.apply(0, SetIndexPrice("ETHUSDT", 300_000))
        return v

    rng = random.Random(5)
    cmds = []
    for _ in range(400):
        sym, mid = rng.choice((("BTCUSDT", 500_000), ("ETHUSDT", 300_000)))
        r = rng.random()
        if r < 0.6:
            side = rng.randint(0, 1)
            cmds.append(NewOrder(rng.randint(1, 3), sym, side, C.LIMIT, C.GTC, rng.randint(1, 20),
                                 mid + rng.randint(-5, 5)))
        elif r < 0.8:
            cmds.append(NewOrder(rng.randint(1, 3), sym, rng.randint(0, 1), C.MARKET, C.GTC, rng.randint(1, 10), 0))
        else:
            cmds.append(CancelOrder(rng.randint(1, 3), sym, rng.randint(1, 250)))
    polled = funded()
    for book in (polled.book("BTCUSDT"), polled.book("ETHUSDT")):
        book.changed_levels()
    expected = []
    for cmd in cmds:
        polled.apply(1, cmd)
        ch = {sym: polled.book(sym).changed_levels() for sym in polled.symbols}
        expected.append({sym: levels for sym, levels in ch.items() if levels} or None)
    seq = Sequencer(funded(), None, VirtualClock(start_ms=1))
    got = [r.book for r in seq.execute(cmds)]
    assert got == expected
    # both symbols changed, in different commands, and commands that changed nothing carry None
    assert {s for b in got if b for s in b} == {"BTCUSDT", "ETHUSDT"}
    assert any(len(b) == 1 for b in got if b) and None in got
