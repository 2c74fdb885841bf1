"""Order endpoints (spec §7.3): order POST/PUT/DELETE/GET, order/test, batchOrders,
openOrder(s), allOpenOrders, allOrders, userTrades.

Parameters are validated here with Binance's exact errors (missing, malformed,
enum, precision, tick/step grid); everything that needs state (filters against
the mark, margin, position mode, reduce-only, client id duplicates, unknown
orders) is the venue's answer, carried back by OrderRejected/CommandRejected
and returned as HTTP 400 with that code and message.
"""
from __future__ import annotations

import asyncio
from typing import Optional

import orjson

from exchange.contract import codes as C
from exchange.contract.commands import CancelAllOrders, CancelOrder, ModifyOrder, NewOrder
from exchange.contract.events import OrderAccepted

from exchange.gateway import errors
from exchange.gateway.common import (INT_CAP, Req, accepted, first_rejection, limit_of, listed_order_type,
                                     symbol_of, time_range, to_lots, to_ticks)
from exchange.gateway.errors import BinanceError, Execution, Filters, Orders41, Processing, Request
from exchange.gateway.rest.algo import (
    CONDITIONAL_CODES, is_algo, legacy_child, parse_conditional, resolve_legacy,
)
from exchange.gateway.format import money, order_json
from exchange.gateway.params import _INT_RE, LONG_MAX, Params

_INT_FULL = _INT_RE.fullmatch

_SIDE = {"BUY": C.BUY, "SELL": C.SELL}
_TIF = {"GTC": C.GTC, "IOC": C.IOC, "FOK": C.FOK, "GTX": C.GTX}
_PSIDE = {"BOTH": C.BOTH, "LONG": C.LONG, "SHORT": C.SHORT}
_STP = {"NONE": C.STP_NONE, "EXPIRE_TAKER": C.STP_EXPIRE_TAKER, "EXPIRE_MAKER": C.STP_EXPIRE_MAKER,
        "EXPIRE_BOTH": C.STP_EXPIRE_BOTH}
CONDITIONAL = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})
OPEN_STATUSES = (C.NEW, C.PARTIALLY_FILLED)
DEFAULT_STP = "EXPIRE_MAKER"      # what Binance shows when the parameter is not sent
_DEFAULT_STP_CODE = _STP[DEFAULT_STP]


def parse_new_order(gw, p: Params, account_id: int):
    """Params -> (NewOrder, newOrderRespType, SymbolFormat).  Raises BinanceError."""
    sym, f = symbol_of(gw, p)
    side = p.side()
    otype = p.order_type()
    listed_order_type(gw.instruments[sym], otype, p)
    if otype in CONDITIONAL:
        if not getattr(gw, "legacy_conditional_orders", True):
            raise Orders41.STOP_ORDER_SWITCH_ALGO()
        cmd = parse_conditional(gw, p, account_id, otype, algo=False, stp_default=DEFAULT_STP)
        return cmd, p.new_order_resp_type(), f
    pside = p.position_side()
    tif = p.time_in_force()
    reduce_only = p.get_bool("reduceOnly", default=False)
    if p.get_bool("closePosition", default=False):
        raise errors.param_not_required("closePosition")
    cid = p.client_order_id()
    resp_type = p.new_order_resp_type()
    stp = p.stp_mode(default=DEFAULT_STP)
    pm = p.price_match(default="NONE")
    if pm != "NONE":
        raise Execution.UNSUPPORTED_ORDER_TYPE_PRICE_MATCH() if otype != "LIMIT" else \
            errors.invalid_parameter("priceMatch")
    qty = p.get_decimal_str("quantity", required=True)     # validated strings: to_lots / to_ticks
    price = p.get_decimal_str("price")                       # convert them exactly
    inst = gw.instruments[sym]
    if otype == "LIMIT":
        if tif is None:
            raise errors.mandatory_param("timeInForce")
        if tif not in _TIF:          # GTD / RPI are not served by this venue
            raise Request.INVALID_TIF()
        if price is None:
            raise errors.mandatory_param("price")
        lots = to_lots(f, qty, max_lots=inst.max_qty_lots)
        ticks = to_ticks(f, price, max_ticks=inst.max_price_ticks)
        tif_code = _TIF[tif]
    else:
        if price is not None:
            raise errors.param_not_required("price")
        lots = to_lots(f, qty, max_lots=inst.market_max_qty_lots)
        ticks = 0
        tif_code = C.GTC
    cmd = NewOrder(account_id, sym, _SIDE[side], C.LIMIT if otype == "LIMIT" else C.MARKET, tif_code,
                   lots, ticks, 1 if reduce_only else 0, _PSIDE[pside], cid or "", _STP[stp])
    return cmd, resp_type, f


