"""Per-symbol configuration of linear USDT-margined perpetuals.

Config files and ``exchangeInfo`` speak decimal strings; the venue speaks
integers (see ``exchange.units``).  ``Instrument`` holds both views: the
decimal strings as configured and the integer forms the venue computes with.

Derived integer facts:
* ``notional_unit`` - money units of one tick x one lot
  (``tickSize * stepSize * MONEY_SCALE``), so notional = price * qty * notional_unit.

Bracket tables are data: ``build_brackets`` turns rows of
``(floor, cap, max leverage, MMR)`` into ``Bracket`` objects and derives each
``cum`` from the continuity rule, so the maintenance margin has no jump at a
bracket boundary; ``validate_brackets`` refuses any table that breaks it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from exchange.units import MONEY_SCALE, RATE_SCALE, div_ceil, div_floor


class OffGridError(ValueError):
    """A price or quantity that is not a whole number of ticks / lots.

    A subclass of ``ValueError`` so callers that only care about "bad input"
    need not know it; the gateway uses it to pick the Binance filter error.
    """


@dataclass(frozen=True)
class Bracket:
    """One notional tier of the leverage/margin table (Binance leverageBracket)."""
    bracket: int
    initial_leverage: int
    notional_floor: int      # money units
    notional_cap: int        # money units
    maint_margin_rate: int   # RATE_SCALE units
    cum: int                 # maintenance amount, money units


def _dec(value: Any, what: str) -> Decimal:
    """Exact decimal from a config value; floats are refused because they are not exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"{what}: expected a decimal string, got {value!r}")
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if not isinstance(value, str):
        raise ValueError(f"{what}: expected a decimal string, got {value!r}")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what}: {value!r} is not a decimal number") from None
    if not d.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return d


def _scaled(value: Decimal, scale: int, what: str) -> int:
    """``value * scale`` as an int, refusing anything that would need rounding."""
    s = value * scale
    if s != s.to_integral_value():
        raise ValueError(f"{what}: {value} is finer than 1/{scale}")
    return int(s)


def _on_grid(value: Decimal, step: Decimal, what: str) -> int:
    n = value / step
    if n != n.to_integral_value():
        raise OffGridError(f"{what}: {value} is not a multiple of {step}")
    return int(n)


def build_brackets(rows: Iterable[tuple[Any, Any, int, Any]]) -> tuple[Bracket, ...]:
    """Brackets from ``(notional_floor, notional_cap, initial_leverage, maint_margin_rate)``
    rows (decimal USDT / decimal fraction), with ``cum`` derived by
    ``cum_n = cum_{n-1} + floor_n * (MMR_n - MMR_{n-1})``.

    Deriving ``cum`` instead of copying it means a typo in a table cannot make
    the maintenance margin jump at a boundary.  The product is exact in money
    units whenever the floor is a whole number of cents; otherwise ValueError.
    """
    out: list[Bracket] = []
    cum = 0
    prev_mmr = 0
    for i, (floor, cap, lev, mmr) in enumerate(rows, start=1):
        f = _scaled(_dec(floor, f"bracket {i} notionalFloor"), MONEY_SCALE, f"bracket {i} notionalFloor")
        c = _scaled(_dec(cap, f"bracket {i} notionalCap"), MONEY_SCALE, f"bracket {i} notionalCap")
        m = _scaled(_dec(mmr, f"bracket {i} maintMarginRatio"), RATE_SCALE, f"bracket {i} maintMarginRatio")
        if i > 1:
            step = f * (m - prev_mmr)
            if step % RATE_SCALE:
                raise ValueError(f"bracket {i}: cum increment {f}*{m - prev_mmr}/1e8 is not a whole money unit")
            cum += step // RATE_SCALE
        if isinstance(lev, bool) or not isinstance(lev, int):
            raise ValueError(f"bracket {i} initialLeverage: expected an integer, got {lev!r}")
        out.append(Bracket(i, lev, f, c, m, cum))
        prev_mmr = m
    result = tuple(out)
    validate_brackets(result)
    return result


