"""Conditional orders: STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET.

A mixin of ``Venue``.  A conditional order is an open order (queries, cancel by
id / client id, cancel-all, MAX_NUM_ALGO_ORDERS) that is not in the book and
reserves no margin (Binance's algo orders).  It waits in its symbol's trigger
index: four SortedLists of ``(stop_price, order_id)`` keyed by
(workingType, direction) - ``UP`` fires when the working price >= stop
(BUY STOP, SELL TAKE_PROFIT), ``DOWN`` when <= (SELL STOP, BUY TAKE_PROFIT).
Trailing stops sit in a per-symbol dict (order id order): after activation
(working price reached ``activation_price``; 0 = at placement) they track the
best price and fire on a pull-back of ``callback_rate``.

Working prices: MARK_PRICE triggers run whenever the mark changes;
CONTRACT_PRICE triggers after every command whose trades moved the last price.
Due orders fire in order-id order; a fired order may trade and move the last
price, which is checked again (a cascade, within the same command).
``price_protect``: while ``|mark - last| / mark > triggerProtect`` the order
does not fire (it stays waiting).

Firing: the conditional order is closed with status TRIGGERED (OrderTriggered
event naming its new order) and a regular order - LIMIT (STOP, TAKE_PROFIT;
the order's price and time in force) or MARKET - with the same client order id
goes through the whole new-order pipeline; if that refuses it, the OrderRejected
follows (``new_order_id`` 0).  ``close_position`` orders take the position's
size at trigger time; with no position they expire (ER_NO_POSITION).

Placement is refused with -2021 when the order would fire at once, and with
the Binance codes for bad parameters (-4137, -4136, -4135, -4045, -4061, ...).
"""
from __future__ import annotations


from exchange.units import RATE_SCALE

from exchange.contract import codes as C
from exchange.contract import errors as E
from exchange.contract.commands import NewOrder
from exchange.contract.events import OrderAccepted, OrderExpired, OrderRejected, OrderTriggered
from exchange.contract.records import new_record
from exchange.venue.orders import CLIENT_ORDER_ID_RE, Order, order_state
from exchange.venue.symbol_state import DOWN, UP
from exchange.venue.accounts import Account
from exchange.venue.positions import Position
from exchange.venue.spec import SymbolSpec
from exchange.venue.symbol_state import SymbolState

_MARK_PRICE = C.MARK_PRICE      # hot-path constant (module global, not a ``C.`` lookup)
_MIN_CALLBACK = 100_000         # 0.1 %
_MAX_CALLBACK = 10_000_000      # 10 %



def _direction(side: int, otype: int) -> int:
    stop = otype == C.STOP or otype == C.STOP_MARKET
    if side == C.BUY:
        return UP if stop else DOWN
    return DOWN if stop else UP


def index_conditional(st: SymbolState, o) -> None:
    """Let a conditional order wait in its symbol's trigger index (placement and restore)."""
    if o.order_type == C.TRAILING_STOP_MARKET:
        st.trailing[o.order_id] = o
    else:
        st.triggers[(o.working_type, _direction(o.side, o.order_type))].add((o.stop_price, o.order_id))
    st.waiting += 1