def _ack_json(f, acc: OrderAccepted, ts: int) -> dict:
    view = {"order_id": acc.order_id, "symbol": acc.symbol, "client_order_id": acc.client_order_id,
            "side": acc.side, "order_type": acc.order_type, "time_in_force": acc.time_in_force,
            "price": acc.price, "qty": acc.qty, "filled_qty": 0, "cum_quote": 0,
            "reduce_only": acc.reduce_only, "position_side": acc.position_side, "stp": acc.stp,
            "status": C.NEW, "time": ts, "update_time": ts}
    return order_json(f, view)


async def place(gw, cmd: NewOrder, resp_type: str, f) -> dict:
    res = accepted(await gw.submit(cmd))
    acc = res.events[0]
    gw.orders_placed += 1
    if resp_type == "ACK" and acc.order_type not in CONDITIONAL_CODES:
        return _ack_json(f, acc, res.ts)
    view = gw.venue.order(cmd.account_id, cmd.symbol, acc.order_id)
    if view is None:       # evicted already (history limit): fall back to the acknowledgement
        return _ack_json(f, acc, res.ts)
    return order_json(f, view)


def new_order(gw, r: Req):
    """POST /fapi/v1/order.  Not a coroutine function: it returns ``place``'s coroutine
    for the caller to await (one coroutine frame less per order); a parameter error
    raises at the call, inside the caller's await expression, as before."""
    cmd, resp_type, f = parse_new_order(gw, r.params, r.account_id)
    return place(gw, cmd, resp_type, f)


async def test_order(gw, r: Req):
    cmd, resp_type, f = parse_new_order(gw, r.params, r.account_id)
    view = {"order_id": 0, "symbol": cmd.symbol, "client_order_id": cmd.client_order_id or "",
            "side": cmd.side, "order_type": cmd.order_type, "time_in_force": cmd.time_in_force,
            "price": cmd.price, "qty": cmd.qty, "filled_qty": 0, "cum_quote": 0,
            "reduce_only": cmd.reduce_only, "position_side": cmd.position_side, "stp": cmd.stp,
            "status": C.NEW, "time": r.now, "update_time": r.now, "stop_price": cmd.stop_price,
            "working_type": cmd.working_type, "price_protect": cmd.price_protect,
            "close_position": cmd.close_position, "activation_price": cmd.activation_price,
            "callback_rate": cmd.callback_rate}
    return order_json(f, view)


def _regular_view(gw, account_id: int, sym: str, oid: int, cid: str):
    """The order a /fapi/v1/order call names: algo orders do not exist there."""
    if oid > INT_CAP or len(cid) > 64:
        return None
    view = gw.venue.order(account_id, sym, oid, cid)
    if view is None or (view["order_type"] in CONDITIONAL_CODES and is_algo(gw, view["order_id"])):
        return None
    if legacy_child(gw, view["order_id"]):
        # a legacy stop's regular order shares its client id: the stop is what the client placed
        parent = gw.venue.order(account_id, sym, gw.projection.parent_of[view["order_id"]])
        if parent is not None:
            return parent
    return view


def _working_id(view: dict) -> int:
    """The order a cancel must reach: a triggered legacy stop lives on as its regular order."""
    if view["order_type"] in CONDITIONAL_CODES and view["status"] == C.TRIGGERED and view["new_order_id"]:
        return view["new_order_id"]
    return view["order_id"]


