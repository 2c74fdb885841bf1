"""The venue: a pure, deterministic state machine ``(state, command) -> (state, events)``.

This module holds the state and the order path (new order, fills, cancel,
modify); ``admin.py`` the other commands, ``queries.py`` the read-only views.

``Venue(instruments).apply(ts_ms, command) -> list[event]``.  No I/O, no clock
reads, no randomness, no floats; everything iterated is a dict (insertion
order) or sorted.  Errors are answers: a refused command returns one
OrderRejected / CommandRejected event and changes no state.

New-order pipeline (perp-mechanics §9.6; the order of checks decides which
code a multiply-wrong order gets):
  account/symbol -> parameters (-1117/-1116/-1115/-4060/-1130) -> client order
  id (-4015, -4116) -> quantity/price filters (-4003/-4001/-4013/-4002/-4004/
  -4005, -1106 price on MARKET) -> PERCENT_PRICE vs mark (-4016/-4024) ->
  market take bound (-4131) -> MIN_NOTIONAL (-4164, waived for reduce-only) ->
  position mode (-4061, -1106 reduceOnly in hedge mode) -> MAX_NUM_ORDERS
  (-2025) -> reduce-only (-2022) -> max position at leverage (-2027) -> margin
  (-2019) -> GTX would take (-5022) -> book; FOK not fillable (-5021).

Conditional order types (STOP ... TRAILING_STOP_MARKET) branch off after the
account/symbol checks to ``conditional.py``.  Milestone 2 mixins: ``market.py``
(index, mark rule, premium, funding, insurance contributions),
``liquidation.py`` (liquidation index, liquidation engine, ADL),
``conditional.py`` (trigger index), ``snapshot.py`` (snapshot / restore);
``timers.py`` lists the sequencer timers.  After a command's own work,
``_post`` runs the CONTRACT_PRICE triggers of symbols whose last price moved
and the liquidation risk pass over dirty accounts, until both are quiet; mark
moves run the MARK_PRICE triggers and dirty only the accounts whose index key
the new mark reached.

Within a command, events come in this order: order events (accepted, fills
taker-then-maker per trade, with Income rows after each fill, expiry of the
taker's remainder), reduce-only orders knocked out by the new positions, then
one BalanceChanged per touched account followed by its PositionChanged rows.
"""
from __future__ import annotations

from collections import deque

from sortedcontainers import SortedList

from matching import Book
from matching.constants import (
    CANCELED as R_CANCELED, EXPIRED as R_EXPIRED, FILL as R_FILL, MARKET as K_MARKET,
    REASON_FOK, REASON_GTX, REASON_IOC, REASON_NO_LIQUIDITY, REASON_STP_MAKER,
    REASON_STP_TAKER, REJECTED as R_REJECTED,
)
from exchange.units import RATE_SCALE

from . import codes as C
from .accounts import Account, OrderAgg
from .commands import (
    AdjustIsolatedMargin, CancelAllOrders, CancelOrder, CreateAccount, Deposit, FundInsurance, ModifyOrder,
    NewOrder, RefreshMarkPrice, SamplePremium, SetIndexPrice, SetLeverage, SetMarginType, SetMarkPrice,
    SetPositionMode, SettleFunding, Withdraw,
)
from .events import (
    BalanceChanged, CommandRejected, Income, OrderAccepted, OrderCanceled, OrderExpired,
    OrderFilled, OrderModified, OrderRejected, PositionChanged,
)
from .orders import CLIENT_ORDER_ID_RE, Order
from .positions import Position, apply_fill
from .risk import account_margin, position_notional, slot_order_margin
from .spec import SymbolSpec
from .admin import AdminCommands
from .conditional import Conditional, new_trigger_index
from .liquidation import Liquidation
from .market import MarketData, new_funding_history
from .queries import Queries
from .snapshot import Snapshots

_EXPIRE_REASON = {
    REASON_IOC: (C.ER_IOC, C.EXPIRED),
    REASON_NO_LIQUIDITY: (C.ER_MARKET_NOT_FILLED, C.EXPIRED),
    REASON_STP_TAKER: (C.ER_STP, C.EXPIRED_IN_MATCH),
    REASON_STP_MAKER: (C.ER_STP, C.EXPIRED_IN_MATCH),
    REASON_GTX: (C.ER_GTX, C.EXPIRED),
    REASON_FOK: (C.ER_FOK, C.EXPIRED),
}


