"""Helpers shared by the REST modules: the request context, symbols, decimals -> ticks/lots."""
from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

import orjson

from exchange.contract.events import CommandRejected, OrderRejected
from exchange.gateway import errors
from exchange.gateway.errors import BinanceError, Filters, Request
from exchange.gateway.params import MAX_PARAMS, Params, parse_form

if TYPE_CHECKING:  # pragma: no cover
    from exchange.gateway.app import Gateway

#: venue ints must fit the journal's msgpack int64; anything beyond is refused at the edge
INT_CAP = 1 << 62


def fast_pairs(raw: bytes) -> list[tuple[str, str]]:
    """``params.parse_form`` for the common case (ASCII, no ``%``/``+``), else ``parse_form`` itself.

    Same result as ``parse_form`` on every input: pairs split on ``&``, empty
    segments skipped, a pair without ``=`` has an empty value."""
    if not raw:
        return []
    if b"%" in raw or b"+" in raw or not raw.isascii() or raw.count(b"&") >= MAX_PARAMS:
        return parse_form(raw)
    out = []
    for seg in raw.decode("ascii").split("&"):
        if seg:
            k, eq, v = seg.partition("=")
            out.append((k, v))
    return out


def _fast_dict(raw: bytes) -> Optional[dict]:
    """``{key: value}`` of a part ``fast_pairs`` splits itself (ASCII, no ``%``/``+``),
    or None when it does not, or when a key repeats (the slow path answers that)."""
    if 37 in raw or 43 in raw or not raw.isascii():     # b"%", b"+" (an int: no TypeError inside)
        return None
    segs = raw.decode("ascii").split("&")
    if len(segs) > MAX_PARAMS:
        return None
    d: dict = {}
    for seg in segs:
        k, _, v = seg.partition("=")
        d[k] = v
    if len(d) != len(segs) or "" in d:      # a repeated key, an empty segment or key
        return None
    return d


def parse_params(raw_query: bytes, raw_body: bytes) -> Params:
    """``Params(fast_pairs(raw_query), fast_pairs(raw_body))``, built straight into one
    dict when both parts are simple and free of repeated keys (same values, same order)."""
    q = _fast_dict(raw_query) if raw_query else {}
    if q is not None:
        if not raw_body:
            return Params._of(q)
        b = _fast_dict(raw_body)
        if b is not None:
            b.update(q)             # body first, the query wins
            return Params._of(b)
    return Params(fast_pairs(raw_query), fast_pairs(raw_body))


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


class Req:
    """One authenticated request as the endpoint handlers see it."""
    __slots__ = ("params", "account_id", "api_key", "now", "ip", "method", "path", "headers")

    def __init__(self, params: Params, account_id: Optional[int], api_key: Optional[str], now: int,
                 ip: str, method: str, path: str, headers) -> None:
        self.params = params
        self.account_id = account_id
        self.api_key = api_key
        self.now = now
        self.ip = ip
        self.method = method
        self.path = path
        self.headers = headers


def symbol_of(gw: "Gateway", p: Params, *, required: bool = True):
    """(symbol, SymbolFormat) or (None, None) when optional and absent; unknown -> -1121."""
    s = p._values.get("symbol")
    if s:                           # sent: p.get_str("symbol") written out
        p._read.add("symbol")
        f = gw.formats.get(s)
        if f is None:
            raise errors.invalid_symbol()
        return s, f
    s = p.get_str("symbol", required=required)
    if s is None:
        return None, None
    f = gw.formats.get(s)
    if f is None:
        raise errors.invalid_symbol()
    return s, f


def listed_order_type(inst, otype: str, p: Params) -> None:
    """Refuse an order type or time in force the symbol's exchangeInfo does not list
    (a saved Binance exchangeInfo may narrow them per symbol)."""
    if otype not in inst.order_types:
        raise Request.INVALID_ORDER_TYPE()
    tif = p._values.get("timeInForce")
    if tif is not None and tif not in inst.time_in_force:
        raise Request.INVALID_TIF()


