"""A seeded index-price process per symbol: GBM with jumps and volatility regimes.

The synthetic market's "spot basket".  Floats live here (the flow is a client,
not the venue); what leaves this module is an integer number of ticks.

    x(t+dt) = x(t) + (mu - sigma_r^2 / 2) dt + sigma_r sqrt(dt) Z + J
    index   = exp(x + scenario_offset(t))          (then rounded to ticks)

* ``sigma_r = sigma * regime_multiplier * scenario_vol_multiplier``; the regime
  is a continuous-time Markov chain over ``regimes`` (multiplier, mean stay s),
  moving to a uniformly chosen other regime when it leaves.
* ``J``: compound Poisson jumps, ``jump_rate_per_hour`` arrivals, log size
  ``N(0, jump_sigma)``.
* The scenario's deterministic log offset (a crash path, a trend) is added on
  top, so the stochastic part and the scripted part are independent.

Every random draw comes from the ``random.Random`` passed in, in a fixed order,
so a seed gives the same path.  Time is in integer milliseconds.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from decimal import Decimal

SECONDS_PER_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class IndexParams:
    """Per-symbol parameters.  ``sigma``/``drift`` are annualized (log terms)."""
    start_price: str                      # decimal string, e.g. "60000"
    sigma: float = 0.45                   # annualized volatility in the normal regime
    drift: float = 0.0                    # annualized log drift
    jump_rate_per_hour: float = 0.5
    jump_sigma: float = 0.002             # std of a jump's log size
    # (volatility multiplier, mean time spent in the regime in seconds)
    regimes: tuple = ((0.6, 1800.0), (1.0, 1200.0), (2.2, 300.0))
    start_regime: int = 1

    def with_overrides(self, **kw) -> "IndexParams":
        return replace(self, **kw)


#: per-symbol defaults (start price, volatility, jumps) live in ``exchange.flow.markets``


class IndexProcess:
    """One symbol's index path.  ``step(dt_ms, t_ms)`` moves it and returns ticks."""

    def __init__(self, params: IndexParams, tick_size: "str | Decimal", rng: random.Random) -> None:
        self.params = params
        self.rng = rng
        self.tick = float(Decimal(tick_size))
        self.x = math.log(float(Decimal(params.start_price)))
        self.regime = params.start_regime
        self.offset = 0.0               # scenario log offset currently applied
        self.price = math.exp(self.x)
        self.ticks = self._to_ticks(self.price)
        self.jumps = 0
        self.regime_changes = 0
        self.last_dx = 0.0
        # realized volatility estimate (EWMA of squared log returns per second)
        self.rv_per_s = (params.sigma / math.sqrt(SECONDS_PER_YEAR)) ** 2
        self._base_var_per_s = self.rv_per_s

    def _to_ticks(self, price: float) -> int:
        t = int(price / self.tick + 0.5)
        return t if t > 0 else 1

    @property
    def vol_ratio(self) -> float:
        """Realized volatility relative to the normal regime (1.0 = normal)."""
        return math.sqrt(self.rv_per_s / self._base_var_per_s)

    def step(self, dt_ms: int, offset: float = 0.0, vol_mult: float = 1.0,
             extra_drift: float = 0.0, jump_mult: float = 1.0, common: float = 0.0) -> int:
        """Advance ``dt_ms``; ``offset`` is the scenario's log offset at the new time,
        ``vol_mult`` its volatility multiplier, ``extra_drift`` an annualized drift,
        ``jump_mult`` a multiplier on the jump rate, ``common`` a log move shared with the
        market (beta x the market factor's move; 0 for a symbol that moves on its own)."""
        p = self.params
        rng = self.rng
        dt = dt_ms / 1000.0
        # regime switch (exponential stay times; at most one switch per step)
        stay = p.regimes[self.regime][1]
        if rng.random() < 1.0 - math.exp(-dt / stay):
            n = len(p.regimes)
            if n > 1:
                k = rng.randrange(n - 1)
                self.regime = k if k < self.regime else k + 1
                self.regime_changes += 1
        sig = p.sigma * p.regimes[self.regime][0] * vol_mult
        dt_y = dt / SECONDS_PER_YEAR
        z = rng.gauss(0.0, 1.0)
        dx = (p.drift + extra_drift - 0.5 * sig * sig) * dt_y + sig * math.sqrt(dt_y) * z
        if rng.random() < p.jump_rate_per_hour * jump_mult * dt / 3600.0:
            dx += rng.gauss(0.0, p.jump_sigma * vol_mult)
            self.jumps += 1
        self.last_dx = dx               # the move of its own (a market factor's move, for followers)
        self.x += dx + common
        old = self.price
        self.offset = offset
        self.price = math.exp(self.x + offset)
        r = math.log(self.price / old)
        # EWMA with a ~30 s half-life, in variance per second
        a = 1.0 - math.exp(-dt / 30.0)
        self.rv_per_s += a * (r * r / dt - self.rv_per_s)
        self.ticks = self._to_ticks(self.price)
        return self.ticks
