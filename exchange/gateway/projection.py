"""In-memory projections the gateway serves from: fed by ``sequencer.subscribe``.

The venue answers questions about *current* state (accounts, open orders,
books).  Everything historical a Binance client asks for - public trades,
aggregate trades, klines, 24 h tickers, a user's trades and income, the ids of
a user's past orders - is derived here from the events, in bounded memory.
On start the projections are restored from the newest projection checkpoint
(``projection_checkpoint.restore``; one is written beside each venue snapshot)
and fed the journal after it (``rebuild(after_seq=...)``) - the whole journal only when
there is no checkpoint - so a restarted server still answers
``userTrades``/``income``/``allOrders`` without reading its whole past.

Book update ids (spec §9.4): every command that changes a symbol's book gives
that symbol a new update id = the command's seq.  ``lastUpdateId`` of REST
depth, ``U``/``u``/``pu`` of the diff streams and ``u`` of bookTicker all use
that one sequence.  The changed levels come with the committed result (the
sequencer's ``book`` argument: what the match changed); ``BookLevels`` folds
them into the projection's own copy of each book's levels, seeded once from a
depth query when the gateway starts, which the depth and bookTicker streams
read.  Nothing here reads the venue's live state: behind deferred commits it
already holds later commands' orders.
"""
from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import deque
from typing import Any, Callable, Iterable, Optional

from exchange.contract import codes as C
from exchange.contract.commands import SeedHistory
from exchange.contract.events import (
    BalanceChanged, ForceOrder, Income, LeverageChanged, MarginTypeChanged, OrderAccepted,
    OrderCanceled, OrderExpired, OrderFilled, OrderModified, OrderTriggered, PositionChanged,
    PositionClosedOut, PositionMarginChanged, MarkPriceChanged, IndexPriceChanged, PositionModeChanged,
    PremiumSampled,
)
from exchange.engine.open_interest import OpenInterest

TRADES_KEEP = 10_000
AGG_KEEP = 10_000
KLINES_KEEP = 44_640        # 31 days of 1m candles (a seeded history holds up to 30)
FILLS_KEEP = 10_000         # per account
INCOME_KEEP = 10_000        # per account
ORDERS_KEEP = 10_000        # per account per symbol (ids, for allOrders)
FORCE_KEEP = 1_000          # per account: liquidation / ADL orders (forceOrders)
MARGIN_KEEP = 1_000         # per account: positionMargin/history rows
CHILDREN_KEEP = 100_000     # triggered conditional order -> its regular order
OI_KEEP = 8_640             # 30 days of 5-minute open-interest samples
MINUTE = 60_000
OI_PERIOD = 300_000

_ORDER_EVENTS = (OrderAccepted, OrderFilled, OrderCanceled, OrderExpired, OrderModified)


class BookLevels:
    """A book's price levels as the committed results tell them: price -> resting lots per
    side, with the best price of each side kept as levels come and go."""

    __slots__ = ("bids", "asks", "best_bid", "best_ask")

    def __init__(self, bids: Iterable[tuple[int, int]] = (), asks: Iterable[tuple[int, int]] = ()) -> None:
        self.bids: dict[int, int] = dict(bids)
        self.asks: dict[int, int] = dict(asks)
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None

    def apply(self, changes: list) -> None:
        """Fold ``[(side, price, qty), ...]`` in (qty 0: the level is gone)."""
        for side, price, qty in changes:
            if side == C.BUY:
                levels = self.bids
                if qty:
                    levels[price] = qty
                    if self.best_bid is None or price > self.best_bid:
                        self.best_bid = price
                elif levels.pop(price, None) is not None and price == self.best_bid:
                    self.best_bid = max(levels) if levels else None
            else:
                levels = self.asks
                if qty:
                    levels[price] = qty
                    if self.best_ask is None or price < self.best_ask:
                        self.best_ask = price
                elif levels.pop(price, None) is not None and price == self.best_ask:
                    self.best_ask = min(levels) if levels else None

    def depth(self, side: int, n: int) -> list[tuple[int, int]]:
        """Top ``n`` levels of a side, best first, as (price, lots) - as ``Book.depth``."""
        if side == C.BUY:
            if n == 1:
                return [] if self.best_bid is None else [(self.best_bid, self.bids[self.best_bid])]
            return [(p, self.bids[p]) for p in heapq.nlargest(n, self.bids)]
        if n == 1:
            return [] if self.best_ask is None else [(self.best_ask, self.asks[self.best_ask])]
        return [(p, self.asks[p]) for p in heapq.nsmallest(n, self.asks)]