def validate_brackets(brackets: Sequence[Bracket]) -> None:
    """Raise ValueError unless the table is contiguous, monotone and continuous.

    The margin and liquidation math relies on all three: lookup assumes
    contiguous ``(floor, cap]`` ranges, the liquidation-price fixed point
    assumes MMR rises with notional, and continuity of maintenance margin is
    what makes re-bracketing move a liquidation price only slightly.
    """
    if not brackets:
        raise ValueError("bracket table is empty")
    prev: Bracket | None = None
    for n, b in enumerate(brackets, start=1):
        where = f"bracket {b.bracket}"
        if b.bracket != n:
            raise ValueError(f"{where}: brackets must be numbered 1..n in order (expected {n})")
        if b.initial_leverage < 1:
            raise ValueError(f"{where}: initialLeverage must be >= 1")
        if b.notional_cap <= b.notional_floor:
            raise ValueError(f"{where}: notionalCap must exceed notionalFloor")
        if not 0 < b.maint_margin_rate < RATE_SCALE:
            raise ValueError(f"{where}: maintMarginRatio must be in (0, 1)")
        if prev is None:
            if b.notional_floor != 0:
                raise ValueError(f"{where}: the first bracket must start at notional 0")
            if b.cum != 0:
                raise ValueError(f"{where}: the first bracket must have cum 0")
        else:
            if b.notional_floor != prev.notional_cap:
                raise ValueError(f"{where}: notionalFloor must equal the previous notionalCap")
            if b.maint_margin_rate < prev.maint_margin_rate:
                raise ValueError(f"{where}: maintMarginRatio must not decrease")
            if b.initial_leverage > prev.initial_leverage:
                raise ValueError(f"{where}: initialLeverage must not increase")
            step = b.notional_floor * (b.maint_margin_rate - prev.maint_margin_rate)
            if b.cum * RATE_SCALE != prev.cum * RATE_SCALE + step:
                raise ValueError(
                    f"{where}: cum {b.cum} breaks continuity "
                    f"(cum_n = cum_n-1 + floor_n*(MMR_n - MMR_n-1))")
        prev = b


