"""Market scenarios: what the index does and how the agents change their behaviour.

A scenario is a script on top of the stochastic index process
(:mod:`exchange.flow.index_process`): a deterministic log offset of the index
(the crash path), a volatility multiplier, and the knobs the agents read every
step (book depth kept, spread widening, taker direction bias and intensity,
the perp's basis to the index, the long share of leveraged holders).

Magnitudes follow the cascades in ``shared/spec/perp-mechanics.md`` section 7:

* ``crash``: an exogenous index gap of 2-5 % in under a minute, then a slide to
  a total drop of 10-30 % (BTC; ETH moves ``beta`` = 1.3 times as much, like
  the 2021-05-19 and 2025-10-10 cascades where ETH fell 1.3-1.5x BTC), makers
  withdraw 50-90 % of their depth and widen their spreads 3-8x, takers sell
  (liquidation-like one-sided flow), then a V-shaped partial rebound; after the
  cascade the perp trades at a discount to the index (funding flips negative
  and spikes toward the cap).  Leveraged holders are 75 % long going in.
* ``squeeze``: the mirror (index up 10-30 %, shorts squeezed, funding positive).
* ``trend``: a persistent drift of 2-5 % per hour in a random direction.
* ``funding-spike``: the perp's basis to the index ramps to 0.5-1.5 % and
  holds (the quotes move, the index does not), with buy-biased takers.
* ``calm``: lower volatility, fewer jumps.

Random draws (the crash depth, the gap, ...) come from the flow's seeded
``random.Random`` in :meth:`Scenario.start`; everything else is a pure
function of time, so a seed and a scenario give one path.  Every parameter
can be overridden: ``make_scenario("crash", start_s=10, fall_s=120, total=0.2)``
(a number fixes a drawn range; a 2-tuple replaces the range).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields
from typing import Any, Optional

SCENARIOS = ("calm", "trend", "crash", "squeeze", "funding-spike")

#: how much more than BTC each symbol moves in a scripted event (spec section 7)
DEFAULT_BETA = {"BTCUSDT": 1.0, "ETHUSDT": 1.3}


@dataclass(frozen=True)
class ScenarioParams:
    name: str = "calm"
    # background
    vol_mult: float = 1.0                 # multiplier on the index process volatility
    jump_mult: float = 1.0                # multiplier on the index jump rate
    basis: float = 0.0002                 # quotes' centre over the index at rest (+2 bp)
    taker_rate_mult: float = 1.0
    holder_long_share: float = 0.5
    # trend
    trend_per_hour: tuple = (0.0, 0.0)    # |drift| per hour, drawn; sign random
    # scripted event (crash / squeeze)
    direction: int = 0                    # -1 crash, +1 squeeze, 0 none
    start_s: float = 60.0                 # seconds after the flow starts
    gap: Any = (0.02, 0.05)               # fraction of the first, fast leg
    gap_s: Any = (20.0, 50.0)             # it takes less than a minute
    total: Any = (0.10, 0.30)             # total move of the event (BTC)
    fall_s: float = 300.0                 # from start to the extreme
    rebound: Any = (0.3, 0.6)             # fraction of the move given back
    rebound_s: float = 600.0
    event_vol_mult: float = 3.0
    withdrawal: Any = (0.5, 0.9)          # fraction of maker depth pulled at the worst
    spread_widen: Any = (3.0, 8.0)        # maker spread multiplier at the worst
    event_taker_bias: float = 0.25        # extra probability a taker goes with the move
    event_taker_rate: float = 3.0
    basis_after: Any = (0.002, 0.006)     # |basis| after the event, sign = direction
    # funding spike
    spike_basis: Any = (0.0, 0.0)         # target basis (signed draw range)
    spike_start_s: float = 30.0
    spike_ramp_s: float = 300.0
    spike_hold_s: float = 3600.0
    spike_taker_bias: float = 0.1
    beta: dict = field(default_factory=lambda: dict(DEFAULT_BETA))


_PRESETS: dict[str, dict] = {
    "calm": dict(vol_mult=0.6, jump_mult=0.3),
    "trend": dict(trend_per_hour=(0.02, 0.05), vol_mult=1.0),
    "crash": dict(direction=-1, holder_long_share=0.75),
    "squeeze": dict(direction=+1, holder_long_share=0.25),
    "funding-spike": dict(spike_basis=(0.005, 0.015)),
}


def scenario_params(name: str, **overrides) -> ScenarioParams:
    if name not in _PRESETS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    kw = dict(_PRESETS[name])
    names = {f.name for f in fields(ScenarioParams)}
    for k, v in overrides.items():
        k = k.replace("-", "_")
        if k not in names:
            raise ValueError(f"scenario {name}: unknown parameter {k!r}")
        kw[k] = v
    return ScenarioParams(name=name, **kw)


def _draw(rng: random.Random, spec: Any) -> float:
    """A number is fixed; a (lo, hi) pair is drawn uniformly (always consuming one draw)."""
    u = rng.random()
    if isinstance(spec, (tuple, list)):
        lo, hi = spec
        return lo + (hi - lo) * u
    return float(spec)


def _smooth(u: float) -> float:
    """Smoothstep on [0, 1]."""
    if u <= 0.0:
        return 0.0
    if u >= 1.0:
        return 1.0
    return u * u * (3.0 - 2.0 * u)


@dataclass
class ScenarioState:
    """The knobs at one moment for one symbol."""
    phase: str = "calm"
    offset: float = 0.0            # log offset of the index
    vol_mult: float = 1.0
    drift: float = 0.0             # annualized extra log drift
    depth_mult: float = 1.0        # maker depth kept (1 = all)
    spread_mult: float = 1.0
    basis: float = 0.0             # quotes' centre = index * (1 + basis)
    buy_prob: float = 0.5          # probability a noise taker buys
    taker_rate_mult: float = 1.0
    jump_mult: float = 1.0


class Scenario:
    def __init__(self, params: ScenarioParams) -> None:
        self.p = params
        self.name = params.name
        self.t0_ms: Optional[int] = None
        self.drawn: dict[str, float] = {}

    @classmethod
    def named(cls, name: str, **overrides) -> "Scenario":
        return cls(scenario_params(name, **overrides))

    def start(self, rng: random.Random, t0_ms: int) -> None:
        """Draw the scenario's random magnitudes (fixed order) and anchor its time."""
        p = self.p
        self.t0_ms = t0_ms
        d = self.drawn
        d["trend"] = _draw(rng, p.trend_per_hour) * (1 if rng.random() < 0.5 else -1)
        d["gap"] = _draw(rng, p.gap)
        d["gap_s"] = _draw(rng, p.gap_s)
        d["total"] = max(d["gap"], _draw(rng, p.total))
        d["rebound"] = _draw(rng, p.rebound)
        d["withdrawal"] = _draw(rng, p.withdrawal)
        d["spread_widen"] = _draw(rng, p.spread_widen)
        d["basis_after"] = _draw(rng, p.basis_after)
        d["spike_basis"] = _draw(rng, p.spike_basis)

    # ------------------------------------------------------------ the path
    def event_move(self, t_s: float) -> tuple[float, float, str]:
        """(fraction moved so far for BTC-like beta 1, severity 0..1, phase) of the
        scripted event at ``t_s`` seconds after the flow started."""
        p = self.p
        d = self.drawn
        if p.direction == 0:
            return 0.0, 0.0, self.name
        u = t_s - p.start_s
        if u < 0:
            return 0.0, 0.0, "pre"
        gap_s = d["gap_s"]
        if u < gap_s:
            return d["gap"] * _smooth(u / gap_s), _smooth(u / gap_s), "shock"
        fall = max(p.fall_s - gap_s, 1.0)
        if u < p.fall_s:
            f = (u - gap_s) / fall
            return d["gap"] + (d["total"] - d["gap"]) * _smooth(f), 1.0, "cascade"
        r = u - p.fall_s
        if r < p.rebound_s:
            f = _smooth(r / p.rebound_s)
            return d["total"] * (1.0 - d["rebound"] * f), 1.0 - 0.7 * f, "rebound"
        return d["total"] * (1.0 - d["rebound"]), 0.3 * math.exp(-(r - p.rebound_s) / 1800.0), "after"

    def at(self, t_ms: int, symbol: str) -> ScenarioState:
        p = self.p
        d = self.drawn
        t_s = (t_ms - (self.t0_ms or 0)) / 1000.0
        st = ScenarioState(phase=self.name, vol_mult=p.vol_mult, basis=p.basis,
                           taker_rate_mult=p.taker_rate_mult, jump_mult=p.jump_mult)
        if d.get("trend"):
            st.drift = d["trend"] * 24 * 365
            st.buy_prob = 0.5 + (0.05 if d["trend"] > 0 else -0.05)
            st.basis = p.basis + (0.0003 if d["trend"] > 0 else -0.0003)
        if p.direction:
            move, sev, phase = self.event_move(t_s)
            beta = p.beta.get(symbol, 1.0)
            m = min(0.6, move * beta)
            st.phase = phase
            st.offset = math.log(1.0 - m) if p.direction < 0 else math.log(1.0 + m)
            if sev > 0.0:
                st.vol_mult = p.vol_mult * (1.0 + (p.event_vol_mult - 1.0) * sev)
                st.depth_mult = 1.0 - d["withdrawal"] * sev
                st.spread_mult = 1.0 + (d["spread_widen"] - 1.0) * sev
                if phase in ("shock", "cascade"):
                    st.buy_prob = 0.5 + p.direction * p.event_taker_bias
                    st.taker_rate_mult = p.taker_rate_mult * p.event_taker_rate
                # the perp goes to a discount (crash) / premium (squeeze) to the index
                st.basis = p.direction * d["basis_after"] * min(1.0, sev + (0.5 if phase in ("rebound", "after") else 0.0))
        sb = d.get("spike_basis", 0.0)
        if sb:
            u = t_s - p.spike_start_s
            if u >= 0:
                if u < p.spike_ramp_s:
                    f = _smooth(u / p.spike_ramp_s)
                    st.phase = "ramp"
                elif u < p.spike_ramp_s + p.spike_hold_s:
                    f = 1.0
                    st.phase = "spike"
                else:
                    f = math.exp(-(u - p.spike_ramp_s - p.spike_hold_s) / 1800.0)
                    st.phase = "decay"
                st.basis = p.basis + sb * f
                st.buy_prob = 0.5 + (p.spike_taker_bias if sb > 0 else -p.spike_taker_bias) * f
                st.spread_mult = 1.0 + 0.5 * f
        return st


def make_scenario(name: str = "calm", **overrides) -> Scenario:
    return Scenario.named(name, **overrides)