class SymbolState:
    __slots__ = ("symbol", "spec", "book", "index", "mark", "next_trade_id",
                 # mark rule, premium index, funding (market.py)
                 "last_price", "mark_pinned", "mark_rule", "basis", "premium_sum", "premium_count",
                 "last_premium", "funding_rate", "last_funding_rate", "last_funding_time", "funding_history",
                 # open positions: account_id * 4 + position_side -> Position
                 "positions",
                 # liquidation index (liquidation.py): SortedLists of (key, account_id, group)
                 "liq_falls", "liq_rises",
                 # conditional orders (conditional.py)
                 "triggers", "trailing")

    def __init__(self, spec: SymbolSpec, book_factory=Book) -> None:
        self.symbol = spec.symbol
        self.spec = spec
        self.book = book_factory()
        self.index = 0
        self.mark = 0
        self.next_trade_id = 1
        self.last_price = 0
        self.mark_pinned = 0
        self.mark_rule = 0
        self.basis: deque = deque(maxlen=spec.basis_window)
        self.premium_sum = 0
        self.premium_count = 0
        self.last_premium = 0
        # before any sample the estimate is the interest rate (clamped by cap/floor)
        self.funding_rate = max(spec.funding_floor, min(spec.funding_cap, spec.interest_rate))
        self.last_funding_rate = 0
        self.last_funding_time = 0
        self.funding_history = new_funding_history()
        self.positions: dict = {}
        self.liq_falls = SortedList()
        self.liq_rises = SortedList()
        self.triggers = new_trigger_index()
        self.trailing: dict = {}