#: Binance USD-M order types and time-in-force values, in exchangeInfo's order
ALL_ORDER_TYPES: tuple[str, ...] = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                                    "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
ALL_TIME_IN_FORCE: tuple[str, ...] = ("GTC", "IOC", "FOK", "GTX", "GTD")
#: names a saved exchangeInfo may list (RPI: Binance's retail-price-improvement orders, not served)
KNOWN_TIME_IN_FORCE: tuple[str, ...] = ALL_TIME_IN_FORCE + ("RPI",)


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_price: Decimal
    max_price: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    max_num_orders: int
    max_num_algo_orders: int
    percent_price_up: Decimal
    percent_price_down: Decimal
    market_take_bound: Decimal
    trigger_protect: Decimal
    liquidation_fee: Decimal        # clearance fee rate, e.g. 0.0125
    maker_fee: Decimal              # e.g. 0.0002
    taker_fee: Decimal              # e.g. 0.0005
    funding_interval_hours: int
    interest_rate: Decimal          # per funding interval, e.g. 0.0001
    funding_cap: Decimal            # e.g. 0.003
    funding_floor: Decimal          # e.g. -0.003
    brackets: tuple[Bracket, ...] = field(default=())
    price_precision: int = 2
    quantity_precision: int = 3
    #: what exchangeInfo lists for the symbol; the gateway refuses the others (-1116 / -1115)
    order_types: tuple[str, ...] = ALL_ORDER_TYPES
    time_in_force: tuple[str, ...] = ALL_TIME_IN_FORCE

    # -- validation ---------------------------------------------------------
    def __post_init__(self) -> None:
        """Fail at load time, with the symbol named, rather than mid-match."""
        s = self.symbol
        try:
            if not s or not s.isalnum() or s.upper() != s:
                raise ValueError("symbol must be upper-case alphanumeric")
            if self.tick_size <= 0 or self.step_size <= 0:
                raise ValueError("tickSize and stepSize must be positive")
            nu = self.tick_size * self.step_size * MONEY_SCALE
            if nu != nu.to_integral_value():
                raise ValueError(
                    f"tickSize*stepSize*1e8 = {nu} is not an integer; money could not be exact")
            if -self.tick_size.normalize().as_tuple().exponent > self.price_precision:
                raise ValueError(f"pricePrecision {self.price_precision} cannot show tickSize {self.tick_size}")
            if -self.step_size.normalize().as_tuple().exponent > self.quantity_precision:
                raise ValueError(f"quantityPrecision {self.quantity_precision} cannot show stepSize {self.step_size}")
            if self.min_price < 0 or self.max_price < 0:
                raise ValueError("minPrice/maxPrice must be >= 0 (0 disables the bound)")
            _on_grid(self.min_price, self.tick_size, "minPrice")
            _on_grid(self.max_price, self.tick_size, "maxPrice")
            if self.max_price and self.min_price > self.max_price:
                raise ValueError("minPrice exceeds maxPrice")
            for lo, hi, name in ((self.min_qty, self.max_qty, "LOT_SIZE"),
                                 (self.market_min_qty, self.market_max_qty, "MARKET_LOT_SIZE")):
                _on_grid(lo, self.step_size, f"{name} minQty")
                _on_grid(hi, self.step_size, f"{name} maxQty")
                if lo <= 0 or hi < lo:
                    raise ValueError(f"{name}: need 0 < minQty <= maxQty")
            if self.min_notional < 0:
                raise ValueError("minNotional must be >= 0")
            _scaled(self.min_notional, MONEY_SCALE, "minNotional")
            if self.max_num_orders < 1 or self.max_num_algo_orders < 0:
                raise ValueError("maxNumOrders must be >= 1 and maxNumAlgoOrders >= 0")
            for name in ("percent_price_up", "percent_price_down", "market_take_bound", "trigger_protect",
                         "liquidation_fee", "maker_fee", "taker_fee", "interest_rate",
                         "funding_cap", "funding_floor"):
                _scaled(getattr(self, name), RATE_SCALE, name)
            if not self.percent_price_down < 1 < self.percent_price_up or self.percent_price_down <= 0:
                raise ValueError("PERCENT_PRICE needs 0 < multiplierDown < 1 < multiplierUp")
            if not 0 <= self.liquidation_fee < 1:
                raise ValueError("liquidationFee must be in [0, 1)")
            if self.taker_fee < 0 or self.maker_fee <= -self.taker_fee or self.maker_fee >= 1 or self.taker_fee >= 1:
                raise ValueError("fees: need takerFee >= 0 and makerFee > -takerFee (a maker rebate "
                                 "larger than the taker fee would let two accounts mint money)")
            if self.funding_interval_hours not in (1, 2, 4, 8):
                raise ValueError("fundingIntervalHours must be one of 1, 2, 4, 8")
            if not self.funding_floor <= 0 <= self.funding_cap:
                raise ValueError("need fundingFloor <= 0 <= fundingCap")
            bad = [t for t in self.order_types if t not in ALL_ORDER_TYPES]
            if bad or not self.order_types:
                raise ValueError(f"orderTypes: unknown or empty {bad or list(self.order_types)}")
            bad = [t for t in self.time_in_force if t not in KNOWN_TIME_IN_FORCE]
            if bad or not self.time_in_force:
                raise ValueError(f"timeInForce: unknown or empty {bad or list(self.time_in_force)}")
            if not self.brackets:
                raise ValueError("at least one leverage bracket is required")
            validate_brackets(self.brackets)
        except ValueError as e:
            raise type(e)(f"{s}: {e}") from None

    # -- integer scales -----------------------------------------------------
    @cached_property
    def notional_unit(self) -> int:
        """Money units of one tick times one lot; every notional is ticks * lots * this."""
        return int(self.tick_size * self.step_size * MONEY_SCALE)

    def price_to_ticks(self, price: "str | Decimal") -> int:
        """Ticks for a decimal price; OffGridError if it is not a whole number of ticks."""
        return _on_grid(_dec(price, "price"), self.tick_size, "price")

    def ticks_to_price(self, ticks: int) -> str:
        """Decimal string at ``pricePrecision`` places, as Binance prints prices."""
        return str((self.tick_size * ticks).quantize(Decimal(1).scaleb(-self.price_precision)))

    def qty_to_lots(self, qty: "str | Decimal") -> int:
        """Lots for a decimal quantity; OffGridError if it is not a whole number of lots."""
        return _on_grid(_dec(qty, "quantity"), self.step_size, "quantity")

    def lots_to_qty(self, lots: int) -> str:
        return str((self.step_size * lots).quantize(Decimal(1).scaleb(-self.quantity_precision)))

    def notional(self, price_ticks: int, lots: int) -> int:
        """Exact notional in money units (no rounding: a tick x a lot is a whole money unit)."""
        return price_ticks * abs(lots) * self.notional_unit

    def avg_price_str(self, lots: int, cost: int, places: int = 8) -> str:
        """Average (entry) price of ``lots`` whose entry notional is ``cost`` money units.

        The average of fills is generally off the tick grid, so positions keep
        their entry *notional* and this is only for display (Binance prints
        entryPrice with extra decimals).  Rounded half-even at ``places``.
        """
        if lots == 0:
            return str(Decimal(0).quantize(Decimal(1).scaleb(-places)))
        p = Decimal(cost) / (Decimal(abs(lots)) * self.step_size * MONEY_SCALE)
        return str(p.quantize(Decimal(1).scaleb(-places)))

    # -- filters as integers ------------------------------------------------
    @cached_property
    def min_price_ticks(self) -> int:
        """0 means no lower bound (Binance: 0 disables a bound)."""
        return int(self.min_price / self.tick_size)

    @cached_property
    def max_price_ticks(self) -> int:
        """0 means no upper bound."""
        return int(self.max_price / self.tick_size)

    @cached_property
    def min_qty_lots(self) -> int:
        return int(self.min_qty / self.step_size)

    @cached_property
    def max_qty_lots(self) -> int:
        return int(self.max_qty / self.step_size)

    @cached_property
    def market_min_qty_lots(self) -> int:
        return int(self.market_min_qty / self.step_size)

    @cached_property
    def market_max_qty_lots(self) -> int:
        return int(self.market_max_qty / self.step_size)

    @cached_property
    def min_notional_money(self) -> int:
        return int(self.min_notional * MONEY_SCALE)

    @cached_property
    def percent_price_up_rate(self) -> int:
        return int(self.percent_price_up * RATE_SCALE)

    @cached_property
    def percent_price_down_rate(self) -> int:
        return int(self.percent_price_down * RATE_SCALE)

    @cached_property
    def market_take_bound_rate(self) -> int:
        return int(self.market_take_bound * RATE_SCALE)

    @cached_property
    def trigger_protect_rate(self) -> int:
        return int(self.trigger_protect * RATE_SCALE)

    @cached_property
    def liquidation_fee_rate(self) -> int:
        return int(self.liquidation_fee * RATE_SCALE)

    @cached_property
    def maker_fee_rate(self) -> int:
        return int(self.maker_fee * RATE_SCALE)

    @cached_property
    def taker_fee_rate(self) -> int:
        return int(self.taker_fee * RATE_SCALE)

    @cached_property
    def interest_rate_rate(self) -> int:
        return int(self.interest_rate * RATE_SCALE)

    @cached_property
    def funding_cap_rate(self) -> int:
        return int(self.funding_cap * RATE_SCALE)

    @cached_property
    def funding_floor_rate(self) -> int:
        return int(self.funding_floor * RATE_SCALE)

    @cached_property
    def funding_interval_ms(self) -> int:
        return self.funding_interval_hours * 3_600_000

    @cached_property
    def all_order_kinds(self) -> bool:
        """True when LIMIT and every served time in force are listed (the gateway's fast path
        for plain LIMIT orders may then skip the per-symbol lists)."""
        return "LIMIT" in self.order_types and {"GTC", "IOC", "FOK", "GTX"} <= set(self.time_in_force)

    @cached_property
    def max_leverage(self) -> int:
        return self.brackets[0].initial_leverage

    @cached_property
    def impact_margin_notional(self) -> int:
        """IMN = 200 USDT / IMR at max leverage = 200 USDT x max leverage (money units)."""
        return 200 * MONEY_SCALE * self.max_leverage

    def price_in_range(self, ticks: int) -> bool:
        """PRICE_FILTER bounds (a zero bound is disabled)."""
        return (ticks >= self.min_price_ticks) and (self.max_price_ticks == 0 or ticks <= self.max_price_ticks)

    def percent_price_bounds(self, mark_ticks: int) -> tuple[int, int]:
        """(lowest SELL limit, highest BUY limit) in ticks allowed by PERCENT_PRICE.

        Rounded inward (low bound up, high bound down) so a price on the
        boundary is never accepted by rounding alone.
        """
        lo = div_ceil(mark_ticks * self.percent_price_down_rate, RATE_SCALE)
        hi = div_floor(mark_ticks * self.percent_price_up_rate, RATE_SCALE)
        return lo, hi

    def market_take_bounds(self, mark_ticks: int) -> tuple[int, int]:
        """(lowest, highest) fill price in ticks a MARKET order may reach (marketTakeBound), rounded inward."""
        lo = div_ceil(mark_ticks * (RATE_SCALE - self.market_take_bound_rate), RATE_SCALE)
        hi = div_floor(mark_ticks * (RATE_SCALE + self.market_take_bound_rate), RATE_SCALE)
        return lo, hi


