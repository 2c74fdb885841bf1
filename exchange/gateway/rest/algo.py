"""Conditional orders (spec §7.4): STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET,
TRAILING_STOP_MARKET - on the Algo Order API and, legacy, on ``/fapi/v1/order``.

The venue has one kind of conditional order: an order in the trigger index that,
when its working price crosses, is closed with status TRIGGERED and becomes a
regular LIMIT / MARKET order (``new_order_id``).  The gateway shows it two ways,
by the endpoint it was placed on:

* **Algo Order API** (ccxt, python-binance): ``POST /fapi/v1/algoOrder`` ->
  ``algoId`` = the venue order id; ``GET/DELETE algoOrder``, ``openAlgoOrders``,
  ``allAlgoOrders``, ``DELETE algoOpenOrders``; user stream ``ALGO_UPDATE``
  (NEW -> TRIGGERED with ``ai`` = the regular order's id -> FINISHED when that
  order is done; CANCELED / EXPIRED / REJECTED with ``rm``).  The triggered
  regular order is an ordinary order (its own id, ORDER_TRADE_UPDATEs,
  openOrders, allOrders); algo orders are not in openOrders / allOrders and are
  unknown to ``/fapi/v1/order`` (-2013 / -2011), as on Binance.
* **Legacy** ``/fapi/v1/order`` (binance-futures-connector; Binance's behaviour
  before 2025-12-09, on by default, ``Gateway.legacy_conditional_orders``):
  ``stopPrice`` / ``activationPrice`` / ``callbackRate``; the order keeps its
  ``orderId`` through the trigger - queries show the triggered regular order's
  state under the conditional order's id with ``origType`` the conditional type,
  and the user stream sends ``EXPIRED`` for the stop then ``NEW``/``TRADE`` with
  ``i`` = the stop's id, ``o`` = MARKET/LIMIT, ``ot`` = the stop's type.  A
  trigger the venue refuses is ``CONDITIONAL_ORDER_TRIGGER_REJECT``.  With the
  switch off, conditional types on ``/fapi/v1/order`` answer -4120.

Which endpoint an order came from is gateway knowledge, not venue state: the
projection records algo order ids (in memory, and appended to
the journal (``NewOrder.algo``) so a restarted server keeps showing them as algo
orders).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from exchange.contract import codes as C
from exchange.contract.commands import CancelOrder, NewOrder

from exchange.gateway import errors
from exchange.gateway.common import (INT_CAP, Req, accepted, limit_of, listed_order_type, symbol_of, time_range,
                                     to_lots, to_ticks)
from exchange.gateway.errors import Processing, Request
from exchange.gateway.format import callback_str, order_json
from exchange.gateway.params import Params

_SIDE = {"BUY": C.BUY, "SELL": C.SELL}
_TIF = {"GTC": C.GTC, "IOC": C.IOC, "FOK": C.FOK, "GTX": C.GTX}
_PSIDE = {"BOTH": C.BOTH, "LONG": C.LONG, "SHORT": C.SHORT}
_STP = {"NONE": C.STP_NONE, "EXPIRE_TAKER": C.STP_EXPIRE_TAKER, "EXPIRE_MAKER": C.STP_EXPIRE_MAKER,
        "EXPIRE_BOTH": C.STP_EXPIRE_BOTH}
_WT = {"CONTRACT_PRICE": C.CONTRACT_PRICE, "MARK_PRICE": C.MARK_PRICE}
TYPES = {"STOP": C.STOP, "STOP_MARKET": C.STOP_MARKET, "TAKE_PROFIT": C.TAKE_PROFIT,
         "TAKE_PROFIT_MARKET": C.TAKE_PROFIT_MARKET, "TRAILING_STOP_MARKET": C.TRAILING_STOP_MARKET}
CONDITIONAL_CODES = frozenset(C.CONDITIONAL_TYPES)
OPEN = (C.NEW, C.PARTIALLY_FILLED)
CANCEL_ALL_DONE = {"code": 200, "msg": "The operation of cancel all open order is done."}


def _callback_units(p: Params, name: str) -> int:
    d = p.get_decimal(name, required=True)
    units = d * 1_000_000            # percent -> RATE_SCALE (1 % = 1_000_000)
    if units != units.to_integral_value() or units > INT_CAP:
        raise errors.Orders41.INVALID_CALLBACK_RATE()
    return int(units)


def parse_conditional(gw, p: Params, account_id: int, otype: str, *, algo: bool,
                      stp_default: str) -> NewOrder:
    """Params of a conditional order (legacy names, or the algo names when ``algo``) -> NewOrder."""
    sym, f = symbol_of(gw, p)
    side = p.side()
    code = TYPES[otype]
    listed_order_type(gw.instruments[sym], otype, p)
    pside = p.position_side()
    tif = p.time_in_force()
    reduce_only = p.get_bool("reduceOnly", default=False)
    close_position = p.get_bool("closePosition", default=False)
    price_protect = p.get_bool("priceProtect", default=False)
    wt = p.working_type()
    cid = p.client_order_id("clientAlgoId" if algo else "newClientOrderId")
    if not algo:
        p.new_order_resp_type()
    stp = p.stp_mode(default=stp_default)
    pm = p.price_match(default="NONE")
    if pm != "NONE":
        raise errors.invalid_parameter("priceMatch")
    inst = gw.instruments[sym]
    limit = code in (C.STOP, C.TAKE_PROFIT)
    trailing = code == C.TRAILING_STOP_MARKET
    trigger_name = "triggerPrice" if algo else "stopPrice"
    activation_name = "activatePrice" if algo else "activationPrice"
    qty = p.get_decimal("quantity", required=limit or trailing or not close_position)
    price = p.get_decimal("price", required=limit)
    stop = None if trailing else p.get_decimal(trigger_name, required=True)
    activation = p.get_decimal(activation_name) if trailing else None
    callback = _callback_units(p, "callbackRate") if trailing else 0
    if limit:
        if tif is not None and tif not in _TIF:
            raise Request.INVALID_TIF()
        tif_code = _TIF[tif or "GTC"]
    else:
        tif_code = C.GTC
    max_lots = inst.max_qty_lots if limit else inst.market_max_qty_lots
    lots = to_lots(f, qty, max_lots=max_lots) if qty is not None else 0
    ticks = to_ticks(f, price, max_ticks=inst.max_price_ticks) if price is not None else 0
    stop_ticks = to_ticks(f, stop, max_ticks=inst.max_price_ticks) if stop is not None else 0
    act_ticks = to_ticks(f, activation, max_ticks=inst.max_price_ticks) if activation is not None else 0
    return NewOrder(account_id, sym, _SIDE[side], code, tif_code, lots, ticks, 1 if reduce_only else 0,
                    _PSIDE[pside], cid or "", _STP[stp], stop_ticks, _WT[wt], 1 if price_protect else 0,
                    1 if close_position else 0, act_ticks, callback, 1 if algo else 0)


# ------------------------------------------------------------------ views
def is_algo(gw, order_id: int) -> bool:
    return order_id in gw.projection.algo_ids


def is_conditional(view: dict) -> bool:
    return view["order_type"] in CONDITIONAL_CODES


def legacy_child(gw, order_id: int) -> bool:
    """True for the regular order a legacy (non-algo) conditional order became."""
    parent = gw.projection.parent_of.get(order_id)
    return parent is not None and parent not in gw.projection.algo_ids


def resolve_legacy(gw, account_id: int, view: dict) -> dict:
    """A legacy conditional order as Binance shows it: once triggered, the state of the
    regular order it became, under the conditional order's id."""
    if view["status"] != C.TRIGGERED or view["order_type"] not in CONDITIONAL_CODES:
        return view
    out = dict(view)
    child = gw.venue.order(account_id, view["symbol"], view["new_order_id"]) if view["new_order_id"] else None
    out["orig_type"] = view["order_type"]
    if child is None:
        out["status"] = C.EXPIRED
        return out
    out.update(status=child["status"], filled_qty=child["filled_qty"], cum_quote=child["cum_quote"],
               update_time=child["update_time"], qty=child["qty"] or view["qty"])
    return out


