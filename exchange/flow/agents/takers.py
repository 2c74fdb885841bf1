"""Takers: noise traders, momentum traders and leveraged position holders."""
from __future__ import annotations

import math
from dataclasses import dataclass

from exchange.units import MONEY_SCALE
from exchange.contract import codes as C
from exchange.flow.agents.base import Agent, MarketView, StepContext, poisson, position_qty


# ----------------------------------------------------------------------------- noise
@dataclass(frozen=True)
class TakerProfile:
    rate_per_s: float = 0.8            # Poisson arrivals per second
    size_usdt_min: float = 300.0       # Pareto scale
    pareto_alpha: float = 1.5          # heavy tail: P(size > x) ~ x^-alpha
    size_usdt_cap: float = 300_000.0
    max_inventory_usdt: float = 1_000_000.0
    deposit_usdt: float = 2_000_000.0
    leverage: int = 10


DEFAULT_TAKERS = 4                      # noise takers per symbol


class NoiseTaker(Agent):
    """Market orders at Poisson times, heavy-tailed sizes, side by the scenario's
    buy probability, leaning back toward flat when inventory grows."""
    kind = "noise"

    def __init__(self, account_id: int, symbol: str, profile: TakerProfile = TakerProfile()) -> None:
        super().__init__(account_id, symbol, deposit_usdt=profile.deposit_usdt, leverage=profile.leverage)
        self.p = profile

    def on_step(self, ctx: StepContext) -> list:
        m: MarketView = ctx.markets[self.symbol]
        rng = ctx.rng
        n = poisson(rng, self.p.rate_per_s * m.state.taker_rate_mult * ctx.dt_ms / 1000.0)
        if not n:
            return []
        p = self.p
        qty = position_qty(ctx.venue, self.account_id, self.symbol)
        inv = qty * m.index_ticks * m.unit / MONEY_SCALE / p.max_inventory_usdt
        out = []
        for _ in range(n):
            buy_prob = m.state.buy_prob - 0.4 * max(-1.0, min(1.0, inv))
            side = C.BUY if rng.random() < buy_prob else C.SELL
            usdt = min(p.size_usdt_cap, p.size_usdt_min * rng.paretovariate(p.pareto_alpha))
            lots = m.lots_for(usdt, m.index_ticks)
            out.extend(self.market_chunks(side, lots, m, m.market_max_qty or lots))
        return out


# -------------------------------------------------------------------------- momentum
@dataclass(frozen=True)
class MomentumProfile:
    fast_s: float = 20.0               # EMA half-lives of the index
    slow_s: float = 120.0
    threshold_bps: float = 8.0         # enter when fast/slow - 1 exceeds this
    position_usdt: float = 150_000.0
    check_ms: int = 2_000
    chunk_usdt: float = 50_000.0
    deposit_usdt: float = 1_000_000.0
    leverage: int = 10


DEFAULT_MOMENTUM = 2


class MomentumTrader(Agent):
    kind = "momentum"

    def __init__(self, account_id: int, symbol: str, profile: MomentumProfile = MomentumProfile()) -> None:
        super().__init__(account_id, symbol, deposit_usdt=profile.deposit_usdt, leverage=profile.leverage)
        self.p = profile
        self.fast = 0.0
        self.slow = 0.0

    def on_step(self, ctx: StepContext) -> list:
        m = ctx.markets[self.symbol]
        p = self.p
        x = float(m.index_ticks)
        if not self.fast:
            self.fast = self.slow = x
        dt = ctx.dt_ms / 1000.0
        self.fast += (1.0 - math.exp(-dt * math.log(2) / p.fast_s)) * (x - self.fast)
        self.slow += (1.0 - math.exp(-dt * math.log(2) / p.slow_s)) * (x - self.slow)
        if ctx.now_ms < self.next_ms:
            return []
        self.next_ms = ctx.now_ms + int(p.check_ms * (0.5 + ctx.rng.random()))
        signal = (self.fast / self.slow - 1.0) * 1e4
        if signal > p.threshold_bps:
            target = m.lots_for(p.position_usdt, m.index_ticks)
        elif signal < -p.threshold_bps:
            target = -m.lots_for(p.position_usdt, m.index_ticks)
        elif abs(signal) < p.threshold_bps / 3:
            target = 0
        else:
            return []
        qty = position_qty(ctx.venue, self.account_id, self.symbol)
        delta = target - qty
        if delta == 0:
            return []
        chunk = m.lots_for(p.chunk_usdt, m.index_ticks)
        if target == 0:
            return self.market_chunks(C.SELL if qty > 0 else C.BUY, abs(qty), m, chunk, reduce_only=True)
        if abs(delta) < m.min_lots(m.index_ticks):
            return []
        return self.market_chunks(C.BUY if delta > 0 else C.SELL, abs(delta), m, chunk)