def _order_ref(p: Params) -> tuple[int, str]:
    v = p._values.get("orderId")
    if v and _INT_FULL(v) is not None and int(v) <= LONG_MAX:
        # the common case, written out: require_one_of finds orderId first, get_int accepts it
        p._read.add("orderId")
        return int(v), ""
    name = p.require_one_of("orderId", "origClientOrderId")
    if name == "orderId":
        return p.get_int("orderId", required=True), ""
    cid = p.get_str("origClientOrderId", required=True)
    return 0, cid


async def cancel_order(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    oid, cid = _order_ref(p)
    if oid > INT_CAP or len(cid) > 64:
        raise Processing.UNKNOWN_ORDER()
    view = _regular_view(gw, r.account_id, sym, oid, cid)
    if view is None:
        raise Processing.UNKNOWN_ORDER()
    accepted(await gw.submit(CancelOrder(r.account_id, sym, _working_id(view), "")))
    view = gw.venue.order(r.account_id, sym, view["order_id"])
    if view is None:
        raise Processing.UNKNOWN_ORDER()
    return order_json(f, resolve_legacy(gw, r.account_id, view))


async def modify_order(gw, r: Req):
    return await _modify(gw, r.params, r.account_id)


async def _modify(gw, p: Params, account_id: int):
    sym, f = symbol_of(gw, p)
    oid, cid = _order_ref(p)
    side = p.side()
    qty = p.get_decimal("quantity", required=True)
    price = p.get_decimal("price", required=True)
    pm = p.price_match(default="NONE")
    if pm != "NONE":
        raise errors.invalid_parameter("priceMatch")
    inst = gw.instruments[sym]
    lots = to_lots(f, qty, max_lots=inst.max_qty_lots)
    ticks = to_ticks(f, price, max_ticks=inst.max_price_ticks)
    view = _regular_view(gw, account_id, sym, oid, cid)
    if view is None or view["status"] not in OPEN_STATUSES:
        raise Processing.NO_SUCH_ORDER()
    if view["order_type"] != C.LIMIT:
        raise Execution.LIMIT_ORDER_ONLY()
    if _SIDE[side] != view["side"]:
        raise errors.invalid_parameter("side")
    accepted(await gw.submit(ModifyOrder(account_id, sym, view["order_id"], ticks, lots, "")))
    view = gw.venue.order(account_id, sym, view["order_id"])
    out = order_json(f, view)
    out["pair"] = sym
    out["cumBase"] = out["executedQty"]
    return out


async def get_order(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    oid, cid = _order_ref(p)
    view = _regular_view(gw, r.account_id, sym, oid, cid)
    if view is None:
        raise Processing.NO_SUCH_ORDER()
    return order_json(f, resolve_legacy(gw, r.account_id, view))


async def open_order(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    oid, cid = _order_ref(p)
    view = _regular_view(gw, r.account_id, sym, oid, cid)
    view = resolve_legacy(gw, r.account_id, view) if view is not None else None
    if view is None or view["status"] not in OPEN_STATUSES:
        raise Processing.NO_SUCH_ORDER()
    return order_json(f, view)


async def open_orders(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    fmts = gw.formats
    out = []
    for o in gw.venue.open_orders(r.account_id, sym):
        if o["order_type"] in CONDITIONAL_CODES and is_algo(gw, o["order_id"]):
            continue
        if legacy_child(gw, o["order_id"]):
            # a triggered legacy stop still working: shown under the stop's id
            parent = gw.venue.order(r.account_id, o["symbol"], gw.projection.parent_of[o["order_id"]])
            if parent is None:
                continue
            o = resolve_legacy(gw, r.account_id, parent)
        out.append(order_json(fmts[o["symbol"]], o))
    return out


async def cancel_all(gw, r: Req):
    sym, f = symbol_of(gw, r.params)
    accepted(await gw.submit(CancelAllOrders(r.account_id, sym)))
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


async def all_orders(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    from_id = p.get_int("orderId")
    start, end = time_range(p)
    limit = limit_of(p, 500, 1000)
    ids = gw.projection.order_ids.get((r.account_id, sym), ())
    out = []
    venue = gw.venue
    algo = gw.projection.algo_ids
    for oid in ids:
        if (from_id is not None and oid < from_id) or oid in algo or legacy_child(gw, oid):
            continue
        v = venue.order(r.account_id, sym, oid)
        if v is None:
            continue
        v = resolve_legacy(gw, r.account_id, v)
        if start is not None and v["time"] < start:
            continue
        if end is not None and v["time"] > end:
            continue
        out.append(v)
    out = out[:limit] if from_id is not None else out[-limit:]
    res = []
    force = gw.projection.force_orders.get(r.account_id, {})
    for v in out:
        rec = force.get(v["order_id"]) if v["order_type"] == C.LIQUIDATION else None
        if rec is not None:        # the liquidation order as forceOrders shows it (book + takeover + ADL)
            from exchange.gateway.rest.account import force_order_json
            o = force_order_json(gw, rec)
            o.update({"cumQty": o["executedQty"], "priceMatch": "NONE", "selfTradePreventionMode": "NONE",
                      "goodTillDate": 0, "priceProtect": False})
        else:
            o = order_json(f, v)
        o["pair"] = sym
        o["cumBase"] = o["executedQty"]
        res.append(o)
    return res


async def user_trades(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    order_id = p.get_int("orderId")
    from_id = p.get_int("fromId")
    start, end = time_range(p)
    if from_id is not None and (start is not None or end is not None):
        raise Request.OPTIONAL_PARAMS_BAD_COMBO()
    if start is not None and end is not None and end - start > 7 * 86_400_000:
        raise Orders41.INVALID_TIME_INTERVAL(7)
    limit = limit_of(p, 500, 1000)
    rows = [t for t in gw.projection.fills.get(r.account_id, ()) if t[2] == sym]
    if order_id is not None:
        rows = [t for t in rows if t[1] == order_id]
    if from_id is not None:
        rows = [t for t in rows if t[0] >= from_id][:limit]
    else:
        if start is not None:
            rows = [t for t in rows if t[11] >= start]
        if end is not None:
            rows = [t for t in rows if t[11] <= end]
        rows = rows[:limit] if start is not None else rows[-limit:]
    out = []
    for (tid, oid, s, side, ps, price, qty, quote, maker, fee, pnl, ts) in rows:
        out.append({"buyer": side == C.BUY, "commission": money(fee), "commissionAsset": "USDT",
                    "id": tid, "maker": bool(maker), "orderId": oid, "price": f.price(price),
                    "qty": f.qty(qty), "quoteQty": money(quote), "realizedPnl": money(pnl),
                    "side": C.SIDE_NAMES[side], "positionSide": C.POSITION_SIDE_NAMES.get(ps, "BOTH"),
                    "symbol": s, "time": ts})
    return out


# ------------------------------------------------------------------ batches
def _batch_list(p: Params, *names: str, max_items: int = 5) -> list:
    name = p.first_present(*names)
    if name is None:
        raise errors.mandatory_param(names[0])
    raw = p.get_str(name)
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.invalid_parameter(names[0]) from None
    if not isinstance(items, list) or not items:
        raise errors.invalid_parameter(names[0])
    if len(items) > max_items:
        raise Filters.INVALID_BATCH_PLACE_ORDER_SIZE(len(items)) if names[0] == "batchOrders" \
            else errors.invalid_parameter(names[0])
    return items


def _item_params(item) -> Params:
    if not isinstance(item, dict):
        raise errors.invalid_parameter("batchOrders")
    return Params.from_mapping({str(k): (v if isinstance(v, str) else
                                         ("true" if v is True else "false" if v is False else
                                          "" if v is None else str(v)))
                                for k, v in item.items()})


async def batch_orders(gw, r: Req):
    items = _batch_list(r.params, "batchOrders")
    prepared: list = []
    for item in items:
        try:
            prepared.append(parse_new_order(gw, _item_params(item), r.account_id))
        except BinanceError as e:
            prepared.append(e)

    async def one(x):
        if isinstance(x, BinanceError):
            return x.to_body()
        try:
            return await place(gw, *x)
        except BinanceError as e:
            return e.to_body()

    return list(await asyncio.gather(*(one(x) for x in prepared)))


async def batch_cancel(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    if p.first_present("orderIdList", "orderidlist") is not None:
        ids = _batch_list(p, "orderIdList", "orderidlist", max_items=10)
        refs = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, str)) or not str(i).isdigit():
                raise errors.invalid_parameter("orderIdList")
            refs.append((int(i), ""))
    else:
        cids = _batch_list(p, "origClientOrderIdList", "origclientorderidlist", max_items=10)
        refs = [(0, str(c)) for c in cids]

    async def one(ref):
        oid, cid = ref
        view = _regular_view(gw, r.account_id, sym, oid, cid)
        if view is None:
            return Processing.UNKNOWN_ORDER().to_body()
        res = await gw.submit(CancelOrder(r.account_id, sym, _working_id(view), ""))
        rej = first_rejection(res.events)
        if rej is not None:
            return {"code": rej.code, "msg": rej.msg}
        view = gw.venue.order(r.account_id, sym, view["order_id"])
        return order_json(f, resolve_legacy(gw, r.account_id, view)) if view is not None \
            else Processing.UNKNOWN_ORDER().to_body()

    return list(await asyncio.gather(*(one(x) for x in refs)))


async def batch_modify(gw, r: Req):
    """PUT /fapi/v1/batchOrders: up to 5 modifications, answered in input order."""
    items = _batch_list(r.params, "batchOrders")

    async def one(item):
        try:
            return await _modify(gw, _item_params(item), r.account_id)
        except BinanceError as e:
            return e.to_body()

    return list(await asyncio.gather(*(one(x) for x in items)))


# ---------------------------------------------------------- countdownCancelAll
class Countdowns:
    """``POST /fapi/v1/countdownCancelAll``: a dead man's switch per (account, symbol).

    Each call re-arms the timer; when it runs out every open order of the symbol
    is canceled (a CancelAllOrders command through the sequencer, so journaled);
    ``countdownTime=0`` disarms it.  The countdown runs in wall time (the bot's
    heartbeat is real time), whatever the venue clock."""

    def __init__(self, gw) -> None:
        self.gw = gw
        self.timers: dict[tuple[int, str], asyncio.TimerHandle] = {}
        self.fired = 0

    def arm(self, account_id: int, symbol: str, ms: int) -> None:
        key = (account_id, symbol)
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        if ms > 0:
            loop = asyncio.get_running_loop()
            self.timers[key] = loop.call_later(ms / 1000.0, self._fire, key)

    def _fire(self, key) -> None:
        self.timers.pop(key, None)
        self.fired += 1
        asyncio.get_running_loop().create_task(self._cancel(key))

    async def _cancel(self, key) -> None:
        try:
            await self.gw.submit(CancelAllOrders(key[0], key[1]))
        except Exception:  # the sequencer stopped: nothing more can be canceled
            pass

    def stop(self) -> None:
        for h in self.timers.values():
            h.cancel()
        self.timers.clear()


async def countdown_cancel_all(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    ms = p.get_int("countdownTime", required=True)
    if ms < 0 or ms > 86_400_000 * 30:
        raise errors.invalid_parameter("countdownTime")
    gw.countdowns.arm(r.account_id, sym, ms)
    return {"symbol": sym, "countdownTime": str(ms)}


def register(gw) -> None:
    gw.countdowns = Countdowns(gw)
    gw.route("PUT", "/fapi/v1/batchOrders", batch_modify)
    gw.route("POST", "/fapi/v1/countdownCancelAll", countdown_cancel_all)
    gw.route("POST", "/fapi/v1/order", new_order)
    gw.route("POST", "/fapi/v1/order/test", test_order)
    gw.route("PUT", "/fapi/v1/order", modify_order)
    gw.route("DELETE", "/fapi/v1/order", cancel_order)
    gw.route("GET", "/fapi/v1/order", get_order)
    gw.route("GET", "/fapi/v1/openOrder", open_order)
    gw.route("GET", "/fapi/v1/openOrders", open_orders)
    gw.route("DELETE", "/fapi/v1/allOpenOrders", cancel_all)
    gw.route("GET", "/fapi/v1/allOrders", all_orders)
    gw.route("GET", "/fapi/v1/userTrades", user_trades)
    gw.route("POST", "/fapi/v1/batchOrders", batch_orders)
    gw.route("DELETE", "/fapi/v1/batchOrders", batch_cancel)


__all__ = ["register", "parse_new_order", "place", "Optional"]
