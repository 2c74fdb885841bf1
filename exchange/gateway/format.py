"""Venue integers -> Binance JSON shapes (decimal strings where Binance sends strings).

Everything the venue reports is an int (ticks, lots, 1e-8 USDT money units,
codes); this module is the only place those become wire values.  Formatting is
integer arithmetic (no Decimal on the per-order path): a price of ``t`` ticks is
``t * tick_units`` units of ``10**-pricePrecision``, printed with exactly
``pricePrecision`` decimals, as Binance prints prices.
"""
from __future__ import annotations

from decimal import Decimal

from exchange.units import MONEY_SCALE, RATE_SCALE
from exchange.contract import codes as C
__all__ = ["fixed", "money", "rate", "SymbolFormat", "order_json", "ZERO8"]

ZERO8 = "0.00000000"
_MEMO_MAX = 4096        # per symbol and kind: formatted strings kept for reuse
_POW10 = [10 ** i for i in range(40)]


def fixed(v: int, places: int) -> str:
    """Integer ``v`` in units of 10**-places as a decimal string with exactly ``places`` decimals."""
    if places == 0:
        return str(v)
    if v < 0:
        q, r = divmod(-v, _POW10[places])
        return f"-{q}.{r:0{places}d}"
    q, r = divmod(v, _POW10[places])
    return f"{q}.{r:0{places}d}"


def money(units: int) -> str:
    """Money units (1e-8 USDT) with 8 decimals, as Binance prints balances."""
    return fixed(units, 8)


def rate(units: int) -> str:
    return fixed(units, 8)


def plain(d: Decimal) -> str:
    """A Decimal without exponent or trailing zeros ("50", "0.001")."""
    s = format(d.normalize(), "f")
    return s


def number(money_units: int):
    """Money units as a JSON number (int when whole), for the few fields Binance sends as numbers."""
    q, r = divmod(money_units, MONEY_SCALE)
    if r == 0:
        return q
    return money_units / MONEY_SCALE