def find_order(gw, account_id: int, order_id: int, client_id: str, symbol: Optional[str] = None):
    """An order view by id or client id, in ``symbol`` or any symbol."""
    if order_id > INT_CAP or len(client_id) > 64:
        return None
    for sym in ([symbol] if symbol else gw.formats):
        v = gw.venue.order(account_id, sym, order_id, client_id)
        if v is not None:
            return v
    return None


def algo_status(gw, account_id: int, view: dict) -> str:
    st = view["status"]
    if st == C.TRIGGERED:
        if not view["new_order_id"]:
            return "REJECTED"
        child = gw.venue.order(account_id, view["symbol"], view["new_order_id"])
        if child is not None and child["status"] in OPEN:
            return "TRIGGERED"
        return "FINISHED"
    if st == C.CANCELED:
        return "CANCELED"
    if st in (C.EXPIRED, C.EXPIRED_IN_MATCH):
        return "EXPIRED"
    return "NEW"


def algo_json(gw, account_id: int, view: dict, *, query: bool = False) -> dict:
    f = gw.formats[view["symbol"]]
    code = view["order_type"]
    triggered = view["status"] == C.TRIGGERED
    out = {
        "algoId": view["order_id"], "clientAlgoId": view["client_order_id"], "algoType": "CONDITIONAL",
        "orderType": C.ORDER_TYPE_NAMES[code], "symbol": view["symbol"], "side": C.SIDE_NAMES[view["side"]],
        "positionSide": C.POSITION_SIDE_NAMES.get(view["position_side"], "BOTH"),
        "timeInForce": C.TIF_NAMES.get(view["time_in_force"], "GTC"), "quantity": f.qty(view["qty"]),
        "algoStatus": algo_status(gw, account_id, view), "triggerPrice": f.price(view["stop_price"]),
        "price": f.price(view["price"]), "icebergQuantity": None,
        "selfTradePreventionMode": C.STP_NAMES.get(view["stp"], "NONE"),
        "workingType": C.WORKING_TYPE_NAMES.get(view["working_type"], "CONTRACT_PRICE"),
        "priceMatch": "NONE", "closePosition": bool(view["close_position"]),
        "priceProtect": bool(view["price_protect"]), "reduceOnly": bool(view["reduce_only"]),
    }
    if code == C.TRAILING_STOP_MARKET:
        out["activatePrice"] = f.price(view["activation_price"])
        out["callbackRate"] = callback_str(view["callback_rate"])
    out.update({"createTime": view["time"], "updateTime": view["update_time"],
                "triggerTime": view["update_time"] if triggered else 0, "goodTillDate": 0})
    if query:
        child = gw.venue.order(account_id, view["symbol"], view["new_order_id"]) \
            if triggered and view["new_order_id"] else None
        out.update({
            "actualOrderId": str(child["order_id"]) if child else "",
            "actualPrice": f.avg(child["cum_quote"], child["filled_qty"]) if child else "0",
            "actualType": C.ORDER_TYPE_NAMES.get(child["order_type"], "") if child else "",
            "actualQty": f.qty(child["filled_qty"]) if child else "0",
            "tpTriggerPrice": "0", "tpPrice": "0", "slTriggerPrice": "0", "slPrice": "0", "tpOrderType": ""})
    return out