# ---------------------------------------------------------------------------
# Defaults: Binance's live filters (binance-usdm.md section 5) and the early-2026
# bracket tables (perp-mechanics.md section 3.2).  Brackets change often; these
# are a snapshot, overridable from a config file.
# ---------------------------------------------------------------------------

#: (notionalFloor, notionalCap, initialLeverage, maintMarginRatio) - cum is derived.
BTCUSDT_BRACKETS_2026: tuple[tuple[str, str, int, str], ...] = (
    ("0", "300000", 150, "0.004"),
    ("300000", "800000", 100, "0.005"),
    ("800000", "3000000", 75, "0.0065"),
    ("3000000", "12000000", 50, "0.01"),
    ("12000000", "70000000", 25, "0.02"),
    ("70000000", "100000000", 20, "0.025"),
    ("100000000", "230000000", 10, "0.05"),
    ("230000000", "480000000", 5, "0.10"),
    ("480000000", "600000000", 4, "0.125"),
    ("600000000", "800000000", 3, "0.15"),
    ("800000000", "1200000000", 2, "0.25"),
    ("1200000000", "1800000000", 1, "0.50"),
)

ETHUSDT_BRACKETS_2026: tuple[tuple[str, str, int, str], ...] = (
    ("0", "300000", 150, "0.004"),
    ("300000", "800000", 100, "0.005"),
    ("800000", "3000000", 75, "0.0065"),
    ("3000000", "12000000", 50, "0.01"),
    ("12000000", "50000000", 25, "0.02"),
    ("50000000", "65000000", 20, "0.025"),
    ("65000000", "150000000", 10, "0.05"),
    ("150000000", "320000000", 5, "0.10"),
    ("320000000", "400000000", 4, "0.125"),
    ("400000000", "530000000", 3, "0.15"),
    ("530000000", "800000000", 2, "0.25"),
    ("800000000", "1200000000", 1, "0.50"),
)

