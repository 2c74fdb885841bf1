"""Market scenarios: what the index does and how the agents change their behaviour.

A scenario is a script on top of the stochastic index process
(:mod:`exchange.flow.index_process`): a deterministic log offset of the index
(the crash path), a volatility multiplier, and the knobs the agents read every
step (book depth kept, spread widening, taker direction bias and intensity,
the perp's basis to the index, the long share of leveraged holders).

Durations are realistic (main legs of hours); a fast test compresses time
with the virtual clock's speed, or overrides the timing explicitly.  Each
preset's ``description`` says what it models (``paperex serve --help``); the
figures the event presets are calibrated to, with their sources, are in
``docs/calibration.md`` and checked by ``paperex calibrate``:

* ``crash`` / ``squeeze``: after an hour's warm-up, a generic long (short)
  liquidation cascade of 10-30 % with a main leg of about two hours, air pockets, makers pulling
  about half their depth, a partial rebound; the perp trades at a small
  discount (premium) that decays after the extreme, so funding returns.
* ``cascade-2021-05-19``, ``cascade-2024-08-05``, ``adl-2025-10-10``: the
  recorded cascades (see their descriptions).
* ``trend``: after an hour's warm-up, a persistent drift of 2-5 % per hour in
  a random direction.
* ``funding-spike``: after an hour's warm-up, the perp's basis to the index
  ramps to 0.5-1.5 % and holds (the quotes move, the index does not), with
  buy-biased takers.
* ``calm``: lower volatility, fewer jumps.

ETH moves ``beta`` times BTC (``exchange.flow.markets``).  The holders'
positioning going in (long share, effective-leverage mix, entries spread over
the warm-up, how liquidated holders come back) is part of the scenario.

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

SCENARIOS = ("calm", "trend", "crash", "squeeze", "funding-spike",
             "cascade-2021-05-19", "cascade-2024-08-05", "adl-2025-10-10")

#: how much more than BTC each symbol moves in a scripted event (kept for callers;
#: the per-symbol home is ``exchange.flow.markets``)
DEFAULT_BETA = {"BTCUSDT": 1.0, "ETHUSDT": 1.4}

#: effective leverage (position notional / wallet) of leveraged holders: (low, high, weight).
#: Exchange-wide averages are low (Binance's CEO put the average at about 2-3x in 2021) while
#: retail accounts cluster at 10-20x; the weights put most holders and most of their notional
#: at modest effective leverage and a tail at 10x and beyond.
LEVERAGE_MIX_DEFAULT = ((1.2, 2.5, 40), (2.5, 4.0, 25), (4.0, 8.0, 20), (8.0, 20.0, 10), (20.0, 60.0, 5))
#: May 2021: "leverage above historically sustainable levels since December" (A. Kruger), funding
#: high for months: more of the open interest at 3-8x.
LEVERAGE_MIX_2021 = ((1.1, 2.0, 30), (2.0, 3.0, 25), (3.0, 5.0, 22), (5.0, 12.0, 17), (12.0, 50.0, 6))
#: August 2024: a week of falling prices had flushed leverage before the Monday (OI -28 % since
#: July 31), yet $1 B (about 1 % of open interest) was still liquidated: a thin tail above 6x.
#: (The lighter mix before - 1.3 % above 5.5x - liquidated 0-0.4 % in seeds 1-3.)
LEVERAGE_MIX_2024 = ((1.1, 2.0, 42), (2.0, 3.5, 30), (3.5, 6.0, 14), (6.0, 12.0, 10), (12.0, 30.0, 4))
#: October 2025: funding near 40 % a year before the shock, record open interest, 10-50x common:
#: 48 % of holders above 8x.  (28 % liquidated 4.5-6.3 % of open interest in seeds 1-3, seed 1
#: under the recorded band; 42 % lifted seed 1 only to 4.9 %: the largest holders, most of the
#: open interest, are held to low leverage by their size whatever the mix.)
LEVERAGE_MIX_2025 = ((1.2, 2.5, 15), (2.5, 4.0, 15), (4.0, 8.0, 22), (8.0, 20.0, 30), (20.0, 60.0, 18))


@dataclass(frozen=True)
class ScenarioParams:
    name: str = "calm"
    description: str = ""
    # background
    vol_mult: float = 1.0                 # multiplier on the index process volatility
    jump_mult: float = 1.0                # multiplier on the index jump rate
    basis: float = 0.0002                 # quotes' centre over the index at rest (+2 bp: funding at its base)
    taker_rate_mult: float = 1.0
    # positioning of the leveraged holders going in
    holder_long_share: float = 0.5        # share of holders opening long
    leverage_mix: tuple = LEVERAGE_MIX_DEFAULT
    entry_window: float = 0.6             # holders' first entries spread over this share of start_s
    comeback_s: float = 3600.0            # mean time before a liquidated holder returns with new capital
    comeback_share: float = 0.6           # share of liquidated holders that ever return
    # trend
    trend_per_hour: tuple = (0.0, 0.0)    # |drift| per hour, drawn; sign random
    # scripted event (crash / squeeze)
    direction: int = 0                    # -1 crash, +1 squeeze, 0 none
    start_s: float = 60.0                 # seconds after the flow starts
    gap: Any = (0.02, 0.05)               # fraction of the first, fast leg
    gap_s: Any = (20.0, 50.0)
    total: Any = (0.10, 0.30)             # total move of the event (BTC)
    fall_s: float = 300.0                 # from start to the extreme
    pockets: Any = (0, 0)                 # air pockets in the slide: count (drawn integer range)
    pocket_size: Any = (0.005, 0.015)     # each: a step of this fraction ...
    pocket_s: float = 40.0                # ... over this many seconds
    rebound: Any = (0.3, 0.6)             # fraction of the move given back
    rebound_s: float = 600.0
    after_s: float = 1800.0               # how long a calibration run watches after the rebound
    event_vol_mult: float = 3.0
    withdrawal: Any = (0.5, 0.9)          # fraction of maker depth pulled at the worst
    withdraw_lead: float = 1.0            # makers reach that withdrawal within this share of the first leg
    far_withdrawal: Optional[float] = None  # share of that the book beyond 1 % follows (None: the maker's own)
    spread_widen: Any = (3.0, 8.0)        # maker spread multiplier at the worst
    event_taker_bias: float = 0.25        # extra probability a taker goes with the move
    event_taker_rate: float = 3.0
    basis_after: Any = (0.0005, 0.0015)   # |basis| at the worst, sign = direction
    basis_decay_s: float = 1800.0         # after the extreme the basis returns to its base this fast ...
    basis_rest_after: Optional[float] = None   # ... this base (None: ``basis``; a flushed market: lower)
    # funding spike
    spike_basis: Any = (0.0, 0.0)         # target basis (signed draw range)
    spike_start_s: float = 30.0
    spike_ramp_s: float = 300.0
    spike_hold_s: float = 3600.0
    spike_taker_bias: float = 0.1
    beta: dict = field(default_factory=dict)     # symbol -> beta override (default: exchange.flow.markets)

    def duration_s(self) -> float:
        """Simulated seconds a calibration run covers: warm-up, the event and its aftermath."""
        if self.direction:
            return self.start_s + self.fall_s + self.rebound_s + self.after_s
        if self.spike_basis != (0.0, 0.0) and self.spike_basis != 0.0:
            return self.spike_start_s + self.spike_ramp_s + self.spike_hold_s + self.after_s
        return max(self.start_s, 3600.0) + self.after_s


_H = 3600.0
#: the perp's rest basis after a flushed cascade: -6.2 bp puts the funding estimate (average
#: premium + clamp(0.01 % - premium, +-0.05 %)) near -0.01 %, the makers' inventory skew moving
#: it by a few bp either way; Binance BTCUSDT funding after 2021-05-19 and 2024-08-05 was
#: -0.004..-0.009 %, "slightly negative" after 2025-10-10 (docs/calibration.md)
_FLUSHED_BASIS = -0.00062
_PRESETS: dict[str, dict] = {
    "calm": dict(description="a quiet market: lower volatility, few jumps; no event",
                 vol_mult=0.6, jump_mult=0.3),
    # trend and funding-spike: holders positioned as in any market, 62 % long by count (Binance's
    # account long/short ratio runs 1.5-2.5; a 50/50 split left their open interest at about 60 % of
    # the crash's against the same book: depth over open interest 0.033 / 0.078 on seed 1)
    "trend": dict(description="after an hour of quiet market, a persistent drift of 2-5 % an hour in a "
                              "seeded direction, takers leaning with it and the perp at a small premium "
                              "(discount); no liquidation cascade",
                  trend_per_hour=(0.02, 0.05), vol_mult=1.0, start_s=_H, after_s=2 * _H, holder_long_share=0.62),
    "crash": dict(description="a generic long-liquidation cascade: after an hour of warm-up the index "
                              "falls 10-30 % (ETH 1.4x) in a main leg of about 2 h with a fast first "
                              "leg and air pockets, makers pull half their depth, leveraged longs are "
                              "liquidated into the book, then a partial rebound; funding dips and returns",
                  direction=-1, holder_long_share=0.62, start_s=_H, gap=(0.02, 0.05), gap_s=(300.0, 900.0),
                  total=(0.10, 0.30), fall_s=2 * _H, pockets=(2, 5), rebound=(0.3, 0.6), rebound_s=2 * _H,
                  after_s=1800.0, withdrawal=(0.4, 0.65), spread_widen=(2.5, 5.0), event_taker_rate=4.0),
    "squeeze": dict(description="the mirror of crash: after an hour of warm-up the index rises 10-30 % "
                                "over about 2 h with most holders short, shorts are liquidated into the "
                                "book, funding turns positive and returns",
                    direction=+1, holder_long_share=0.38, start_s=_H, gap=(0.02, 0.05), gap_s=(300.0, 900.0),
                    total=(0.10, 0.30), fall_s=2 * _H, pockets=(2, 5), rebound=(0.3, 0.6), rebound_s=2 * _H,
                    after_s=1800.0, withdrawal=(0.4, 0.65), spread_widen=(2.5, 5.0), event_taker_rate=4.0),
    "funding-spike": dict(description="after an hour of quiet market, the perp's basis to the index ramps "
                                      "to 0.5-1.5 % and holds an hour (quotes move, the index does not), "
                                      "buy-biased takers; the funding estimate (the interval's average "
                                      "premium) climbs toward the 0.3 % cap, then the premium decays",
                          spike_basis=(0.005, 0.015), spike_start_s=_H, after_s=1800.0, holder_long_share=0.62),
    "cascade-2021-05-19": dict(
        description="2021-05-19 (China ban headlines, record leverage): BTC -25..-35 % with a main leg "
                    "of about 2.5 h (ETH -40 %), heavy long liquidations (~20 % of open interest) "
                    "absorbed by the book, open interest -20..-45 %, half the fall regained",
        direction=-1, holder_long_share=0.65, leverage_mix=LEVERAGE_MIX_2021, basis=0.0004,
        start_s=_H, gap=(0.06, 0.09), gap_s=(1200.0, 2400.0), total=(0.27, 0.33), fall_s=2.5 * _H,
        pockets=(3, 6), pocket_size=(0.008, 0.02), pocket_s=45.0, rebound=(0.4, 0.6), rebound_s=2.5 * _H,
        after_s=1800.0, event_vol_mult=3.0, withdrawal=(0.3, 0.45), spread_widen=(3.0, 6.0),
        event_taker_bias=0.2, event_taker_rate=4.0, basis_after=(0.0004, 0.0008), comeback_s=1800.0,
        comeback_share=0.8, basis_rest_after=_FLUSHED_BASIS),
    "cascade-2024-08-05": dict(
        description="2024-08-05 (yen carry unwind): BTC -13..-17 % over about 4 h (-10 % within 2 h; "
                    "ETH -22 %), after a week of deleveraging: liquidations about 1 % of open interest, "
                    "all through the book; resting depth halves; funding slightly negative after",
        direction=-1, holder_long_share=0.58, leverage_mix=LEVERAGE_MIX_2024, basis=0.0001,
        basis_rest_after=_FLUSHED_BASIS,
        start_s=_H, gap=(0.04, 0.06), gap_s=(1800.0, 3000.0), total=(0.14, 0.17), fall_s=4 * _H,
        pockets=(2, 4), pocket_size=(0.006, 0.015), pocket_s=60.0, rebound=(0.42, 0.46), rebound_s=2.5 * _H,
        after_s=1800.0, event_vol_mult=2.5, withdrawal=(0.3, 0.45), spread_widen=(2.0, 4.0),
        event_taker_bias=0.15, event_taker_rate=4.0, basis_after=(0.0004, 0.0008), comeback_s=3600.0),
    "adl-2025-10-10": dict(
        description="2025-10-10 (tariff headline at 20:50 UTC): BTC -13..-17 % in under an hour (ETH "
                    "about 1.4x that), makers pull 75-82 % of their depth (the far book too) ahead of the price, "
                    "a record liquidation wave the book cannot absorb: insurance takeovers and wide "
                    "auto-deleveraging, then a partial rebound",
        direction=-1, holder_long_share=0.68, leverage_mix=LEVERAGE_MIX_2025, basis=0.0009,
        # the makers hold the day's liquidations 8 h on: their inventory skew puts the premium
        # 0.5-0.8 bp under the basis (at -6.2 bp, funding 8 h after was -0.017..-0.020 %, seed 2
        # just past -0.02 %; at -5.4 bp seed 2 sat at 0.0000 %: the midpoint)
        basis_rest_after=-0.00058,
        start_s=_H, gap=(0.03, 0.05), gap_s=(240.0, 480.0), total=(0.13, 0.165), fall_s=2700.0,
        pockets=(3, 5), pocket_size=(0.008, 0.018), pocket_s=40.0, rebound=(0.3, 0.5), rebound_s=2 * _H,
        after_s=1800.0, event_vol_mult=4.0, withdrawal=(0.75, 0.82), withdraw_lead=0.3, far_withdrawal=1.0,
        spread_widen=(3.0, 6.0),
        event_taker_bias=0.3, event_taker_rate=9.0, basis_after=(0.002, 0.004), basis_decay_s=1800.0,
        comeback_s=3600.0),
}


def describe(name: str) -> str:
    """One line on what scenario ``name`` models (for ``--help``)."""
    return _PRESETS[name]["description"]


def scenario_params(name: str, **overrides) -> ScenarioParams:
    if name not in _PRESETS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    kw = dict(_PRESETS[name])
    names = {f.name for f in fields(ScenarioParams)}
    for k, v in overrides.items():
        k = k.replace("-", "_")
        if k not in names or k == "name":
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
    far_withdrawal: Optional[float] = None   # the scenario's override of the far ladder's withdrawal share


class Scenario:
    def __init__(self, params: ScenarioParams) -> None:
        self.p = params
        self.name = params.name
        self.t0_ms: Optional[int] = None
        self.drawn: dict[str, float] = {}
        self.pockets: list = []          # (seconds after the event's start, size) of each air pocket

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
        d["gap_s"] = min(_draw(rng, p.gap_s), 0.5 * p.fall_s)
        d["total"] = max(d["gap"], _draw(rng, p.total))
        d["rebound"] = _draw(rng, p.rebound)
        d["withdrawal"] = _draw(rng, p.withdrawal)
        d["spread_widen"] = _draw(rng, p.spread_widen)
        d["basis_after"] = _draw(rng, p.basis_after)
        d["spike_basis"] = _draw(rng, p.spike_basis)
        # air pockets: steps inside the slide (after the first leg), part of the total move
        lo, hi = p.pockets if isinstance(p.pockets, (tuple, list)) else (p.pockets, p.pockets)
        n = int(lo) + int(rng.random() * (int(hi) - int(lo) + 1))
        pockets = []
        room = d["total"] - d["gap"]
        g, f = d["gap_s"], p.fall_s
        for _ in range(n):
            size = _draw(rng, p.pocket_size)
            at = g + (f - g - p.pocket_s) * (0.05 + 0.85 * rng.random())
            if size <= 0.5 * room and at > g:
                pockets.append((at, size))
                room -= size
        pockets.sort()
        self.pockets = pockets
        d["pockets"] = float(len(pockets))
        d["pocket_total"] = sum(sz for _, sz in pockets)

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
            pk = 0.0
            for at, size in self.pockets:
                if u <= at:
                    break
                pk += size * _smooth((u - at) / p.pocket_s)
            smooth_part = d["total"] - d["gap"] - d.get("pocket_total", 0.0)
            return d["gap"] + smooth_part * _smooth(f) + pk, 1.0, "cascade"
        r = u - p.fall_s
        if r < p.rebound_s:
            f = _smooth(r / p.rebound_s)
            return d["total"] * (1.0 - d["rebound"] * f), 1.0 - 0.7 * f, "rebound"
        return d["total"] * (1.0 - d["rebound"]), 0.3 * math.exp(-(r - p.rebound_s) / 1800.0), "after"

    def beta(self, symbol: str) -> float:
        b = self.p.beta.get(symbol)
        if b is None:
            from exchange.flow.markets import market_profile
            b = market_profile(symbol).beta
        return b

    def at(self, t_ms: int, symbol: str) -> ScenarioState:
        p = self.p
        d = self.drawn
        t_s = (t_ms - (self.t0_ms or 0)) / 1000.0
        st = ScenarioState(phase=self.name, vol_mult=p.vol_mult, basis=p.basis,
                           taker_rate_mult=p.taker_rate_mult, jump_mult=p.jump_mult,
                           far_withdrawal=p.far_withdrawal)
        if d.get("trend") and t_s >= p.start_s:
            st.drift = d["trend"] * 24 * 365
            st.buy_prob = 0.5 + (0.05 if d["trend"] > 0 else -0.05)
            st.basis = p.basis + (0.0003 if d["trend"] > 0 else -0.0003)
        if p.direction:
            move, sev, phase = self.event_move(t_s)
            m = min(0.6, move * self.beta(symbol))
            st.phase = phase
            st.offset = math.log(1.0 - m) if p.direction < 0 else math.log(1.0 + m)
            if sev > 0.0:
                st.vol_mult = p.vol_mult * (1.0 + (p.event_vol_mult - 1.0) * sev)
                dsev = sev
                if phase == "shock" and p.withdraw_lead < 1.0:
                    # makers pull ahead of the price (2025-10-10: the book went first)
                    dsev = _smooth((t_s - p.start_s) / max(1.0, p.withdraw_lead * d["gap_s"]))
                st.depth_mult = 1.0 - d["withdrawal"] * dsev
                st.spread_mult = 1.0 + (d["spread_widen"] - 1.0) * sev
                if phase in ("shock", "cascade"):
                    st.buy_prob = 0.5 + p.direction * p.event_taker_bias
                    st.taker_rate_mult = p.taker_rate_mult * p.event_taker_rate
                    w = sev
                else:
                    # after the extreme the basis returns to its base as the market normalises
                    w = math.exp(-(t_s - p.start_s - p.fall_s) / p.basis_decay_s)
                    st.taker_rate_mult = p.taker_rate_mult * (1.0 + (p.event_taker_rate - 1.0) * 0.5 * sev)
                # the perp goes to a discount (crash) / premium (squeeze) to the index
                rest = p.basis if p.basis_rest_after is None or phase in ("shock", "cascade") else p.basis_rest_after
                st.basis = rest * (1.0 - w) + p.direction * d["basis_after"] * w
            elif phase == "after" and p.basis_rest_after is not None:
                st.basis = p.basis_rest_after
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

    def event_start_ms(self) -> Optional[int]:
        """When the scripted event (or spike) begins, venue time (None: no event)."""
        if self.t0_ms is None:
            return None
        if self.p.direction or self.drawn.get("trend"):
            return self.t0_ms + int(self.p.start_s * 1000)
        if self.drawn.get("spike_basis"):
            return self.t0_ms + int(self.p.spike_start_s * 1000)
        return None

    def event_direction(self) -> int:
        """+1 when the event moves the price up (a squeeze, an upward trend), -1 down; 0: the
        index does not move (a funding spike, no event)."""
        if self.p.direction:
            return self.p.direction
        tr = self.drawn.get("trend", 0.0)
        return (1 if tr > 0 else -1) if tr else 0

    def event_end_ms(self) -> Optional[int]:
        """The end of an event that has no price extreme to wait for: a funding spike's hold
        (None otherwise)."""
        if self.t0_ms is None or self.p.direction or not self.drawn.get("spike_basis"):
            return None
        return self.t0_ms + int((self.p.spike_start_s + self.p.spike_ramp_s + self.p.spike_hold_s) * 1000)


def make_scenario(name: str = "calm", **overrides) -> Scenario:
    return Scenario.named(name, **overrides)