class SymbolMarket:
    __slots__ = ("symbol", "trades", "aggs", "next_agg_id", "klines", "last_price", "last_qty",
                 "update_id", "best", "oi", "book", "mark_klines", "index_klines",
                 "premium_klines", "index_price", "funding_rate", "mark_price", "notional_unit", "funding", "open_interest",
                 "oi_bucket")

    def __init__(self, symbol: str, notional_unit: int, book: Optional[BookLevels] = None) -> None:
        self.symbol = symbol
        self.notional_unit = notional_unit
        self.book = book if book is not None else BookLevels()
        # the markPrice stream's view, from committed events only: the last mark (also the unrealized
        # PnL of ACCOUNT_UPDATE), the last index, and the funding estimate of the last mark refresh or
        # premium sample (a settlement's reset estimate shows with the next refresh, within a second)
        self.mark_price = 0
        self.index_price = 0
        self.funding_rate = 0
        # (id, price, qty, quote_money, time, is_buyer_maker)
        self.trades: deque = deque(maxlen=TRADES_KEEP)
        # [agg_id, price, qty, quote_money, first_id, last_id, time, is_buyer_maker]
        self.aggs: deque = deque(maxlen=AGG_KEEP)
        self.next_agg_id = 1
        # minute start -> [open, high, low, close, vol_lots, quote, count, taker_buy_lots,
        #                   taker_buy_quote, first_id, last_id]
        self.klines: dict[int, list] = {}
        self.last_price = 0
        self.last_qty = 0
        self.update_id = 0
        self.best = (None, None, None, None)   # bid, bidQty, ask, askQty (ticks/lots)
        self.oi = OpenInterest()              # open interest (lots) from PositionChanged
        # minute start -> [open, high, low, close, samples] of the mark / index price (ticks)
        self.mark_klines: dict[int, list] = {}
        self.index_klines: dict[int, list] = {}
        # minute start -> [open, high, low, close, samples] of the premium index (RATE_SCALE)
        self.premium_klines: dict[int, list] = {}
        # the seeded past (SeedHistory): settled funding (funding_time, rate, mark) before the
        # venue's own, and open interest every 5 minutes (time, lots, value), history then live
        self.funding: list = []
        self.open_interest: deque = deque(maxlen=OI_KEEP)
        self.oi_bucket = 0                    # 5-minute period of the last live OI sample