# --------------------------------------------------------------- handlers
async def new_algo_order(gw, r: Req):
    p = r.params
    algo_type = p.get_str("algoType", required=True)
    if algo_type != "CONDITIONAL":
        raise errors.invalid_parameter("algoType")
    otype = p.order_type()
    if otype not in TYPES:
        raise Request.INVALID_ORDER_TYPE()
    cmd = parse_conditional(gw, p, r.account_id, otype, algo=True, stp_default="EXPIRE_MAKER")
    res = accepted(await gw.submit(cmd))
    gw.orders_placed += 1
    oid = res.events[0].order_id
    view = gw.venue.order(r.account_id, cmd.symbol, oid)
    return algo_json(gw, r.account_id, view)


def _algo_ref(p: Params) -> tuple[int, str]:
    name = p.require_one_of("algoId", "clientAlgoId")
    if name == "algoId":
        return p.get_int("algoId", required=True), ""
    return 0, p.get_str("clientAlgoId", required=True)


def _find_algo(gw, account_id: int, p: Params):
    oid, cid = _algo_ref(p)
    sym = p.get_str("symbol")
    if sym is not None and sym not in gw.formats:
        raise errors.invalid_symbol()
    v = find_order(gw, account_id, oid, cid, sym)
    if v is not None and cid and not is_conditional(v):
        # the triggered regular order carries the algo order's client id
        parent = gw.projection.parent_of.get(v["order_id"])
        if parent is not None:
            v = gw.venue.order(account_id, v["symbol"], parent)
    if v is None or not is_conditional(v) or not is_algo(gw, v["order_id"]):
        return None
    return v


