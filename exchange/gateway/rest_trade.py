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

from exchange.venue import codes as C
from exchange.venue.commands import CancelAllOrders, CancelOrder, ModifyOrder, NewOrder
from exchange.venue.events import CommandRejected, OrderAccepted, OrderRejected

from . import errors
from .common import INT_CAP, Req, limit_of, rejection, symbol_of, time_range, to_lots, to_ticks
from .errors import BinanceError, Execution, Filters, Orders41, Processing, Request
from .format import money, order_json
from .params import Params

_SIDE = {"BUY": C.BUY, "SELL": C.SELL}
_TIF = {"GTC": C.GTC, "IOC": C.IOC, "FOK": C.FOK, "GTX": C.GTX}
_PSIDE = {"BOTH": C.BOTH, "LONG": C.LONG, "SHORT": C.SHORT}
_STP = {"NONE": C.STP_NONE, "EXPIRE_TAKER": C.STP_EXPIRE_TAKER, "EXPIRE_MAKER": C.STP_EXPIRE_MAKER,
        "EXPIRE_BOTH": C.STP_EXPIRE_BOTH}
CONDITIONAL = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})
OPEN_STATUSES = (C.NEW, C.PARTIALLY_FILLED)
DEFAULT_STP = "EXPIRE_MAKER"      # what Binance shows when the parameter is not sent


def parse_new_order(gw, p: Params, account_id: int):
    """Params -> (NewOrder, newOrderRespType, SymbolFormat).  Raises BinanceError."""
    sym, f = symbol_of(gw, p)
    side = p.side()
    otype = p.order_type()
    if otype in CONDITIONAL:
        raise Orders41.STOP_ORDER_SWITCH_ALGO()
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
    qty = p.get_decimal("quantity", required=True)
    price = p.get_decimal("price")
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


def _first_rejection(events):
    for ev in events:
        t = type(ev)
        if t is OrderRejected or t is CommandRejected:
            return ev
    return None


def _ack_json(f, acc: OrderAccepted, ts: int) -> dict:
    view = {"order_id": acc.order_id, "symbol": acc.symbol, "client_order_id": acc.client_order_id,
            "side": acc.side, "order_type": acc.order_type, "time_in_force": acc.time_in_force,
            "price": acc.price, "qty": acc.qty, "filled_qty": 0, "cum_quote": 0,
            "reduce_only": acc.reduce_only, "position_side": acc.position_side, "stp": acc.stp,
            "status": C.NEW, "time": ts, "update_time": ts}
    return order_json(f, view)


async def place(gw, cmd: NewOrder, resp_type: str, f) -> dict:
    res = await gw.submit(cmd)
    if res.error:
        raise errors.unknown_error()
    rej = _first_rejection(res.events)
    if rej is not None:
        raise rejection(rej)
    acc = res.events[0]
    gw.orders_placed += 1
    if resp_type == "ACK":
        return _ack_json(f, acc, res.ts)
    view = gw.venue.order(cmd.account_id, cmd.symbol, acc.order_id)
    if view is None:       # evicted already (history limit): fall back to the acknowledgement
        return _ack_json(f, acc, res.ts)
    return order_json(f, view)


async def new_order(gw, r: Req):
    cmd, resp_type, f = parse_new_order(gw, r.params, r.account_id)
    return await place(gw, cmd, resp_type, f)


async def test_order(gw, r: Req):
    cmd, resp_type, f = parse_new_order(gw, r.params, r.account_id)
    view = {"order_id": 0, "symbol": cmd.symbol, "client_order_id": cmd.client_order_id or "",
            "side": cmd.side, "order_type": cmd.order_type, "time_in_force": cmd.time_in_force,
            "price": cmd.price, "qty": cmd.qty, "filled_qty": 0, "cum_quote": 0,
            "reduce_only": cmd.reduce_only, "position_side": cmd.position_side, "stp": cmd.stp,
            "status": C.NEW, "time": r.now, "update_time": r.now}
    return order_json(f, view)


def _order_ref(p: Params) -> tuple[int, str]:
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
    res = await gw.submit(CancelOrder(r.account_id, sym, oid, cid))
    rej = _first_rejection(res.events)
    if rej is not None:
        raise rejection(rej)
    ev = res.events[0]
    view = gw.venue.order(r.account_id, sym, ev.order_id)
    if view is None:
        raise Processing.UNKNOWN_ORDER()
    return order_json(f, view)


async def modify_order(gw, r: Req):
    p = r.params
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
    if oid > INT_CAP or len(cid) > 64:
        raise Processing.NO_SUCH_ORDER()
    view = gw.venue.order(r.account_id, sym, oid, cid)
    if view is None or view["status"] not in OPEN_STATUSES:
        raise Processing.NO_SUCH_ORDER()
    if view["order_type"] != C.LIMIT:
        raise Execution.LIMIT_ORDER_ONLY()
    if _SIDE[side] != view["side"]:
        raise errors.invalid_parameter("side")
    res = await gw.submit(ModifyOrder(r.account_id, sym, view["order_id"], ticks, lots, ""))
    rej = _first_rejection(res.events)
    if rej is not None:
        raise rejection(rej)
    view = gw.venue.order(r.account_id, sym, view["order_id"])
    out = order_json(f, view)
    out["pair"] = sym
    out["cumBase"] = out["executedQty"]
    return out


async def get_order(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    oid, cid = _order_ref(p)
    view = gw.venue.order(r.account_id, sym, oid, cid) if oid <= INT_CAP else None
    if view is None:
        raise Processing.NO_SUCH_ORDER()
    return order_json(f, view)


async def open_order(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    oid, cid = _order_ref(p)
    view = gw.venue.order(r.account_id, sym, oid, cid) if oid <= INT_CAP else None
    if view is None or view["status"] not in OPEN_STATUSES:
        raise Processing.NO_SUCH_ORDER()
    return order_json(f, view)


async def open_orders(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    fmts = gw.formats
    return [order_json(fmts[o["symbol"]], o) for o in gw.venue.open_orders(r.account_id, sym)]


async def cancel_all(gw, r: Req):
    sym, f = symbol_of(gw, r.params)
    res = await gw.submit(CancelAllOrders(r.account_id, sym))
    rej = _first_rejection(res.events)
    if rej is not None:
        raise rejection(rej)
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
    for oid in ids:
        if from_id is not None and oid < from_id:
            continue
        v = venue.order(r.account_id, sym, oid)
        if v is None:
            continue
        if start is not None and v["time"] < start:
            continue
        if end is not None and v["time"] > end:
            continue
        out.append(v)
    out = out[:limit] if from_id is not None else out[-limit:]
    res = []
    for v in out:
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
        if oid > INT_CAP or len(cid) > 64:
            return Processing.UNKNOWN_ORDER().to_body()
        res = await gw.submit(CancelOrder(r.account_id, sym, oid, cid))
        rej = _first_rejection(res.events)
        if rej is not None:
            return {"code": rej.code, "msg": rej.msg}
        view = gw.venue.order(r.account_id, sym, res.events[0].order_id)
        return order_json(f, view) if view is not None else Processing.UNKNOWN_ORDER().to_body()

    return list(await asyncio.gather(*(one(x) for x in refs)))


def register(gw) -> None:
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