DEFAULT_MAKER_FEE = Decimal("0.0002")
DEFAULT_TAKER_FEE = Decimal("0.0005")
DEFAULT_LIQUIDATION_FEE = Decimal("0.0125")
DEFAULT_FUNDING_INTERVAL_HOURS = 8


def default_interest_rate(interval_hours: int) -> Decimal:
    """0.01 % per 8 h scaled to the interval (4 h -> 0.00005, 1 h -> 0.0000125), per spec 2.3."""
    return Decimal("0.0001") * interval_hours / 8


def default_funding_cap(brackets: Sequence[Bracket]) -> Decimal:
    """0.75 x MMR of the max-leverage bracket (BTCUSDT 0.4 % -> 0.30 %), per spec 2.3."""
    return (Decimal(brackets[0].maint_margin_rate) * Decimal("0.75") / RATE_SCALE).quantize(Decimal("1e-8"))


def _make_default(symbol: str, base: str, *, tick: str, step: str, min_price: str, max_price: str,
                  min_qty: str, max_qty: str, market_max_qty: str, min_notional: str,
                  rows: Sequence[tuple[str, str, int, str]]) -> Instrument:
    brackets = build_brackets(rows)
    cap = default_funding_cap(brackets)
    return Instrument(
        symbol=symbol, base_asset=base, quote_asset="USDT",
        tick_size=Decimal(tick), step_size=Decimal(step),
        min_price=Decimal(min_price), max_price=Decimal(max_price),
        min_qty=Decimal(min_qty), max_qty=Decimal(max_qty),
        market_min_qty=Decimal(min_qty), market_max_qty=Decimal(market_max_qty),
        min_notional=Decimal(min_notional),
        max_num_orders=200, max_num_algo_orders=100,
        percent_price_up=Decimal("1.0500"), percent_price_down=Decimal("0.9500"),
        market_take_bound=Decimal("0.05"), trigger_protect=Decimal("0.0500"),
        liquidation_fee=DEFAULT_LIQUIDATION_FEE,
        maker_fee=DEFAULT_MAKER_FEE, taker_fee=DEFAULT_TAKER_FEE,
        funding_interval_hours=DEFAULT_FUNDING_INTERVAL_HOURS,
        interest_rate=default_interest_rate(DEFAULT_FUNDING_INTERVAL_HOURS),
        funding_cap=cap, funding_floor=-cap,
        brackets=brackets, price_precision=2, quantity_precision=3,
    )


