"""Replay of a recorded market into the venue, as ordinary commands through the sequencer.

    rt = ReplayDriver.runtime_for(path, data_dir=...)     # a virtual clock at the recording's start
    drv = ReplayDriver(rt, path)
    drv.run()                                             # as fast as possible
    await drv.run_async(speed=10)                         # or x10 real time

What the recording drives:

* recorded index / mark prices -> ``SetIndexPrice`` / ``SetMarkPrice``.  A
  recording without them (the Binance trade/bookTicker/depth tapes) gets an
  index = mid of the recorded book once a second (``mark="auto"``) until a
  recorded one appears, so bots still see a mark price; ``mark="off"`` disables that.
* recorded book levels (depth snapshot + diffs + bookTicker) are kept in a
  model of the recorded book; a **replay liquidity provider** (a few venue
  accounts, one post-only order per price level) places, resizes and cancels
  its orders so the venue's book mirrors the best ``depth_levels`` levels per
  side (an order whose level drifts deeper keeps its size until the level comes
  back or falls ``slack`` levels further).  Growing a level moves the LP's order
  to the back of the queue (new liquidity arrives behind resting orders),
  shrinking keeps its place.
* recorded trades are re-enacted by a **replay taker** account: before a
  print at price P the LP book is made consistent with it (liquidity that the
  print proves gone is removed, at least the printed quantity is offered at
  P), then an IOC limit order at P for the printed quantity takes it.  A user's
  resting order at a better price, or ahead of the LP in the queue at P, fills
  first - that is how a bot's orders fill when recorded trades cross them.
  Any fill of the LP (by the taker or by a user) is taken out of the model,
  until the recording next says what the level holds.
* virtual time follows the recording's exchange timestamps (``ts_ms``); all
  records of one millisecond go in one ``sequencer.execute`` group (a trade
  closes its group so the LP sees its fills before it quotes again).
* recorded funding rates -> ``SettleFunding(symbol, rate=...)`` at the recorded
  funding times: a settled rate (funding history) at its funding time, a live
  estimate (markPriceUpdate ``r``, tardis ``funding_rate``) at the funding time
  it names, the last one before it.  The venue's funding timer is kept from
  settling those times (it settles the others, at its premium-average rate);
  ``funding="venue"`` ignores recorded funding.  See ``_funding``.

Quantities are raised to the symbol's MIN_NOTIONAL when a recorded level or
print is smaller (ETH's 0.001 lots are worth ~3 USDT, the venue's minimum is
20): prices are exact, such sizes are not (``stats.qty_raised`` counts them).

Cost: one sequencer group per recorded millisecond is the floor (time must not
be coarsened), so what the driver controls is the work per record - a deep
depth-diff level costs one dict store (``_Book``'s far tier), a quote an update
of one level - and the commands per change: a level's order is resized only
when its size changed, and not at all while it sits past ``depth_levels``.
``run()`` (as fast as possible, nothing else on the loop) also shares one journal
commit among ``COMMIT_GROUPS`` groups; the paced ``run_async`` commits each group.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from bisect import bisect_left, bisect_right, insort

from exchange.units import MONEY_SCALE, RATE_SCALE
from exchange.contract import codes as C
from exchange.contract.records import new_record
from exchange.contract.commands import (CancelOrder, CreateAccount, Deposit, ModifyOrder, NewOrder,
                                     SetIndexPrice, SetLeverage, SetMarkPrice, SettleFunding)

from exchange.flow.records import BookTicker, DepthDiff, DepthSnapshot, FundingRate, IndexPrice, MarkPrice, Trade

log = logging.getLogger("paperex.flow.replay")

REPLAY_ACCOUNT_BASE = 800_000_000
COMMIT_GROUPS = 64           # groups per journal commit when running as fast as possible
_K_ACCEPTED, _K_REJECTED, _K_FILLED, _K_CANCELED, _K_EXPIRED = 1010, 1011, 1012, 1013, 1014
_LIMIT, _GTX = C.LIMIT, C.GTX
# LP commands are built with records.new_record (as the venue builds its events): a NamedTuple's
# own __new__ is a Python function, and the LP sends ~120k commands per 6 minutes of tape.
# The fields after the ones given keep their defaults, whatever fields get appended later.
_new = new_record
_NEW_ORDER_TAIL = tuple(NewOrder(0, "", 0, 0, 0, 0))[10:]
_MODIFY_TAIL = tuple(ModifyOrder(0, "", 0, 0, 0))[6:]
_CANCEL_TAIL = tuple(CancelOrder(0, ""))[4:]


@dataclass
class ReplayStats:
    records: int = 0
    groups: int = 0
    commands: int = 0
    events: int = 0
    trades: int = 0                # recorded prints re-enacted
    trades_unfilled: int = 0       # prints that produced no fill (should stay 0)
    trade_max_dev_ticks: int = 0   # worst |fill price - printed price|
    skipped_symbol: int = 0        # records of symbols the venue does not list
    ignored: int = 0               # records with no venue meaning (funding, klines, ...)
    stale_diffs: int = 0           # depth diffs older than the snapshot
    off_grid: int = 0              # prices / quantities rounded onto the grid
    qty_raised: int = 0            # sizes raised to MIN_NOTIONAL
    lp_rejected: int = 0           # LP orders the venue refused (e.g. a user order in the way)
    funding_settled: int = 0       # funding settlements at a recorded rate
    funding_late: int = 0          # recorded rates for a funding time the venue had settled already
    first_ts: Optional[int] = None
    last_ts: Optional[int] = None
    wall_s: float = 0.0
    progress: float = 0.0          # fraction of the file read

    @property
    def sim_ms(self) -> int:
        return 0 if self.first_ts is None else self.last_ts - self.first_ts

    @property
    def sim_s_per_wall_s(self) -> float:
        return self.sim_ms / 1000.0 / self.wall_s if self.wall_s > 0 else 0.0


class _Conv:
    """Decimal string -> integer grid units, memoized (levels repeat a lot).

    A plain decimal string (what the readers produce) is converted with
    integer arithmetic; anything else, and off-grid values, go through Decimal."""
    __slots__ = ("unit", "cache", "stats", "num", "den")

    def __init__(self, unit: Decimal, stats: ReplayStats) -> None:
        self.unit = unit
        self.cache: dict = {}
        self.stats = stats
        self.num, self.den = unit.as_integer_ratio()     # unit = num / den

    def convert(self, s: str) -> int:
        v = self.cache.get(s)
        if v is None:
            v = self._convert(s)
            if len(self.cache) > 500_000:
                self.cache.clear()
            self.cache[s] = v
        return v

    # the hot paths call ``convert`` (a bound method): calling the instance goes
    # through type slot machinery that costs several times a method call
    __call__ = convert

    def _convert(self, s: str) -> int:
        i = s.find(".")
        digits = s if i < 0 else s.replace(".", "", 1)
        if digits.isdigit() and digits.isascii():
            # value = int(digits) / 10**decimals; ticks = value / (num/den), if exact
            decimals = 0 if i < 0 else len(s) - i - 1
            q, r = divmod(int(digits) * self.den, self.num * 10 ** decimals)
            if not r:
                return q
        d = Decimal(s) / self.unit
        v = int(d)
        if v != d:
            self.stats.off_grid += 1
            v = int(d.to_integral_value())
        return v


class _LPOrder:
    __slots__ = ("cid", "account", "side", "price", "qty", "filled", "oid", "slot")

    def __init__(self, cid, account, side, price, qty):
        self.cid = cid
        self.account = account
        self.side = side
        self.price = price
        self.qty = qty
        self.filled = 0
        self.oid = 0
        self.slot = 0               # index of its account in ReplayDriver.lp_accounts


class _Book:
    """The recorded book of one symbol (model), the LP's orders, and what changed.

    Only the best levels of a side are kept sorted: ``levels``/``keys`` (the
    *near* tier) hold every level whose key (price, negated for bids) is at or
    inside ``cut[side]``; the rest of the recorded book waits unsorted in
    ``far`` (price -> lots, or the size text a diff gave, converted only if the
    level comes near; 0 / "0" = gone) until the near tier runs short.  A depth
    snapshot brings 1000 levels a side and the diffs keep changing all of them,
    but the LP only ever looks at the best ``depth_levels + slack``: a deep level
    costs one dict store instead of a bisect through thousands of keys.  The near
    tier is kept between ``low`` and ``high`` levels (refilled to / cut back to
    ``target``) whenever ``far`` has levels, so the LP window always lies in it.
    """

    def __init__(self, symbol: str, inst: Any, stats: ReplayStats, depth_levels: int) -> None:
        self.symbol = symbol
        self.inst = inst
        self.ticks = _Conv(Decimal(inst.tick_size), stats)
        self.lots = _Conv(Decimal(inst.step_size), stats)
        self.unit = int(inst.notional_unit)
        self.min_notional = int(Decimal(inst.min_notional) * MONEY_SCALE)
        self.n = depth_levels
        self.levels = ({}, {})                      # side -> {price: lots}, the near tier
        self.keys = ([], [])                        # sorted; bids stored negated: index 0 = best
        self.far = ({}, {})                         # side -> {price: lots or size text} beyond ``cut``
        self.cut: list = [None, None]               # deepest key of the near tier; None: no far tier
        self.ver = [0, 0]                           # bumped whenever a side's keys change
        self.edge_ver = [-1, -1]                    # ``ver`` the LP window edges were computed at
        self.dirty = (set(), set())
        self.lp = ({}, {})                          # side -> {price: _LPOrder}
        self.thr = [None, None]                     # LP window: inner edge (price) per side
        self.outer = [None, None]                   # ... and the edge where LP orders are dropped
        self.slack = max(10, depth_levels // 2)
        self.low = depth_levels + self.slack + max(25, depth_levels // 2)
        self.target = 2 * self.low
        self.high = 4 * self.low
        self.snapshot_id: Optional[int] = None
        self.ticker_id: Optional[int] = None
        self.ticker_px = [None, None]
        self.ticker_n = [None, None]                # sizes of the last quote
        self.recorded_mark = False
        self.next_mark_ms = 0
        self.lp_n: list = []                        # open LP orders per LP account (set by the driver)
        self.lp_free = 0                            # no LP account before this one has room
        self.fund_iv = int(inst.funding_interval_hours) * 3_600_000
        self.fund_next = 0                          # next funding time to look at (set by the driver)
        self.fund_done = -1                         # last funding time settled or left to the venue
        self.fund_est: Optional[tuple] = None       # (funding time, rate) of the latest live estimate

    # ---------------------------------------------------------------- model
    def best(self, side: int) -> Optional[int]:
        k = self.keys[side]
        if not k:
            if not self.far[side]:
                return None
            self.refill(side)
            if not k:
                return None
        return -k[0] if side == 0 else k[0]

    def lots_at(self, side: int, price: int) -> int:
        """Recorded size at ``price`` (0: no level), whichever tier holds it."""
        n = self.levels[side].get(price)
        if n is None:
            n = self.far[side].get(price, 0)
            if type(n) is str:
                n = self.lots(n)
        return n

    def set(self, side: int, price: int, lots: int) -> None:
        cut = self.cut[side]
        if cut is not None and (-price if side == 0 else price) > cut:
            self.far[side][price] = lots            # deep: beyond the LP window, no order to sync
            return
        lv = self.levels[side]
        if lots > 0:
            if price not in lv:
                insort(self.keys[side], -price if side == 0 else price)
                self.ver[side] += 1
            lv[price] = lots
        elif price in lv:
            del lv[price]
            keys = self.keys[side]
            del keys[bisect_left(keys, -price if side == 0 else price)]
            self.ver[side] += 1
        else:
            return
        # levels deeper than the LP's outer edge matter only once the edge reaches them
        # (the edge moving marks them then), unless the LP still has an order there
        out = self.outer[side]
        if out is None or (price >= out if side == 0 else price <= out) or price in self.lp[side]:
            self.dirty[side].add(price)

    def remove(self, side: int, price: int) -> None:
        """Drop a level known to be in the near tier (no dirty marking)."""
        del self.levels[side][price]
        keys = self.keys[side]
        del keys[bisect_left(keys, -price if side == 0 else price)]
        self.ver[side] += 1

    def clear_through(self, side: int, price: int, inclusive: bool) -> None:
        """Remove ``side``'s levels better than ``price`` (and at it if inclusive)."""
        keys = self.keys[side]
        key = -price if side == 0 else price
        if keys:
            first = keys[0]
            if first > key or (first == key and not inclusive):
                return                              # nothing that good: the common case
            i = bisect_right(keys, key) if inclusive else bisect_left(keys, key)
            lv = self.levels[side]
            dirty = self.dirty[side]
            for k in keys[:i]:
                p = -k if side == 0 else k
                del lv[p]
                dirty.add(p)
            del keys[:i]
            self.ver[side] += 1
        cut = self.cut[side]
        if cut is not None and key > cut:
            # the price lies beyond the near tier (a jump through the whole of it):
            # the far levels better than it go too
            far = self.far[side]
            sgn = -1 if side == 0 else 1
            for p in [p for p in far if sgn * p < key or (inclusive and sgn * p == key)]:
                del far[p]

    def clear_all(self) -> None:
        for side in (0, 1):
            self.dirty[side].update(self.levels[side])
            self.dirty[side].update(self.lp[side])
            self.levels[side].clear()
            self.keys[side].clear()
            self.far[side].clear()
            self.cut[side] = None
            self.ver[side] += 1

    def rebalance(self, side: int) -> None:
        """Keep the near tier between ``low`` and ``high`` levels (see the class docstring)."""
        n = len(self.keys[side])
        if n < self.low:
            if self.far[side]:
                self.refill(side)
        elif n > self.high:
            keys = self.keys[side]
            lv = self.levels[side]
            far = self.far[side]
            t = self.target
            for k in keys[t:]:
                p = -k if side == 0 else k
                far[p] = lv.pop(p)
            del keys[t:]
            self.cut[side] = keys[-1]
            self.ver[side] += 1

    def refill(self, side: int) -> None:
        """Move the best far levels into the near tier, up to ``target`` levels."""
        far = self.far[side]
        keys = self.keys[side]
        lv = self.levels[side]
        dirty = self.dirty[side]
        take = self.target - len(keys)
        lots = self.lots.convert
        moved = []
        for p in sorted(far, reverse=(side == 0)):  # best first
            n = far[p]
            moved.append(p)
            if type(n) is str:
                n = lots(n)
            if n:
                lv[p] = n
                dirty.add(p)                        # in the LP window? _reconcile decides
                keys.append(-p if side == 0 else p)  # every far key is beyond every near key
                take -= 1
                if take <= 0:
                    break
        for p in moved:                             # (and the gone levels passed on the way)
            del far[p]
        if far:
            self.cut[side] = -moved[-1] if side == 0 else moved[-1]
        else:
            self.cut[side] = None                   # the whole side is near again
        self.ver[side] += 1

    def edge(self, side: int, n: int) -> Optional[int]:
        """Price of the ``n``-th best level (None: fewer levels than that)."""
        keys = self.keys[side]
        if len(keys) <= n:
            return None
        k = keys[n - 1]
        return -k if side == 0 else k

    def min_lots(self, price: int) -> int:
        per = price * self.unit
        return -(-self.min_notional // per)


@dataclass
class ReplayProgress:
    fraction: float          # of the file's bytes
    sim_ms: int              # simulated time covered
    ts_ms: int               # current recorded time
    records: int
    commands: int
    wall_s: float


class ReplayDriver:
    """See the module docstring.

    Options: ``depth_levels`` (levels per side the LP mirrors, default 50),
    ``mark`` (``"auto"``: mid once a second until the recording has its own
    index/mark; ``"off"``), ``mark_interval_ms``, ``on_error`` (reader policy:
    ``"raise"`` or ``"skip"`` bad rows), ``symbols`` (only these), ``progress``
    (called with a :class:`ReplayProgress` every ``progress_every_s`` wall
    seconds), ``on_group(driver, ts)`` / ``on_trade(driver, trades, fills)``
    hooks (tests, tools; ``trades`` are the merged prints, ``fills`` the taker's
    (price, lots)), ``account_base`` (LP and taker account ids), ``batch_ms``
    (1: one group per recorded millisecond; N: one group per N ms window,
    stamped with its last record's time - fewer commands, coarser time),
    ``funding`` (``"recorded"``: recorded funding rates are settled at their
    funding times, the venue's timer settles the rest; ``"venue"``: recorded
    rates are ignored) and ``funding_lookahead_ms`` (how far past a funding time
    the recording is searched for its settled rate before the timer may run).
    """

    def __init__(self, runtime: Any, source: Any, *, depth_levels: int = 50, mark: str = "auto",
                 mark_interval_ms: int = 1_000, on_error: str = "raise", symbols: Optional[Iterable[str]] = None,
                 progress: Optional[Callable[[ReplayProgress], None]] = None, progress_every_s: float = 5.0,
                 on_group: Optional[Callable] = None, on_trade: Optional[Callable] = None,
                 account_base: int = REPLAY_ACCOUNT_BASE, lp_accounts: int = 0,
                 deposit_usdt: int = 1_000_000_000, batch_ms: int = 1, funding: str = "recorded",
                 funding_lookahead_ms: int = 5_000) -> None:
        if mark not in ("auto", "off"):
            raise ValueError("mark must be 'auto' or 'off'")
        if funding not in ("recorded", "venue"):
            raise ValueError("funding must be 'recorded' or 'venue'")
        self.funding = funding
        self.funding_lookahead_ms = funding_lookahead_ms
        self._fund_next: Optional[int] = None     # earliest ``fund_next`` of the books
        self._next_rec = None                     # the record read but not handled yet
        self._fund_applied: set = set()           # ids of funding records settled by a look-ahead
        self.runtime = runtime
        self.sequencer = runtime.sequencer
        self.venue = runtime.venue
        self.clock = runtime.clock
        if isinstance(source, (str, Path)):
            from exchange.flow.readers import open_recording
            source = open_recording(source, on_error=on_error)
        self.reader = source
        self.stats = ReplayStats()
        self.depth_levels = depth_levels
        self.mark = mark
        self.mark_interval_ms = mark_interval_ms
        self.only = set(symbols) if symbols else None
        self.progress_cb = progress
        self.paused = False
        self.progress_every_s = progress_every_s
        self.on_group = on_group
        self.on_trade = on_trade
        self.books: dict[str, _Book] = {}
        self.taker_account = account_base + 1
        per_acct = min(i.max_num_orders for i in runtime.instruments.values()) - 10
        n_lp = lp_accounts or max(2, -(-2 * depth_levels // per_acct) + 1)
        self.lp_accounts = [account_base + 2 + i for i in range(n_lp)]
        self._lp_set = frozenset(self.lp_accounts)
        self._lp_cap = per_acct
        self._deposit = deposit_usdt
        self._by_cid: dict[str, _LPOrder] = {}
        self._by_oid: dict[int, _LPOrder] = {}
        self._next_cid = 0
        self._pending: list = []
        self._cur_ts: Optional[int] = None
        self._cur_key: Optional[int] = None
        self._held: Optional[list] = None         # prints waiting to be merged
        self._group_open = False
        self._records = None                      # the reader's iterator (runs resume it)
        self._peek = None                         # first record of the next run
        self.batch_ms = batch_ms
        self._offset = 0
        self._started = False
        self._fills: Optional[list] = None        # collecting the taker's fills of one print
        # inline: the LP learns its fills as they happen, also in groups whose journal
        # commit is deferred (run(): many groups per journal write, see _execute)
        self.sequencer.subscribe(self._on_executed, inline=True)
        self._defer = False                       # True while run() goes as fast as possible
        self._deferred_groups = 0

    # ------------------------------------------------------------- set-up
    @staticmethod
    def first_timestamp(path: Any, **kw) -> Optional[int]:
        """Exchange time of the first record of a recording (None if empty)."""
        from exchange.flow.readers import open_recording
        for rec in open_recording(path, **kw):
            return rec.ts_ms
        return None

    @classmethod
    def runtime_for(cls, path: Any, **runtime_kw) -> Any:
        """A Runtime with a virtual clock standing at the recording's first record."""
        from exchange.engine.runtime import Runtime
        t0 = cls.first_timestamp(path) or 0
        return Runtime.virtual(t0, **runtime_kw)

    def _setup(self, ts: int) -> None:
        self._started = True
        now = self.clock.now_ms()
        self._offset = now - ts if now > ts else 0
        cmds = []
        dep = self._deposit * MONEY_SCALE
        for aid in [self.taker_account] + self.lp_accounts:
            if self.venue.account(aid) is None:
                cmds += [CreateAccount(aid), Deposit(aid, dep)]
        for sym in sorted(self.runtime.instruments):
            if self.only is not None and sym not in self.only:
                continue
            for aid in [self.taker_account] + self.lp_accounts:
                cmds.append(SetLeverage(aid, sym, 2))
        self._pending.extend(cmds)

    def _book(self, sym: str) -> Optional[_Book]:
        b = self.books.get(sym)
        if b is None:
            if sym not in self.runtime.instruments or (self.only is not None and sym not in self.only):
                return None
            b = self.books[sym] = _Book(sym, self.runtime.instruments[sym], self.stats, self.depth_levels)
            b.lp_n = [0] * len(self.lp_accounts)
            now = self.clock.now_ms()
            b.fund_next = -(-now // b.fund_iv) * b.fund_iv        # the first funding time at or after now
            if self._fund_next is None or b.fund_next < self._fund_next:
                self._fund_next = b.fund_next
        return b

    # ---------------------------------------------------------------- run
    def run(self, until_ms: Optional[int] = None, max_records: Optional[int] = None) -> ReplayStats:
        """As fast as possible on a virtual clock the driver moves."""
        return self._loop(until_ms, max_records, None)

    async def run_async(self, speed: Optional[float] = 1.0, until_ms: Optional[int] = None) -> ReplayStats:
        """Paced: recorded time runs at ``speed`` x real time (None: as fast as
        possible, yielding to the event loop between groups so bots can trade)."""
        pace = _Pacer(speed)
        gen = self._iterate(until_ms, None)
        t0 = time.perf_counter()
        try:
            for ts in gen:
                delay = pace.delay(ts)
                await asyncio.sleep(delay if delay > 0 else 0)
                while self.paused:       # the control API's flow/pause
                    await asyncio.sleep(0.05)
                    pace = _Pacer(pace.speed)  # resume paced from here, without a burst
        finally:
            self.stats.wall_s += time.perf_counter() - t0
        return self.stats

    def _loop(self, until_ms, max_records, _pace) -> ReplayStats:
        t0 = time.perf_counter()
        # nothing else runs until this returns, so groups share journal commits
        self._defer = True
        try:
            for _ in self._iterate(until_ms, max_records):
                pass
        finally:
            self._defer = False
            self._commit()
        self.stats.wall_s += time.perf_counter() - t0
        return self.stats

    def _commit(self) -> None:
        if self._deferred_groups:
            self._deferred_groups = 0
            self.sequencer.commit()

    def _iterate(self, until_ms, max_records):
        """Process records; yields the recorded time before each new group starts."""
        stats = self.stats
        reader = self.reader
        t_wall = time.perf_counter()
        next_progress = t_wall + self.progress_every_s
        handlers = {BookTicker: self._ticker, DepthDiff: self._diff,
                    DepthSnapshot: self._snapshot, MarkPrice: self._markprice, IndexPrice: self._indexprice,
                    FundingRate: self._funding}
        batch = self.batch_ms
        books = self.books
        hold = self._hold_trade
        stop_ts = (1 << 62) if until_ms is None else until_ms
        stop_n = (1 << 62) if max_records is None else max_records
        n = 0
        if self._records is None:
            self._records = iter(reader)
        cur_key = self._cur_key
        cur_ts = self._cur_ts or 0
        while True:
            rec = self._peek
            if rec is None:
                # read through the attribute: a funding look-ahead may put records back
                rec = next(self._records, None)
                if rec is None:
                    break
            else:
                self._peek = None
            self._next_rec = rec                 # read, not handled yet: a funding look-ahead sees it
            ts = rec.ts_ms
            if ts > stop_ts or n >= stop_n:
                self._peek = rec                 # the next run starts here
                break
            n += 1
            key = ts if batch <= 1 else ts // batch
            if key != cur_key:
                if self._group_open:
                    self._end_group()
                    yield ts
                if not self._started:
                    stats.first_ts = ts
                    self.clock.advance_to(ts)
                    self._setup(ts)
                self._cur_key = cur_key = key
                self._group_open = True
                if self.progress_cb is not None and n % 1000 == 0 and time.perf_counter() >= next_progress:
                    next_progress = time.perf_counter() + self.progress_every_s
                    self._report(time.perf_counter() - t_wall)
            if ts > cur_ts:
                self._cur_ts = cur_ts = ts
                stats.last_ts = ts
            stats.records += 1
            t = type(rec)
            if t is Trade:
                b = books.get(rec.symbol) or self._book(rec.symbol)
                if b is None:
                    stats.skipped_symbol += 1
                else:
                    hold(b, rec)
                continue
            if self._held is not None:
                self._trade()
            h = handlers.get(t)
            if h is None:
                stats.ignored += 1
                continue
            b = books.get(rec.symbol) or self._book(rec.symbol)
            if b is None:
                stats.skipped_symbol += 1
                continue
            self._next_rec = None
            h(b, rec)
        if self._group_open:
            self._end_group()
        stats.progress = getattr(reader, "progress", 1.0)
        if self.progress_cb is not None:
            self._report(time.perf_counter() - t_wall)

    def _end_group(self) -> None:
        self._group_open = False
        if self._held is not None:
            self._trade()
        self._flush()
        if self.on_group is not None:
            self.on_group(self, self._cur_ts)

    def _report(self, wall: float) -> None:
        s = self.stats
        s.progress = getattr(self.reader, "progress", 0.0)
        self.progress_cb(ReplayProgress(s.progress, s.sim_ms, s.last_ts or 0, s.records, s.commands, wall))

    # ------------------------------------------------------------- groups
    def _flush(self) -> list:
        """Reconcile the LP with the model, then execute everything pending as one group."""
        if self._fund_next is not None and self._cur_ts >= self._fund_next:
            self._funding_times()
        cmds = self._pending
        for b in self.books.values():
            self._mark(b)
            self._reconcile(b, cmds)
        if not cmds:
            return []
        self._pending = []
        self.clock.advance_to(self._cur_ts + self._offset)
        return self._execute(cmds)

    def _execute(self, cmds: list) -> list:
        if self._defer:
            # one journal write per COMMIT_GROUPS groups: a commit costs as much as a
            # millisecond's records (replay runs ~46k groups for 6 minutes of tape)
            results = self.sequencer.execute(cmds, defer=True)
            self._deferred_groups += 1
            if self._deferred_groups >= COMMIT_GROUPS:
                self._commit()
        else:
            results = self.sequencer.execute(cmds)
        if results:
            st = self.stats
            st.groups += 1
            st.commands += len(results)
            for r in results:
                st.events += len(r.events)
        return results

    def _mark(self, b: _Book) -> None:
        if self.mark == "off" or b.recorded_mark:
            return
        ts = self._cur_ts
        if ts < b.next_mark_ms:
            return
        bid, ask = b.best(0), b.best(1)
        if bid is None or ask is None:
            return
        b.next_mark_ms = ts + self.mark_interval_ms
        self._pending.append(SetIndexPrice(b.symbol, (bid + ask) // 2))

    def _reconcile(self, b: _Book, cmds: list) -> None:
        """Commands that make the LP's orders match the model's dirty levels.

        The LP mirrors the best ``depth_levels`` levels.  A level that drifts
        out of them keeps its order, at its last size (not resized: nobody
        trades that deep, and resizing there was ~5 % of all replay commands),
        until it is ``depth_levels + slack`` deep, so the window edge does not
        churn orders as the best price flickers; back inside the window it is
        resized at once (the edge moving marks it dirty).  Removals come first
        (both sides), so a level that moved across never meets the LP's own
        stale order on the other side."""
        if not b.dirty[0] and not b.dirty[1] and b.edge_ver == b.ver:
            # nothing changed since the last pass (e.g. right after a print's group); the
            # near tier's size neither (it changes only with ``ver``), so no rebalance is due
            return
        sym = b.symbol
        later: list = []
        min_notional, unit = b.min_notional, b.unit
        raised = 0
        for side in (0, 1):
            keys = b.keys[side]
            if len(keys) < b.low and b.far[side] or len(keys) > b.high:
                b.rebalance(side)
            dirty = b.dirty[side]
            if b.edge_ver[side] != b.ver[side]:
                # the window edges move only when levels come or go
                b.edge_ver[side] = b.ver[side]
                inner = b.edge(side, b.n)
                outer = b.edge(side, b.n + b.slack)
                if inner != b.thr[side]:
                    self._mark_between(b, side, b.thr[side], inner, False)
                    b.thr[side] = inner
                if outer != b.outer[side]:
                    self._mark_between(b, side, b.outer[side], outer, True)
                    b.outer[side] = outer
            else:
                inner = b.thr[side]
                outer = b.outer[side]
            if not dirty:
                continue
            lv = b.levels[side]
            lp = b.lp[side]
            # bids: a price below the edge is outside; asks: above it (negate bids to compare once)
            sgn = -1 if side == 0 else 1
            inner_k = None if inner is None else sgn * inner
            outer_k = None if outer is None else sgn * outer
            for p in (sorted(dirty, reverse=(side == 0)) if len(dirty) > 1 else dirty):
                o = lp.get(p)
                if o is None:
                    if inner_k is not None and sgn * p > inner_k:
                        continue                      # outside the window: not placed
                    want = lv.get(p, 0)
                    if want:
                        m = -(-min_notional // (p * unit))
                        if want < m:
                            want = m
                            raised += 1
                        later.append(self._place(b, side, p, want))
                    continue
                want = lv.get(p, 0)
                if want:
                    k = sgn * p
                    if outer_k is not None and k > outer_k:
                        want = 0                      # past the slack: drop it
                    elif inner_k is not None and k > inner_k:
                        continue                      # outside the window: kept as it is
                if not want:
                    cmds.append(_new(CancelOrder, (o.account, sym, 0, o.cid) + _CANCEL_TAIL))
                    self._forget(b, o)
                else:
                    m = -(-min_notional // (p * unit))
                    if want < m:
                        want = m
                        raised += 1
                    rem = o.qty - o.filled
                    if rem != want:
                        o.qty = q = o.filled + want
                        (cmds if want < rem else later).append(
                            _new(ModifyOrder, (o.account, sym, 0, p, q, o.cid) + _MODIFY_TAIL))
            dirty.clear()
        if raised:
            self.stats.qty_raised += raised
        if later:
            cmds.extend(later)

    @staticmethod
    def _mark_between(b: _Book, side: int, old: Optional[int], new: Optional[int], lp_only: bool) -> None:
        """Mark dirty the model levels between two window edges (None = the far end)."""
        keys = b.keys[side]
        if not keys:
            return
        far = -keys[-1] if side == 0 else keys[-1]
        a = far if old is None else old
        z = far if new is None else new
        if a > z:
            a, z = z, a
        dirty = b.dirty[side]
        lp = b.lp[side]
        if side == 0:
            prices = [-k for k in keys[bisect_left(keys, -z):bisect_right(keys, -a)]]
        else:
            prices = keys[bisect_left(keys, a):bisect_right(keys, z)]
        if lp_only:
            dirty.update(p for p in prices if p in lp)
        else:
            dirty.update(prices)

    def _place(self, b: _Book, side: int, price: int, lots: int) -> NewOrder:
        counts = b.lp_n
        i = b.lp_free
        cap = self._lp_cap
        while counts[i] >= cap:
            i += 1
            if i == len(counts):
                raise RuntimeError("replay LP ran out of order slots; raise lp_accounts")
        b.lp_free = i
        counts[i] += 1
        acct = self.lp_accounts[i]
        self._next_cid += 1
        cid = "rlp%d" % self._next_cid
        o = _LPOrder(cid, acct, side, price, lots)
        o.slot = i
        self._by_cid[cid] = o
        b.lp[side][price] = o
        return _new(NewOrder, (acct, b.symbol, side, _LIMIT, _GTX, lots, price, 0, 0, cid) + _NEW_ORDER_TAIL)

    def _forget(self, b: _Book, o: _LPOrder) -> None:
        lp = b.lp[o.side]
        if lp.get(o.price) is o:
            del lp[o.price]
        if self._by_cid.pop(o.cid, None) is not None:
            i = o.slot
            b.lp_n[i] -= 1
            if i < b.lp_free:
                b.lp_free = i                   # the first account with room, as before
        if o.oid:
            self._by_oid.pop(o.oid, None)

    # --------------------------------------------------------- subscriber
    def _on_executed(self, seq: int, ts: int, command: Any, events: list, book: Optional[dict] = None) -> None:
        lp = self._lp_set
        for ev in events:
            k = ev.KIND
            if k < 1010 or k > 1014:
                continue
            if ev.account_id not in lp:
                if k == _K_FILLED and self._fills is not None and ev.account_id == self.taker_account:
                    self._fills.append((ev.price, ev.qty))
                continue
            if k == _K_ACCEPTED:
                o = self._by_cid.get(ev.client_order_id)
                if o is not None:
                    o.oid = ev.order_id
                    self._by_oid[ev.order_id] = o
            elif k == _K_FILLED:
                o = self._by_oid.get(ev.order_id)
                if o is None:
                    continue
                o.filled += ev.qty
                b = self.books[ev.symbol]
                # the recorded liquidity that was consumed is gone until the data says otherwise
                have = b.levels[o.side].get(o.price, 0)
                left = have - ev.qty
                if left > 0:
                    b.levels[o.side][o.price] = left
                elif have:
                    b.remove(o.side, o.price)
                if o.filled >= o.qty:
                    self._forget(b, o)
            elif k == _K_REJECTED:
                o = self._by_cid.get(ev.client_order_id)
                if o is not None:
                    self.stats.lp_rejected += 1
                    self._forget(self.books[ev.symbol], o)
            else:  # canceled / expired
                o = self._by_oid.get(ev.order_id)
                if o is not None:
                    self._forget(self.books[ev.symbol], o)

    # ----------------------------------------------------------- records
    def _ticker(self, b: _Book, r: BookTicker) -> None:
        if r.bid_px is not None:
            self._ticker_side(b, 0, r.bid_px, r.bid_qty)
        if r.ask_px is not None:
            self._ticker_side(b, 1, r.ask_px, r.ask_qty)
        if r.update_id is not None:
            b.ticker_id = r.update_id

    @staticmethod
    def _ticker_side(b: _Book, side: int, px, qty) -> None:
        """One side of a bookTicker: the quoted price becomes that side's best level."""
        p = b.ticks.cache.get(px)
        if p is None:
            p = b.ticks.convert(px)
        own, other = b.keys[side], b.keys[1 - side]
        sign = -1 if side == 0 else 1                  # keys: best first, bids stored negated
        if own and own[0] < sign * p:                  # own levels better than the new best
            b.clear_through(side, p, False)
        if other and other[0] <= -sign * p:            # the other side at or through it
            b.clear_through(1 - side, p, True)
        n = b.lots.cache.get(qty)
        if n is None:
            n = b.lots.convert(qty)
        lv = b.levels[side]
        if n > 0 and p in lv:
            # the common case: the best level's size changed - or did not (a quote
            # repeats the side that did not move): the LP, synced to this very
            # price and size by the last quote, has nothing to do then
            lp = b.lp[side]
            if lv[p] != n or b.ticker_px[side] != p or b.ticker_n[side] != n or p not in lp:
                lv[p] = n
                out = b.outer[side]
                if out is None or sign * p <= sign * out or p in lp:
                    b.dirty[side].add(p)
        else:
            b.set(side, p, n)
        b.ticker_px[side] = p
        b.ticker_n[side] = n

    def _snapshot(self, b: _Book, r: DepthSnapshot) -> None:
        b.clear_all()
        ticks, lots = b.ticks.convert, b.lots.convert
        for side, rows in ((0, r.bids), (1, r.asks)):
            for px, q in rows:
                b.set(side, ticks(px), lots(q))
            b.rebalance(side)
        b.snapshot_id = r.last_update_id

    def _diff(self, b: _Book, r: DepthDiff) -> None:
        if b.snapshot_id is not None and r.last_id is not None and r.last_id < b.snapshot_id:
            self.stats.stale_diffs += 1
            return
        older = b.ticker_id is not None and r.last_id is not None and r.last_id < b.ticker_id
        tconv, lconv = b.ticks.convert, b.lots.convert
        tcache, lcache = b.ticks.cache, b.lots.cache
        tb, ta = b.ticker_px
        if not older:
            tb = ta = None
        # b.set inlined: most levels of a diff are deep, beyond the near tier (one
        # dict store each) or at least outside the LP's window (no dirty marking)
        kb, ka = b.keys
        for side, rows, keys in ((0, r.bids, kb), (1, r.asks, ka)):
            lv = b.levels[side]
            lp = b.lp[side]
            dirty = b.dirty[side]
            far = b.far[side]
            out = b.outer[side]
            cut = b.cut[side]
            changed = 0
            if side == 0:
                # bids: a level at or above the best ask removes the asks it crosses
                deep = -cut if cut is not None else -(1 << 62)   # bids below this are far
                for px, q in rows:
                    p = tcache.get(px)
                    if p is None:
                        p = tconv(px)
                    if tb is not None and p >= tb:
                        continue                      # the newer ticker knows better
                    if p < deep:
                        far[p] = q                    # converted only if it comes near
                        continue
                    n = lcache.get(q)
                    if n is None:
                        n = lconv(q)
                    if n:
                        if ka and ka[0] <= p:
                            b.clear_through(1, p, True)
                        if p not in lv:
                            insort(keys, -p)
                            changed = 1
                        lv[p] = n
                    elif p in lv:
                        del lv[p]
                        del keys[bisect_left(keys, -p)]
                        changed = 1
                    else:
                        continue
                    if out is None or p >= out or p in lp:
                        dirty.add(p)
            else:
                deep = cut if cut is not None else (1 << 62)      # asks above this are far
                for px, q in rows:
                    p = tcache.get(px)
                    if p is None:
                        p = tconv(px)
                    if ta is not None and p <= ta:
                        continue
                    if p > deep:
                        far[p] = q
                        continue
                    n = lcache.get(q)
                    if n is None:
                        n = lconv(q)
                    if n:
                        if kb and -kb[0] >= p:
                            b.clear_through(0, p, True)
                        if p not in lv:
                            insort(keys, p)
                            changed = 1
                        lv[p] = n
                    elif p in lv:
                        del lv[p]
                        del keys[bisect_left(keys, p)]
                        changed = 1
                    else:
                        continue
                    if out is None or p <= out or p in lp:
                        dirty.add(p)
            if changed:
                b.ver[side] += 1

    def _markprice(self, b: _Book, r: MarkPrice) -> None:
        b.recorded_mark = True
        self._pending.append(SetMarkPrice(b.symbol, b.ticks(r.value)))

    # ------------------------------------------------------------ funding
    # Recorded funding replaces the venue's own at the funding times it covers:
    # a settled rate (funding history: Binance fundingRate CSV, freqtrade) is
    # charged at its funding time, a live estimate (markPriceUpdate ``r``, tardis
    # derivative_ticker) at the funding time it names, the last one seen before
    # it - what Binance's own stream showed as the rate to be charged.  The
    # venue's funding timer stays for every other time, and is kept from
    # settling the times the recording covers (the venue refuses a second
    # settlement of one time).  History rows carry a few ms of jitter
    # (...600017), so when the clock reaches a funding time the driver looks
    # ``funding_lookahead_ms`` ahead in the recording for a settled rate of it
    # before letting the timer run.
    def _funding(self, b: _Book, r: FundingRate) -> None:
        if self.funding != "recorded" or self._offset:
            # (with an offset the recording's funding times are not the venue's)
            self.stats.ignored += 1
            return
        if id(r) in self._fund_applied:
            self._fund_applied.discard(id(r))     # settled already, found by the look-ahead
            return
        rate = self._rate(r.value)
        iv = b.fund_iv
        if r.settled:
            ft = r.funding_time_ms if r.funding_time_ms is not None else r.ts_ms
            if not self._settle_recorded(b, ft - ft % iv, rate):
                self.stats.funding_late += 1
        elif r.funding_time_ms is not None:
            ft = r.funding_time_ms
            b.fund_est = (ft - ft % iv, rate)
        else:
            self.stats.ignored += 1                # an estimate for an unknown time

    def _rate(self, value: str) -> int:
        d = Decimal(value) * RATE_SCALE
        v = int(d)
        if v != d:
            self.stats.off_grid += 1
            v = int(d.to_integral_value())
        return v

    def _funding_times(self) -> None:
        """The group about to run is at or past a funding time: settle it with a
        recorded rate if the recording has one, else leave it to the venue's timer."""
        now = self._cur_ts
        for b in self.books.values():
            iv = b.fund_iv
            while b.fund_next <= now:
                ft = b.fund_next
                b.fund_next = ft + iv
                if ft <= b.fund_done:
                    continue                       # a recorded rate was settled for it already
                if ft != now - now % iv or self.funding != "recorded" or self._offset:
                    b.fund_done = ft               # passed without a group of its own: the timer's
                    continue
                rec = self._look_ahead_funding(b, ft)
                if rec is not None:
                    if self._settle_recorded(b, ft, self._rate(rec.value)):
                        self._fund_applied.add(id(rec))
                elif b.fund_est is not None and b.fund_est[0] == ft:
                    self._settle_recorded(b, ft, b.fund_est[1])
                else:
                    b.fund_done = ft               # nothing recorded: the venue's timer settles it
        self._fund_next = min(b.fund_next for b in self.books.values())

    def _look_ahead_funding(self, b: _Book, ft: int) -> Optional[FundingRate]:
        """A settled funding record of ``b`` for funding time ``ft`` among the next
        ``funding_lookahead_ms`` of the recording; what was read is put back."""
        limit = ft + self.funding_lookahead_ms
        iv = b.fund_iv
        sym = b.symbol

        def match(rec) -> bool:
            if type(rec) is not FundingRate or not rec.settled or rec.symbol != sym:
                return False
            t = rec.funding_time_ms if rec.funding_time_ms is not None else rec.ts_ms
            return t - t % iv == ft

        rec = self._next_rec                      # read by the loop, its group not started yet
        if rec is not None and rec.ts_ms <= limit and match(rec):
            return rec
        seen = []
        found = None
        it = self._records
        for rec in it:
            seen.append(rec)
            if rec.ts_ms > limit:
                break
            if match(rec):
                found = rec
                break
        if seen:
            self._records = chain(seen, it)
        return found

    def _settle_recorded(self, b: _Book, ft: int, rate: int) -> bool:
        """Settle funding time ``ft`` at ``rate`` in the group about to run (at the
        front, where the venue's timer would have put it); False if that group is
        not in ``ft``'s interval or the venue has settled ``ft`` already."""
        now = self._cur_ts
        iv = b.fund_iv
        if ft <= b.fund_done or ft != now - now % iv:
            return False
        if self.venue.premium_index(b.symbol)["last_funding_time"] >= ft:
            b.fund_done = ft                       # the timer ran in an earlier group
            return False
        name = "funding:" + b.symbol
        for t in self.sequencer.timers:
            if t.name != name:
                continue
            if t.next_due < ft:
                # earlier funding times the timer still owes are settled first, by it,
                # stamped at their own times, as they would have been
                self.clock.advance_to(ft - 1)
                self._execute([])
            if t.next_due <= ft:
                t.next_due = ft + iv               # ... but not this one
        self._pending.insert(0, SettleFunding(b.symbol, rate=rate))
        b.fund_done = ft
        self.stats.funding_settled += 1
        return True

    def _indexprice(self, b: _Book, r: IndexPrice) -> None:
        b.recorded_mark = True
        self._pending.append(SetIndexPrice(b.symbol, b.ticks(r.value)))

    def _hold_trade(self, b: _Book, r: Trade) -> None:
        """Prints of one taker at one price and millisecond (one per maker order in
        the data) are re-enacted as one taker order: same prices, fewer commands."""
        p = b.ticks.convert(r.price)
        q = b.lots.convert(r.qty)
        if q <= 0 or p <= 0:
            self.stats.ignored += 1
            return
        side = r.taker_side
        if side is None:
            ask, bid = b.best(1), b.best(0)
            if ask is not None and p >= ask:
                side = "BUY"
            elif bid is not None and p <= bid:
                side = "SELL"
            else:
                self.stats.ignored += 1
                return
        h = self._held
        if h is not None:
            if h[0] is b and h[1] == side and h[2] == p and h[5] == r.ts_ms:
                h[3] += q
                h[4].append(r)
                return
            self._trade()
        self._held = [b, side, p, q, [r], r.ts_ms]

    def _trade(self) -> None:
        b, side, p, q, recs, _ = self._held
        self._held = None
        m = b.min_lots(p)
        if q < m:
            q = m
            self.stats.qty_raised += 1
        if side == "BUY":
            # asks below the print are gone; at least q is offered at p; no bid at or above p
            b.clear_through(1, p, False)
            b.clear_through(0, p, True)
            if b.lots_at(1, p) < q:
                b.set(1, p, q)
            cmd = NewOrder(self.taker_account, b.symbol, C.BUY, C.LIMIT, C.IOC, q, p)
        else:
            b.clear_through(0, p, False)
            b.clear_through(1, p, True)
            if b.lots_at(0, p) < q:
                b.set(0, p, q)
            cmd = NewOrder(self.taker_account, b.symbol, C.SELL, C.LIMIT, C.IOC, q, p)
        for bk in self.books.values():
            self._mark(bk)
            self._reconcile(bk, self._pending)
        self._pending.append(cmd)
        self._fills = fills = []
        try:
            self._flush()
        finally:
            self._fills = None
        st = self.stats
        st.trades += len(recs)
        if not fills:
            st.trades_unfilled += len(recs)
        else:
            for fp, _ in fills:
                d = fp - p if fp >= p else p - fp
                if d > st.trade_max_dev_ticks:
                    st.trade_max_dev_ticks = d
        if self.on_trade is not None:
            self.on_trade(self, recs, fills)


class _Pacer:
    def __init__(self, speed: Optional[float]) -> None:
        self.speed = speed
        self.t0: Optional[float] = None
        self.ts0 = 0

    def delay(self, ts: int) -> float:
        if self.speed is None:
            return 0.0
        now = time.monotonic()
        if self.t0 is None:
            self.t0, self.ts0 = now, ts
            return 0.0
        return self.t0 + (ts - self.ts0) / 1000.0 / self.speed - now