class SymbolFormat:
    """Per-symbol formatting of ticks, lots, averages; built once per instrument."""

    __slots__ = ("symbol", "inst", "pp", "qp", "tick_units", "step_units", "unit", "tick", "step",
                 "avg_places", "_prices", "_qtys", "zero_avg", "zero_quote", "lots_exact", "ticks_exact")

    def __init__(self, inst) -> None:
        self.inst = inst
        self.symbol = inst.symbol
        self.pp = int(inst.price_precision)
        self.qp = int(inst.quantity_precision)
        self.tick = Decimal(inst.tick_size)
        self.step = Decimal(inst.step_size)
        self.tick_units = int(self.tick.scaleb(self.pp))
        self.step_units = int(self.step.scaleb(self.qp))
        self.unit = int(self.tick * self.step * MONEY_SCALE)
        self.avg_places = self.pp + 3 if self.pp + 3 <= 8 else 8
        # bounded memo of the strings of recently formatted prices / quantities: the same
        # levels and sizes come back all the time (orders, fills, depth, streams)
        self._prices: dict[int, str] = {}
        self._qtys: dict[int, str] = {}
        self.zero_avg = fixed(0, self.avg_places)
        self.zero_quote = self.quote_short(0)
        # decimal strings -> lots / ticks by integer arithmetic (common.to_lots / to_ticks) when
        # the step / tick is exactly step_units / tick_units in units of 10**-precision
        self.lots_exact = (self.qp <= 8 and 1 <= self.step_units <= 10 ** 7
                           and Decimal(self.step_units).scaleb(-self.qp) == self.step)
        self.ticks_exact = (self.pp <= 8 and 1 <= self.tick_units <= 10 ** 7
                            and Decimal(self.tick_units).scaleb(-self.pp) == self.tick)

    def price(self, ticks: int) -> str:
        s = self._prices.get(ticks)
        if s is None:
            s = fixed(ticks * self.tick_units, self.pp)
            if len(self._prices) >= _MEMO_MAX:
                self._prices.clear()
            self._prices[ticks] = s
        return s

    def qty(self, lots: int) -> str:
        s = self._qtys.get(lots)
        if s is None:
            s = fixed(lots * self.step_units, self.qp)
            if len(self._qtys) >= _MEMO_MAX:
                self._qtys.clear()
            self._qtys[lots] = s
        return s

    def avg(self, cum_quote: int, lots: int, places: int | None = None) -> str:
        """Average price of ``lots`` worth ``cum_quote`` money units (floored at ``places``)."""
        if places is None:
            if lots == 0:
                return self.zero_avg
            places = self.avg_places
        if lots == 0:
            return fixed(0, places)
        # price = cum_quote / 1e8 / (lots * step_units * 10**-qp)
        num = cum_quote * _POW10[self.qp] * _POW10[places]
        den = lots * self.step_units * MONEY_SCALE
        return fixed(num // den, places)

    def entry(self, entry_notional: int, lots: int) -> str:
        """Entry price (Binance prints it without trailing zeros; "0.0" when flat)."""
        if lots == 0:
            return "0.0"
        lots = lots if lots > 0 else -lots
        num = entry_notional * _POW10[self.qp] * _POW10[8]
        den = lots * self.step_units * MONEY_SCALE
        s = fixed(num // den, 8).rstrip("0")
        return s + "0" if s.endswith(".") else s

    def quote(self, ticks: int, lots: int) -> str:
        """Notional ``ticks x lots`` in USDT with 8 decimals."""
        return money(ticks * lots * self.unit)

    def quote_short(self, money_units: int, places: int = 5) -> str:
        """Money as Binance prints cumQuote ("769.15000")."""
        if places >= 8:
            return money(money_units)
        return fixed(money_units // _POW10[8 - places] if money_units >= 0
                     else -((-money_units) // _POW10[8 - places]), places)


def callback_str(rate_units: int) -> str:
    """A trailing callback rate (RATE_SCALE units, 1 % = 1_000_000) as Binance's percent ("0.3")."""
    return plain(Decimal(rate_units) / 1_000_000)


def order_json(f: SymbolFormat, o: dict, *, result: bool = True, stp_name: str | None = None) -> dict:
    """An order view (``exchange.venue.orders.order_view``) as Binance's order object
    (POST/GET/DELETE /fapi/v1/order, openOrders, allOrders).  A legacy conditional
    order resolved to its triggered child carries ``orig_type`` (the conditional type)."""
    ot = o["order_type"]
    otype = C.ORDER_TYPE_NAMES.get(ot, "LIMIT")
    orig = o.get("orig_type", ot)
    filled = o["filled_qty"]
    cq = o["cum_quote"]
    exec_qty = f.qty(filled)
    out = {
        "orderId": o["order_id"],
        "symbol": o["symbol"],
        "status": C.ORDER_STATUS_NAMES.get(o["status"], "NEW"),
        "clientOrderId": o["client_order_id"],
        "price": f.price(o["price"]),
        "avgPrice": f.avg(cq, filled) if filled else f.zero_avg,
        "origQty": f.qty(o["qty"]),
        "executedQty": exec_qty,
        "cumQty": exec_qty,
        "cumQuote": f.quote_short(cq) if cq else f.zero_quote,
        "timeInForce": C.TIF_NAMES.get(o["time_in_force"], "GTC"),
        "type": otype,
        "reduceOnly": bool(o["reduce_only"]),
        "closePosition": bool(o.get("close_position", 0)),
        "side": C.SIDE_NAMES[o["side"]],
        "positionSide": C.POSITION_SIDE_NAMES.get(o["position_side"], "BOTH"),
        "stopPrice": f.price(o.get("stop_price", 0)),
        "workingType": C.WORKING_TYPE_NAMES.get(o.get("working_type", 0), "CONTRACT_PRICE"),
        "priceProtect": bool(o.get("price_protect", 0)),
        "origType": C.ORDER_TYPE_NAMES.get(orig, otype),
        "priceMatch": "NONE",
        "selfTradePreventionMode": stp_name or C.STP_NAMES.get(o["stp"], "NONE"),
        "goodTillDate": 0,
        "time": o["time"],
        "updateTime": o["update_time"],
    }
    if orig == C.TRAILING_STOP_MARKET:
        out["activatePrice"] = f.price(o.get("activation_price", 0))
        out["priceRate"] = callback_str(o.get("callback_rate", 0))
    return out


def rate_str(units: int, places: int = 8) -> str:
    return fixed(units, places)


def ratio_number(rate_units: int) -> float:
    """A RATE_SCALE rate as a JSON number (leverageBracket's maintMarginRatio)."""
    return rate_units / RATE_SCALE