DEFAULT_INSTRUMENTS: dict[str, Instrument] = {
    "BTCUSDT": _make_default(
        "BTCUSDT", "BTC", tick="0.10", step="0.001", min_price="556.80", max_price="4529764",
        min_qty="0.001", max_qty="1000", market_max_qty="120", min_notional="50",
        rows=BTCUSDT_BRACKETS_2026),
    "ETHUSDT": _make_default(
        "ETHUSDT", "ETH", tick="0.01", step="0.001", min_price="39.86", max_price="306177",
        min_qty="0.001", max_qty="10000", market_max_qty="2000", min_notional="20",
        rows=ETHUSDT_BRACKETS_2026),
}


# ---------------------------------------------------------------------------
# Config files
# ---------------------------------------------------------------------------

_REQUIRED = ("symbol", "baseAsset", "tickSize", "stepSize", "minPrice", "maxPrice",
             "minQty", "maxQty", "minNotional", "brackets")
_OPTIONAL = ("quoteAsset", "marketMinQty", "marketMaxQty", "maxNumOrders", "maxNumAlgoOrders",
             "multiplierUp", "multiplierDown", "marketTakeBound", "triggerProtect", "liquidationFee",
             "makerFee", "takerFee", "fundingIntervalHours", "interestRate", "fundingCap",
             "fundingFloor", "pricePrecision", "quantityPrecision", "orderTypes", "timeInForce")
_BRACKET_KEYS = ("notionalFloor", "notionalCap", "initialLeverage", "maintMarginRatio")


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: expected an integer, got {value!r}")
    return value


def _decimals(d: Decimal) -> int:
    return max(0, -d.normalize().as_tuple().exponent)


