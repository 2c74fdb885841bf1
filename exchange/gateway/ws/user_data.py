"""User data streams (spec §10): listen keys and ORDER_TRADE_UPDATE / ACCOUNT_UPDATE /
ACCOUNT_CONFIG_UPDATE / ALGO_UPDATE / MARGIN_CALL / CONDITIONAL_ORDER_TRIGGER_REJECT /
listenKeyExpired.

* Conditional orders: see ``conditional.py`` (ALGO_UPDATE for algo orders; a
  legacy stop's regular order is reported under the stop's id with ``ot``).
* Liquidation: the liquidation order (``c`` = ``autoclose-<id>``, ``o`` =
  LIQUIDATION) is reported by its fills with ``x`` = CALCULATED, including the
  part the insurance fund took over or that was auto-deleveraged; an ADL
  counterparty gets ``c`` = ``adl_autoclose``.  MARGIN_CALL precedes it;
  ACCOUNT_UPDATE (reason INSURANCE_CLEAR / ADL) follows.
* Funding: ACCOUNT_UPDATE ``m`` = FUNDING_FEE (``P`` only for isolated positions).

* ``POST /fapi/v1/listenKey`` returns the API key's valid listen key if it has one
  (extended by 60 minutes), else a new one - so python-binance's POST-every-5-minutes
  keepalive does not reconnect.
* ``PUT`` extends the key (with or without the ``listenKey`` parameter); unknown or
  expired -> 400 ``-1125``.  ``DELETE`` removes it (``{}``).
* Validity is 60 minutes of wall time after creation / last keepalive; on expiry
  the attached sockets get ``{"e":"listenKeyExpired",...}`` and nothing more.

Events are built from the venue's committed events alone (each order event
carries the order's fields; the projection keeps what spans commands: which
conditional orders came through the Algo API, a legacy stop's fields for its
regular order, hedge mode, the last mark price), once per account that has an
attached socket.  Nothing here asks the venue: an order that has already left
the venue's history when a deferred commit is published is still reported.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from typing import Optional

import orjson

from exchange.contract import codes as C
from exchange.contract.events import (
    BalanceChanged, LeverageChanged, MarginCall, MarginTypeChanged, OrderAccepted, OrderCanceled,
    OrderExpired, OrderFilled, OrderModified, OrderRejected, OrderTriggered, PositionChanged,
    PositionClosedOut,
)

from exchange.gateway.background import BackgroundTask
from exchange.gateway.common import Req
from exchange.gateway.errors import Request
from exchange.gateway.format import callback_str, money
from exchange.gateway.market_views import price8

# ACCOUNT_UPDATE ``m``: Binance's reason names; the venue's ADL close-out has none of its own
_REASONS = {**C.BALANCE_REASON_NAMES, C.R_ADL: "ORDER"}
_ORDER_EVENTS = (OrderAccepted, OrderFilled, OrderCanceled, OrderExpired, OrderModified)

TTL_MS = 3_600_000


def _wall() -> int:
    return time.time_ns() // 1_000_000


class ListenKey:
    __slots__ = ("key", "api_key", "account_id", "expires", "conns")

    def __init__(self, key: str, api_key: str, account_id: int, expires: int) -> None:
        self.key = key
        self.api_key = api_key
        self.account_id = account_id
        self.expires = expires
        self.conns: set = set()


class UserStreams:
    def __init__(self, gw, ttl_ms: int = TTL_MS) -> None:
        self.gw = gw
        self.ttl_ms = ttl_ms
        self.by_key: dict[str, ListenKey] = {}
        self.by_api: dict[str, ListenKey] = {}
        self.by_account: dict[int, set[ListenKey]] = {}
        self._loop = BackgroundTask(self._expiry_loop, "paperex-listenkey-expiry")
        self.events_sent = 0
        gw.route("POST", "/fapi/v1/listenKey", self.rest_create)
        gw.route("PUT", "/fapi/v1/listenKey", self.rest_keepalive)
        gw.route("DELETE", "/fapi/v1/listenKey", self.rest_delete)

    # --------------------------------------------------------------- keys
    def create(self, api_key: str, account_id: int) -> ListenKey:
        now = _wall()
        lk = self.by_api.get(api_key)
        if lk is not None and lk.expires > now:
            lk.expires = now + self.ttl_ms
            return lk
        if lk is not None:
            self._expire(lk)
        key = secrets.token_urlsafe(48)[:64]
        while key in self.by_key:
            key = secrets.token_urlsafe(48)[:64]
        lk = ListenKey(key, api_key, account_id, now + self.ttl_ms)
        self.by_key[key] = lk
        self.by_api[api_key] = lk
        self.by_account.setdefault(account_id, set()).add(lk)
        return lk

    def _valid(self, key: str) -> Optional[ListenKey]:
        lk = self.by_key.get(key)
        if lk is None or lk.expires <= _wall():
            return None
        return lk

    def _remove(self, lk: ListenKey) -> None:
        self.by_key.pop(lk.key, None)
        if self.by_api.get(lk.api_key) is lk:
            del self.by_api[lk.api_key]
        s = self.by_account.get(lk.account_id)
        if s is not None:
            s.discard(lk)
            if not s:
                del self.by_account[lk.account_id]
        for conn in list(lk.conns):
            conn.listen_keys.pop(lk.key, None)
        lk.conns.clear()

    def _expire(self, lk: ListenKey) -> None:
        now = self.gw.now()
        payload = orjson.dumps({"e": "listenKeyExpired", "E": now, "listenKey": lk.key})
        for conn in list(lk.conns):
            conn.send(self._wrap(conn, lk.key, payload))
        self._remove(lk)

    def expire_early(self, api_key: str) -> Optional[str]:
        """Expire the API key's listen key now (fault injection, faults.py): its sockets
        get listenKeyExpired and the key is invalid.  Returns the key, None if there was none."""
        lk = self.by_api.get(api_key)
        if lk is None:
            return None
        self._expire(lk)
        return lk.key

    # ------------------------------------------------------------ sockets
    def attach(self, conn, key: str) -> bool:
        lk = self._valid(key)
        if lk is None:
            return False
        lk.conns.add(conn)
        conn.listen_keys[key] = None
        return True

    def detach(self, conn, key: str) -> None:
        conn.listen_keys.pop(key, None)
        lk = self.by_key.get(key)
        if lk is not None:
            lk.conns.discard(conn)

    @staticmethod
    def _wrap(conn, key: str, raw: bytes) -> bytes:
        if conn.combined:
            return b'{"stream":"' + key.encode() + b'","data":' + raw + b"}"
        return raw

    def _send(self, account_id: int, payload: dict) -> None:
        raw = orjson.dumps(payload)
        for lk in self.by_account.get(account_id, ()):
            for conn in lk.conns:
                conn.send(self._wrap(conn, lk.key, raw))
                self.events_sent += 1

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = _wall()
            for lk in [lk for lk in self.by_key.values() if lk.expires <= now]:
                self._expire(lk)

    # --------------------------------------------------------------- REST
    async def rest_create(self, gw, r: Req):
        return {"listenKey": self.create(r.api_key, r.account_id).key}

    def _own_key(self, r: Req) -> ListenKey:
        key = r.params.get_str("listenKey")
        lk = self.by_api.get(r.api_key) if key is None else self.by_key.get(key)
        if lk is None or lk.api_key != r.api_key or lk.expires <= _wall():
            raise Request.INVALID_LISTEN_KEY()
        return lk

    async def rest_keepalive(self, gw, r: Req):
        lk = self._own_key(r)
        lk.expires = _wall() + self.ttl_ms
        return {"listenKey": lk.key}

    async def rest_delete(self, gw, r: Req):
        lk = self._own_key(r)
        self._remove(lk)
        return {}

    # ------------------------------------------------------------- events
    def on_executed(self, seq: int, ts: int, command, events: list, changes) -> None:
        by_account = self.by_account
        if not by_account:
            return
        proj = self.gw.projection
        algo_ids = proj.algo_ids
        parent_of = proj.parent_of
        i = 0
        n = len(events)
        while i < n:
            ev = events[i]
            t = type(ev)
            acct = getattr(ev, "account_id", None)
            if acct is None or acct not in by_account or not any(lk.conns for lk in by_account[acct]):
                i += 1
                continue
            if t in _ORDER_EVENTS:
                oid = ev.order_id
                if t is not OrderFilled and t is not OrderModified and oid in algo_ids:
                    self._algo_update(ev, ts, "CANCELED" if t is OrderCanceled else
                                      "EXPIRED" if t is OrderExpired else "NEW")
                else:
                    o = self._order_update(ev, t, ts)
                    if o is not None:
                        self._send(acct, {"e": "ORDER_TRADE_UPDATE", "E": ts, "T": ts, "o": o})
                    parent = parent_of.get(oid)
                    if parent is not None and parent in algo_ids and t is not OrderAccepted and \
                            t is not OrderModified and (t is not OrderFilled or ev.status == C.FILLED):
                        self._algo_update(proj.conditionals.get(parent), ts, "FINISHED", child=ev)
            elif t is OrderTriggered:
                if ev.order_id in algo_ids:
                    rm = ""
                    if not ev.new_order_id:
                        rej = _next_rejection(events, i + 1)
                        rm = rej.msg if rej is not None else "Order rejected"
                    self._algo_update(ev, ts, "TRIGGERED" if ev.new_order_id else "REJECTED", rm,
                                      child=_child_of(events, i + 1, ev.new_order_id))
                else:
                    o = self._order_update(ev, t, ts)
                    if o is not None:
                        self._send(acct, {"e": "ORDER_TRADE_UPDATE", "E": ts, "T": ts, "o": o})
                    if not ev.new_order_id:
                        rej = _next_rejection(events, i + 1)
                        self._send(acct, {"e": "CONDITIONAL_ORDER_TRIGGER_REJECT", "E": ts, "T": ts,
                                          "or": {"s": ev.symbol, "i": ev.order_id,
                                                 "r": rej.msg if rej is not None else "Order rejected"}})
            elif t is PositionClosedOut:
                o = self._closed_out_update(ev, ts)
                if o is not None:
                    self._send(acct, {"e": "ORDER_TRADE_UPDATE", "E": ts, "T": ts, "o": o})
            elif t is MarginCall:
                calls = [ev]
                j = i + 1
                while j < n and type(events[j]) is MarginCall and events[j].account_id == acct:
                    calls.append(events[j])
                    j += 1
                self._send(acct, self._margin_call(calls, ts))
                i = j
                continue
            elif t is BalanceChanged:
                positions = []
                j = i + 1
                while j < n and type(events[j]) is PositionChanged and events[j].account_id == acct:
                    positions.append(self._position(events[j]))
                    j += 1
                self._send(acct, {"e": "ACCOUNT_UPDATE", "E": ts, "T": ts, "a": {
                    "m": _REASONS.get(ev.reason, "ORDER"),
                    "B": [{"a": "USDT", "wb": money(ev.wallet_balance), "cw": money(ev.cross_wallet),
                           "bc": money(ev.balance_change)}],
                    "P": positions}})
                i = j
                continue
            elif t is PositionChanged:
                self._send(acct, {"e": "ACCOUNT_UPDATE", "E": ts, "T": ts, "a": {
                    "m": "ORDER", "B": [], "P": [self._position(ev)]}})
            elif t is LeverageChanged:
                self._send(acct, {"e": "ACCOUNT_CONFIG_UPDATE", "E": ts, "T": ts,
                                  "ac": {"s": ev.symbol, "l": ev.leverage}})
            elif t is MarginTypeChanged:
                f = self.gw.formats.get(ev.symbol)
                if f is not None:
                    sides = ("LONG", "SHORT") if proj.dual.get(acct) else ("BOTH",)
                    mt = "isolated" if ev.margin_type == C.ISOLATED else "cross"
                    self._send(acct, {"e": "ACCOUNT_UPDATE", "E": ts, "T": ts, "a": {
                        "m": "MARGIN_TYPE_CHANGE", "B": [],
                        "P": [{"s": ev.symbol, "pa": f.qty(0), "ep": "0.0", "bep": "0", "cr": money(0),
                               "up": money(0), "mt": mt, "iw": money(0), "ps": ps} for ps in sides]}})
            i += 1

    def _position(self, ev: PositionChanged) -> dict:
        gw = self.gw
        f = gw.formats[ev.symbol]
        mark = gw.projection.markets[ev.symbol].mark_price
        q = ev.qty
        signed_entry = ev.entry_notional if q >= 0 else -ev.entry_notional
        up = q * mark * f.unit - signed_entry if (mark and q) else 0
        entry = f.entry(ev.entry_notional, q)
        return {"s": ev.symbol, "pa": f.qty(q), "ep": entry, "bep": entry, "cr": money(ev.realized_pnl),
                "up": money(up), "mt": "isolated" if ev.margin_type == C.ISOLATED else "cross",
                "iw": money(ev.isolated_wallet), "ps": C.POSITION_SIDE_NAMES.get(ev.position_side, "BOTH")}

    def _margin_call(self, calls: list, ts: int) -> dict:
        gw = self.gw
        rows = []
        cw = calls[0].cross_wallet
        for ev in calls:
            f = gw.formats[ev.symbol]
            rows.append({"s": ev.symbol, "ps": C.POSITION_SIDE_NAMES.get(ev.position_side, "BOTH"),
                         "pa": f.qty(ev.qty), "mt": C.MARGIN_TYPE_NAMES.get(ev.margin_type, "CROSSED"),
                         "iw": money(ev.isolated_wallet), "mp": price8(f, ev.mark_price),
                         "up": money(ev.unrealized_pnl), "mm": money(ev.maint_margin)})
        return {"e": "MARGIN_CALL", "E": ts, "cw": money(cw), "p": rows}

    def _algo_update(self, cond, ts: int, status: str, rm: str = "", child=None) -> None:
        """ALGO_UPDATE of conditional order ``cond`` (an event of it carrying its fields, or its
        OrderAccepted); ``child``: an event of the regular order it became (FINISHED, TRIGGERED)."""
        if cond is None:
            return
        f = self.gw.formats.get(cond.symbol)
        if f is None:
            return
        view = order_state(cond)
        algo_id = cond.order_id
        fired = self.gw.projection.trigger_time.get(algo_id, 0)
        o = {"caid": view["client_order_id"], "aid": algo_id, "at": "CONDITIONAL",
             "o": C.ORDER_TYPE_NAMES.get(view["order_type"], "STOP"), "s": cond.symbol,
             "S": C.SIDE_NAMES[view["side"]], "ps": C.POSITION_SIDE_NAMES.get(view["position_side"], "BOTH"),
             "f": C.TIF_NAMES.get(view["time_in_force"], "GTC"), "q": f.qty(view["qty"]), "X": status,
             "ai": "", "ap": f.avg(0, 0), "aq": f.qty(0), "act": "0",
             "tp": f.price(view["stop_price"]), "p": f.price(view["price"]),
             "V": C.STP_NAMES.get(view["stp"], "NONE"),
             "wt": C.WORKING_TYPE_NAMES.get(view["working_type"], "CONTRACT_PRICE"), "pm": "NONE",
             "cp": bool(view["close_position"]), "pP": bool(view["price_protect"]),
             "R": bool(view["reduce_only"]), "tt": fired, "gtd": 0}
        if child is not None:
            c = order_state(child)
            o.update({"ai": str(child.order_id), "ap": f.avg(c["cum_quote"], c["filled_qty"]),
                      "aq": f.qty(c["filled_qty"]), "act": C.ORDER_TYPE_NAMES.get(c["order_type"], "0")})
        if view["order_type"] == C.TRAILING_STOP_MARKET:
            o["AP"] = f.price(view["activation_price"])
            o["cr"] = callback_str(view["callback_rate"])
        if rm:
            o["rm"] = rm
        self._send(cond.account_id, {"e": "ALGO_UPDATE", "T": ts, "E": ts, "o": o})

    def _base(self, f, view: dict, ts: int) -> dict:
        otype = C.ORDER_TYPE_NAMES.get(view["order_type"], "LIMIT")
        filled = view["filled_qty"]
        cq = view["cum_quote"]
        o = {"s": view["symbol"], "c": view["client_order_id"], "S": C.SIDE_NAMES[view["side"]], "o": otype,
             "f": C.TIF_NAMES.get(view["time_in_force"], "GTC"), "q": f.qty(view["qty"]),
             "p": f.price(view["price"]), "ap": f.avg(cq, filled), "sp": f.price(view["stop_price"]),
             "x": "NEW", "X": "NEW", "i": view["order_id"], "l": f.qty(0), "z": f.qty(filled),
             "L": f.price(0), "T": ts, "t": 0, "b": "0", "a": "0", "m": False, "R": bool(view["reduce_only"]),
             "wt": C.WORKING_TYPE_NAMES.get(view["working_type"], "CONTRACT_PRICE"), "ot": otype,
             "ps": C.POSITION_SIDE_NAMES.get(view["position_side"], "BOTH"),
             "cp": bool(view["close_position"]), "rp": money(0),
             "pP": bool(view["price_protect"]), "si": 0, "ss": 0,
             "V": C.STP_NAMES.get(view["stp"], "NONE"), "pm": "NONE", "gtd": 0}
        if view["order_type"] == C.TRAILING_STOP_MARKET:
            o["AP"] = f.price(view["activation_price"])
            o["cr"] = callback_str(view["callback_rate"])
        return o

    def _order_update(self, ev, t, ts: int) -> Optional[dict]:
        gw = self.gw
        f = gw.formats.get(ev.symbol)
        if f is None:
            return None
        view = order_state(ev)
        liquidation = view["order_type"] == C.LIQUIDATION
        if liquidation and t is OrderAccepted:
            return None           # Binance reports a liquidation order by its fills (x=CALCULATED)
        o = self._base(f, view, ts)
        parent_id = gw.projection.parent_of.get(ev.order_id)
        if parent_id is not None and parent_id not in gw.projection.algo_ids:
            # the regular order of a legacy stop: Binance keeps the stop's id and shows its type as ot
            parent = gw.projection.conditionals.get(parent_id)
            if parent is not None:
                o.update({"i": parent_id, "ot": C.ORDER_TYPE_NAMES.get(parent.order_type, o["ot"]),
                          "sp": f.price(parent.stop_price),
                          "wt": C.WORKING_TYPE_NAMES.get(parent.working_type, "CONTRACT_PRICE"),
                          "cp": bool(parent.close_position), "pP": bool(parent.price_protect)})
        if t is OrderFilled:
            o.update({"x": "CALCULATED" if liquidation else "TRADE", "X": C.ORDER_STATUS_NAMES[ev.status],
                      "l": f.qty(ev.qty), "L": f.price(ev.price), "N": "USDT",
                      "n": money(ev.fee), "t": ev.trade_id, "m": bool(ev.is_maker),
                      "rp": money(ev.realized_pnl)})
            if liquidation and ev.status != C.FILLED:
                o["X"] = "PARTIALLY_FILLED"
        elif t is OrderCanceled:
            o["x"] = o["X"] = "CANCELED"
        elif t is OrderExpired:
            o["x"] = "EXPIRED"
            o["X"] = C.ORDER_STATUS_NAMES.get(ev.status, "EXPIRED")
            o["er"] = str(ev.reason)
        elif t is OrderModified:
            o.update({"x": "AMENDMENT", "X": "PARTIALLY_FILLED" if ev.filled_qty else "NEW"})
        elif t is OrderTriggered:
            # a legacy stop fired: EXPIRED for the stop, then its regular order under the same id
            o["x"] = o["X"] = "EXPIRED"
            o["er"] = "0" if ev.new_order_id else str(C.ER_TRIGGER_REJECTED)
        return o

    def _closed_out_update(self, ev: PositionClosedOut, ts: int) -> Optional[dict]:
        """Insurance-fund takeover / ADL part of a liquidation (or the ADL counterparty's
        auto-close): an ORDER_TRADE_UPDATE with x=CALCULATED."""
        if not ev.order_id or ev.kind == C.CLOSE_HEDGE_NET:
            return None
        rec = self.gw.projection.force_orders.get(ev.account_id, {}).get(ev.order_id)
        f = self.gw.formats.get(ev.symbol)
        if rec is None or f is None:
            return None
        done = rec["filled"] + rec["closed_out"]
        quote = rec["cum_quote"] + rec["closed_quote"]
        return {"s": ev.symbol, "c": rec["client_order_id"], "S": C.SIDE_NAMES[ev.side], "o": "LIQUIDATION",
                "f": "IOC", "q": f.qty(rec["qty"]), "p": f.price(rec["price"]), "ap": f.avg(quote, done),
                "sp": f.price(0), "x": "CALCULATED", "X": "FILLED" if done >= rec["qty"] else "PARTIALLY_FILLED",
                "i": ev.order_id, "l": f.qty(ev.qty), "z": f.qty(done), "L": f.price(ev.price), "T": ts,
                "t": 0, "b": "0", "a": "0", "m": False, "R": not rec["adl"], "wt": "CONTRACT_PRICE",
                "ot": "LIQUIDATION", "ps": C.POSITION_SIDE_NAMES.get(ev.position_side, "BOTH"), "cp": False,
                "rp": money(ev.realized_pnl), "pP": False, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE",
                "gtd": 0}


def order_state(ev) -> dict:
    """The order as an order event tells it (events.ORDER_STATE): the fields of ``_base``."""
    t = type(ev)
    if t is OrderAccepted:
        return {"order_id": ev.order_id, "symbol": ev.symbol, "client_order_id": ev.client_order_id,
                "side": ev.side, "position_side": ev.position_side, "order_type": ev.order_type,
                "time_in_force": ev.time_in_force, "price": ev.price, "qty": ev.qty, "filled_qty": 0,
                "cum_quote": 0, "reduce_only": ev.reduce_only, "stp": ev.stp, "stop_price": ev.stop_price,
                "working_type": ev.working_type, "price_protect": ev.price_protect,
                "close_position": ev.close_position, "activation_price": ev.activation_price,
                "callback_rate": ev.callback_rate}
    if t is OrderModified:
        price, qty = ev.price, ev.qty
    else:
        price, qty = ev.order_price, ev.order_qty
    conditional = t is not OrderFilled and t is not OrderModified
    return {"order_id": ev.order_id, "symbol": ev.symbol, "client_order_id": ev.client_order_id,
            "side": ev.side, "position_side": ev.position_side, "order_type": ev.order_type,
            "time_in_force": ev.time_in_force, "price": price, "qty": qty, "filled_qty": ev.filled_qty,
            "cum_quote": ev.cum_quote, "reduce_only": ev.reduce_only, "stp": ev.stp,
            "stop_price": ev.stop_price if conditional else 0,
            "working_type": ev.working_type if conditional else 0,
            "price_protect": ev.price_protect if conditional else 0,
            "close_position": ev.close_position if conditional else 0,
            "activation_price": ev.activation_price if conditional else 0,
            "callback_rate": ev.callback_rate if conditional else 0}


def _child_of(events: list, start: int, order_id: int):
    """The last event of a just-triggered regular order within the same command (None: none)."""
    last = None
    if order_id:
        for k in range(start, len(events)):
            ev = events[k]
            if type(ev) in _ORDER_EVENTS and ev.order_id == order_id:
                last = ev
    return last


def _next_rejection(events: list, start: int):
    for k in range(start, min(start + 3, len(events))):
        if type(events[k]) is OrderRejected:
            return events[k]
    return None


__all__ = ["UserStreams", "ListenKey"]
