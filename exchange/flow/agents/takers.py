"""Takers: noise traders, momentum traders and leveraged position holders."""
from __future__ import annotations

import math
from dataclasses import dataclass

from exchange.units import MONEY_SCALE
from exchange.contract import codes as C
from exchange.contract.commands import Deposit
from exchange.flow.agents.base import Agent, MarketView, StepContext, poisson


# ----------------------------------------------------------------------------- noise
@dataclass(frozen=True)
class TakerProfile:
    rate_per_s: float = 2.0            # Poisson arrivals per second (the tape: 40-60 trades a second)
    size_usdt_min: float = 15_000.0    # Pareto scale (times the symbol's size_scale)
    pareto_alpha: float = 1.5          # heavy tail: P(size > x) ~ x^-alpha
    size_usdt_cap: float = 2_000_000.0
    max_inventory_usdt: float = 30_000_000.0
    deposit_usdt: float = 200_000_000.0
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
        qty = ctx.position(self.account_id, self.symbol)
        inv = qty * m.index_ticks * m.unit / MONEY_SCALE / (p.max_inventory_usdt * m.scale)
        out = []
        for _ in range(n):
            buy_prob = m.state.buy_prob - 0.4 * max(-1.0, min(1.0, inv))
            side = C.BUY if rng.random() < buy_prob else C.SELL
            usdt = m.scale * min(p.size_usdt_cap, p.size_usdt_min * rng.paretovariate(p.pareto_alpha))
            lots = m.lots_for(usdt, m.index_ticks)
            out.extend(self.market_chunks(side, lots, m, m.market_max_qty or lots))
        return out


# -------------------------------------------------------------------------- momentum
@dataclass(frozen=True)
class MomentumProfile:
    fast_s: float = 20.0               # EMA half-lives of the index
    slow_s: float = 120.0
    threshold_bps: float = 8.0         # enter when fast/slow - 1 exceeds this
    position_usdt: float = 10_000_000.0
    check_ms: int = 2_000
    chunk_usdt: float = 2_000_000.0
    deposit_usdt: float = 50_000_000.0
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
            target = m.lots_for(p.position_usdt * m.scale, m.index_ticks)
        elif signal < -p.threshold_bps:
            target = -m.lots_for(p.position_usdt * m.scale, m.index_ticks)
        elif abs(signal) < p.threshold_bps / 3:
            target = 0
        else:
            return []
        qty = ctx.position(self.account_id, self.symbol)
        delta = target - qty
        if delta == 0:
            return []
        chunk = m.lots_for(p.chunk_usdt * m.scale, m.index_ticks)
        if target == 0:
            return self.market_chunks(C.SELL if qty > 0 else C.BUY, abs(qty), m, chunk, reduce_only=True)
        if abs(delta) < m.min_lots(m.index_ticks):
            return []
        return self.market_chunks(C.BUY if delta > 0 else C.SELL, abs(delta), m, chunk)


# --------------------------------------------------------------------------- holders
#: leverage settings traders pick (10x/20x/50x/100x are the popular ones, spec 7); a holder's
#: setting is the smallest of these at or above 1.25x its effective leverage
HOLDER_LEVERAGES = (2, 3, 5, 10, 20, 25, 50, 75, 100, 125)


@dataclass(frozen=True)
class HolderProfile:
    min_usdt: float = 250_000.0        # position notional, log-uniform (times the symbol's size_scale)
    max_usdt: float = 100_000_000.0
    hold_s: float = 6 * 3600.0         # mean holding time
    wait_s: float = 1_800.0            # mean time flat between positions
    chunks: int = 4                    # a position is opened / closed in about this many market orders ...
    chunk_usdt_max: float = 1_000_000.0  # ... of at most this much (times size_scale): traders work big orders
    retry_ms: int = 5_000              # between the orders of one opening / closing (a trader working an order)


DEFAULT_HOLDERS = 200


def draw_effective_leverage(rng, mix) -> float:
    """One draw from a ``((low, high, weight), ...)`` mix, log-uniform inside the bin."""
    total = sum(w for _, _, w in mix)
    u = rng.random() * total
    lo, hi = mix[-1][0], mix[-1][1]
    for a, b, w in mix:
        if u < w:
            lo, hi = a, b
            break
        u -= w
    return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * rng.random())


def max_effective_leverage(notional_usdt: float, scale: float = 1.0) -> float:
    """The most a holder of ``notional_usdt`` runs: large traders run less leverage (and the
    brackets push them there): at $5 M at most 8x, $20 M 4x, $100 M 1.8x (times the symbol's
    ``size_scale``), while a $250 k position may run 35x.  So a move of ``m`` reaches positions
    up to about ``320 M x scale x m**2`` (those at ``1 / m`` effective leverage or more)."""
    return max(1.5, 8.0 * math.sqrt(5_000_000.0 * scale / notional_usdt))