def instrument_from_config(obj: Mapping[str, Any]) -> Instrument:
    """One ``Instrument`` from a config object using Binance's exchangeInfo key names.

    Decimal values must be strings (or JSON integers) because a binary float
    cannot hold 0.1 exactly.  ``brackets`` rows may carry ``cum``; if they do
    it must equal the value the continuity rule gives.
    """
    if not isinstance(obj, Mapping):
        raise ValueError(f"instrument entry must be an object, got {type(obj).__name__}")
    sym = obj.get("symbol", "?")
    where = f"instrument {sym}"
    missing = [k for k in _REQUIRED if k not in obj]
    if missing:
        raise ValueError(f"{where}: missing required key(s) {', '.join(missing)}")
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(sym, str):
        raise ValueError(f"{where}: symbol must be a string")

    def d(key: str, default: Any = None) -> Decimal:
        return _dec(obj.get(key, default), f"{where}: {key}")

    rows_in = obj["brackets"]
    if not isinstance(rows_in, list) or not rows_in:
        raise ValueError(f"{where}: brackets must be a non-empty list")
    rows = []
    given_cum: list[Decimal | None] = []
    for i, r in enumerate(rows_in, start=1):
        if not isinstance(r, Mapping):
            raise ValueError(f"{where}: bracket {i} must be an object")
        miss = [k for k in _BRACKET_KEYS if k not in r]
        if miss:
            raise ValueError(f"{where}: bracket {i} missing {', '.join(miss)}")
        extra = sorted(set(r) - set(_BRACKET_KEYS) - {"cum", "bracket"})
        if extra:
            raise ValueError(f"{where}: bracket {i} unknown key(s) {', '.join(extra)}")
        rows.append((r["notionalFloor"], r["notionalCap"], r["initialLeverage"], r["maintMarginRatio"]))
        given_cum.append(_dec(r["cum"], f"{where}: bracket {i} cum") if "cum" in r else None)
    try:
        brackets = build_brackets(rows)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    for b, c in zip(brackets, given_cum):
        if c is not None and c * MONEY_SCALE != b.cum:
            raise ValueError(f"{where}: bracket {b.bracket} cum {c} disagrees with the continuity rule "
                             f"({Decimal(b.cum) / MONEY_SCALE})")

    tick = d("tickSize")
    step = d("stepSize")
    hours = _int(obj.get("fundingIntervalHours", DEFAULT_FUNDING_INTERVAL_HOURS), f"{where}: fundingIntervalHours")
    cap_default = default_funding_cap(brackets)
    min_qty = d("minQty")
    max_qty = d("maxQty")
    return Instrument(
        symbol=sym,
        base_asset=str(obj["baseAsset"]),
        quote_asset=str(obj.get("quoteAsset", "USDT")),
        tick_size=tick, step_size=step,
        min_price=d("minPrice"), max_price=d("maxPrice"),
        min_qty=min_qty, max_qty=max_qty,
        market_min_qty=d("marketMinQty", obj.get("minQty")),
        market_max_qty=d("marketMaxQty", obj.get("maxQty")),
        min_notional=d("minNotional"),
        max_num_orders=_int(obj.get("maxNumOrders", 200), f"{where}: maxNumOrders"),
        max_num_algo_orders=_int(obj.get("maxNumAlgoOrders", 100), f"{where}: maxNumAlgoOrders"),
        percent_price_up=d("multiplierUp", "1.0500"),
        percent_price_down=d("multiplierDown", "0.9500"),
        market_take_bound=d("marketTakeBound", "0.05"),
        trigger_protect=d("triggerProtect", "0.0500"),
        liquidation_fee=d("liquidationFee", DEFAULT_LIQUIDATION_FEE),
        maker_fee=d("makerFee", DEFAULT_MAKER_FEE),
        taker_fee=d("takerFee", DEFAULT_TAKER_FEE),
        funding_interval_hours=hours,
        interest_rate=d("interestRate", default_interest_rate(hours)),
        funding_cap=d("fundingCap", cap_default),
        funding_floor=d("fundingFloor", -cap_default),
        brackets=brackets,
        price_precision=_int(obj.get("pricePrecision", _decimals(tick)), f"{where}: pricePrecision"),
        quantity_precision=_int(obj.get("quantityPrecision", _decimals(step)), f"{where}: quantityPrecision"),
        order_types=_names(obj.get("orderTypes", ALL_ORDER_TYPES), f"{where}: orderTypes"),
        time_in_force=_names(obj.get("timeInForce", ALL_TIME_IN_FORCE), f"{where}: timeInForce"),
    )