class Projection:
    """Market and account history; ``on_executed`` is the sequencer subscriber.

    ``listeners`` get ``(seq, ts, command, events, book)`` after the projection
    is updated, where ``book`` maps symbol -> changed levels of this command
    (used by the depth streams).

    ``instruments``: symbol -> Instrument.  ``depth(symbol)`` -> (bids, asks) as
    (price, lots) seeds the book levels once (the venue's depth query, at start)."""

    def __init__(self, instruments: dict, *, depth: Optional[Callable] = None) -> None:
        #: symbol -> Instrument (kept for ``blank``)
        self.instruments: dict = dict(instruments)
        self.markets: dict[str, SymbolMarket] = {
            s: SymbolMarket(s, inst.notional_unit, BookLevels(*depth(s)) if depth is not None else None)
            for s, inst in sorted(instruments.items())}
        #: account -> hedge mode (PositionModeChanged), for ACCOUNT_UPDATE's position sides
        self.dual: dict[int, int] = {}
        #: conditional order id -> its OrderAccepted (ALGO_UPDATE, a legacy stop's regular order)
        self.conditionals: dict[int, OrderAccepted] = {}
        self.fills: dict[int, deque] = {}
        self.income: dict[int, deque] = {}
        self.order_ids: dict[tuple, deque] = {}
        self.last_seq = 0
        self.last_ts = 0
        self.fills_total = 0
        self.orders_total = 0
        self.listeners: list[Callable] = []
        self._next_oi = 0
        # conditional orders: which were placed through the Algo Order API (the rest are
        # legacy /fapi/v1/order stops), and the regular order each one became when triggered
        self.algo_ids: set[int] = set()
        self.parent_of: dict[int, int] = {}          # triggered child order id -> conditional id
        self.trigger_time: dict[int, int] = {}       # conditional id -> when it fired (ms)
        # liquidations: account -> {order id: record} (forceOrders), counters
        self.force_orders: dict[int, dict] = {}
        self.liquidations_total = 0
        self.adl_total = 0
        #: force-order records finished by the command being processed (forceOrder streams)
        self.new_force: list = []
        self.margin_history: dict[int, deque] = {}
        #: aggregate trades created by the command being processed: (symbol, record)
        self.new_aggs: list = []
        self._rebuilding = False
        #: the SeedHistory this projection expanded (None: no seeded past)
        self.history: Optional[SeedHistory] = None
        self._history_ts = 0
        #: name -> other projections that share this one's checkpoints and journal tail (the
        #: leaderboard, the dashboard feed): each has ``on_executed(seq, ts, command, events)``,
        #: ``checkpoint_state() -> msgpack value`` and ``restore_checkpoint(value) -> apply()``
        #: (projection_checkpoint.py); ``rebuild`` feeds them the records it reads
        self.companions: dict[str, Any] = {}

    def blank(self) -> "Projection":
        """A fresh projection of the same markets (no book levels, no venue queries): where a
        projection checkpoint is tried before it is loaded into this one."""
        return Projection(self.instruments)

    # ------------------------------------------------------------- feeding
    def on_executed(self, seq: int, ts: int, command: Any, events: list, book: Optional[dict] = None) -> None:
        self.last_seq = seq
        self.last_ts = ts
        touched: Optional[dict] = None
        markets = self.markets
        pending_agg = None   # (market, taker order id, price, agg record)
        if self.new_aggs:
            self.new_aggs = []
        if self.new_force:
            self.new_force = []
        # the journaled command says whether a stop came through the Algo Order API
        pending = command if getattr(command, "algo", 0) else None
        if type(command) is SeedHistory and not events:
            self.seed_history(command, ts)
        for ev in events:
            t = type(ev)
            if t is MarkPriceChanged:
                m = markets.get(ev.symbol)
                if m is not None:
                    m.mark_price = ev.price
                    _price_kline(m.mark_klines, ts, ev.price)
                    if ev.next_funding_time:            # a refresh (a pin carries the price alone)
                        m.funding_rate = ev.funding_rate
                    if ev.index_price:
                        m.index_price = ev.index_price
                        _price_kline(m.index_klines, ts, ev.index_price)
                continue
            if t is OrderFilled:
                m = markets.get(ev.symbol)
                acct = ev.account_id
                fl = self.fills.get(acct)
                if fl is None:
                    fl = self.fills[acct] = deque(maxlen=FILLS_KEEP)
                quote = ev.price * ev.qty * m.notional_unit if m is not None else 0
                fl.append((ev.trade_id, ev.order_id, ev.symbol, ev.side, ev.position_side, ev.price,
                           ev.qty, quote, ev.is_maker, ev.fee, ev.realized_pnl, ts))
                if not ev.is_maker and m is not None:
                    self.fills_total += 1
                    buyer_maker = ev.side == C.SELL
                    m.trades.append((ev.trade_id, ev.price, ev.qty, quote, ts, buyer_maker))
                    m.last_price = ev.price
                    m.last_qty = ev.qty
                    self._kline(m, ts, ev.price, ev.qty, quote, ev.trade_id, not buyer_maker)
                    if pending_agg is not None and pending_agg[0] is m and pending_agg[1] == ev.order_id \
                            and pending_agg[2] == ev.price:
                        rec = pending_agg[3]
                        rec[2] += ev.qty
                        rec[3] += quote
                        rec[5] = ev.trade_id
                    else:
                        rec = [m.next_agg_id, ev.price, ev.qty, quote, ev.trade_id, ev.trade_id, ts,
                               buyer_maker]
                        m.next_agg_id += 1
                        m.aggs.append(rec)
                        self.new_aggs.append((ev.symbol, rec))
                        pending_agg = (m, ev.order_id, ev.price, rec)
                if touched is None:
                    touched = {}
                touched[ev.symbol] = True
            elif t is OrderAccepted:
                if ev.order_type in C.CONDITIONAL_TYPES:
                    if pending is not None and pending is command:
                        self.algo_ids.add(ev.order_id)
                        pending = None
                    self.conditionals[ev.order_id] = ev
                    if len(self.conditionals) > CHILDREN_KEEP:
                        del self.conditionals[next(iter(self.conditionals))]
                if ev.order_type == C.LIQUIDATION:
                    self._force_new(ev, ts)
                self.orders_total += 1
                key = (ev.account_id, ev.symbol)
                ids = self.order_ids.get(key)
                if ids is None:
                    ids = self.order_ids[key] = deque(maxlen=ORDERS_KEEP)
                ids.append(ev.order_id)
                if touched is None:
                    touched = {}
                touched[ev.symbol] = True
            elif t is OrderCanceled or t is OrderExpired or t is OrderModified:
                if touched is None:
                    touched = {}
                touched[ev.symbol] = True
            elif t is Income:
                inc = self.income.get(ev.account_id)
                if inc is None:
                    inc = self.income[ev.account_id] = deque(maxlen=INCOME_KEEP)
                inc.append((ev.symbol, ev.income_type, ev.amount, ev.tran_id, ev.trade_id, ts))
            elif t is OrderTriggered:
                self.trigger_time[ev.order_id] = ts
                if len(self.trigger_time) > CHILDREN_KEEP:
                    del self.trigger_time[next(iter(self.trigger_time))]
                if ev.new_order_id:
                    self.parent_of[ev.new_order_id] = ev.order_id
                    if len(self.parent_of) > CHILDREN_KEEP:
                        del self.parent_of[next(iter(self.parent_of))]
            elif t is ForceOrder:
                rec = self.force_orders.get(ev.account_id, {}).get(ev.order_id)
                if rec is not None:
                    rec["filled"] = ev.filled_qty
                    rec["cum_quote"] = ev.cum_quote
                    rec["status"] = ev.status
                    rec["update_time"] = ts
                    self.liquidations_total += 1
                    self.new_force.append(rec)
            elif t is PositionClosedOut:
                self._force_closed_out(ev, ts)
            elif t is PremiumSampled:
                m = markets.get(ev.symbol)
                if m is not None:
                    m.funding_rate = ev.funding_rate
                    _price_kline(m.premium_klines, ts, ev.premium)
            elif t is IndexPriceChanged:
                m = markets.get(ev.symbol)
                if m is not None:
                    m.index_price = ev.price
                    _price_kline(m.index_klines, ts, ev.price)
            elif t is PositionModeChanged:
                self.dual[ev.account_id] = ev.dual
            elif t is PositionMarginChanged:
                h = self.margin_history.get(ev.account_id)
                if h is None:
                    h = self.margin_history[ev.account_id] = deque(maxlen=MARGIN_KEEP)
                h.append((ev.symbol, ev.change_type, ev.amount, ev.position_side, ts))
            elif t is PositionChanged:
                m = markets.get(ev.symbol)
                if m is not None:
                    m.oi.position_changed(ev.account_id, ev.position_side, ev.qty)
        if ts >= self._next_oi:
            self._sample_open_interest(ts)
        if book:
            for sym, ch in book.items():
                m = markets.get(sym)
                if m is not None:
                    m.update_id = seq
                    m.book.apply(ch)
        elif touched and self._rebuilding:
            # the journal keeps no book changes: an order event stands for them
            for sym in touched:
                m = markets.get(sym)
                if m is not None:
                    m.update_id = seq
        for cb in self.listeners:
            cb(seq, ts, command, events, book)

    def seed_history(self, command: SeedHistory, ts: int) -> None:
        """Expand a SeedHistory (journaled at ``ts``) into the candles, trades, funding and
        open interest it stands for (``exchange.engine.history``).  Only a fresh market takes
        one: what it writes precedes everything the venue did after it."""
        from exchange.engine.history import expand, parse_anchors
        if self.history is not None:
            return
        try:
            parse_anchors(command.anchors)      # malformed anchors stand for no past (expand would raise)
        except ValueError:
            return
        self.history = command
        self._history_ts = ts
        for sym, h in expand(command, ts, self.instruments).items():
            m = self.markets[sym]
            for k in h.klines:
                m.klines[k[0]] = list(k[1:])
            for src, dst in ((h.mark, m.mark_klines), (h.index, m.index_klines), (h.premium, m.premium_klines)):
                for k in src:
                    dst[k[0]] = list(k[1:])
            for tid, price, qty, quote, t, maker, agg in h.trades:
                m.trades.append((tid, price, qty, quote, t, maker))
                m.aggs.append([agg, price, qty, quote, tid, tid, t, maker])
                m.next_agg_id = agg + 1
                m.last_price, m.last_qty = price, qty
            m.funding = list(h.funding)
            m.open_interest.extend(h.open_interest)
            if h.open_interest:
                m.oi_bucket = h.open_interest[-1][0] // OI_PERIOD

    def history_digest(self) -> str:
        """``exchange.engine.history.digest`` of the past this projection expanded ("" for none),
        the figure ``paperex replay`` and the export report (expanded again: not kept in memory)."""
        from exchange.engine.history import digest, expand
        if self.history is None:
            return ""
        return digest(expand(self.history, self._history_ts, self.instruments))

    def _sample_open_interest(self, ts: int) -> None:
        """One open-interest sample per symbol per 5-minute period (openInterestHist), at the
        first command of the period: the long lots the events built, valued at the last price."""
        bucket = ts // OI_PERIOD
        self._next_oi = (bucket + 1) * OI_PERIOD
        for m in self.markets.values():
            if bucket > m.oi_bucket:
                m.oi_bucket = bucket
                price = m.last_price
                m.open_interest.append((bucket * OI_PERIOD, m.oi.lots, m.oi.lots * price * m.notional_unit))

    def funding_history(self, symbol: str, settled: list) -> list:
        """Funding rows (funding_time, rate, mark), oldest first: the seeded past, then the
        venue's settled ones (``settled``; the venue's row wins a funding time both have)."""
        m = self.markets[symbol]
        if not m.funding:
            return list(settled)
        own = {r[0] for r in settled}
        return [r for r in m.funding if r[0] not in own] + list(settled)

    # ------------------------------------------------------- liquidations
    def _force_new(self, ev: OrderAccepted, ts: int) -> None:
        recs = self.force_orders.get(ev.account_id)
        if recs is None:
            recs = self.force_orders[ev.account_id] = {}
        recs[ev.order_id] = {"order_id": ev.order_id, "account_id": ev.account_id, "symbol": ev.symbol,
                             "client_order_id": ev.client_order_id, "side": ev.side,
                             "position_side": ev.position_side, "price": ev.price, "qty": ev.qty,
                             "filled": 0, "cum_quote": 0, "closed_out": 0, "closed_quote": 0,
                             "status": C.NEW, "time": ts, "update_time": ts, "adl": False}
        if len(recs) > FORCE_KEEP:
            del recs[next(iter(recs))]

    def _force_closed_out(self, ev: PositionClosedOut, ts: int) -> None:
        """Takeover / ADL closes complete the liquidation order they belong to; for an ADL
        counterparty they are its own auto-close order (``adl_autoclose``)."""
        if not ev.order_id or ev.kind == C.CLOSE_HEDGE_NET:
            return
        recs = self.force_orders.get(ev.account_id)
        if recs is None:
            recs = self.force_orders[ev.account_id] = {}
        rec = recs.get(ev.order_id)
        if rec is None:
            self.adl_total += 1
            rec = recs[ev.order_id] = {
                "order_id": ev.order_id, "account_id": ev.account_id, "symbol": ev.symbol,
                "client_order_id": "adl_autoclose", "side": ev.side, "position_side": ev.position_side,
                "price": ev.price, "qty": 0, "filled": 0, "cum_quote": 0, "closed_out": 0,
                "closed_quote": 0, "status": C.FILLED, "time": ts, "update_time": ts, "adl": True}
            if len(recs) > FORCE_KEEP:
                del recs[next(iter(recs))]
        if rec["adl"]:
            rec["qty"] += ev.qty
        rec["closed_out"] += ev.qty
        m = self.markets.get(ev.symbol)
        rec["closed_quote"] += ev.price * ev.qty * m.notional_unit if m is not None else 0
        rec["update_time"] = ts
        if rec["filled"] + rec["closed_out"] >= rec["qty"]:
            rec["status"] = C.FILLED

    @staticmethod
    def _kline(m: SymbolMarket, ts: int, price: int, qty: int, quote: int, trade_id: int,
               taker_buy: bool) -> None:
        start = ts - ts % MINUTE
        k = m.klines.get(start)
        if k is None:
            k = m.klines[start] = [price, price, price, price, 0, 0, 0, 0, 0, trade_id, trade_id]
            if len(m.klines) > KLINES_KEEP:
                del m.klines[next(iter(m.klines))]
        else:
            if price > k[1]:
                k[1] = price
            if price < k[2]:
                k[2] = price
            k[3] = price
        k[4] += qty
        k[5] += quote
        k[6] += 1
        if taker_buy:
            k[7] += qty
            k[8] += quote
        k[10] = trade_id

    def rebuild(self, journal_dir, after_seq: Optional[int] = None) -> int:
        """Feed the journal's events (those after ``after_seq``) through the
        projection (before serving).  The book levels were seeded with the final
        state (the journal keeps no book changes)."""
        from exchange.journal import JournalReader, is_command
        from exchange.contract.commands import command_from_record
        from exchange.contract.events import event_from_record
        reader = JournalReader(journal_dir)
        cur_seq, cur_ts, cur_cmd, evs = None, 0, None, []
        listeners, self.listeners = self.listeners, []
        # the companions learn each command right after the projection (the dashboard feed
        # reads ``new_force`` of the same command)
        feeds = [c.on_executed for _, c in sorted(self.companions.items())]
        n = 0
        self._rebuilding = True
        try:
            start = after_seq + 1 if after_seq is not None else None
            for rec in reader.records(start, commands=True, events=True):
                if is_command(rec.kind):
                    if cur_seq is not None:
                        self.on_executed(cur_seq, cur_ts, cur_cmd, evs)
                        for feed in feeds:
                            feed(cur_seq, cur_ts, cur_cmd, evs)
                        n += 1
                    cur_seq, cur_ts, evs = rec.seq, rec.ts, []
                    try:
                        cur_cmd = command_from_record([rec.kind, rec.payload])
                    except ValueError:
                        cur_cmd = None
                else:
                    try:
                        evs.append(event_from_record([rec.kind, rec.payload]))
                    except ValueError:
                        pass
            if cur_seq is not None:
                self.on_executed(cur_seq, cur_ts, cur_cmd, evs)
                for feed in feeds:
                    feed(cur_seq, cur_ts, cur_cmd, evs)
                n += 1
        finally:
            self.listeners = listeners
            self._rebuilding = False
        return n

    # ------------------------------------------------------------- queries
    def klines(self, symbol: str, interval_ms: int, start: Optional[int], end: Optional[int],
               limit: int, month: bool = False) -> list[list]:
        """Candles (ints) [open_time, o, h, l, c, vol, close_time, quote, count, tb_vol, tb_quote]
        aggregated from the 1m candles."""
        m = self.markets[symbol]
        buckets: dict[int, list] = {}
        src = m.klines
        for t0 in _window(src, interval_ms, month, start, end, limit):
            k = src[t0]
            b = _bucket_start(t0, interval_ms, month)
            cur = buckets.get(b)
            if cur is None:
                buckets[b] = [b, k[0], k[1], k[2], k[3], k[4], 0, k[5], k[6], k[7], k[8]]
            else:
                if k[1] > cur[2]:
                    cur[2] = k[1]
                if k[2] < cur[3]:
                    cur[3] = k[2]
                cur[4] = k[3]
                cur[5] += k[4]
                cur[7] += k[5]
                cur[8] += k[6]
                cur[9] += k[7]
                cur[10] += k[8]
        return _closed_candles(buckets, 6, interval_ms, month, start, limit)

    def price_klines(self, symbol: str, which: str, interval_ms: int, start: Optional[int],
                     end: Optional[int], limit: int, month: bool = False) -> list[list]:
        """Mark (``which="mark"``), index (``"index"``) price or premium index (``"premium"``)
        candles (ints) [open_time, o, h, l, c, close_time, samples] aggregated from the 1m
        candles of MarkPriceChanged / IndexPriceChanged events / premium samples."""
        m = self.markets[symbol]
        src = m.mark_klines if which == "mark" else m.premium_klines if which == "premium" else m.index_klines
        buckets: dict[int, list] = {}
        for t0 in _window(src, interval_ms, month, start, end, limit):
            k = src[t0]
            b = _bucket_start(t0, interval_ms, month)
            cur = buckets.get(b)
            if cur is None:
                buckets[b] = [b, k[0], k[1], k[2], k[3], 0, k[4]]
            else:
                if k[1] > cur[2]:
                    cur[2] = k[1]
                if k[2] < cur[3]:
                    cur[3] = k[2]
                cur[4] = k[3]
                cur[6] += k[4]
        return _closed_candles(buckets, 5, interval_ms, month, start, limit)

    def ticker24(self, symbol: str, now: int) -> dict:
        """Rolling 24 h statistics from the 1m candles (ints)."""
        m = self.markets[symbol]
        since = now - 86_400_000
        o = h = lo = None
        vol = quote = count = 0
        first = last = -1
        src = m.klines
        keys = list(src)
        for t0 in keys[bisect_right(keys, since - MINUTE):]:      # keys ascend: minutes in time order
            k = src[t0]
            if o is None:
                o, h, lo = k[0], k[1], k[2]
                first = k[9]
            else:
                if k[1] > h:
                    h = k[1]
                if k[2] < lo:
                    lo = k[2]
            vol += k[4]
            quote += k[5]
            count += k[6]
            last = k[10]
        return {"open": o or 0, "high": h or 0, "low": lo or 0, "last": m.last_price,
                "last_qty": m.last_qty, "volume": vol, "quote": quote, "count": count,
                "first_id": first, "last_id": last, "open_time": since, "close_time": now}