# --------------------------------------------------------------------------- holders
#: leverages of position holders, with weights (10x/20x/50x/100x are the popular ones, spec 7)
HOLDER_LEVERAGES = ((2, 1), (3, 2), (5, 4), (10, 8), (20, 8), (25, 3), (50, 5), (75, 2), (100, 3), (125, 1))


@dataclass(frozen=True)
class HolderProfile:
    min_usdt: float = 2_000.0          # position notional, log-uniform
    max_usdt: float = 1_000_000.0
    margin_buffer: tuple = (1.05, 3.0)  # deposit = notional / leverage * U(buffer)
    first_entry_s: float = 60.0        # first entries spread over this window
    hold_s: float = 1_800.0            # mean holding time
    wait_s: float = 300.0              # mean time flat between positions
    chunk_usdt: float = 40_000.0       # per market order


DEFAULT_HOLDERS = 24


class PositionHolder(Agent):
    """Opens a leveraged position (size and leverage drawn once), holds it,
    closes it, waits, opens again; its direction follows the scenario's long share.
    Their liquidation prices cluster near ``EP x (1 - 1/L + MMR)`` for the
    popular leverages, which is what a cascade feeds on."""
    kind = "holder"
    every_step = False

    def __init__(self, account_id: int, symbol: str, leverage: int, notional_usdt: float,
                 deposit_usdt: float, profile: HolderProfile = HolderProfile()) -> None:
        super().__init__(account_id, symbol, deposit_usdt=deposit_usdt, leverage=leverage)
        self.p = profile
        self.notional_usdt = notional_usdt
        self.state = "flat"
        self.target = 0
        self.until_ms = 0
        self.opens = 0

    @classmethod
    def draw(cls, account_id: int, symbol: str, market: MarketView, rng, profile: HolderProfile = HolderProfile()):
        total = sum(w for _, w in HOLDER_LEVERAGES)
        u = rng.random() * total
        lev = HOLDER_LEVERAGES[-1][0]
        for lv, w in HOLDER_LEVERAGES:
            if u < w:
                lev = lv
                break
            u -= w
        lo, hi = math.log(profile.min_usdt), math.log(profile.max_usdt)
        notional = math.exp(lo + (hi - lo) * rng.random())
        notional = min(notional, 0.9 * market.max_notional_usdt(lev))
        b_lo, b_hi = profile.margin_buffer
        deposit = max(100.0, notional / lev * (b_lo + (b_hi - b_lo) * rng.random()))
        agent = cls(account_id, symbol, lev, notional, math.ceil(deposit), profile)
        agent.next_ms = -1   # first entry time set at start
        return agent

    def on_step(self, ctx: StepContext) -> list:
        m = ctx.markets[self.symbol]
        p = self.p
        rng = ctx.rng
        now = ctx.now_ms
        if self.next_ms < 0:
            self.next_ms = now + int(p.first_entry_s * 1000 * rng.random())
            return []
        if now < self.next_ms:
            return []
        chunk = m.lots_for(p.chunk_usdt, m.index_ticks)
        if self.state == "flat":
            long = rng.random() < m.long_share
            lots = m.lots_for(self.notional_usdt, m.index_ticks)
            self.target = lots if long else -lots
            self.state = "opening"
            self.opens += 1
            self.until_ms = now + int(rng.expovariate(1.0 / p.hold_s) * 1000)
        qty = position_qty(ctx.venue, self.account_id, self.symbol)
        if self.state == "opening":
            delta = self.target - qty
            if abs(delta) < m.min_lots(m.index_ticks) or (self.target > 0) != (delta > 0):
                self.state = "holding"
                self.next_ms = self.until_ms
                return []
            self.next_ms = now + 1_000
            q = min(abs(delta), chunk)
            return [self.market_order(C.BUY if delta > 0 else C.SELL, q, m)]
        if self.state == "holding":
            if qty == 0 or (qty > 0) != (self.target > 0):      # liquidated (or ADL'd) away
                self.state = "flat"
                self.next_ms = now + int(rng.expovariate(1.0 / p.wait_s) * 1000)
                return []
            self.state = "closing"
        if self.state == "closing":
            if qty == 0:
                self.state = "flat"
                self.next_ms = now + int(rng.expovariate(1.0 / p.wait_s) * 1000)
                return []
            self.next_ms = now + 1_000
            q = min(abs(qty), chunk)
            return [self.market_order(C.SELL if qty > 0 else C.BUY, q, m, reduce_only=True)]
        return []
