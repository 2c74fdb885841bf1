"""The dashboard's own projection of committed results, and the coalescing publisher.

``DashboardFeed.on_executed`` is a listener of the gateway's ``Projection`` (so it
runs after the command is journaled, with the book changes the command caused):
it keeps what the other projections do not - each symbol's ladder (from the
book changes after one snapshot, while a page is open), the latest MarkPriceChanged, the
liquidation feed, the insurance fund over time, the faults injected per
account - and sets a dirty flag.  That is all the per-command work.

``Publisher`` pushes at most one message per page every ``interval_s`` (2 per
second by default: in a browser each drawn update costs a frame - a few ms of CPU
across Chromium's processes however little changed - and the exchange may share its
cores with the browser), built once per tick for all pages and holding only the
sections that changed - however fast the flow runs, a page gets a handful of
small updates per second, built from the projections at that moment (the
updates coalesce), and none while nothing changes.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Optional

from exchange.contract import codes as C
from exchange.contract.commands import InjectFault, SetMarkPrice
from exchange.contract.events import (
    IndexPriceChanged, InsuranceFundChanged, MarkPriceChanged, OrderFilled, event_from_record,
)
from exchange.gateway.background import BackgroundTask

log = logging.getLogger("paperex.dashboard")

LIQUIDATIONS_KEEP = 100
INSURANCE_KEEP = 600
FAULTS_KEEP = 50
_RELEVANT = frozenset((OrderFilled, MarkPriceChanged, IndexPriceChanged, InsuranceFundChanged))
CANDLE_MS = 5_000           # the chart's candles: 5 s (the REST klines keep 1 m and up)
CANDLES_KEEP = 240          # 20 minutes


def _line_point(line: deque, ts: int, price: int) -> None:
    """The last price of each candle interval: one point per bucket."""
    b = ts - ts % CANDLE_MS
    if line and line[-1][0] == b:
        line[-1][1] = price
    else:
        line.append([b, price])


class DashboardFeed:
    def __init__(self, proj, symbols, book_snapshot=None) -> None:
        """``book_snapshot(symbol) -> (bids, asks)``: the books as they stand when the
        feed starts (a restored venue); every later change arrives with a command."""
        self.proj = proj
        self.symbols = tuple(symbols)
        self.book_snapshot = book_snapshot
        self.bids: dict[str, dict[int, int]] = {s: {} for s in self.symbols}
        self.asks: dict[str, dict[int, int]] = {s: {} for s in self.symbols}
        # the ladders follow the books only while a page looks (``open_ladders``); a feed without
        # a snapshot source (paperex view: a fresh venue) follows them from its first command
        self.ladders_live = book_snapshot is None
        self.marks: dict[str, MarkPriceChanged] = {}
        self.index: dict[str, int] = {}        # the last index price (ticks) per symbol
        # per symbol: [bucket start, open, high, low, close, taker volume] of the public trades,
        # and [bucket start, last price] of the mark and the index
        self.candles: dict[str, deque] = {s: deque(maxlen=CANDLES_KEEP) for s in symbols}
        self.mark_line: dict[str, deque] = {s: deque(maxlen=CANDLES_KEEP) for s in symbols}
        self.index_line: dict[str, deque] = {s: deque(maxlen=CANDLES_KEEP) for s in symbols}
        self.liquidations: deque = deque(maxlen=LIQUIDATIONS_KEEP)
        self.insurance: deque = deque(maxlen=INSURANCE_KEEP)     # (ts, balance)
        self.insurance_start: Optional[tuple] = None    # (ts, balance) shown before the first change
        self.faults: dict[int, deque] = {}
        # how many entries were ever appended (the deques keep the last ones): what changed
        self.liquidations_total = 0
        self.insurance_total = 0
        self.dirty = True
        proj.listeners.append(self.on_executed)

    def on_executed(self, seq: int, ts: int, command, events: list, changes=None) -> None:
        self.dirty = True
        for ev in events:
            t = type(ev)
            if t not in _RELEVANT:      # order amends, income rows...: nothing the feed keeps
                continue
            if t is OrderFilled:
                if not ev.is_maker:
                    c = self.candles.get(ev.symbol)
                    if c is not None:
                        b = ts - ts % CANDLE_MS
                        if c and c[-1][0] == b:
                            k = c[-1]
                            if ev.price > k[2]:
                                k[2] = ev.price
                            elif ev.price < k[3]:
                                k[3] = ev.price
                            k[4] = ev.price
                            k[5] += ev.qty
                        else:
                            c.append([b, ev.price, ev.price, ev.price, ev.price, ev.qty])
            elif t is MarkPriceChanged:
                if not ev.index_price:
                    # a set price (SetMarkPrice's pin, a mark following SetIndexPrice) carries the
                    # price only: keep index, funding and pin state of the last full event
                    pinned = 1 if type(command) is SetMarkPrice else None
                    prev = self.marks.get(ev.symbol)
                    if prev is not None:
                        ev = prev._replace(price=ev.price, pinned=prev.pinned if pinned is None else pinned)
                    elif pinned:
                        ev = ev._replace(pinned=1)
                self.marks[ev.symbol] = ev
                if ev.symbol in self.mark_line:
                    _line_point(self.mark_line[ev.symbol], ts, ev.price)
                    if ev.index_price:
                        self.index[ev.symbol] = ev.index_price
                        _line_point(self.index_line[ev.symbol], ts, ev.index_price)
            elif t is IndexPriceChanged:
                if ev.symbol in self.index_line:
                    self.index[ev.symbol] = ev.price
                    _line_point(self.index_line[ev.symbol], ts, ev.price)
            elif t is InsuranceFundChanged:
                self.insurance.append((ts, ev.balance))
                self.insurance_total += 1
        if changes and self.ladders_live:
            for sym, levels in changes.items():
                bids, asks = self.bids[sym], self.asks[sym]
                for side, price, qty in levels:
                    book = bids if side == C.BUY else asks
                    if qty:
                        book[price] = qty
                    else:
                        book.pop(price, None)
        if self.proj.new_force:
            self.liquidations.extend(dict(r) for r in self.proj.new_force)
            self.liquidations_total += len(self.proj.new_force)
        if type(command) is InjectFault:
            q = self.faults.get(command.account_id)
            if q is None:
                q = self.faults[command.account_id] = deque(maxlen=FAULTS_KEEP)
            q.append({"time": ts, "seq": seq, "kind": command.kind, "rule": command.rule_id,
                      "detail": command.detail})

    # ------------------------------------------------------------- checkpoints
    def checkpoint_state(self) -> dict:
        """What the feed has learnt, as msgpack values (a projection checkpoint's companion:
        projection_checkpoint.py); the ladders are not in it (a page seeds them from the books)."""
        return {
            "symbols": list(self.symbols),
            "marks": [list(ev.to_record()) for _, ev in sorted(self.marks.items())],
            "index": sorted(self.index.items()),
            "candles": {s: list(q) for s, q in self.candles.items()},
            "mark_line": {s: list(q) for s, q in self.mark_line.items()},
            "index_line": {s: list(q) for s, q in self.index_line.items()},
            "liquidations": list(self.liquidations), "liquidations_total": self.liquidations_total,
            "insurance": [list(r) for r in self.insurance], "insurance_total": self.insurance_total,
            "faults": [[aid, list(q)] for aid, q in sorted(self.faults.items())],
        }

    def restore_checkpoint(self, st: dict):
        """Read a ``checkpoint_state`` (ValueError if it does not fit these symbols); the
        returned function loads it."""
        if st.get("symbols") != list(self.symbols):
            raise ValueError("dashboard feed of other symbols")
        marks = {}
        for rec in st["marks"]:
            ev = event_from_record(rec)
            if type(ev) is not MarkPriceChanged:
                raise ValueError("not a mark price")
            marks[ev.symbol] = ev
        index = {s: p for s, p in st["index"]}

        def series(name: str) -> dict:
            return {s: deque((list(r) for r in st[name].get(s, ())), maxlen=CANDLES_KEEP) for s in self.symbols}
        candles, mark_line, index_line = series("candles"), series("mark_line"), series("index_line")
        liquidations = deque((dict(r) for r in st["liquidations"]), maxlen=LIQUIDATIONS_KEEP)
        insurance = deque((tuple(r) for r in st["insurance"]), maxlen=INSURANCE_KEEP)
        faults = {aid: deque((dict(f) for f in q), maxlen=FAULTS_KEEP) for aid, q in st["faults"]}
        liq_total, ins_total = int(st["liquidations_total"]), int(st["insurance_total"])

        def apply() -> None:
            self.marks, self.index = marks, index
            self.candles, self.mark_line, self.index_line = candles, mark_line, index_line
            self.liquidations, self.liquidations_total = liquidations, liq_total
            self.insurance, self.insurance_total = insurance, ins_total
            self.faults = faults
            self.dirty = True
        return apply

    def open_ladders(self) -> None:
        """Start following the books: one snapshot of each (taken in the same synchronous
        stretch as any commit, so no change is missed or counted twice), then their changes."""
        if self.ladders_live:
            return
        for sym in self.symbols:
            bids, asks = self.book_snapshot(sym)
            self.bids[sym] = dict(bids)
            self.asks[sym] = dict(asks)
        self.ladders_live = True

    def close_ladders(self) -> None:
        if self.book_snapshot is not None:
            self.ladders_live = False
            for sym in self.symbols:
                self.bids[sym].clear()
                self.asks[sym].clear()

    def ladder(self, sym: str, n: int) -> tuple[list, list]:
        bids = self.bids.get(sym, {})
        asks = self.asks.get(sym, {})
        return ([(p, bids[p]) for p in sorted(bids, reverse=True)[:n]],
                [(p, asks[p]) for p in sorted(asks)[:n]])


class Publisher:
    """Sends every page its updates, at most one message per ``interval_s`` (2 per second).

    ``sections(focus) -> {name: bytes}`` builds the page's sections (``run``, ``market``,
    ``leaderboard``, ...), each already serialized.  Every tick the publisher builds them once
    per focus (symbol, account) - not once per page - and sends each page only the sections
    whose bytes differ from the previous tick's: one serialized message per focus, shared by
    every page with that focus.  Nothing is built while nothing was committed, except a
    heartbeat every ``idle_s`` (the run panel), and nothing is sent when nothing changed.

    A page that opens or changes its focus gets a whole message (``"full": true``) at once,
    and the next tick sends its focus's every section again (its baseline is dropped), so no
    page ever misses a change that fell between the last tick and its whole message.
    """

    def __init__(self, feed: DashboardFeed, sections, interval_s: float = 0.5, idle_s: float = 2.0,
                 slow_tick=None, spread_s: float = 0.0) -> None:
        """``slow_tick() -> bool``, asked once at the start of each tick: whether this is the
        tick (one a second) in which the slow sections may change and slow pages are served.
        ``spread_s``: the sends of one tick are spread evenly over this many seconds (0: one
        after another, the loop serving whatever waits between them)."""
        self.feed = feed
        self.sections = sections
        self.slow_tick = slow_tick
        self.interval_s = interval_s
        self.idle_s = idle_s
        self.spread_s = spread_s
        self.clients: dict = {}            # websocket -> focus dict (symbol, account)
        self._ticks = BackgroundTask(self._run, "paperex-dashboard")
        self.messages_sent = 0
        self.bytes_sent = 0
        self.ticks_built = 0
        self.cpu_s = 0.0
        # the longest stretch the publisher held the event loop (a tick's build, one send, a
        # page's whole message; the loop thread's CPU time): every request waiting meanwhile
        # waited that long
        self.longest_hold_s = 0.0
        self._last_build = 0.0
        self._sent: dict = {}              # focus key -> {section: bytes} sent at the last tick
        self._builds = 0                   # ticks built and whole messages made so far
        self._whole_at: dict = {}          # focus key -> ``_builds`` when its last whole message was made

    @staticmethod
    def key(focus: dict) -> tuple:
        """A page's focus: symbol, account and pace (``"slow"``: the page shows only slow
        sections now - its market panels are out of its window - and is sent a message only
        in the slow tick, with everything that changed since its last one)."""
        return focus.get("symbol"), focus.get("account"), focus.get("pace") == "slow"

    @staticmethod
    def message(parts: dict, full: bool) -> str:
        body = b",".join(b'"' + name.encode() + b'":' + raw for name, raw in parts.items())
        head = b'{"type":"update","full":true' if full else b'{"type":"update","full":false'
        return (head + (b"," + body if body else b"") + b"}").decode()

    def whole(self, focus: dict) -> str:
        """Every section now, for a page that just opened or changed focus."""
        c0 = time.thread_time()
        parts = self.sections(focus)
        key = self.key(focus)
        self._sent.pop(key, None)      # the next tick resends all of this focus
        self._builds += 1
        self._whole_at[key] = self._builds     # a tick built before this must not follow it
        out = self.message(parts, True)
        self._held(c0)
        return out

    def start(self) -> None:
        self._ticks.start()

    async def stop(self) -> None:
        await self._ticks.stop()
        for ws in list(self.clients):
            await ws.close()
        self.clients.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self.interval_s
        while True:
            await asyncio.sleep(wait)
            wait = self.interval_s
            if not self.clients:
                self._sent.clear()
                continue
            now = time.monotonic()
            if not self.feed.dirty and now - self._last_build < self.idle_s:
                continue
            self.feed.dirty = False
            self._last_build = now
            t0 = loop.time()
            try:
                await self.push()
            except Exception:       # a page must never take the exchange down
                log.exception("dashboard push failed")
            # the sends took part of the interval: the next tick still comes interval_s after this one
            wait = max(0.0, self.interval_s - (loop.time() - t0))

    def _held(self, c0: float) -> None:
        """Account one stretch the publisher ran without yielding (``c0``: the loop thread's CPU
        time at its start): the CPU the pages cost the exchange (/metrics:
        paperex_dashboard_cpu_seconds_total) and the longest such stretch.  Both count the
        loop thread's own CPU time: not the journal's sync thread, not the time the process
        was preempted by others."""
        used = time.thread_time() - c0
        self.cpu_s += used
        if used > self.longest_hold_s:
            self.longest_hold_s = used

    def tick(self) -> dict:
        """This tick's message per focus key (None: nothing changed for it)."""
        out: dict = {}
        sent = self._sent
        slow = self.slow_tick() if self.slow_tick is not None else True
        for focus in list(self.clients.values()):
            key = self.key(focus)
            if key in out:
                continue
            if key[2] and not slow:
                # a slow page waits for the slow tick; its baseline stays that of its last message
                out[key] = None
                self.feed.dirty = True
                continue
            parts = self.sections(focus)
            prev = sent.get(key)
            changed = parts if prev is None else {n: b for n, b in parts.items() if prev.get(n) != b}
            sent[key] = parts
            out[key] = self.message(changed, False) if changed else None
        for key in [k for k in sent if k not in out]:     # no page looks at it any more
            del sent[key]
        for key in [k for k in self._whole_at if k not in out]:
            del self._whole_at[key]
        self.ticks_built += 1
        self._builds += 1
        return out

    async def push(self) -> None:
        """Build this tick's messages in one stretch of the loop (a fraction of a millisecond),
        then hand them to the pages one at a time, letting the loop serve whatever waits in
        between (spread over ``spread_s`` when set): a tick never holds the loop for its whole
        fan-out.  A message that would reach a page after a whole message made since (the page
        opened or changed its focus meanwhile) is not sent: the next tick sends that focus
        everything again."""
        c0 = time.thread_time()
        bodies = self.tick()
        built = self._builds
        targets = [(ws, key, bodies.get(key)) for ws, key in
                   ((ws, self.key(focus)) for ws, focus in list(self.clients.items()))]
        targets = [t for t in targets if t[2] is not None]
        self._held(c0)
        # the spread stays well inside the interval, so the next tick is never late
        gap = min(self.spread_s, 0.8 * self.interval_s) / len(targets) if targets else 0.0
        for i, (ws, key, body) in enumerate(targets):
            await asyncio.sleep(gap if i else 0)
            c0 = time.thread_time()
            try:
                focus = self.clients.get(ws)
                if focus is None or ws.closed:
                    self.clients.pop(ws, None)
                    continue
                if self.key(focus) != key or self._whole_at.get(key, 0) > built:
                    continue            # a whole message went out after this was built
                transport = ws._req.transport if ws._req is not None else None
                if transport is not None and transport.get_write_buffer_size() > (1 << 20):
                    # a page that does not keep up skips updates; it gets everything again next time
                    self._sent.pop(key, None)
                    continue
                try:
                    await ws.send_str(body)
                    self.messages_sent += 1
                    self.bytes_sent += len(body)
                except (ConnectionError, RuntimeError):
                    self.clients.pop(ws, None)
            finally:
                self._held(c0)