def _names(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what}: expected a list of names, got {value!r}")
    return tuple(value)


def instrument_to_config(inst: Instrument) -> dict[str, Any]:
    """The config object ``instrument_from_config`` reads back to an equal Instrument
    (decimal strings only: this is what a journal header stores)."""
    money = Decimal(MONEY_SCALE)

    def s(d: Decimal) -> str:
        return str(d)

    out = {
        "symbol": inst.symbol, "baseAsset": inst.base_asset, "quoteAsset": inst.quote_asset,
        "tickSize": s(inst.tick_size), "stepSize": s(inst.step_size),
        "minPrice": s(inst.min_price), "maxPrice": s(inst.max_price),
        "minQty": s(inst.min_qty), "maxQty": s(inst.max_qty),
        "marketMinQty": s(inst.market_min_qty), "marketMaxQty": s(inst.market_max_qty),
        "minNotional": s(inst.min_notional),
        "maxNumOrders": inst.max_num_orders, "maxNumAlgoOrders": inst.max_num_algo_orders,
        "multiplierUp": s(inst.percent_price_up), "multiplierDown": s(inst.percent_price_down),
        "marketTakeBound": s(inst.market_take_bound), "triggerProtect": s(inst.trigger_protect),
        "liquidationFee": s(inst.liquidation_fee), "makerFee": s(inst.maker_fee),
        "takerFee": s(inst.taker_fee), "fundingIntervalHours": inst.funding_interval_hours,
        "interestRate": s(inst.interest_rate), "fundingCap": s(inst.funding_cap),
        "fundingFloor": s(inst.funding_floor),
        "pricePrecision": inst.price_precision, "quantityPrecision": inst.quantity_precision,
        "brackets": [
            {"notionalFloor": str(Decimal(b.notional_floor) / money),
             "notionalCap": str(Decimal(b.notional_cap) / money),
             "initialLeverage": b.initial_leverage,
             "maintMarginRatio": str(Decimal(b.maint_margin_rate) / Decimal(RATE_SCALE))}
            for b in inst.brackets
        ],
    }
    # only when narrowed: a journal header of the full sets stays as it always was
    if inst.order_types != ALL_ORDER_TYPES:
        out["orderTypes"] = list(inst.order_types)
    if inst.time_in_force != ALL_TIME_IN_FORCE:
        out["timeInForce"] = list(inst.time_in_force)
    return out


def load_instruments(path: "str | Path", *, include_defaults: bool = True) -> dict[str, Instrument]:
    """Instruments from a JSON file: ``{"symbols": [ {...}, ... ]}`` or a bare list.

    The file adds symbols to (or, same name, replaces) ``DEFAULT_INSTRUMENTS``
    unless ``include_defaults`` is False.  JSON numbers are read as Decimal,
    never float, so ``0.1`` in a file stays exactly 0.1.  Every problem is a
    ValueError naming the file and the symbol.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{p}: cannot read instrument config: {e.strerror or e}") from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not valid JSON: {e}") from None
    if isinstance(data, Mapping):
        extra = sorted(set(data) - {"symbols"})
        if "symbols" not in data or extra:
            raise ValueError(f"{p}: top level must be a list or {{\"symbols\": [...]}}")
        data = data["symbols"]
    if not isinstance(data, list):
        raise ValueError(f"{p}: top level must be a list or {{\"symbols\": [...]}}")
    out: dict[str, Instrument] = dict(DEFAULT_INSTRUMENTS) if include_defaults else {}
    seen: set[str] = set()
    for entry in data:
        try:
            inst = instrument_from_config(entry)
        except ValueError as e:
            raise ValueError(f"{p}: {e}") from None
        if inst.symbol in seen:
            raise ValueError(f"{p}: symbol {inst.symbol} is defined twice")
        seen.add(inst.symbol)
        out[inst.symbol] = inst
    return out