def _window(src: dict, interval_ms: int, month: bool, start: Optional[int], end: Optional[int],
            limit: int) -> list:
    """The open times of the 1m candles an answer of ``limit`` candles folds, oldest first:
    from the candle holding ``start`` forwards, else back from ``end`` (or the latest); a
    month of history is ~44k minutes and a stream asks for the latest candle 4 times a second.
    The keys ascend: a market's minutes are inserted in time order (the past first)."""
    keys = list(src)
    if not keys:
        return keys
    if start is not None:
        i = bisect_left(keys, _bucket_start(start, interval_ms, month))
        hi = len(keys) if end is None else bisect_left(keys, _bucket_end(_bucket_start(end, interval_ms, month),
                                                                           interval_ms, month))
        out = []
        seen = 0
        last_b = None
        while i < hi:
            b = _bucket_start(keys[i], interval_ms, month)
            if b != last_b:
                seen += 1
                if seen > limit:
                    break
                last_b = b
            out.append(keys[i])
            i += 1
        return out
    hi = len(keys) if end is None else bisect_left(keys, _bucket_end(_bucket_start(end, interval_ms, month),
                                                                      interval_ms, month))
    i = hi
    seen = 0
    last_b = None
    while i > 0:
        b = _bucket_start(keys[i - 1], interval_ms, month)
        if b != last_b:
            seen += 1
            if seen > limit:
                break
            last_b = b
        i -= 1
    return keys[i:hi]


