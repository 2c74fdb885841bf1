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

from matching import Book
from matching.constants import (
    CANCELED as R_CANCELED, EXPIRED as R_EXPIRED, FILL as R_FILL, MARKET as K_MARKET,
    REASON_FOK, REASON_GTX, REASON_IOC, REASON_NO_LIQUIDITY, REASON_STP_MAKER,
    REASON_STP_TAKER, REJECTED as R_REJECTED, RESTED as R_RESTED,
)
from exchange.units import RATE_SCALE

from exchange.contract import codes as C
from exchange.contract import errors as E
from exchange.venue.accounts import Account, OrderAgg
from exchange.contract.commands import (
    AdjustIsolatedMargin, CancelAllOrders, CancelOrder, CreateAccount, Deposit, FundInsurance, InjectFault,
    ModifyOrder, NewOrder, OpenCompetition, RecordStandings, RefreshMarkPrice, SamplePremium, SeedHistory,
    SetIndexPrice, SetLeverage, SetMarginType, SetMarkPrice, SetPositionMode, SettleFunding, Withdraw,
)
from exchange.contract.events import (
    BalanceChanged, CommandRejected, Income, OrderAccepted, OrderCanceled, OrderExpired,
    OrderFilled, OrderModified, OrderRejected, PositionChanged,
)
from exchange.venue.orders import CLIENT_ORDER_ID_RE, Order, default_client_order_id, new_order, order_state
from exchange.perp import commission_split, initial_margin
from exchange.venue.positions import Position, fill_position
from exchange.contract.records import new_record
from exchange.venue.risk import (available_balance, position_notional, release_order_margin, reserve_order_margin,
                   slot_order_margin)
from exchange.venue.spec import SymbolSpec
from exchange.venue.admin import AdminCommands
from exchange.venue.conditional import Conditional
from exchange.venue.liquidation import Liquidation, settle_risk
from exchange.venue.market import MarketData
from exchange.venue.queries import Queries
from exchange.venue.snapshot import Snapshots
from exchange.venue.symbol_state import SymbolState

# hot-path constants (module globals are cheaper than ``C.NAME`` lookups)
_CID_MATCH = CLIENT_ORDER_ID_RE.match
_RATE_SCALE = RATE_SCALE
_LIMIT = C.LIMIT
_MARKET = C.MARKET
_TRAILING_STOP_MARKET = C.TRAILING_STOP_MARKET
_GTC = C.GTC
_IOC = C.IOC
_GTX = C.GTX
_BOTH = C.BOTH
_LONG = C.LONG
_CROSSED = C.CROSSED
_ISOLATED = C.ISOLATED
_FILLED = C.FILLED
_PARTIALLY_FILLED = C.PARTIALLY_FILLED
_CANCELED = C.CANCELED
_I_REALIZED_PNL = C.I_REALIZED_PNL
_I_COMMISSION = C.I_COMMISSION
_R_ORDER = C.R_ORDER
_CANCEL_USER = C.CANCEL_USER
_CONTRACT_PRICE = C.CONTRACT_PRICE

_EXPIRE_REASON = {
    REASON_IOC: (C.ER_IOC, C.EXPIRED),
    REASON_NO_LIQUIDITY: (C.ER_MARKET_NOT_FILLED, C.EXPIRED),
    REASON_STP_TAKER: (C.ER_STP, C.EXPIRED_IN_MATCH),
    REASON_STP_MAKER: (C.ER_STP, C.EXPIRED_IN_MATCH),
    REASON_GTX: (C.ER_GTX, C.EXPIRED),
    REASON_FOK: (C.ER_FOK, C.EXPIRED),
}


def _no_effect(ts: int, c) -> list:
    """InjectFault, OpenCompetition, RecordStandings: journaled for others; the venue is untouched."""
    return []


def _notional(price, lots, unit):
    """``price * lots * unit`` (money, signed like ``lots``)."""
    return price * lots * unit


