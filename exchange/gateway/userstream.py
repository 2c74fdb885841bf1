"""User data streams (spec §10): listen keys and ORDER_TRADE_UPDATE / ACCOUNT_UPDATE /
ACCOUNT_CONFIG_UPDATE / listenKeyExpired.

* ``POST /fapi/v1/listenKey`` returns the API key's valid listen key if it has one
  (extended by 60 minutes), else a new one - so python-binance's POST-every-5-minutes
  keepalive does not reconnect.
* ``PUT`` extends the key (with or without the ``listenKey`` parameter); unknown or
  expired -> 400 ``-1125``.  ``DELETE`` removes it (``{}``).
* Validity is 60 minutes of wall time after creation / last keepalive; on expiry
  the attached sockets get ``{"e":"listenKeyExpired",...}`` and nothing more.

Events are built from the venue's events in the sequencer callback, once per
account that has an attached socket.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from typing import Optional

import orjson

from exchange.venue import codes as C
from exchange.venue.events import (
    BalanceChanged, LeverageChanged, MarginTypeChanged, OrderAccepted, OrderCanceled, OrderExpired,
    OrderFilled, OrderModified, PositionChanged,
)

from .common import Req
from .errors import Request
from .format import money

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
        self._task: Optional[asyncio.Task] = None
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
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._expiry_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

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
        i = 0
        n = len(events)
        while i < n:
            ev = events[i]
            t = type(ev)
            acct = getattr(ev, "account_id", None)
            if acct is None or acct not in by_account or not any(lk.conns for lk in by_account[acct]):
                i += 1
                continue
            if t in (OrderAccepted, OrderFilled, OrderCanceled, OrderExpired, OrderModified):
                o = self._order_update(ev, t, ts)
                if o is not None:
                    self._send(acct, {"e": "ORDER_TRADE_UPDATE", "E": ts, "T": ts, "o": o})
            elif t is BalanceChanged:
                positions = []
                j = i + 1
                while j < n and type(events[j]) is PositionChanged and events[j].account_id == acct:
                    positions.append(self._position(events[j]))
                    j += 1
                self._send(acct, {"e": "ACCOUNT_UPDATE", "E": ts, "T": ts, "a": {
                    "m": C.BALANCE_REASON_NAMES.get(ev.reason, "ORDER"),
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
                    a = self.gw.venue.account(acct)
                    sides = ("LONG", "SHORT") if a and a["dual"] else ("BOTH",)
                    mt = "isolated" if ev.margin_type == C.ISOLATED else "cross"
                    self._send(acct, {"e": "ACCOUNT_UPDATE", "E": ts, "T": ts, "a": {
                        "m": "MARGIN_TYPE_CHANGE", "B": [],
                        "P": [{"s": ev.symbol, "pa": f.qty(0), "ep": "0.0", "bep": "0", "cr": money(0),
                               "up": money(0), "mt": mt, "iw": money(0), "ps": ps} for ps in sides]}})
            i += 1

    def _position(self, ev: PositionChanged) -> dict:
        gw = self.gw
        f = gw.formats[ev.symbol]
        mark = gw.venue.mark_price(ev.symbol)
        q = ev.qty
        signed_entry = ev.entry_notional if q >= 0 else -ev.entry_notional
        up = q * mark * f.unit - signed_entry if (mark and q) else 0
        entry = f.entry(ev.entry_notional, q)
        return {"s": ev.symbol, "pa": f.qty(q), "ep": entry, "bep": entry, "cr": money(ev.realized_pnl),
                "up": money(up), "mt": "isolated" if ev.margin_type == C.ISOLATED else "cross",
                "iw": money(ev.isolated_wallet), "ps": C.POSITION_SIDE_NAMES.get(ev.position_side, "BOTH")}

    def _order_update(self, ev, t, ts: int) -> Optional[dict]:
        gw = self.gw
        f = gw.formats.get(ev.symbol)
        view = gw.venue.order(ev.account_id, ev.symbol, ev.order_id)
        if f is None or view is None:
            return None
        otype = C.ORDER_TYPE_NAMES.get(view["order_type"], "LIMIT")
        filled = view["filled_qty"]
        cq = view["cum_quote"]
        o = {"s": ev.symbol, "c": view["client_order_id"], "S": C.SIDE_NAMES[view["side"]], "o": otype,
             "f": C.TIF_NAMES.get(view["time_in_force"], "GTC"), "q": f.qty(view["qty"]),
             "p": f.price(view["price"]), "ap": f.avg(cq, filled), "sp": f.price(0),
             "x": "NEW", "X": "NEW", "i": ev.order_id, "l": f.qty(0), "z": f.qty(filled), "L": f.price(0),
             "T": ts, "t": 0, "b": "0", "a": "0", "m": False, "R": bool(view["reduce_only"]),
             "wt": "CONTRACT_PRICE", "ot": otype, "ps": C.POSITION_SIDE_NAMES.get(view["position_side"], "BOTH"),
             "cp": False, "rp": money(0), "pP": False, "si": 0, "ss": 0,
             "V": C.STP_NAMES.get(view["stp"], "NONE"), "pm": "NONE", "gtd": 0}
        if t is OrderAccepted:
            o["z"] = f.qty(0)
            o["ap"] = f.avg(0, 0)
        elif t is OrderFilled:
            o.update({"x": "TRADE", "X": C.ORDER_STATUS_NAMES[ev.status], "l": f.qty(ev.qty),
                      "z": f.qty(ev.filled_qty), "L": f.price(ev.price), "N": "USDT", "n": money(ev.fee),
                      "t": ev.trade_id, "m": bool(ev.is_maker), "rp": money(ev.realized_pnl),
                      "ap": f.avg(ev.cum_quote, ev.filled_qty)})
        elif t is OrderCanceled:
            o["x"] = o["X"] = "CANCELED"
        elif t is OrderExpired:
            o["x"] = "EXPIRED"
            o["X"] = C.ORDER_STATUS_NAMES.get(ev.status, "EXPIRED")
            o["er"] = str(ev.reason)
        elif t is OrderModified:
            o.update({"x": "AMENDMENT", "X": "PARTIALLY_FILLED" if ev.filled_qty else "NEW",
                      "q": f.qty(ev.qty), "p": f.price(ev.price), "z": f.qty(ev.filled_qty)})
        return o


__all__ = ["UserStreams", "ListenKey"]