def _bucket_end(b: int, interval_ms: int, month: bool) -> int:
    """Open time of the candle after the one opening at ``b``."""
    if month:
        return _next_month(b)
    return b + (interval_ms if interval_ms < 86_400_000 * 7 else 86_400_000 * 7)


def _price_kline(klines: dict, ts: int, price: int) -> None:
    start = ts - ts % MINUTE
    k = klines.get(start)
    if k is None:
        klines[start] = [price, price, price, price, 1]
        if len(klines) > KLINES_KEEP:
            del klines[next(iter(klines))]
        return
    if price > k[1]:
        k[1] = price
    if price < k[2]:
        k[2] = price
    k[3] = price
    k[4] += 1


def _week_start(t: int) -> int:
    # Binance weeks start on Monday 00:00 UTC; the epoch was a Thursday
    day = t // 86_400_000
    return (day - (day + 3) % 7) * 86_400_000


def _closed_candles(buckets: dict, close_at: int, interval_ms: int, month: bool,
                    start: Optional[int], limit: int) -> list[list]:
    """Folded candles in time order with their close time (field ``close_at``) set,
    the first ``limit`` from ``start`` or else the last ``limit``."""
    out = [buckets[b] for b in sorted(buckets)]
    for c in out:
        c[close_at] = (_next_month(c[0]) if month else c[0] + interval_ms) - 1
    if start is not None:
        out = [c for c in out if c[close_at] >= start]
        return out[:limit]
    return out[-limit:]