async def cancel_algo_order(gw, r: Req):
    v = _find_algo(gw, r.account_id, r.params)
    if v is None or v["status"] != C.NEW:
        raise Processing.UNKNOWN_ORDER()
    accepted(await gw.submit(CancelOrder(r.account_id, v["symbol"], v["order_id"], "")))
    return {"algoId": v["order_id"], "clientAlgoId": v["client_order_id"], "code": "200", "msg": "success"}


async def get_algo_order(gw, r: Req):
    v = _find_algo(gw, r.account_id, r.params)
    if v is None:
        raise Processing.NO_SUCH_ORDER()
    return algo_json(gw, r.account_id, v, query=True)


async def open_algo_orders(gw, r: Req):
    p = r.params
    sym, _ = symbol_of(gw, p, required=False)
    at = p.get_str("algoType")
    if at is not None and at != "CONDITIONAL":
        raise errors.invalid_parameter("algoType")
    want = p.get_int("algoId")
    out = []
    for v in gw.venue.open_orders(r.account_id, sym):
        if is_conditional(v) and is_algo(gw, v["order_id"]) and (want is None or v["order_id"] == want):
            out.append(algo_json(gw, r.account_id, v, query=True))
    return out


async def all_algo_orders(gw, r: Req):
    p = r.params
    sym, _ = symbol_of(gw, p)
    from_id = p.get_int("algoId")
    start, end = time_range(p)
    if start is not None and end is not None and end - start > 7 * 86_400_000:
        raise errors.invalid_parameter("endTime")
    page = p.get_int("page", default=1)
    if page < 1:
        raise errors.invalid_parameter("page")
    limit = limit_of(p, 500, 1000)
    ids = gw.projection.order_ids.get((r.account_id, sym), ())
    algo = gw.projection.algo_ids
    rows = []
    for oid in ids:
        if oid not in algo or (from_id is not None and oid < from_id):
            continue
        v = gw.venue.order(r.account_id, sym, oid)
        if v is None:
            continue
        if (start is not None and v["time"] < start) or (end is not None and v["time"] > end):
            continue
        rows.append(v)
    if from_id is None and start is None and page == 1:
        rows = rows[-limit:]
    else:
        rows = rows[(page - 1) * limit:page * limit]
    return [algo_json(gw, r.account_id, v, query=True) for v in rows]


async def cancel_algo_open_orders(gw, r: Req):
    sym, _ = symbol_of(gw, r.params)
    for v in gw.venue.open_orders(r.account_id, sym):
        if is_conditional(v) and is_algo(gw, v["order_id"]):
            await gw.submit(CancelOrder(r.account_id, sym, v["order_id"], ""))
    return dict(CANCEL_ALL_DONE)


def legacy_order_json(gw, account_id: int, view: dict) -> dict:
    f = gw.formats[view["symbol"]]
    return order_json(f, resolve_legacy(gw, account_id, view))


def register(gw) -> None:
    gw.route("POST", "/fapi/v1/algoOrder", new_algo_order)
    gw.route("DELETE", "/fapi/v1/algoOrder", cancel_algo_order)
    gw.route("GET", "/fapi/v1/algoOrder", get_algo_order)
    gw.route("GET", "/fapi/v1/openAlgoOrders", open_algo_orders)
    gw.route("GET", "/fapi/v1/allAlgoOrders", all_algo_orders)
    gw.route("DELETE", "/fapi/v1/algoOpenOrders", cancel_algo_open_orders)


__all__ = ["register", "parse_conditional", "resolve_legacy", "algo_json", "is_algo", "legacy_child",
           "find_order", "TYPES", "Decimal"]
