"""Per-symbol configuration of linear USDT-margined perpetuals.

Config files and ``exchangeInfo`` speak decimal strings; the venue speaks
integers (see ``exchange.units``).  ``Instrument`` holds both views: the
decimal strings as configured and the integer forms the venue computes with.

Derived integer facts:
* ``notional_unit`` - money units of one tick x one lot
  (``tickSize * stepSize * MONEY_SCALE``), so notional = price * qty * notional_unit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Bracket:
    """One notional tier of the leverage/margin table (Binance leverageBracket)."""
    bracket: int
    initial_leverage: int
    notional_floor: int      # money units
    notional_cap: int        # money units
    maint_margin_rate: int   # RATE_SCALE units
    cum: int                 # maintenance amount, money units


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