class PositionHolder(Agent):
    """A leveraged trader: opens a position (size, side and effective leverage
    drawn from the scenario's positioning), holds it, closes it, waits, opens
    again.  Liquidated (or run out of margin), it stops; with the scenario's
    ``comeback_share`` it comes back after about ``comeback_s`` with new
    capital, so open interest rebuilds after a cascade.

    Cross margin with a wallet of ``notional / effective leverage``: the
    liquidation price sits about ``1/effective leverage - MMR`` from the entry,
    and the holders' entries are spread over the warm-up, so liquidation prices
    are spread too."""
    kind = "holder"
    every_step = False

    def __init__(self, account_id: int, symbol: str, leverage: int, notional_usdt: float,
                 deposit_usdt: float, profile: HolderProfile = HolderProfile(), effective: float = 0.0) -> None:
        super().__init__(account_id, symbol, deposit_usdt=deposit_usdt, leverage=leverage)
        self.p = profile
        self.notional_usdt = notional_usdt
        self.effective = effective or (notional_usdt / deposit_usdt if deposit_usdt else leverage)
        self.state = "flat"
        self.target = 0
        self.until_ms = 0
        self.opens = 0
        self.last_qty = 0
        self.stalls = 0
        self.liquidated = 0
        self.comebacks = 0
        self.long = True                   # the side this trader takes (set by the flow from the positioning)

    @classmethod
    def draw(cls, account_id: int, symbol: str, market: MarketView, rng, profile: HolderProfile = HolderProfile(),
             mix=None, scale: float = 1.0):
        from exchange.flow.scenarios import LEVERAGE_MIX_DEFAULT
        eff = draw_effective_leverage(rng, mix or LEVERAGE_MIX_DEFAULT)
        lo, hi = math.log(profile.min_usdt * scale), math.log(profile.max_usdt * scale)
        notional = math.exp(lo + (hi - lo) * rng.random())
        eff = min(eff, max_effective_leverage(notional, scale))
        want = eff * 1.25
        lev = next((lv for lv in HOLDER_LEVERAGES if lv >= want), HOLDER_LEVERAGES[-1])
        notional = min(notional, 0.9 * market.max_notional_usdt(lev))
        eff = min(eff, lev * 0.95)
        deposit = max(100.0, notional / eff)
        agent = cls(account_id, symbol, lev, notional, math.ceil(deposit), profile, eff)
        agent.next_ms = -1   # first entry time set at the first step
        return agent

    def _flat(self, now: int, rng, wait_s: float) -> list:
        self.state = "flat"
        self.next_ms = now + int(rng.expovariate(1.0 / wait_s) * 1000)
        return []

    def _out(self, now: int, rng, m: MarketView) -> list:
        """Liquidated or out of margin: stop; maybe come back later with new capital."""
        self.liquidated += 1
        if rng.random() < m.comeback_share:
            self.state = "away"
            self.next_ms = now + int(rng.expovariate(1.0 / max(1.0, m.comeback_s)) * 1000)
        else:
            self.state = "gone"
            self.next_ms = 1 << 62
        return []

    def on_step(self, ctx: StepContext) -> list:
        m = ctx.markets[self.symbol]
        p = self.p
        rng = ctx.rng
        now = ctx.now_ms
        if self.next_ms < 0:
            self.next_ms = now + int(m.entry_window_s * 1000 * rng.random())
            return []
        if now < self.next_ms:
            return []
        out: list = []
        if self.state == "gone":
            return []
        if self.state == "away":
            # back with new capital: a fresh wallet for the next position
            self.comebacks += 1
            self.state = "flat"
            out.append(Deposit(self.account_id, int(math.ceil(self.notional_usdt / self.effective)) * MONEY_SCALE))
        qty = ctx.position(self.account_id, self.symbol)
        lots = m.lots_for(self.notional_usdt, m.index_ticks)
        chunk = max(m.lots_for(min(self.notional_usdt / p.chunks, p.chunk_usdt_max * m.scale), m.index_ticks), 1)
        if m.market_max_qty:
            chunk = min(chunk, m.market_max_qty)
        if self.state == "flat":
            if qty != 0:           # something left from before (cannot open over it): close it first
                self.state = "closing"
            else:
                long = self.long
                self.target = lots if long else -lots
                self.state = "opening"
                self.opens += 1
                self.stalls = 0
                self.last_qty = 0
                self.until_ms = now + int(rng.expovariate(1.0 / p.hold_s) * 1000)
        if self.state == "opening":
            if self.opens > 1 or self.last_qty:
                if abs(qty) < abs(self.last_qty) or (qty and (qty > 0) != (self.target > 0)):
                    return out + self._out(now, rng, m)        # liquidated while building up
                if qty == self.last_qty:
                    self.stalls += 1                           # the last order did not fill (no margin, ...)
                    if self.stalls >= 2:
                        if qty == 0:
                            return out + self._out(now, rng, m)
                        self.state = "holding"
                        self.next_ms = self.until_ms
                        return out
            delta = self.target - qty
            if abs(delta) < m.min_lots(m.index_ticks) or (self.target > 0) != (delta > 0):
                self.state = "holding"
                self.last_qty = qty
                self.next_ms = self.until_ms
                return out
            self.last_qty = qty
            self.next_ms = now + p.retry_ms
            q = min(abs(delta), chunk)
            out.append(self.market_order(C.BUY if delta > 0 else C.SELL, q, m))
            return out
        if self.state == "holding":
            if qty == 0 or (qty > 0) != (self.target > 0) or abs(qty) < abs(self.last_qty):
                # liquidated (or deleveraged) away, in full or in part
                if qty == 0 or abs(qty) < abs(self.last_qty) // 2:
                    if qty:
                        self.state = "closing"
                        self.next_ms = now + p.retry_ms
                        return out
                    return out + self._out(now, rng, m)
            self.state = "closing"
            self.stalls = 0
            self.last_qty = qty
        if self.state == "closing":
            if qty == 0:
                return out + self._flat(now, rng, p.wait_s)
            if qty == self.last_qty:
                self.stalls += 1
                if self.stalls > 20:            # cannot close (no book?): try again much later
                    self.stalls = 0
                    self.next_ms = now + 60_000
                    return out
            self.last_qty = qty
            self.next_ms = now + p.retry_ms
            q = min(abs(qty), chunk)
            out.append(self.market_order(C.SELL if qty > 0 else C.BUY, q, m, reduce_only=True))
            return out
        return out
