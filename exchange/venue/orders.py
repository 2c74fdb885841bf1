"""The venue's record of one order (the book keeps only id/owner/side/price/qty).

A plain ``__slots__`` class updated in place on the per-order path; queries
turn it into a dict with ``order_view``.
"""
from __future__ import annotations

import re

from exchange.contract.codes import LIMIT, STOP, TAKE_PROFIT

CLIENT_ORDER_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")


class Order:
    __slots__ = ("order_id", "account_id", "symbol", "client_order_id", "side", "order_type",
                 "time_in_force", "price", "qty", "filled", "cum_quote", "reduce_only",
                 "position_side", "stp", "status", "time", "update_time",
                 # margin bookkeeping (see risk.py)
                 "reduce", "key", "margin_price", "loss_per_lot",
                 # conditional orders (0 for LIMIT / MARKET)
                 "stop_price", "working_type", "price_protect", "close_position",
                 "activation_price", "callback_rate", "trail_extreme", "new_order_id",
                 # lots the book does not know were filled (orders re-entered by Venue.restore)
                 "book_offset")

    def __init__(self, order_id, account_id, symbol, client_order_id, side, order_type, time_in_force,
                 price, qty, reduce_only, position_side, stp, time, reduce, key, margin_price,
                 loss_per_lot):
        _set_fields(self, order_id, account_id, symbol, client_order_id, side, order_type, time_in_force,
                    price, qty, reduce_only, position_side, stp, time, reduce, key, margin_price,
                    loss_per_lot)

    def state(self) -> list:
        """Canonical field list (digest and snapshots)."""
        return [self.order_id, self.account_id, self.symbol, self.client_order_id, self.side,
                self.order_type, self.time_in_force, self.price, self.qty, self.filled,
                self.cum_quote, self.reduce_only, self.position_side, self.stp, self.status,
                self.time, self.update_time, self.reduce, self.margin_price, self.loss_per_lot,
                self.stop_price, self.working_type, self.price_protect, self.close_position,
                self.activation_price, self.callback_rate, self.trail_extreme, self.new_order_id]

    @classmethod
    def from_state(cls, s: list) -> Order:
        (order_id, account_id, symbol, cid, side, otype, tif, price, qty, filled, cum_quote, reduce_only,
         pside, stp, status, time, update_time, reduce, margin_price, loss_per_lot) = s[:20]
        o = cls(order_id, account_id, symbol, cid, side, otype, tif, price, qty, reduce_only, pside, stp,
                time, reduce, (symbol, pside), margin_price, loss_per_lot)
        o.filled, o.cum_quote, o.status, o.update_time = filled, cum_quote, status, update_time
        (o.stop_price, o.working_type, o.price_protect, o.close_position, o.activation_price,
         o.callback_rate, o.trail_extreme, o.new_order_id) = s[20:28]
        return o


def _set_fields(o: Order, order_id, account_id, symbol, client_order_id, side, order_type,
                time_in_force, price, qty, reduce_only, position_side, stp, time, reduce, key,
                margin_price, loss_per_lot):
    """Every field of a new order (``Order.__init__`` and ``new_order``)."""
    o.order_id = order_id
    o.account_id = account_id
    o.symbol = symbol
    o.client_order_id = client_order_id
    o.side = side
    o.order_type = order_type
    o.time_in_force = time_in_force
    o.price = price
    o.qty = qty
    o.filled = 0
    o.cum_quote = 0
    o.reduce_only = reduce_only
    o.position_side = position_side
    o.stp = stp
    o.status = 0
    o.time = time
    o.update_time = time
    o.reduce = reduce
    o.key = key
    o.margin_price = margin_price
    o.loss_per_lot = loss_per_lot
    o.stop_price = 0
    o.working_type = 0
    o.price_protect = 0
    o.close_position = 0
    o.activation_price = 0
    o.callback_rate = 0
    o.trail_extreme = 0      # trailing stop: best price since activation (0 = not active)
    o.new_order_id = 0       # conditional: the regular order it became when triggered
    o.book_offset = 0


def order_state(o: Order) -> tuple:
    """The order's fields its canceled / expired / triggered events carry after their own
    (``events.ORDER_STATE``): what the wire shows of the order, so no subscriber asks the venue."""
    return (o.side, o.position_side, o.filled, o.cum_quote, o.client_order_id, o.order_type,
            o.time_in_force, o.price, o.qty, o.reduce_only, o.stp, o.stop_price, o.working_type,
            o.price_protect, o.close_position, o.activation_price, o.callback_rate)


def default_client_order_id(oid) -> str:
    """The client order id of an order sent without one: ``pex<order id>``."""
    return f"pex{oid}"


def new_order(order_id, account_id, symbol, client_order_id, side, order_type, time_in_force,
              price, qty, reduce_only, position_side, stp, time, reduce, key, margin_price,
              loss_per_lot) -> Order:
    """``Order(...)`` with the same arguments and fields, made without the constructor
    call (the compiled order path makes one per accepted order: a C call here)."""
    o: Order = Order.__new__(Order)
    _set_fields(o, order_id, account_id, symbol, client_order_id, side, order_type, time_in_force,
                price, qty, reduce_only, position_side, stp, time, reduce, key, margin_price,
                loss_per_lot)
    return o


def order_view(o: Order) -> dict:
    """Everything GET /fapi/v1/order needs, as ints (money, ticks, lots, codes) and strings.
    ``avg_price`` is cum_quote / (filled * notional_unit) ticks: the gateway divides."""
    return {
        "order_id": o.order_id, "account_id": o.account_id, "symbol": o.symbol,
        "client_order_id": o.client_order_id, "side": o.side, "order_type": o.order_type,
        "time_in_force": o.time_in_force,
        "price": o.price if o.order_type in (LIMIT, STOP, TAKE_PROFIT) or o.order_type == 7 else 0,
        "qty": o.qty, "filled_qty": o.filled, "cum_quote": o.cum_quote,
        "reduce_only": o.reduce_only, "position_side": o.position_side, "stp": o.stp,
        "status": o.status, "time": o.time, "update_time": o.update_time,
        "stop_price": o.stop_price, "working_type": o.working_type, "price_protect": o.price_protect,
        "close_position": o.close_position, "activation_price": o.activation_price,
        "callback_rate": o.callback_rate, "trail_extreme": o.trail_extreme,
        "new_order_id": o.new_order_id,
    }
