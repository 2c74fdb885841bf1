"""The integer facts the venue needs about one symbol, derived once from an ``Instrument``.

``exchange.contract.instruments.Instrument`` keeps the configured decimal strings; this
module turns them into the integers of the core (see ``exchange.units``):

* prices in ticks of ``tick_size``, quantities in lots of ``step_size``;
* ``notional_unit``: money units of one tick x one lot, so a notional is
  ``price_ticks * qty_lots * notional_unit`` (must be an integer: config error otherwise);
* rates (fees, percent-price multipliers, market take bound) in RATE_SCALE units.

Private to the venue so it works with whatever integer helpers ``instruments``
grows; it only reads the documented ``Instrument`` fields.
"""
from __future__ import annotations

from decimal import Decimal, ROUND_CEILING, ROUND_FLOOR

from exchange.contract.instruments import Bracket
from exchange.perp import maint_margin as perp_maint_margin
from exchange.units import MONEY_SCALE, RATE_SCALE

#: mark price rule: basis moving average over the last 30 samples taken every 5 s
#: (2.5 minutes, perp-mechanics 1.2 default); premium samples share the 5 s step
BASIS_WINDOW = 30
from exchange.contract.timers import MARK_INTERVAL_MS, SAMPLE_INTERVAL_MS  # noqa: E402,F401 - one home

# fallback when an instrument lists no brackets: one tier, 125x, 0.4 % MMR
_FALLBACK_BRACKET = Bracket(1, 125, 0, 10**30, 400_000, 0)


def _ticks(value: Decimal, unit: Decimal, rounding) -> int:
    return int((Decimal(value) / unit).to_integral_value(rounding=rounding))


def _rate(value) -> int:
    d = Decimal(value) * RATE_SCALE
    if d != d.to_integral_value():
        raise ValueError(f"rate {value} has more than 8 decimal places")
    return int(d)


class SymbolSpec:
    __slots__ = ("symbol", "tick_size", "step_size", "notional_unit", "min_price", "max_price",
                 "min_qty", "max_qty", "market_min_qty", "market_max_qty", "min_notional",
                 "min_notional_str", "max_num_orders", "percent_up", "percent_down",
                 "market_take_bound", "maker_fee", "taker_fee", "brackets", "max_leverage",
                 "default_leverage", "price_precision", "instrument", "_max_notional",
                 # funding / mark / liquidation (milestone 2)
                 "interest_rate", "funding_cap", "funding_floor", "funding_interval_ms",
                 "impact_notional", "liquidation_fee", "trigger_protect", "max_num_algo_orders",
                 "basis_window", "bracket_table")

    def __init__(self, inst) -> None:
        self.instrument = inst
        self.symbol = inst.symbol
        tick = Decimal(inst.tick_size)
        step = Decimal(inst.step_size)
        self.tick_size = tick
        self.step_size = step
        unit = tick * step * MONEY_SCALE
        if unit != unit.to_integral_value() or unit <= 0:
            raise ValueError(f"{inst.symbol}: tickSize x stepSize x 1e8 = {unit} is not a positive integer")
        self.notional_unit = int(unit)
        self.min_price = _ticks(inst.min_price, tick, ROUND_CEILING)
        self.max_price = _ticks(inst.max_price, tick, ROUND_FLOOR)       # 0 disables
        self.min_qty = _ticks(inst.min_qty, step, ROUND_CEILING)
        self.max_qty = _ticks(inst.max_qty, step, ROUND_FLOOR)
        self.market_min_qty = _ticks(inst.market_min_qty, step, ROUND_CEILING)
        self.market_max_qty = _ticks(inst.market_max_qty, step, ROUND_FLOOR)
        mn = Decimal(inst.min_notional) * MONEY_SCALE
        self.min_notional = int(mn.to_integral_value(rounding=ROUND_CEILING))
        self.min_notional_str = _plain(Decimal(inst.min_notional))
        self.max_num_orders = int(inst.max_num_orders)
        self.percent_up = _rate(inst.percent_price_up)
        self.percent_down = _rate(inst.percent_price_down)
        self.market_take_bound = _rate(inst.market_take_bound)
        self.maker_fee = _rate(inst.maker_fee)
        self.taker_fee = _rate(inst.taker_fee)
        # the Bracket table in bracket order: what the perp formulas take (a tuple, so the
        # compiled kernels convert it once and know it again by its identity)
        self.bracket_table = tuple(sorted(inst.brackets, key=lambda b: b.bracket)) or (_FALLBACK_BRACKET,)
        self.brackets = tuple((b.bracket, b.initial_leverage, b.notional_floor, b.notional_cap,
                               b.maint_margin_rate, b.cum) for b in self.bracket_table)
        self.max_leverage = max(b[1] for b in self.brackets)
        self.default_leverage = min(20, self.max_leverage)
        self.price_precision = int(getattr(inst, "price_precision", 2))
        table = [0]
        for lev in range(1, self.max_leverage + 1):
            cap = 0
            for b in self.brackets:
                if b[1] >= lev:
                    cap = b[3]
            table.append(cap)
        self._max_notional = table
        self.interest_rate = _rate(inst.interest_rate)
        self.funding_cap = _rate(inst.funding_cap)
        self.funding_floor = _rate(inst.funding_floor)
        self.funding_interval_ms = int(inst.funding_interval_hours) * 3_600_000
        self.impact_notional = 200 * MONEY_SCALE * self.max_leverage
        self.liquidation_fee = _rate(inst.liquidation_fee)
        self.trigger_protect = _rate(inst.trigger_protect)
        self.max_num_algo_orders = int(inst.max_num_algo_orders)
        self.basis_window = BASIS_WINDOW

    def max_notional(self, leverage: int) -> int:
        """Maximum position notional (money) at ``leverage``: the cap of the highest
        bracket whose initial leverage is >= leverage (perp-mechanics §3.3); 0 when
        the leverage is out of range."""
        table = self._max_notional
        return table[leverage] if 0 < leverage < len(table) else 0

    def maint_margin(self, notional):
        """Maintenance margin (money, rounded up) of a position notional: ``exchange.perp.maint_margin``
        over this symbol's bracket table."""
        return perp_maint_margin(self.bracket_table, notional)

    def bracket_index(self, notional: int) -> int:
        i = 0
        last = len(self.brackets) - 1
        for b in self.brackets:
            if notional <= b[3] or i == last:
                return i
            i += 1
        return last

    def price_str(self, ticks: int) -> str:
        return str((self.tick_size * ticks).quantize(Decimal(1).scaleb(-self.price_precision)))


def _plain(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s
