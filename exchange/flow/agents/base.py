"""What every synthetic agent shares: its account, the per-symbol market view
the driver keeps, and integer helpers for sizes.

Agents are clients.  They decide from what a client could know - the index
the flow generates (the spot basket), the scenario's knobs, and the venue's
public query methods (``depth``, ``mark_price``, ``position_risk``,
``open_orders``, ...) - and return ordinary venue commands with integer ticks
and lots.  They never touch venue internals and never draw random numbers
from anything but ``ctx.rng`` (the flow's seeded ``random.Random``), and they
are called in a fixed order, so a seed gives one journal.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange.units import MONEY_SCALE
from exchange.contract import codes as C
from exchange.contract.commands import CreateAccount, Deposit, NewOrder, SetLeverage

from exchange.flow.scenarios import ScenarioState


class MarketView:
    """Per-symbol facts (from the public instrument config) and the flow's index."""

    def __init__(self, instrument: Any) -> None:
        self.symbol = instrument.symbol
        self.instrument = instrument
        self.tick = float(Decimal(instrument.tick_size))
        self.unit = int(instrument.notional_unit)           # money units of 1 tick x 1 lot
        self.min_notional = int(Decimal(instrument.min_notional) * MONEY_SCALE)
        self.max_qty = int(Decimal(instrument.max_qty) / Decimal(instrument.step_size))
        self.market_max_qty = int(Decimal(instrument.market_max_qty) / Decimal(instrument.step_size))
        self.index_ticks = 0                  # the flow's current index (ticks)
        self.vol_ratio = 1.0                  # realized vol / normal vol
        self.state = ScenarioState()
        self.long_share = 0.5                 # share of leveraged holders opening long
        self.scale = 1.0                      # the symbol's size_scale (exchange.flow.markets)
        self.entry_window_s = 60.0            # holders' first entries spread over this
        self.comeback_s = 3600.0              # mean time before a liquidated holder comes back
        self.comeback_share = 0.6             # share of liquidated holders that come back
        self.brackets = tuple(instrument.brackets)

    # ------------------------------------------------------------ sizes
    def min_lots(self, price_ticks: int) -> int:
        """Smallest lots whose notional at ``price_ticks`` meets MIN_NOTIONAL (plus one lot)."""
        per_lot = price_ticks * self.unit
        return -(-self.min_notional // per_lot) + 1 if per_lot > 0 else 1

    def lots_for(self, usdt: float, price_ticks: int) -> int:
        """Lots worth about ``usdt`` at ``price_ticks``, at least the minimum notional."""
        per_lot = price_ticks * self.unit
        lots = int(usdt * MONEY_SCALE / per_lot) if per_lot > 0 else 0
        m = self.min_lots(price_ticks)
        return lots if lots >= m else m

    def max_notional_usdt(self, leverage: int) -> float:
        """Largest position notional (USDT) allowed at ``leverage`` (bracket table)."""
        cap = 0
        for b in self.brackets:
            if b.initial_leverage >= leverage:
                cap = max(cap, b.notional_cap)
        return cap / MONEY_SCALE


@dataclass
class StepContext:
    """What the driver hands every agent each step."""
    now_ms: int
    dt_ms: int
    venue: Any                      # read-only use: public query methods
    rng: random.Random
    markets: dict                   # symbol -> MarketView
    positions: Any = None           # (account, symbol) -> signed lots, kept from committed events

    def position(self, account_id: int, symbol: str) -> int:
        """Signed lots of the agent's one-way position, as the committed PositionChanged
        events left it (no venue query: ``position_risk`` computes far more than a qty)."""
        if self.positions is None:
            return position_qty(self.venue, account_id, symbol)
        return self.positions.get((account_id, symbol), 0)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth; ``lam`` is small here)."""
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def position_qty(venue: Any, account_id: int, symbol: str) -> int:
    """Signed lots of the one-way position (0 when flat)."""
    for row in venue.position_risk(account_id, symbol):
        if row["position_side"] == C.BOTH:
            return row["qty"]
    return 0


class Agent:
    """Base class.  Subclasses implement ``on_step`` and may extend ``setup``."""
    kind = "agent"
    every_step = True          # False: called only when ``next_ms`` has come

    def __init__(self, account_id: int, symbol: str, *, deposit_usdt: float, leverage: int) -> None:
        self.account_id = account_id
        self.symbol = symbol
        self.deposit_usdt = deposit_usdt
        self.leverage = leverage
        self.next_ms = 0
        self.orders_sent = 0

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.symbol}:{self.account_id}"

    def setup(self, market: MarketView) -> list:
        lev = max(1, min(self.leverage, max(b.initial_leverage for b in market.brackets)))
        self.leverage = lev
        return [CreateAccount(self.account_id),
                Deposit(self.account_id, int(self.deposit_usdt) * MONEY_SCALE),
                SetLeverage(self.account_id, self.symbol, lev)]

    def on_step(self, ctx: StepContext) -> list:
        return []

    # ------------------------------------------------------------ helpers
    def market_order(self, side: int, lots: int, market: MarketView, reduce_only: bool = False) -> NewOrder:
        self.orders_sent += 1
        return NewOrder(self.account_id, self.symbol, side, C.MARKET, C.GTC, lots, 0, 1 if reduce_only else 0)

    def market_chunks(self, side: int, lots: int, market: MarketView, chunk_lots: int,
                      reduce_only: bool = False) -> list:
        out = []
        cap = min(chunk_lots, market.market_max_qty) if market.market_max_qty else chunk_lots
        while lots > 0:
            q = lots if lots <= cap else cap
            out.append(self.market_order(side, q, market, reduce_only))
            lots -= q
        return out