def _bucket_start(t0: int, interval_ms: int, month: bool) -> int:
    """Open time of the candle of ``interval_ms`` (or a calendar month) holding ``t0``."""
    if month:
        return _month_start(t0)
    return t0 - t0 % interval_ms if interval_ms < 86_400_000 * 7 else _week_start(t0)

def _month_start(t: int) -> int:
    import datetime as _dt
    d = _dt.datetime.fromtimestamp(t / 1000, tz=_dt.timezone.utc)
    return int(_dt.datetime(d.year, d.month, 1, tzinfo=_dt.timezone.utc).timestamp() * 1000)


def _next_month(t: int) -> int:
    import datetime as _dt
    d = _dt.datetime.fromtimestamp(t / 1000, tz=_dt.timezone.utc)
    y, mo = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return int(_dt.datetime(y, mo, 1, tzinfo=_dt.timezone.utc).timestamp() * 1000)


INTERVAL_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
               "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000,
               "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000,
               "1w": 604_800_000, "1M": 2_592_000_000}

__all__ = ["Projection", "SymbolMarket", "INTERVAL_MS", "MINUTE"]

# silence unused-import linters: these event types are part of the vocabulary consumed downstream
_ = (BalanceChanged, LeverageChanged, MarginTypeChanged, MarkPriceChanged, IndexPriceChanged,
     PositionModeChanged, _ORDER_EVENTS)