def percent_band(st: SymbolState, mark) -> tuple:
    """``(mark, cap, floor)``: Binance's PERCENT_PRICE band around ``mark`` (cap = floor of
    ``mark * percent_up``, floor = ceil of ``mark * percent_down``).  Kept on the symbol's
    state and made again only when the mark moved: every LIMIT order and modify checks
    against it, the mark changes far less often (two big-int products and divisions saved)."""
    band = st.percent_band
    if band[0] != mark:
        spec = st.spec
        band = st.percent_band = (mark, mark * spec.percent_up // RATE_SCALE,
                                  -((-mark * spec.percent_down) // RATE_SCALE))
    return band


def limit_filter_error(st: SymbolState, side, price, qty):
    """The (code, msg) a LIMIT price/quantity gets from Binance's filters, in Binance's
    order of checks (PRICE_FILTER, LOT_SIZE, then PERCENT_PRICE against the mark), or
    None.  Shared by new orders and modifies."""
    spec: SymbolSpec
    spec = st.spec
    if qty <= 0:
        return E.Filters.QTY_LESS_THAN_ZERO.reason()
    if price <= 0:
        return E.Filters.PRICE_LESS_THAN_ZERO.reason()
    if price < spec.min_price:
        return E.Filters.PRICE_LESS_THAN_MIN_PRICE.reason()
    if spec.max_price and price > spec.max_price:
        return E.Filters.PRICE_GREATER_THAN_MAX_PRICE.reason()
    if qty < spec.min_qty:
        return E.Filters.QTY_LESS_THAN_MIN_QTY.reason()
    if spec.max_qty and qty > spec.max_qty:
        return E.Filters.QTY_GREATER_THAN_MAX_QTY.reason()
    mark = st.mark
    if mark:
        band = percent_band(st, mark)
        if side == 0:
            cap = band[1]
            if price > cap:
                return E.Filters.PRICE_HIGHER_THAN_MULTIPLIER_UP.reason(spec.price_str(cap))
        else:
            floor = band[2]
            if price < floor:
                return E.Filters.PRICE_LOWER_THAN_MULTIPLIER_DOWN.reason(spec.price_str(floor))
    return None

class VenueCore:
    """The venue's state and its order path (new order, fills, cancel, modify), compiled
    with a C layout: the other commands live in the mixins ``Venue`` adds."""

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
            InjectFault: _no_effect,     # journaled for replay and audit; changes nothing
            SeedHistory: _no_effect,     # the market's past: the gateway's projection expands it
            OpenCompetition: _no_effect,  # a competition's rules and final standings: journaled
            RecordStandings: _no_effect,  # for its projections (leaderboard, export) only
        }

    # ================================================================== entry
    def apply(self, ts_ms: int, command) -> list:
        t = type(command)
        # the two commands of the order flow: C calls (the same methods the dispatch table holds)
        if t is NewOrder:
            self._ts = ts_ms
            return self._new_order(ts_ms, command)
        if t is CancelOrder:
            self._ts = ts_ms
            return self._cancel_order(ts_ms, command)
        handler = self._dispatch.get(t)
        if handler is None:
            return [CommandRejected(0, getattr(command, "KIND", 0), *E.General.UNKNOWN.reason())]
        self._ts = ts_ms
        return handler(ts_ms, command)

    # ========================================================== new order
    def _new_order(self, ts, c) -> list:
        # The hot path: the checks below are the pipeline of the module docstring,
        # written with local names (the codes are module constants) and events made
        # with records.new_record(cls, fields): tuple.__new__ called directly, no Python frame
        # (the same tuples as the NamedTuple constructors).
        acct: Account
        agg: OrderAgg
        order: Order
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        aid, sym, side, otype, tif, qty, price, reduce_only, pside, cid, stp = c[:11]
        acct = self.accounts.get(aid)
        if acct is None:
            return [OrderRejected(aid, sym, cid, *E.Request.BAD_ACCOUNT.reason())]
        st = self.symbols.get(sym)
        if st is None:
            return [OrderRejected(aid, sym, cid, *E.Request.BAD_SYMBOL.reason())]
        err = None
        if 1 < otype <= _TRAILING_STOP_MARKET:
            return self._new_conditional(ts, c, acct, st)
        if side != 0 and side != 1:
            err = E.Request.INVALID_SIDE.reason()
        elif otype != _LIMIT and otype != _MARKET:
            err = E.Request.INVALID_ORDER_TYPE.reason()
        elif otype == _LIMIT and not (0 <= tif <= 3):
            err = E.Request.INVALID_TIF.reason()
        elif not (0 <= pside <= 2):
            err = E.Filters.INVALID_POSITION_SIDE.reason()
        elif not (0 <= stp <= 3):
            err = E.Request.INVALID_PARAMETER.reason("selfTradePreventionMode")
        elif cid and not _CID_MATCH(cid):
            err = E.Filters.INVALID_CL_ORD_ID.reason()
        elif cid and (cid in acct.client_ids):
            err = E.Orders41.DUPLICATED_CLIENT_ORDER_ID.reason()
        if err is not None:
            return [new_record(OrderRejected, (aid, sym, cid, err[0], err[1]))]
        spec = st.spec
        unit = spec.notional_unit
        reduce_only = 1 if reduce_only else 0
        mark = st.mark
        book = st.book
        book_price = price
        # ---- filters
        if otype == _LIMIT:
            kind = tif
            err = limit_filter_error(st, side, price, qty)
            ref = price
            notional_price = price
        else:
            tif = _GTC
            if qty <= 0:
                err = E.Filters.QTY_LESS_THAN_ZERO.reason()
            elif price != 0:
                err = E.Request.PARAM_NOT_REQUIRED.reason("price")
            elif qty < spec.market_min_qty:
                err = E.Filters.QTY_LESS_THAN_MIN_QTY.reason()
            elif spec.market_max_qty and qty > spec.market_max_qty:
                err = E.Filters.QTY_GREATER_THAN_MAX_QTY.reason()
            opp = book.best_ask() if side == 0 else book.best_bid()
            kind = K_MARKET
            book_price = 0
            if mark and spec.market_take_bound and err is None:
                if side == 0:
                    bound = mark * (_RATE_SCALE + spec.market_take_bound) // _RATE_SCALE
                    if opp is not None and opp > bound:
                        err = E.Orders41.MARKET_ORDER_REJECT.reason()
                else:
                    bound = -((-mark * (_RATE_SCALE - spec.market_take_bound)) // _RATE_SCALE)
                    if opp is not None and opp < bound:
                        err = E.Orders41.MARKET_ORDER_REJECT.reason()
                kind = _IOC            # never trade beyond the bound
                book_price = bound if bound > 0 else 1
            ref = opp if opp is not None else mark
            notional_price = mark if mark else ref
        checked_notional = None     # notional_price * qty * unit, when the MIN_NOTIONAL check made it
        if err is None and not reduce_only and notional_price:
            checked_notional = _notional(notional_price, qty, unit)
            if checked_notional < spec.min_notional:
                err = E.Orders41.MIN_NOTIONAL.reason(spec.min_notional_str)
        # ---- position mode
        dual = acct.dual
        if err is None:
            if dual:
                if pside == _BOTH:
                    err = E.Filters.POSITION_SIDE_NOT_MATCH.reason()
                elif reduce_only:
                    err = E.Request.PARAM_NOT_REQUIRED.reason("reduceonly")
            elif pside != _BOTH:
                err = E.Filters.POSITION_SIDE_NOT_MATCH.reason()
        order_count: dict = acct.order_count
        open_orders = order_count.get(sym, 0)      # (unchanged until this order is counted below)
        if err is None and open_orders >= spec.max_num_orders:
            err = E.Processing.MAX_OPEN_ORDER_EXCEEDED.reason()
        if err is not None:
            return [new_record(OrderRejected, (aid, sym, cid, err[0], err[1]))]
        # ---- reduce-only / margin
        acct_settings: dict = acct.settings
        settings = acct_settings.get(sym)
        new_settings = settings is None
        if new_settings:
            settings = [spec.default_leverage, _CROSSED]    # stored only if the order is accepted
        if dual:
            reduce = 1 if (side == 1) == (pside == _LONG) else 0
        else:
            reduce = reduce_only
        key = st.slot_keys[pside] if type(pside) is int else (sym, pside)
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
                return [OrderRejected(aid, sym, cid, *E.Processing.REDUCE_ONLY_REJECT.reason())]
            if side == 0:
                agg.ro_buy += qty
            else:
                agg.ro_sell += qty
            if tif == _GTX and otype == _LIMIT:
                err = self._gtx_crosses(book, side, price)
                if err is not None:
                    if side == 0:
                        agg.ro_buy -= qty
                    else:
                        agg.ro_sell -= qty
                    return [new_record(OrderRejected, (aid, sym, cid, err[0], err[1]))]
        else:
            if mark and ref:
                if side == 0:
                    if ref > mark:
                        loss_per_lot = (ref - mark) * unit
                elif ref < mark:
                    loss_per_lot = (mark - ref) * unit
            lev = settings[0]
            if pos_qty:
                pn = _notional(pos_qty, mark, unit) if mark else (pos.entry if pos_qty >= 0 else -pos.entry)
            else:
                pn = 0
            # a LIMIT order's reference price is its price, the MIN_NOTIONAL check's too
            notional = checked_notional if checked_notional is not None and notional_price is ref \
                else _notional(ref, qty, unit)
            loss = loss_per_lot * qty
            table = spec._max_notional
            # 1: beyond the bracket cap, 2: more open-order margin, 0: neither
            verdict, slot_margin = reserve_order_margin(agg, side, qty, notional, loss, pside, pn, lev, table)
            if verdict == 1:
                err = E.Processing.MAX_LEVERAGE_RATIO.reason()
            elif verdict == 2:
                # available before this order = available now + this order's cost
                # (the slot's margin with the order is the one just made)
                if available_balance(acct, self.symbols, agg, slot_margin) < 0:
                    err = E.Processing.MARGIN_NOT_SUFFICIENT.reason()
            if err is None and tif == _GTX and otype == _LIMIT:
                err = self._gtx_crosses(book, side, price)
            if err is not None:
                if side == 0:
                    agg.buy_lots -= qty
                    agg.buy_notional -= notional
                    agg.buy_loss -= loss
                else:
                    agg.sell_lots -= qty
                    agg.sell_notional -= notional
                    agg.sell_loss -= loss
                return [new_record(OrderRejected, (aid, sym, cid, err[0], err[1]))]
        # ---- accept
        oid = self.next_order_id
        self.next_order_id = oid + 1
        client_ids: dict = acct.client_ids
        if not cid:
            cid = default_client_order_id(oid)
            while cid in client_ids:
                cid += "_"
        if new_settings:
            acct_settings[sym] = settings
        if otype != _LIMIT:
            price = 0
        order = new_order(oid, aid, sym, cid, side, otype, tif, price, qty, reduce_only, pside, stp, ts, reduce,
                          key, ref, loss_per_lot)
        self.orders[oid] = order
        acct.orders[oid] = order
        client_ids[cid] = order
        order_count[sym] = open_orders + 1
        events = [new_record(OrderAccepted, (oid, aid, sym, cid, side, otype, tif, price, qty, reduce_only, pside, stp,
                           0, 0, 0, 0, 0, 0))]
        reports = book.submit(oid, aid, side, book_price, qty, kind, stp)
        if len(reports) == 2:
            r1 = reports[1]
            if r1[0] == R_RESTED:
                return events            # rested without trading: nothing else happens
            if r1[0] == R_EXPIRED and r1[3] == REASON_FOK:
                # FOK that cannot fill: refused, not recorded (Binance -5021)
                self._release(order, qty)
                self._unlink(order)
                self.next_order_id = oid      # nothing was recorded: the id is not used up
                return [OrderRejected(aid, sym, c.client_order_id, *E.Execution.FOK_ORDER_REJECT.reason())]
        if reports[0][0] == R_REJECTED:   # cannot happen with the checks above
            self._release(order, qty)
            self._unlink(order)
            return [OrderRejected(aid, sym, c.client_order_id, *E.Processing.NEW_ORDER_REJECTED.reason())]
        touched: dict = {}
        self._process(st, reports, events, touched, ts)
        if touched:
            self._finish(touched, events, ts)
            self._post(events, ts)
        return events

    def _post(self, events: list, ts):
        """After a command's own work: CONTRACT_PRICE triggers of symbols whose last
        price moved, then the liquidation risk pass, repeated until both are quiet."""
        st: SymbolState
        if self._busy:
            return
        self._busy = True
        try:
            moved: dict = self._moved
            for _ in range(100_000):
                if moved:
                    # a comprehension: compiled, it walks the dict with PyDict_Next
                    # (sorted(moved) goes through the generic iterator and length hint)
                    syms = [sym for sym in moved]
                    syms.sort()
                    moved.clear()
                    for sym in syms:
                        st = self.symbols[sym]
                        if st.waiting:
                            self._fire_triggers(st, _CONTRACT_PRICE, events, ts)
                    continue
                if self._dirty:
                    settle_risk(self, self._dirty, self.accounts, self.symbols, events, ts)
                    continue
                break
        finally:
            self._busy = False

    def _agg(self, acct: Account, key: tuple) -> OrderAgg:
        agg: OrderAgg
        agg = acct.aggs.get(key)
        if agg is None:
            agg = acct.aggs[key] = OrderAgg()
        return agg

    @staticmethod
    def _gtx_crosses(book, side: int, price: int):
        if side == 0:
            best = book.best_ask()
            if best is not None and best <= price:
                return E.Execution.GTX_ORDER_REJECT.reason()
        else:
            best = book.best_bid()
            if best is not None and best >= price:
                return E.Execution.GTX_ORDER_REJECT.reason()
        return None

    # ======================================================== book reports
    def _process(self, st: SymbolState, reports, events: list, touched: dict, ts):
        order: Order
        orders: dict = self.orders
        for r in reports:
            k = r[0]
            if k == R_FILL:
                trade_id = st.next_trade_id
                st.next_trade_id = trade_id + 1
                taker_id = r[1]
                maker_id = r[2]
                price = r[5]
                self._fill(st, orders[taker_id], price, r[6], 0, trade_id, maker_id, events, touched, ts)
                self._fill(st, orders[maker_id], price, r[6], 1, trade_id, taker_id, events, touched, ts)
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
                events.append(new_record(OrderExpired, (order.order_id, order.account_id, order.symbol, remaining, er, status)
                                         + order_state(order)))
            elif k == R_CANCELED:
                order = orders[r[1]]
                self._release(order, r[2])
                order.update_time = ts
                self._close(order, C.CANCELED)
                events.append(new_record(OrderCanceled, (order.order_id, order.account_id, order.symbol, r[2],
                                                         C.CANCEL_MODIFY_FILLED) + order_state(order)))
            # ACCEPTED, RESTED, MODIFIED: nothing to do

    def _fill(self, st: SymbolState, order: Order, price, q, is_maker, trade_id,
              counter_id, events: list, touched: dict, ts):
        acct: Account
        agg: OrderAgg
        pos: Position
        spec: SymbolSpec
        aid = order.account_id
        acct = self.accounts[aid]
        spec = st.spec
        unit = spec.notional_unit
        price_unit = price * unit
        n = price_unit * q
        side = order.side
        buy = side == 0
        # order
        filled = order.filled + q
        order.filled = filled
        cum_quote = order.cum_quote + n
        order.cum_quote = cum_quote
        order.update_time = ts
        status = _FILLED if filled == order.qty else _PARTIALLY_FILLED
        order.status = status
        # margin aggregates
        key = order.key
        agg = acct.aggs[key]
        if order.reduce:
            if buy:
                agg.ro_buy -= q
            else:
                agg.ro_sell -= q
        else:
            release_order_margin(agg, side, q, order.margin_price, order.loss_per_lot, unit)
        # position
        positions: dict = acct.positions
        pos = positions.get(key)
        if pos is None:
            pos = positions[key] = Position(key[0], key[1])
        old_qty = pos.qty
        pnl, closed, opened = fill_position(pos, buy, q, price, unit)
        new_qty = pos.qty
        pos.update_time = ts
        if not new_qty:
            del st.positions[aid * 4 + key[1]]
        elif not old_qty:
            st.positions[aid * 4 + key[1]] = pos
        self._dirty[aid] = None
        # fee: charged rounded up; the part above the exact fee is rounding residue
        # (the liquidated side of a liquidation order pays the clearance fee instead)
        rate = spec.maker_fee if is_maker else (spec.taker_fee if order.order_type != 7 else 0)
        fee, booked = commission_split(n, rate)
        self.fees_collected += booked
        if fee != booked:       # (most fees are exact: no residue, no big-int additions)
            self.rounding_residue += fee - booked
        settings = acct.settings[key[0]]
        if settings[1] == _ISOLATED:
            if closed:
                iso = pos.iso_wallet + pnl
                if new_qty == 0 or opened:
                    release = iso
                else:
                    release = iso * closed // (old_qty if old_qty > 0 else -old_qty)
                pos.iso_wallet = iso - release
                acct.cross_wallet += release
            if opened:
                m = initial_margin(price_unit * opened, settings[0])
                acct.cross_wallet -= m
                pos.iso_wallet += m
            acct.cross_wallet -= fee
        else:
            acct.cross_wallet += pnl - fee
        acct.update_time = ts
        sym = order.symbol
        events.append(new_record(OrderFilled, (order.order_id, aid, sym, trade_id, side, order.position_side, price,
                               q, is_maker, fee, pnl, filled, cum_quote, status, counter_id,
                               order.client_order_id, order.order_type, order.time_in_force, order.price,
                               order.qty, order.reduce_only, order.stp)))
        if pnl:
            tran = self.next_tran_id
            self.next_tran_id = tran + 1
            events.append(new_record(Income, (aid, _I_REALIZED_PNL, sym, pnl, tran, trade_id)))
        if fee:
            tran = self.next_tran_id
            self.next_tran_id = tran + 1
            events.append(new_record(Income, (aid, _I_COMMISSION, sym, -fee, tran, trade_id)))
        keys = touched.get(aid)
        if keys is None:
            touched[aid] = {key: None}
        else:
            keys[key] = None
        if status == _FILLED:
            self._close_in(order, acct, _FILLED)

    def _finish(self, touched: dict, events: list, ts):
        """After a command's fills: knock out reduce orders the new positions no longer
        allow, then emit ACCOUNT_UPDATE-style balance and position events."""
        acct: Account
        agg: OrderAgg
        pos: Position
        aggs: dict
        keys: dict
        positions: dict
        settings: dict
        accounts: dict = self.accounts
        accts: list = []
        for account_id, keys in touched.items():
            acct = accounts[account_id]
            accts.append(acct)
            aggs = acct.aggs
            for key in keys:
                agg = aggs.get(key)
                if agg is not None and (agg.ro_buy or agg.ro_sell):
                    self._trim_reduce(acct, key, agg, events, ts)
        i = 0
        for account_id, keys in touched.items():
            acct = accts[i]         # looked up by the first pass (touched is unchanged since)
            i += 1
            positions = acct.positions
            wallet = cross = acct.cross_wallet
            for pos in positions.values():
                if pos.iso_wallet:      # (cross positions have none: no big-int addition of 0)
                    wallet += pos.iso_wallet
            events.append(new_record(BalanceChanged, (account_id, _R_ORDER, wallet, cross, 0)))
            settings = acct.settings
            for key in keys:
                pos = positions[key]
                events.append(new_record(PositionChanged, (account_id, key[0], key[1], pos.qty, pos.entry, pos.realized,
                                      pos.iso_wallet, settings[key[0]][1])))

    def _trim_reduce(self, acct: Account, key: tuple, agg: OrderAgg, events: list, ts):
        order: Order
        pos: Position
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
            events.append(new_record(OrderExpired, (order.order_id, order.account_id, order.symbol, remaining,
                                                   C.ER_REDUCE_ONLY, C.EXPIRED) + order_state(order)))
            if agg.ro_buy <= allow_buy and agg.ro_sell <= allow_sell:
                return

    # ===================================================== order bookkeeping
    def _release(self, order: Order, remaining):
        """Take ``remaining`` lots of ``order`` out of its slot's aggregates."""
        self._release_from(order, self.accounts[order.account_id], None, remaining)

    def _release_from(self, order: Order, acct: Account, st: SymbolState, remaining):
        """``_release`` with the order's account (and its symbol's state, or None) already looked up."""
        agg: OrderAgg
        aggs: dict
        if remaining <= 0 or 1 < order.order_type < 7:     # conditional orders reserve nothing
            return
        aggs = acct.aggs
        agg = aggs[order.key]
        if order.reduce:
            if order.side == 0:
                agg.ro_buy -= remaining
            else:
                agg.ro_sell -= remaining
        else:
            if st is None:
                st = self.symbols[order.symbol]
            unit = st.spec.notional_unit
            release_order_margin(agg, order.side, remaining, order.margin_price, order.loss_per_lot, unit)

    def _reserve(self, order: Order, remaining):
        acct: Account
        agg: OrderAgg
        st: SymbolState
        aggs: dict
        acct = self.accounts[order.account_id]
        aggs = acct.aggs
        agg = aggs[order.key]
        if order.reduce:
            if order.side == 0:
                agg.ro_buy += remaining
            else:
                agg.ro_sell += remaining
        else:
            st = self.symbols[order.symbol]
            unit = st.spec.notional_unit
            if order.side == 0:
                agg.buy_lots += remaining
                agg.buy_notional += _notional(order.margin_price, remaining, unit)
                agg.buy_loss += order.loss_per_lot * remaining
            else:
                agg.sell_lots += remaining
                agg.sell_notional += _notional(order.margin_price, remaining, unit)
                agg.sell_loss += order.loss_per_lot * remaining

    def _unlink(self, order: Order):
        """Forget an open order entirely (refused after acceptance: FOK)."""
        self._unlink_from(order, self.accounts[order.account_id])

    def _unlink_from(self, order: Order, acct: Account):
        """``_unlink`` with the order's account already looked up."""
        oid = order.order_id
        del self.orders[oid]
        del acct.orders[oid]
        client_ids: dict = acct.client_ids
        cid = order.client_order_id
        if client_ids.get(cid) is order:
            del client_ids[cid]
        counts: dict = acct.algo_count if 1 < order.order_type < 7 else acct.order_count
        sym = order.symbol
        n = counts[sym] - 1
        if n:
            counts[sym] = n
        else:
            del counts[sym]

    def _close(self, order: Order, status):
        """Move an open order to the closed history with its final status."""
        self._close_in(order, self.accounts[order.account_id], status)

    def _close_in(self, order: Order, acct: Account, status):
        """``_close`` with the order's account already looked up."""
        order.status = status
        self._unlink_from(order, acct)
        # history
        oid = order.order_id
        closed: dict = self.closed
        closed[oid] = order
        fifo = self._closed_fifo
        fifo.append(oid)
        acct.closed_client[order.client_order_id] = oid
        if len(fifo) > self.history_limit:
            old = closed.pop(fifo.popleft())
            cc = self.accounts[old.account_id].closed_client
            if cc.get(old.client_order_id) == old.order_id:
                del cc[old.client_order_id]

    def _find_open(self, acct: Account, sym: str, order_id: int, client_order_id: str):
        order: Order
        if order_id > 0:
            order = acct.orders.get(order_id)
        else:
            order = acct.client_ids.get(client_order_id) if client_order_id else None
        if order is None or order.symbol != sym:
            return None
        return order

    # ======================================================= cancel / modify
    def _cancel_order(self, ts, c) -> list:
        acct: Account
        order: Order
        st: SymbolState
        aid, sym, order_id, client_order_id = c
        acct = self.accounts.get(aid)
        if acct is None:
            return [CommandRejected(aid, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        st = self.symbols.get(sym)
        if st is None:
            return [CommandRejected(aid, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        # _find_open, inlined
        if order_id > 0:
            order = acct.orders.get(order_id)
        else:
            order = acct.client_ids.get(client_order_id) if client_order_id else None
        if order is None or order.symbol != sym:
            return [CommandRejected(aid, c.KIND, *E.Processing.UNKNOWN_ORDER.reason())]
        return [self._cancel_in(st, order, acct, _CANCEL_USER, ts)]

    def _cancel(self, st: SymbolState, order: Order, reason, ts):
        return self._cancel_in(st, order, self.accounts[order.account_id], reason, ts)

    def _cancel_in(self, st: SymbolState, order: Order, acct: Account, reason, ts):
        """``_cancel`` with the order's account already looked up."""
        otype = order.order_type
        if 1 < otype < 7:
            self._unindex_conditional(st, order)
        else:
            st.book.cancel(order.order_id)
        remaining = order.qty - order.filled
        self._release_from(order, acct, st, remaining)
        order.update_time = ts
        self._close_in(order, acct, _CANCELED)
        return new_record(OrderCanceled, (order.order_id, order.account_id, order.symbol, remaining, reason)
                          + order_state(order))

    def _cancel_all(self, ts: int, c: CancelAllOrders) -> list:
        acct: Account
        st: SymbolState
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        sym = c.symbol
        return [self._cancel(st, o, C.CANCEL_ALL, ts)
                for o in [o for o in acct.orders.values() if o.symbol == sym]]

    def _modify_order(self, ts: int, c: ModifyOrder) -> list:
        acct: Account
        agg: OrderAgg
        order: Order
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        st = self.symbols.get(c.symbol)
        if st is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_SYMBOL.reason())]
        order = self._find_open(acct, c.symbol, c.order_id, c.client_order_id)
        if order is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Processing.NO_SUCH_ORDER.reason())]
        if order.order_type != C.LIMIT:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.INVALID_ORDER_TYPE.reason())]
        spec = st.spec
        price, qty = c.price, c.qty
        err = None
        if price == order.price and qty == order.qty:
            err = E.Execution.SAME_ORDER.reason()
        else:
            err = limit_filter_error(st, order.side, price, qty)
        mark = st.mark
        unit = spec.notional_unit
        if err is None and not order.reduce_only and _notional(price, qty, unit) < spec.min_notional:
            err = E.Orders41.MIN_NOTIONAL.reason(spec.min_notional_str)
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
                    return [CommandRejected(c.account_id, c.KIND, *E.Processing.REDUCE_ONLY_REJECT.reason())]
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
                    err = E.Processing.MAX_LEVERAGE_RATIO.reason()
                elif after > before and available_balance(acct, self.symbols, agg, after) < 0:
                    err = E.Processing.MARGIN_NOT_SUFFICIENT.reason()
                if err is not None:
                    self._release(order, new_remaining)
                    order.margin_price, order.loss_per_lot = old_fields
                    self._reserve(order, old_remaining)
                    return [CommandRejected(c.account_id, c.KIND, err[0], err[1])]
            order.price = price
            order.qty = qty
        order.update_time = ts
        reports = st.book.modify(order.order_id, price, qty - order.book_offset)
        events = [new_record(OrderModified, (order.order_id, order.account_id, order.symbol, price, qty, order.filled,
                                              order.side, order.position_side, order.cum_quote,
                                              order.client_order_id, order.order_type, order.time_in_force,
                                              order.reduce_only, order.stp))]
        touched: dict = {}
        self._process(st, reports, events, touched, ts)
        if touched:
            self._finish(touched, events, ts)
            self._post(events, ts)
        return events


class Venue(AdminCommands, MarketData, Liquidation, Conditional, Snapshots, Queries, VenueCore):
    """See the module docstring.  ``instruments``: iterable of Instrument (or a
    dict symbol -> Instrument).  ``history_limit`` bounds the closed orders kept
    for queries (oldest evicted first, deterministically).  ``book_factory``
    makes the per-symbol books (default ``matching.Book``; tests pass the
    reference book to check both give identical venues)."""