class Conditional:
    # ============================================================== placement
    def _new_conditional(self, ts: int, c: NewOrder, acct: Account, st: SymbolState) -> list:
        spec: SymbolSpec
        sym = c.symbol
        cid = c.client_order_id
        aid = c.account_id
        otype = c.order_type
        spec = st.spec
        side = c.side
        err = None
        trailing = otype == C.TRAILING_STOP_MARKET
        limit = otype == C.STOP or otype == C.TAKE_PROFIT
        if side != 0 and side != 1:
            err = E.Request.INVALID_SIDE.reason()
        elif not (0 <= c.position_side <= 2):
            err = E.Filters.INVALID_POSITION_SIDE.reason()
        elif limit and not (0 <= c.time_in_force <= 3):
            err = E.Request.INVALID_TIF.reason()
        elif not (0 <= c.stp <= 3):
            err = E.Request.INVALID_PARAMETER.reason("selfTradePreventionMode")
        elif c.working_type not in (C.CONTRACT_PRICE, C.MARK_PRICE):
            err = E.Request.INVALID_PARAMETER.reason("workingType")
        elif cid and not CLIENT_ORDER_ID_RE.match(cid):
            err = E.Filters.INVALID_CL_ORD_ID.reason()
        elif cid and cid in acct.client_ids:
            err = E.Orders41.DUPLICATED_CLIENT_ORDER_ID.reason()
        elif c.close_position and otype not in (C.STOP_MARKET, C.TAKE_PROFIT_MARKET):
            err = E.Request.PARAM_NOT_REQUIRED.reason("closePosition")
        elif c.close_position and c.qty != 0:
            err = E.Orders41.QUANTITY_EXISTS_WITH_CLOSE_POSITION.reason()
        elif c.close_position and c.reduce_only:
            err = E.Request.PARAM_NOT_REQUIRED.reason("reduceOnly")
        elif not c.close_position and c.qty <= 0:
            err = E.Filters.QTY_LESS_THAN_ZERO.reason()
        elif trailing and not (_MIN_CALLBACK <= c.callback_rate <= _MAX_CALLBACK):
            err = E.Orders41.INVALID_CALLBACK_RATE.reason()
        elif trailing and c.activation_price < 0:
            err = E.Orders41.INVALID_ACTIVATION_PRICE.reason()
        elif not trailing and c.stop_price <= 0:
            err = E.Filters.STOP_PRICE_LESS_THAN_ZERO.reason()
        elif not limit and c.price != 0:
            err = E.Request.PARAM_NOT_REQUIRED.reason("price")
        if err is None and limit:
            price = c.price
            if price <= 0:
                err = E.Filters.PRICE_LESS_THAN_ZERO.reason()
            elif price < spec.min_price:
                err = E.Filters.PRICE_LESS_THAN_MIN_PRICE.reason()
            elif spec.max_price and price > spec.max_price:
                err = E.Filters.PRICE_GREATER_THAN_MAX_PRICE.reason()
        stop = c.stop_price
        if err is None and not trailing and (stop < spec.min_price or (spec.max_price and stop > spec.max_price)):
            err = E.Filters.PRICE_LESS_THAN_MIN_PRICE.reason() if stop < spec.min_price else E.Filters.PRICE_GREATER_THAN_MAX_PRICE.reason()
        if err is None and c.qty:
            lo, hi = (spec.min_qty, spec.max_qty) if limit else (spec.market_min_qty, spec.market_max_qty)
            if c.qty < lo:
                err = E.Filters.QTY_LESS_THAN_MIN_QTY.reason()
            elif hi and c.qty > hi:
                err = E.Filters.QTY_GREATER_THAN_MAX_QTY.reason()
        if err is None and c.qty and not c.reduce_only and not trailing:
            ref = c.price if limit else stop
            if ref * c.qty * spec.notional_unit < spec.min_notional:
                err = E.Orders41.MIN_NOTIONAL.reason(spec.min_notional_str)
        if err is None:
            if acct.dual:
                if c.position_side == C.BOTH:
                    err = E.Filters.POSITION_SIDE_NOT_MATCH.reason()
                elif c.reduce_only:
                    err = E.Request.PARAM_NOT_REQUIRED.reason("reduceonly")
                elif c.close_position and (side == C.BUY) == (c.position_side == C.LONG):
                    err = E.Filters.POSITION_SIDE_NOT_MATCH.reason()
            elif c.position_side != C.BOTH:
                err = E.Filters.POSITION_SIDE_NOT_MATCH.reason()
        if err is None and acct.algo_count.get(sym, 0) >= spec.max_num_algo_orders:
            err = E.Filters.MAX_STOP_ORDER_EXCEEDED.reason()
        wt = c.working_type
        work = st.mark if wt == C.MARK_PRICE else st.last_price
        activation = c.activation_price
        if err is None and work:
            if trailing:
                if activation and ((side == C.SELL and activation <= work) or
                                   (side == C.BUY and activation >= work)):
                    err = E.Processing.ORDER_WOULD_IMMEDIATELY_TRIGGER.reason()
            else:
                d = _direction(side, otype)
                if (d == UP and work >= stop) or (d == DOWN and work <= stop):
                    err = E.Processing.ORDER_WOULD_IMMEDIATELY_TRIGGER.reason()
        if err is not None:
            return [OrderRejected(aid, sym, cid, err[0], err[1])]
        oid = self.next_order_id
        self.next_order_id = oid + 1
        if not cid:
            cid = "pex%d" % oid
            while cid in acct.client_ids:
                cid += "_"
        if sym not in acct.settings:
            acct.settings[sym] = acct.symbol_settings(sym, spec)
        key = (sym, c.position_side)
        tif = c.time_in_force if limit else C.GTC
        o = Order(oid, aid, sym, cid, side, otype, tif, c.price if limit else 0, c.qty, 1 if c.reduce_only else 0,
                  c.position_side, c.stp, ts, 0, key, 0, 0)
        o.stop_price = 0 if trailing else stop
        o.working_type = wt
        o.price_protect = 1 if c.price_protect else 0
        o.close_position = 1 if c.close_position else 0
        o.activation_price = activation
        o.callback_rate = c.callback_rate if trailing else 0
        self.orders[oid] = o
        acct.orders[oid] = o
        acct.client_ids[cid] = o
        acct.algo_count[sym] = acct.algo_count.get(sym, 0) + 1
        events = [OrderAccepted(oid, aid, sym, cid, side, otype, tif, o.price, c.qty, o.reduce_only,
                                c.position_side, c.stp, o.stop_price, wt, o.price_protect, o.close_position,
                                activation, o.callback_rate)]
        if trailing and not activation and work:
            o.trail_extreme = work
        index_conditional(st, o)
        return events

    def _unindex_conditional(self, st: SymbolState, o) -> None:
        if o.order_type == C.TRAILING_STOP_MARKET:
            if st.trailing.pop(o.order_id, None) is not None:
                st.waiting -= 1
        else:
            waiting = st.triggers[(o.working_type, _direction(o.side, o.order_type))]
            entry = (o.stop_price, o.order_id)
            if entry in waiting:
                waiting.remove(entry)
                st.waiting -= 1

    # ================================================================ firing
    def _fire_triggers(self, st: SymbolState, wt: int, events: list, ts: int) -> None:
        """Fire the conditional orders of ``st`` whose ``wt`` working price crossed."""
        price = st.mark if wt == _MARK_PRICE else st.last_price
        if not price:
            return
        up = st.triggers[(wt, UP)]
        down = st.triggers[(wt, DOWN)]
        trailing = st.trailing
        if not up and not down and not trailing:
            return
        skipped: set = set()
        for _ in range(10_000):
            price = st.mark if wt == _MARK_PRICE else st.last_price
            due = []
            if up and up[0][0] <= price:
                for stop, oid in up.irange(None, (price, 1 << 62)):
                    if oid not in skipped:
                        due.append(oid)
            if down and down[-1][0] >= price:
                for stop, oid in down.irange((price, -1), None):
                    if oid not in skipped:
                        due.append(oid)
            if trailing:
                for oid, o in list(trailing.items()):
                    if o.working_type != wt or oid in skipped:
                        continue
                    if self._trail(o, price):
                        due.append(oid)
            if not due:
                return
            due.sort()
            fired = False
            for oid in due:
                o = self.orders.get(oid)
                if o is None:
                    continue
                if o.price_protect and not self._protect_ok(st):
                    skipped.add(oid)
                    continue
                self._trigger(st, o, price, events, ts)
                fired = True
            if not fired:
                return
            if wt == C.MARK_PRICE:
                return          # the mark does not move by trading
        return

    @staticmethod
    def _trail(o, price: int) -> bool:
        """Update a trailing stop with the working price; True when it should fire."""
        ext = o.trail_extreme
        sell = o.side == C.SELL
        if not ext:
            act = o.activation_price
            if act and ((price < act) if sell else (price > act)):
                return False
            o.trail_extreme = price
            return False
        if sell:
            if price > ext:
                o.trail_extreme = price
                return False
            return price * RATE_SCALE <= ext * (RATE_SCALE - o.callback_rate)
        if price < ext:
            o.trail_extreme = price
            return False
        return price * RATE_SCALE >= ext * (RATE_SCALE + o.callback_rate)

    @staticmethod
    def _protect_ok(st: SymbolState) -> bool:
        mark = st.mark
        last = st.last_price
        if not mark or not last:
            return True
        gap = mark - last if mark > last else last - mark
        return gap * RATE_SCALE <= st.spec.trigger_protect * mark

    def _trigger(self, st: SymbolState, o, price: int, events: list, ts: int) -> None:
        acct: Account
        pos: Position
        self._unindex_conditional(st, o)
        acct = self.accounts[o.account_id]
        qty = o.qty
        reduce_only = o.reduce_only
        if o.close_position:
            pos = acct.positions.get(o.key)
            q = pos.qty if pos is not None else 0
            closes = (q > 0 and o.side == C.SELL) or (q < 0 and o.side == C.BUY)
            if not closes:
                o.update_time = ts
                self._close(o, C.EXPIRED)
                events.append(new_record(OrderExpired, (o.order_id, o.account_id, o.symbol, qty, C.ER_NO_POSITION,
                                                         C.EXPIRED) + order_state(o)))
                return
            qty = q if q > 0 else -q
            if not acct.dual:
                reduce_only = 1
        o.update_time = ts
        self._close(o, C.TRIGGERED)
        if o.order_type == C.STOP or o.order_type == C.TAKE_PROFIT:
            cmd = NewOrder(o.account_id, o.symbol, o.side, C.LIMIT, o.time_in_force, qty, o.price,
                           reduce_only, o.position_side, o.client_order_id, o.stp)
        else:
            cmd = NewOrder(o.account_id, o.symbol, o.side, C.MARKET, C.GTC, qty, 0,
                           reduce_only, o.position_side, o.client_order_id, o.stp)
        at = len(events)
        events.append(None)
        sub = self._new_order(ts, cmd)
        new_id = sub[0].order_id if sub and isinstance(sub[0], OrderAccepted) else 0
        o.new_order_id = new_id
        events[at] = new_record(OrderTriggered, (o.order_id, o.account_id, o.symbol, price, new_id) + order_state(o))
        events.extend(sub)