def _decimals(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


_POW10 = [10 ** i for i in range(40)]


def _exact_units(s: str, places: int, exact: bool) -> Optional[tuple[int, int]]:
    """(decimals written, value in units of 10**-places) of a decimal string that passed
    Binance's pattern, or None when the integer shortcut does not apply (the format's
    grid is not exact in those units, or the integer part is long enough that the
    Decimal route's 28-digit division could round): then the caller takes that route."""
    ip, _, fp = s.partition(".")
    if not exact or len(ip) > 12:
        return None
    n = len(fp)
    if n > places:
        return n, 0
    return n, int(ip + fp) * _POW10[places - n]


def to_lots(f, qty: "Decimal | str", name: str = "quantity", max_lots: int = 0) -> int:
    """Quantity -> lots: too many decimals -1111, off the step -4023, above ``max_lots`` -4005.

    ``qty`` is a Decimal, or the validated decimal string (``Params.get_decimal_str``):
    then integer arithmetic gives the same answers without building Decimals."""
    if type(qty) is str:
        ex = _exact_units(qty, f.qp, getattr(f, "lots_exact", False))
        if ex is not None:
            if ex[0] > f.qp:
                raise Request.BAD_PRECISION()
            lots, rem = divmod(ex[1], f.step_units)
            if rem:
                raise Filters.QTY_NOT_INCREASED_BY_STEP_SIZE()
            if (max_lots and lots > max_lots) or lots > INT_CAP:
                raise Filters.QTY_GREATER_THAN_MAX_QTY()
            return lots
        qty = Decimal(qty)
    if _decimals(qty) > f.qp:
        raise Request.BAD_PRECISION()
    lots_d = qty / f.step
    lots = int(lots_d)
    if lots != lots_d:
        raise Filters.QTY_NOT_INCREASED_BY_STEP_SIZE()
    if (max_lots and lots > max_lots) or lots > INT_CAP:
        raise Filters.QTY_GREATER_THAN_MAX_QTY()
    return lots


def to_ticks(f, price: "Decimal | str", max_ticks: int = 0) -> int:
    """Price -> ticks: too many decimals -1111, off the tick -4014, above the max -4002.
    ``price`` may be the validated decimal string, as for ``to_lots``."""
    if type(price) is str:
        ex = _exact_units(price, f.pp, getattr(f, "ticks_exact", False))
        if ex is not None:
            if ex[0] > f.pp:
                raise Request.BAD_PRECISION()
            t, rem = divmod(ex[1], f.tick_units)
            if rem:
                raise Filters.PRICE_NOT_INCREASED_BY_TICK_SIZE()
            if (max_ticks and t > max_ticks) or t > INT_CAP:
                raise Filters.PRICE_GREATER_THAN_MAX_PRICE()
            return t
        price = Decimal(price)
    if _decimals(price) > f.pp:
        raise Request.BAD_PRECISION()
    t_d = price / f.tick
    t = int(t_d)
    if t != t_d:
        raise Filters.PRICE_NOT_INCREASED_BY_TICK_SIZE()
    if (max_ticks and t > max_ticks) or t > INT_CAP:
        raise Filters.PRICE_GREATER_THAN_MAX_PRICE()
    return t


def limit_of(p: Params, default: int, maximum: int, minimum: int = 1) -> int:
    v = p.get_int("limit", default=default)
    if v < minimum or v > maximum:
        raise errors.invalid_parameter("limit")
    return v


def time_range(p: Params) -> tuple[Optional[int], Optional[int]]:
    start = p.get_int("startTime")
    end = p.get_int("endTime")
    if start is not None and end is not None and start > end:
        raise errors.General.START_TIME_GREATER_THAN_END_TIME()
    return start, end


def rejection(ev) -> BinanceError:
    """A venue refusal (OrderRejected / CommandRejected) as the Binance error answer."""
    return errors.rejection(int(ev.code), ev.msg)


def first_rejection(events: list):
    """The venue's first refusal (OrderRejected / CommandRejected) among ``events``, or None."""
    for ev in events:
        t = type(ev)
        if t is OrderRejected or t is CommandRejected:
            return ev
    return None


def accepted(res):
    """``res`` (a ``Gateway.submit`` result, which already raised if the venue failed) when the
    venue accepted the command; its first refusal as the Binance error answer otherwise."""
    rej = first_rejection(res.events)
    if rej is not None:
        raise rejection(rej)
    return res


SUCCESS = {"code": 200, "msg": "success"}