class Venue(AdminCommands, MarketData, Liquidation, Conditional, Snapshots, Queries):
    """See the module docstring.  ``instruments``: iterable of Instrument (or a
    dict symbol -> Instrument).  ``history_limit`` bounds the closed orders kept
    for queries (oldest evicted first, deterministically).  ``book_factory``
    makes the per-symbol books (default ``matching.Book``; tests pass the
    reference book to check both give identical venues)."""

    def __init__(self, instruments, history_limit: int = 100_000, book_factory=Book) -> None:
        if isinstance(instruments, dict):
            instruments = instruments.values()
        specs = sorted((SymbolSpec(i) for i in instruments), key=lambda s: s.symbol)
        self.symbols: dict[str, SymbolState] = {s.symbol: SymbolState(s, book_factory) for s in specs}
        self.accounts: dict[int, Account] = {}
        self.orders: dict[int, Order] = {}          # open orders
        self.closed: dict[int, Order] = {}          # recently closed orders
        self._closed_fifo: deque = deque()
        self.history_limit = history_limit
        self.next_order_id = 1
        self.next_tran_id = 1
        # money totals (see money_identity)
        self.deposits = 0
        self.withdrawals = 0
        self.fees_collected = 0
        self.insurance_fund = 0
        self.rounding_residue = 0
        self._ts = 0
        # per-command work lists (empty between commands)
        self._dirty: dict = {}       # account ids whose liquidation index entries must be redone
        self._moved: dict = {}       # symbols whose last trade price moved (CONTRACT_PRICE triggers)
        self._busy = False
        self._adl_cache: dict = {}   # derived, not state
        self._dispatch = {
            NewOrder: self._new_order,
            CancelOrder: self._cancel_order,
            ModifyOrder: self._modify_order,
            CancelAllOrders: self._cancel_all,
            SetMarkPrice: self._set_mark,
            SetIndexPrice: self._set_index,
            CreateAccount: self._create_account,
            Deposit: self._deposit,
            Withdraw: self._withdraw,
            SetLeverage: self._set_leverage,
            SetMarginType: self._set_margin_type,
            SetPositionMode: self._set_position_mode,
            RefreshMarkPrice: self._refresh_mark,
            SamplePremium: self._sample_premium,
            SettleFunding: self._settle_funding,
            AdjustIsolatedMargin: self._adjust_isolated_margin,
            FundInsurance: self._fund_insurance,
        }

    # ================================================================== entry
    def apply(self, ts_ms: int, command) -> list:
        handler = self._dispatch.get(type(command))
        if handler is None:
            return [CommandRejected(0, getattr(command, "KIND", 0), -1000,
                                    "An unknown error occured while processing the request.")]
        self._ts = ts_ms
        return handler(ts_ms, command)

    # ========================================================== new order
    def _new_order(self, ts: int, c: NewOrder) -> list:
        acct = self.accounts.get(c.account_id)
        sym = c.symbol
        cid = c.client_order_id
        if acct is None:
            return [OrderRejected(c.account_id, sym, cid, *C.INVALID_ACCOUNT)]
        st = self.symbols.get(sym)
        if st is None:
            return [OrderRejected(c.account_id, sym, cid, *C.INVALID_SYMBOL)]
        err = None
        side = c.side
        otype = c.order_type
        if otype > 1 and otype <= C.TRAILING_STOP_MARKET:
            return self._new_conditional(ts, c, acct, st)
        tif = c.time_in_force
        pside = c.position_side
        stp = c.stp
        if side != 0 and side != 1:
            err = C.INVALID_SIDE
        elif otype != C.LIMIT and otype != C.MARKET:
            err = C.INVALID_ORDER_TYPE
        elif otype == C.LIMIT and not (0 <= tif <= 3):
            err = C.INVALID_TIF
        elif not (0 <= pside <= 2):
            err = C.INVALID_POSITION_SIDE
        elif not (0 <= stp <= 3):
            err = (C.PARAM_NOT_VALID[0], C.PARAM_NOT_VALID[1] % "selfTradePreventionMode")
        elif cid and not CLIENT_ORDER_ID_RE.match(cid):
            err = C.CLIENT_ID_INVALID
        elif cid and (cid in acct.client_ids):
            err = C.CLIENT_ID_DUPLICATED
        if err is not None:
            return [OrderRejected(c.account_id, sym, cid, err[0], err[1])]
        if otype == C.MARKET:
            tif = C.GTC
        spec = st.spec
        unit = spec.notional_unit
        qty = c.qty
        price = c.price
        reduce_only = 1 if c.reduce_only else 0
        mark = st.mark
        book = st.book
        book_price = price
        kind = tif
        # ---- filters
        if qty <= 0:
            err = C.QTY_NOT_POSITIVE
        elif otype == C.LIMIT:
            if price <= 0:
                err = C.PRICE_LESS_THAN_ZERO
            elif price < spec.min_price:
                err = C.PRICE_BELOW_MIN
            elif spec.max_price and price > spec.max_price:
                err = C.PRICE_ABOVE_MAX
            elif qty < spec.min_qty:
                err = C.QTY_BELOW_MIN
            elif spec.max_qty and qty > spec.max_qty:
                err = C.QTY_ABOVE_MAX
            elif mark:
                if side == 0:
                    cap = mark * spec.percent_up // RATE_SCALE
                    if price > cap:
                        err = (C.PRICE_ABOVE_MULTIPLIER[0], C.PRICE_ABOVE_MULTIPLIER[1] % spec.price_str(cap))
                else:
                    floor = -((-mark * spec.percent_down) // RATE_SCALE)
                    if price < floor:
                        err = (C.PRICE_BELOW_MULTIPLIER[0], C.PRICE_BELOW_MULTIPLIER[1] % spec.price_str(floor))
            ref = price
            notional_price = price
        else:
            if price != 0:
                err = (C.PARAM_NOT_REQUIRED[0], C.PARAM_NOT_REQUIRED[1] % "price")
            elif qty < spec.market_min_qty:
                err = C.QTY_BELOW_MIN
            elif spec.market_max_qty and qty > spec.market_max_qty:
                err = C.QTY_ABOVE_MAX
            opp = book.best_ask() if side == 0 else book.best_bid()
            kind = K_MARKET
            book_price = 0
            if mark and spec.market_take_bound and err is None:
                if side == 0:
                    bound = mark * (RATE_SCALE + spec.market_take_bound) // RATE_SCALE
                    if opp is not None and opp > bound:
                        err = C.MARKET_TAKE_BOUND
                else:
                    bound = -((-mark * (RATE_SCALE - spec.market_take_bound)) // RATE_SCALE)
                    if opp is not None and opp < bound:
                        err = C.MARKET_TAKE_BOUND
                kind = C.IOC           # never trade beyond the bound
                book_price = bound if bound > 0 else 1
            ref = opp if opp is not None else mark
            notional_price = mark if mark else ref
        if err is None and not reduce_only and notional_price and \
                notional_price * qty * unit < spec.min_notional:
            err = (C.MIN_NOTIONAL[0], C.MIN_NOTIONAL[1] % spec.min_notional_str)
        # ---- position mode
        if err is None:
            if acct.dual:
                if pside == C.BOTH:
                    err = C.POSITION_SIDE_MISMATCH
                elif reduce_only:
                    err = (C.PARAM_NOT_REQUIRED[0], C.PARAM_NOT_REQUIRED[1] % "reduceonly")
            elif pside != C.BOTH:
                err = C.POSITION_SIDE_MISMATCH
        if err is None and acct.order_count.get(sym, 0) >= spec.max_num_orders:
            err = C.MAX_OPEN_ORDERS
        if err is not None:
            return [OrderRejected(c.account_id, sym, cid, err[0], err[1])]
        # ---- reduce-only / margin
        settings = acct.symbol_settings(sym, spec)
        if acct.dual:
            reduce = 1 if (side == 1) == (pside == C.LONG) else 0
        else:
            reduce = reduce_only
        key = (sym, pside)
        agg = acct.aggs.get(key)
        if agg is None:
            agg = acct.aggs[key] = OrderAgg()
        pos = acct.positions.get(key)
        pos_qty = pos.qty if pos is not None else 0
        loss_per_lot = 0
        if reduce:
            if side == 0:
                closable = -pos_qty
                pending = agg.ro_buy
            else:
                closable = pos_qty
                pending = agg.ro_sell
            if closable <= 0 or qty + pending > closable:
                return [OrderRejected(c.account_id, sym, cid, *C.REDUCE_ONLY_REJECTED)]
            if side == 0:
                agg.ro_buy += qty
            else:
                agg.ro_sell += qty
        else:
            if mark and ref:
                if side == 0:
                    if ref > mark:
                        loss_per_lot = (ref - mark) * unit
                elif ref < mark:
                    loss_per_lot = (mark - ref) * unit
            lev = settings[0]
            pn = position_notional(pos, mark, unit) if pos_qty else 0
            before = slot_order_margin(agg, pside, pn, lev)[0]
            notional = ref * qty * unit
            if side == 0:
                agg.buy_lots += qty
                agg.buy_notional += notional
                agg.buy_loss += loss_per_lot * qty
            else:
                agg.sell_lots += qty
                agg.sell_notional += notional
                agg.sell_loss += loss_per_lot * qty
            after, worst = slot_order_margin(agg, pside, pn, lev)
            err = None
            if worst > spec.max_notional(lev):
                err = C.MAX_POSITION
            elif after > before:
                # available before this order = available now + this order's cost
                if account_margin(acct, self.symbols)[0] < 0:
                    err = C.MARGIN_INSUFFICIENT
            if err is None and tif == C.GTX and otype == C.LIMIT:
                err = self._gtx_crosses(book, side, price)
            if err is not None:
                if side == 0:
                    agg.buy_lots -= qty
                    agg.buy_notional -= notional
                    agg.buy_loss -= loss_per_lot * qty
                else:
                    agg.sell_lots -= qty
                    agg.sell_notional -= notional
                    agg.sell_loss -= loss_per_lot * qty
                return [OrderRejected(c.account_id, sym, cid, err[0], err[1])]
        if reduce and tif == C.GTX and otype == C.LIMIT:
            err = self._gtx_crosses(book, side, price)
            if err is not None:
                if side == 0:
                    agg.ro_buy -= qty
                else:
                    agg.ro_sell -= qty
                return [OrderRejected(c.account_id, sym, cid, err[0], err[1])]
        # ---- accept
        oid = self.next_order_id
        self.next_order_id = oid + 1
        if not cid:
            cid = "pex%d" % oid
            while cid in acct.client_ids:
                cid += "_"
        if sym not in acct.settings:
            acct.settings[sym] = settings
        order = Order(oid, acct.account_id, sym, cid, side, otype, tif, price if otype == C.LIMIT else 0,
                      qty, reduce_only, pside, stp, ts, reduce, key, ref, loss_per_lot)
        self.orders[oid] = order
        acct.orders[oid] = order
        acct.client_ids[cid] = order
        acct.order_count[sym] = acct.order_count.get(sym, 0) + 1
        events = [OrderAccepted(oid, acct.account_id, sym, cid, side, otype, tif, order.price, qty,
                                reduce_only, pside, stp)]
        reports = book.submit(oid, acct.account_id, side, book_price, qty, kind, stp)
        if len(reports) == 2 and reports[1][0] == R_EXPIRED and reports[1][3] == REASON_FOK:
            # FOK that cannot fill: refused, not recorded (Binance -5021)
            self._release(order, qty)
            self._unlink(order)
            self.next_order_id = oid      # nothing was recorded: the id is not used up
            return [OrderRejected(c.account_id, sym, c.client_order_id, *C.FOK_REJECTED)]
        if reports[0][0] == R_REJECTED:   # cannot happen with the checks above
            self._release(order, qty)
            self._unlink(order)
            return [OrderRejected(c.account_id, sym, c.client_order_id, -2010, "NEW_ORDER_REJECTED")]
        touched: dict = {}
        self._process(st, reports, events, touched, ts)
        if touched:
            self._finish(touched, events, ts)
            self._post(events, ts)
        return events

    def _post(self, events: list, ts: int) -> None:
        """After a command's own work: CONTRACT_PRICE triggers of symbols whose last
        price moved, then the liquidation risk pass, repeated until both are quiet."""
        if self._busy:
            return
        self._busy = True
        try:
            moved = self._moved
            for _ in range(100_000):
                if moved:
                    syms = sorted(moved)
                    moved.clear()
                    for sym in syms:
                        self._fire_triggers(self.symbols[sym], C.CONTRACT_PRICE, events, ts)
                    continue
                if self._dirty:
                    self._settle_risk(events, ts)
                    continue
                break
        finally:
            self._busy = False

    def _agg(self, acct: Account, key: tuple) -> OrderAgg:
        agg = acct.aggs.get(key)
        if agg is None:
            agg = acct.aggs[key] = OrderAgg()
        return agg

    @staticmethod
    def _gtx_crosses(book, side: int, price: int):
        if side == 0:
            best = book.best_ask()
            if best is not None and best <= price:
                return C.GTX_REJECTED
        else:
            best = book.best_bid()
            if best is not None and best >= price:
                return C.GTX_REJECTED
        return None

    # ======================================================== book reports
    def _process(self, st: SymbolState, reports: list, events: list, touched: dict, ts: int) -> None:
        orders = self.orders
        for r in reports:
            k = r[0]
            if k == R_FILL:
                trade_id = st.next_trade_id
                st.next_trade_id = trade_id + 1
                taker = orders[r[1]]
                maker = orders[r[2]]
                price = r[5]
                self._fill(st, taker, price, r[6], 0, trade_id, maker.order_id, events, touched, ts)
                self._fill(st, maker, price, r[6], 1, trade_id, taker.order_id, events, touched, ts)
                if price != st.last_price:
                    st.last_price = price
                    self._moved[st.symbol] = None
            elif k == R_EXPIRED:
                order = orders[r[1]]
                remaining = r[2]
                er, status = _EXPIRE_REASON.get(r[3], (C.ER_IOC, C.EXPIRED))
                if order.order_type == C.MARKET and er == C.ER_IOC:
                    er = C.ER_MARKET_NOT_FILLED
                self._release(order, remaining)
                order.update_time = ts
                self._close(order, status)
                events.append(OrderExpired(order.order_id, order.account_id, order.symbol, remaining, er, status))
            elif k == R_CANCELED:
                order = orders[r[1]]
                self._release(order, r[2])
                order.update_time = ts
                self._close(order, C.CANCELED)
                events.append(OrderCanceled(order.order_id, order.account_id, order.symbol, r[2],
                                            C.CANCEL_MODIFY_FILLED))
            # ACCEPTED, RESTED, MODIFIED: nothing to do

    def _fill(self, st: SymbolState, order: Order, price: int, q: int, is_maker: int, trade_id: int,
              counter_id: int, events: list, touched: dict, ts: int) -> None:
        acct = self.accounts[order.account_id]
        spec = st.spec
        unit = spec.notional_unit
        price_unit = price * unit
        n = price_unit * q
        buy = order.side == 0
        # order
        order.filled += q
        order.cum_quote += n
        order.update_time = ts
        status = C.FILLED if order.filled == order.qty else C.PARTIALLY_FILLED
        order.status = status
        # margin aggregates
        agg = acct.aggs[order.key]
        if order.reduce:
            if buy:
                agg.ro_buy -= q
            else:
                agg.ro_sell -= q
        elif buy:
            agg.buy_lots -= q
            agg.buy_notional -= order.margin_price * unit * q
            agg.buy_loss -= order.loss_per_lot * q
        else:
            agg.sell_lots -= q
            agg.sell_notional -= order.margin_price * unit * q
            agg.sell_loss -= order.loss_per_lot * q
        # position
        key = order.key
        pos = acct.positions.get(key)
        if pos is None:
            pos = acct.positions[key] = Position(key[0], key[1])
        old_qty = pos.qty
        pnl, closed, opened = apply_fill(pos, buy, q, n, price_unit)
        pos.update_time = ts
        if not pos.qty:
            del st.positions[order.account_id * 4 + key[1]]
        elif not old_qty:
            st.positions[order.account_id * 4 + key[1]] = pos
        self._dirty[order.account_id] = None
        # fee: charged rounded up; the part above the exact fee is rounding residue
        # (the liquidated side of a liquidation order pays the clearance fee instead)
        rate = spec.maker_fee if is_maker else (spec.taker_fee if order.order_type != 7 else 0)
        fee = -((-n * rate) // RATE_SCALE)
        booked = (n * rate) // RATE_SCALE
        self.fees_collected += booked
        self.rounding_residue += fee - booked
        settings = acct.settings[key[0]]
        if settings[1] == C.ISOLATED:
            if closed:
                iso = pos.iso_wallet + pnl
                if pos.qty == 0 or opened:
                    release = iso
                else:
                    release = iso * closed // (old_qty if old_qty > 0 else -old_qty)
                pos.iso_wallet = iso - release
                acct.cross_wallet += release
            if opened:
                m = -((-price_unit * opened) // settings[0])
                acct.cross_wallet -= m
                pos.iso_wallet += m
        else:
            acct.cross_wallet += pnl
        acct.cross_wallet -= fee
        acct.update_time = ts
        events.append(OrderFilled(order.order_id, order.account_id, order.symbol, trade_id, order.side,
                                  order.position_side, price, q, is_maker, fee, pnl, order.filled,
                                  order.cum_quote, status, counter_id))
        if pnl:
            tran = self.next_tran_id
            self.next_tran_id = tran + 1
            events.append(Income(order.account_id, C.I_REALIZED_PNL, order.symbol, pnl, tran, trade_id))
        if fee:
            tran = self.next_tran_id
            self.next_tran_id = tran + 1
            events.append(Income(order.account_id, C.I_COMMISSION, order.symbol, -fee, tran, trade_id))
        keys = touched.get(order.account_id)
        if keys is None:
            touched[order.account_id] = {key: None}
        else:
            keys[key] = None
        if status == C.FILLED:
            self._close(order, C.FILLED)

    def _finish(self, touched: dict, events: list, ts: int) -> None:
        """After a command's fills: knock out reduce orders the new positions no longer
        allow, then emit ACCOUNT_UPDATE-style balance and position events."""
        for account_id, keys in touched.items():
            acct = self.accounts[account_id]
            for key in keys:
                agg = acct.aggs.get(key)
                if agg is not None and (agg.ro_buy or agg.ro_sell):
                    self._trim_reduce(acct, key, agg, events, ts)
        for account_id, keys in touched.items():
            acct = self.accounts[account_id]
            events.append(BalanceChanged(account_id, C.R_ORDER, acct.wallet_balance(), acct.cross_wallet, 0))
            for key in keys:
                pos = acct.positions[key]
                events.append(PositionChanged(account_id, key[0], key[1], pos.qty, pos.entry, pos.realized,
                                              pos.iso_wallet, acct.settings[key[0]][1]))

    def _trim_reduce(self, acct: Account, key: tuple, agg: OrderAgg, events: list, ts: int) -> None:
        pos = acct.positions.get(key)
        q = pos.qty if pos is not None else 0
        allow_buy = -q if q < 0 else 0
        allow_sell = q if q > 0 else 0
        if agg.ro_buy <= allow_buy and agg.ro_sell <= allow_sell:
            return
        book = self.symbols[key[0]].book
        for order in reversed(list(acct.orders.values())):   # newest first
            if order.key != key or not order.reduce:
                continue
            if order.side == 0:
                if agg.ro_buy <= allow_buy:
                    continue
            elif agg.ro_sell <= allow_sell:
                continue
            book.cancel(order.order_id)
            remaining = order.qty - order.filled
            self._release(order, remaining)
            order.update_time = ts
            self._close(order, C.EXPIRED)
            events.append(OrderExpired(order.order_id, order.account_id, order.symbol, remaining,
                                       C.ER_REDUCE_ONLY, C.EXPIRED))
            if agg.ro_buy <= allow_buy and agg.ro_sell <= allow_sell:
                return

    # ===================================================== order bookkeeping
    def _release(self, order: Order, remaining: int) -> None:
        """Take ``remaining`` lots of ``order`` out of its slot's aggregates."""
        if remaining <= 0 or 1 < order.order_type < 7:     # conditional orders reserve nothing
            return
        agg = self.accounts[order.account_id].aggs[order.key]
        if order.reduce:
            if order.side == 0:
                agg.ro_buy -= remaining
            else:
                agg.ro_sell -= remaining
        else:
            unit = self.symbols[order.symbol].spec.notional_unit
            if order.side == 0:
                agg.buy_lots -= remaining
                agg.buy_notional -= order.margin_price * unit * remaining
                agg.buy_loss -= order.loss_per_lot * remaining
            else:
                agg.sell_lots -= remaining
                agg.sell_notional -= order.margin_price * unit * remaining
                agg.sell_loss -= order.loss_per_lot * remaining

    def _reserve(self, order: Order, remaining: int) -> None:
        agg = self.accounts[order.account_id].aggs[order.key]
        if order.reduce:
            if order.side == 0:
                agg.ro_buy += remaining
            else:
                agg.ro_sell += remaining
        else:
            unit = self.symbols[order.symbol].spec.notional_unit
            if order.side == 0:
                agg.buy_lots += remaining
                agg.buy_notional += order.margin_price * unit * remaining
                agg.buy_loss += order.loss_per_lot * remaining
            else:
                agg.sell_lots += remaining
                agg.sell_notional += order.margin_price * unit * remaining
                agg.sell_loss += order.loss_per_lot * remaining

    def _unlink(self, order: Order) -> None:
        """Forget an open order entirely (refused after acceptance: FOK)."""
        oid = order.order_id
        acct = self.accounts[order.account_id]
        del self.orders[oid]
        del acct.orders[oid]
        if acct.client_ids.get(order.client_order_id) is order:
            del acct.client_ids[order.client_order_id]
        counts = acct.algo_count if 1 < order.order_type < 7 else acct.order_count
        n = counts[order.symbol] - 1
        if n:
            counts[order.symbol] = n
        else:
            del counts[order.symbol]

    def _close(self, order: Order, status: int) -> None:
        """Move an open order to the closed history with its final status."""
        order.status = status
        self._unlink(order)
        oid = order.order_id
        self.closed[oid] = order
        self._closed_fifo.append(oid)
        self.accounts[order.account_id].closed_client[order.client_order_id] = oid
        if len(self._closed_fifo) > self.history_limit:
            old = self.closed.pop(self._closed_fifo.popleft())
            cc = self.accounts[old.account_id].closed_client
            if cc.get(old.client_order_id) == old.order_id:
                del cc[old.client_order_id]

    def _find_open(self, acct: Account, sym: str, order_id: int, client_order_id: str):
        if order_id > 0:
            order = acct.orders.get(order_id)
        else:
            order = acct.client_ids.get(client_order_id) if client_order_id else None
        if order is None or order.symbol != sym:
            return None
        return order

    # ======================================================= cancel / modify
    def _cancel_order(self, ts: int, c: CancelOrder) -> list:
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_ACCOUNT)]
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_SYMBOL)]
        order = self._find_open(acct, c.symbol, c.order_id, c.client_order_id)
        if order is None:
            return [CommandRejected(c.account_id, c.KIND, *C.UNKNOWN_ORDER)]
        return [self._cancel(st, order, C.CANCEL_USER, ts)]

    def _cancel(self, st: SymbolState, order: Order, reason: int, ts: int):
        if 1 < order.order_type < 7:
            self._unindex_conditional(st, order)
        else:
            st.book.cancel(order.order_id)
        remaining = order.qty - order.filled
        self._release(order, remaining)
        order.update_time = ts
        self._close(order, C.CANCELED)
        return OrderCanceled(order.order_id, order.account_id, order.symbol, remaining, reason)

    def _cancel_all(self, ts: int, c: CancelAllOrders) -> list:
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_ACCOUNT)]
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_SYMBOL)]
        sym = c.symbol
        return [self._cancel(st, o, C.CANCEL_ALL, ts)
                for o in [o for o in acct.orders.values() if o.symbol == sym]]

    def _modify_order(self, ts: int, c: ModifyOrder) -> list:
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_ACCOUNT)]
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_SYMBOL)]
        order = self._find_open(acct, c.symbol, c.order_id, c.client_order_id)
        if order is None:
            return [CommandRejected(c.account_id, c.KIND, *C.ORDER_DOES_NOT_EXIST)]
        if order.order_type != C.LIMIT:
            return [CommandRejected(c.account_id, c.KIND, *C.INVALID_ORDER_TYPE)]
        spec = st.spec
        price, qty = c.price, c.qty
        err = None
        if price == order.price and qty == order.qty:
            err = C.NO_NEED_MODIFY
        elif qty <= 0:
            err = C.QTY_NOT_POSITIVE
        elif price <= 0:
            err = C.PRICE_LESS_THAN_ZERO
        elif price < spec.min_price:
            err = C.PRICE_BELOW_MIN
        elif spec.max_price and price > spec.max_price:
            err = C.PRICE_ABOVE_MAX
        elif qty < spec.min_qty:
            err = C.QTY_BELOW_MIN
        elif spec.max_qty and qty > spec.max_qty:
            err = C.QTY_ABOVE_MAX
        mark = st.mark
        if err is None and mark:
            if order.side == 0:
                cap = mark * spec.percent_up // RATE_SCALE
                if price > cap:
                    err = (C.PRICE_ABOVE_MULTIPLIER[0], C.PRICE_ABOVE_MULTIPLIER[1] % spec.price_str(cap))
            else:
                floor = -((-mark * spec.percent_down) // RATE_SCALE)
                if price < floor:
                    err = (C.PRICE_BELOW_MULTIPLIER[0], C.PRICE_BELOW_MULTIPLIER[1] % spec.price_str(floor))
        unit = spec.notional_unit
        if err is None and not order.reduce_only and price * qty * unit < spec.min_notional:
            err = (C.MIN_NOTIONAL[0], C.MIN_NOTIONAL[1] % spec.min_notional_str)
        if err is not None:
            return [CommandRejected(c.account_id, c.KIND, err[0], err[1])]
        old_remaining = order.qty - order.filled
        if qty > order.filled:
            new_remaining = qty - order.filled
            agg = acct.aggs[order.key]
            old_fields = (order.margin_price, order.loss_per_lot)
            if order.reduce:
                pos = acct.positions.get(order.key)
                pq = pos.qty if pos is not None else 0
                closable = -pq if order.side == 0 else pq
                pending = (agg.ro_buy if order.side == 0 else agg.ro_sell) - old_remaining
                if new_remaining + pending > closable:
                    return [CommandRejected(c.account_id, c.KIND, *C.REDUCE_ONLY_REJECTED)]
                self._release(order, old_remaining)
                order.margin_price = price
                self._reserve(order, new_remaining)
            else:
                settings = acct.settings[order.symbol]
                lev = settings[0]
                pos = acct.positions.get(order.key)
                pn = position_notional(pos, mark, unit) if pos is not None and pos.qty else 0
                before = slot_order_margin(agg, order.position_side, pn, lev)[0]
                self._release(order, old_remaining)
                order.margin_price = price
                lpl = 0
                if mark:
                    if order.side == 0:
                        if price > mark:
                            lpl = (price - mark) * unit
                    elif price < mark:
                        lpl = (mark - price) * unit
                order.loss_per_lot = lpl
                self._reserve(order, new_remaining)
                after, worst = slot_order_margin(agg, order.position_side, pn, lev)
                if worst > spec.max_notional(lev):
                    err = C.MAX_POSITION
                elif after > before and account_margin(acct, self.symbols)[0] < 0:
                    err = C.MARGIN_INSUFFICIENT
                if err is not None:
                    self._release(order, new_remaining)
                    order.margin_price, order.loss_per_lot = old_fields
                    self._reserve(order, old_remaining)
                    return [CommandRejected(c.account_id, c.KIND, err[0], err[1])]
            order.price = price
            order.qty = qty
        order.update_time = ts
        reports = st.book.modify(order.order_id, price, qty - order.book_offset)
        events = [OrderModified(order.order_id, order.account_id, order.symbol, price, qty, order.filled)]
        touched: dict = {}
        self._process(st, reports, events, touched, ts)
        if touched:
            self._finish(touched, events, ts)
            self._post(events, ts)
        return events
