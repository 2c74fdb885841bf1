"""The synthetic market: a seeded index process per symbol, agents with real
accounts, and a scenario, driven through the sequencer like any other client.

    rt = Runtime.virtual(start_ms, data_dir=...)
    flow = SyntheticFlow(rt, SyntheticConfig(seed=7, scenario="crash"))
    flow.run(600)                  # ten simulated minutes, as fast as possible

Each step (``step_ms``, default 100 ms) the driver moves the clock, moves every
index process, publishes the index (``SetIndexPrice``, every
``index_publish_ms`` like Binance's once-a-second index), asks every agent for
its commands in a fixed order, and submits all of them as ONE
``sequencer.execute`` group.  All randomness comes from ``random.Random``
instances the flow owns, seeded from ``config.seed`` (one per purpose, seeded
with a string so they do not depend on each other); the venue sees only
ordinary commands with integer ticks and lots, so the journal alone replays a
run and the same seed + scenario + config gives the same journal, command for
command, on a virtual clock.

With a wall clock (or a virtual clock with a speed) ``run_async`` paces the
steps by real time; the flow is still seeded, but the step times follow the
clock, so the journal is not reproducible then.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from exchange.contract.commands import FundInsurance, SetIndexPrice
from exchange.units import MONEY_SCALE

from exchange.flow.agents import (DEFAULT_HOLDERS, DEFAULT_MAKERS, DEFAULT_MOMENTUM, DEFAULT_TAKERS, HolderProfile,
                     MarketMaker, MarketView, MomentumProfile, MomentumTrader, NoiseTaker,
                     PositionHolder, StepContext, TakerProfile)
from exchange.flow.index_process import IndexProcess
from exchange.flow.markets import FACTOR_SYMBOL, MarketProfile, market_profile
from exchange.flow.scenarios import Scenario, make_scenario

log = logging.getLogger("paperex.flow.synthetic")

#: first account id of the synthetic agents (well above ids users pick)
SYNTHETIC_ACCOUNT_BASE = 900_000_000


@dataclass
class SyntheticConfig:
    seed: int = 1
    scenario: str = "calm"
    scenario_overrides: dict = field(default_factory=dict)
    symbols: Optional[tuple] = None            # None: every symbol of the runtime
    step_ms: int = 100
    index_publish_ms: int = 1_000
    index_params: dict = field(default_factory=dict)     # symbol -> IndexParams (or dict of overrides)
    start_prices: dict = field(default_factory=dict)     # symbol -> decimal string
    makers: tuple = DEFAULT_MAKERS                        # MakerProfile per maker, per symbol
    n_noise: int = DEFAULT_TAKERS
    noise: TakerProfile = TakerProfile()
    n_momentum: int = DEFAULT_MOMENTUM
    momentum: MomentumProfile = MomentumProfile()
    n_holders: int = DEFAULT_HOLDERS
    holders: HolderProfile = HolderProfile()
    #: the insurance fund paid in at start, as a share of the holders' open interest (Binance's
    #: fund, about $1 B in 2024-2025, against tens of $ billions of open interest: 1-3 %)
    insurance_fund_ratio: float = 0.02
    #: holders' long notional / short notional going in (Binance's top-trader position ratio
    #: stays near 1 while the account ratio shows 1.5-2.5 longs per short)
    position_ratio: float = 1.05
    markets: dict = field(default_factory=dict)          # symbol -> MarketProfile (or dict of overrides)
    account_base: int = SYNTHETIC_ACCOUNT_BASE


@dataclass
class FlowStats:
    steps: int = 0
    commands: int = 0
    events: int = 0
    trades: int = 0
    rejected: int = 0
    sim_ms: int = 0
    wall_s: float = 0.0
    last_trade_ms: dict = field(default_factory=dict)

    @property
    def sim_s_per_wall_s(self) -> float:
        return (self.sim_ms / 1000.0) / self.wall_s if self.wall_s > 0 else 0.0


class SyntheticFlow:
    def __init__(self, runtime: Any, config: Optional[SyntheticConfig] = None, **kw) -> None:
        if config is None:
            config = SyntheticConfig(**kw)
        elif kw:
            raise TypeError("pass either a SyntheticConfig or keyword options, not both")
        self.runtime = runtime
        self.config = config
        self.sequencer = runtime.sequencer
        self.venue = runtime.venue
        self.clock = runtime.clock
        seed = config.seed
        # the flow's own random streams (string seeds: stable across runs and PYTHONHASHSEED)
        self.rng = random.Random(f"paperex-flow/{seed}/agents")
        self.scenario: Scenario = make_scenario(config.scenario, **config.scenario_overrides)
        symbols = config.symbols or tuple(sorted(runtime.instruments))
        missing = [s for s in symbols if s not in runtime.instruments]
        if missing:
            raise ValueError(f"synthetic flow: symbols not configured in the venue: {missing}")
        self.symbols = tuple(symbols)
        self.markets: dict[str, MarketView] = {}
        self.processes: dict[str, IndexProcess] = {}
        self.profiles: dict[str, MarketProfile] = {}
        for sym in self.symbols:
            inst = runtime.instruments[sym]
            prof = config.markets.get(sym, market_profile(sym))
            if isinstance(prof, dict):
                prof = market_profile(sym).with_overrides(**prof)
            self.profiles[sym] = prof
            params = config.index_params.get(sym, prof.index)
            if isinstance(params, dict):
                params = prof.index.with_overrides(**params)
            if sym in config.start_prices:
                params = params.with_overrides(start_price=str(config.start_prices[sym]))
            self.processes[sym] = IndexProcess(params, inst.tick_size, random.Random(f"paperex-flow/{seed}/index/{sym}"))
            mv = MarketView(inst)
            mv.scale = prof.size_scale
            mv.index_ticks = self.processes[sym].ticks
            self.markets[sym] = mv
        # the market factor: BTCUSDT's own index moves, which every follower adds beta times;
        # without BTCUSDT served, the same path is drawn (same seed) but not published
        self.factor: Optional[IndexProcess] = None
        if any(p.follows_market for p in self.profiles.values()):
            self.factor = self.processes.get(FACTOR_SYMBOL)
            if self.factor is None:
                fp = market_profile(FACTOR_SYMBOL)
                self.factor = IndexProcess(fp.index, "0.01", random.Random(f"paperex-flow/{seed}/index/{FACTOR_SYMBOL}"))
        self.agents: list = []
        self.stats = FlowStats()
        self.started = False
        self.paused = False      # the control API's flow/pause: steps are skipped, nothing is sent
        self.t0_ms = 0
        self._last_ms = 0
        self._next_publish = 0
        self.index_path: dict[str, list] = {s: [] for s in self.symbols}   # (ts, ticks) per publish
        # the agents' one-way positions, learned from committed events (whoever's command or timer
        # caused them: fills, liquidations, ADL), as soon as each command is applied
        self.positions: dict = {}
        self._maker_orders: dict = {}      # maker account -> its MarketMaker.live (resting orders)
        self.sequencer.subscribe(self._on_applied, inline=True)

    @property
    def _factor_first(self) -> tuple:
        """The symbols with the market factor's first (its move feeds the others)."""
        order = getattr(self, "_order", None)
        if order is None:
            order = self._order = tuple(sorted(self.symbols, key=lambda s: s != FACTOR_SYMBOL))
        return order

    # ------------------------------------------------------------------ setup
    def _build_agents(self) -> None:
        cfg = self.config
        p = self.scenario.p
        setup_rng = random.Random(f"paperex-flow/{cfg.seed}/setup")
        aid = cfg.account_base
        self.holder_notional = 0.0
        for sym in self.symbols:
            m = self.markets[sym]
            scale = m.scale
            mp = self.profiles[sym]
            makers = cfg.makers
            if mp.makers is not None and cfg.makers is DEFAULT_MAKERS:
                by_name = {mk.name: mk for mk in cfg.makers}
                makers = tuple(replace(by_name[n], levels=lv, refresh_ms=ms) for n, lv, ms in mp.makers)
            n_noise, n_momentum, n_holders = cfg.n_noise, cfg.n_momentum, cfg.n_holders
            if mp.max_takers is not None:
                n_noise, n_momentum = min(n_noise, mp.max_takers), min(n_momentum, mp.max_takers)
            if mp.max_holders is not None:
                n_holders = min(n_holders, mp.max_holders)
            for prof in makers:
                aid += 1
                mm = MarketMaker(aid, sym, prof)
                mm.deposit_usdt = prof.deposit_usdt * scale
                mm.draw_jitter(setup_rng)
                self._maker_orders[aid] = mm.live
                self.agents.append(mm)
            for _ in range(n_noise):
                aid += 1
                a = NoiseTaker(aid, sym, cfg.noise)
                a.deposit_usdt = cfg.noise.deposit_usdt * scale
                self.agents.append(a)
            for _ in range(n_momentum):
                aid += 1
                a = MomentumTrader(aid, sym, cfg.momentum)
                a.deposit_usdt = cfg.momentum.deposit_usdt * scale
                self.agents.append(a)
            holders = []
            for _ in range(n_holders):
                aid += 1
                holders.append(PositionHolder.draw(aid, sym, m, setup_rng, cfg.holders, mix=p.leverage_mix,
                                                   scale=scale))
            # sides: the scenario's share of holders is long; the side with fewer holders holds
            # larger positions, so the crowded side's notional stands at ``position_ratio`` times the
            # other's (open interest is two-sided).  A squeeze mirrors a crash: there the shorts are
            # the crowd and the longs the fewer, larger positions (scaling the shorts down instead
            # halved the squeeze's open interest against the same book).
            # (With the crowd short, the draw picks the crowd from the same end of the unit interval:
            # a squeeze's holders are the same seed's crash holders with their sides swapped.)
            crowd_long = p.holder_long_share >= 0.5
            for h in holders:
                u = setup_rng.random()
                h.long = u < p.holder_long_share if crowd_long else u >= 1.0 - p.holder_long_share
            n_long = sum(1 for h in holders if h.long)
            if 0 < n_long < len(holders):
                ln = sum(h.notional_usdt for h in holders if h.long)
                sn = sum(h.notional_usdt for h in holders if not h.long)
                k = ln / (sn * cfg.position_ratio) if crowd_long else sn / (ln * cfg.position_ratio)
                for h in holders:
                    if h.long != crowd_long:
                        cap = 0.9 * m.max_notional_usdt(h.leverage)
                        h.notional_usdt = min(cap, h.notional_usdt * k)
                        h.deposit_usdt = math.ceil(max(100.0, h.notional_usdt / h.effective))
            self.holder_notional += sum(h.notional_usdt for h in holders)
            self.agents.extend(holders)

    def start(self) -> list:
        """Create the agents' accounts and publish the first index (one group)."""
        if self.started:
            return []
        self.started = True
        now = self.clock.now_ms()
        self.t0_ms = self._last_ms = now
        self.scenario.start(random.Random(f"paperex-flow/{self.config.seed}/scenario"), now)
        p = self.scenario.p
        for sym in self.symbols:
            m = self.markets[sym]
            m.long_share = p.holder_long_share
            # entries spread over the warm-up before an event; without one, over the first hour
            m.entry_window_s = max(1.0, p.entry_window * (p.start_s if p.direction else max(p.start_s, 3600.0)))
            m.comeback_s = p.comeback_s
            m.comeback_share = p.comeback_share
        self._build_agents()
        cmds: list = []
        fund = int(self.config.insurance_fund_ratio * self.holder_notional / 2)
        if fund > 0:
            cmds.append(FundInsurance(fund * MONEY_SCALE))
        for sym in self.symbols:
            cmds.append(SetIndexPrice(sym, self.processes[sym].ticks))
            self.index_path[sym].append((now, self.processes[sym].ticks))
        for a in self.agents:
            cmds.extend(a.setup(self.markets[a.symbol]))
        self._next_publish = now + self.config.index_publish_ms
        return self._execute(cmds, now)

    # ------------------------------------------------------------------- step
    def step(self, dt_ms: Optional[int] = None) -> list:
        """One step.  With a virtual clock that nobody else moves, the flow moves it
        by ``dt_ms`` (default ``step_ms``); otherwise it reads the clock."""
        if not self.started:
            self.start()
        clock = self.clock
        if clock.virtual and getattr(clock, "speed", None) is None:
            now = clock.advance(self.config.step_ms if dt_ms is None else dt_ms)
        else:
            now = clock.now_ms()
        dt = now - self._last_ms
        if dt <= 0:
            return []
        self._last_ms = now
        cmds: list = []
        publish = now >= self._next_publish
        if publish:
            self._next_publish = now + self.config.index_publish_ms
        scen = self.scenario
        factor = self.factor
        common = 0.0
        if factor is not None:
            if FACTOR_SYMBOL not in self.processes:      # served: it steps below, first
                fst = scen.at(now, FACTOR_SYMBOL)
                factor.step(dt, 0.0, fst.vol_mult, fst.drift, fst.jump_mult)
                common = factor.last_dx
        for sym in self.symbols if factor is None else self._factor_first:
            st = scen.at(now, sym)
            proc = self.processes[sym]
            prof = self.profiles[sym]
            if prof.follows_market:
                # a trend's drift reaches a follower through the factor's move (beta x it), not twice
                drift = 0.0 if factor is not None else st.drift
                ticks = proc.step(dt, st.offset, st.vol_mult, drift, st.jump_mult, prof.beta * common)
            else:
                ticks = proc.step(dt, st.offset, st.vol_mult, st.drift, st.jump_mult)
                if proc is factor:
                    common = proc.last_dx
            m = self.markets[sym]
            m.state = st
            m.index_ticks = ticks
            m.vol_ratio = proc.vol_ratio
            if publish:
                cmds.append(SetIndexPrice(sym, ticks))
                self.index_path[sym].append((now, ticks))
        ctx = StepContext(now, dt, self.venue, self.rng, self.markets, self.positions)
        for a in self.agents:
            if a.every_step or a.next_ms <= now:
                out = a.on_step(ctx)
                if out:
                    cmds.extend(out)
        self.stats.steps += 1
        return self._execute(cmds, now)

    def _on_applied(self, seq: int, ts: int, command: Any, events: list, book: Optional[dict] = None) -> None:
        pos = self.positions
        live = self._maker_orders
        for ev in events:
            k = ev.KIND
            if k == 1020:
                if ev.position_side == 0:                       # PositionChanged, one-way (BOTH)
                    if ev.qty:
                        pos[(ev.account_id, ev.symbol)] = ev.qty
                    else:
                        pos.pop((ev.account_id, ev.symbol), None)
            elif 1010 <= k <= 1015:
                # a maker's resting orders (its index: no open_orders query per re-quote)
                orders = live.get(ev.account_id)
                if orders is None:
                    continue
                if k == 1010:                                   # OrderAccepted
                    if ev.order_type == 0:                      # LIMIT
                        orders[ev.order_id] = [ev.side, ev.price, ev.qty, 0]
                elif k == 1012:                                 # OrderFilled
                    o = orders.get(ev.order_id)
                    if o is not None:
                        if ev.filled_qty >= o[2]:
                            del orders[ev.order_id]
                        else:
                            o[3] = ev.filled_qty
                elif k == 1015:                                 # OrderModified
                    o = orders.get(ev.order_id)
                    if o is not None:
                        o[1], o[2], o[3] = ev.price, ev.qty, ev.filled_qty
                elif k != 1011:                                 # OrderCanceled / OrderExpired
                    orders.pop(ev.order_id, None)

    def _execute(self, cmds: list, now: int) -> list:
        results = self.sequencer.execute(cmds)
        st = self.stats
        st.commands += len(results)
        st.sim_ms = now - self.t0_ms
        for r in results:
            evs = r.events
            st.events += len(evs)
            for ev in evs:
                k = ev.KIND
                if k == 1012:                # OrderFilled
                    if not ev.is_maker:
                        st.trades += 1
                        st.last_trade_ms[ev.symbol] = r.ts
                elif k == 1011 or k == 1003:  # OrderRejected / CommandRejected
                    st.rejected += 1
        return results

    def start_scenario(self, name: str, **overrides) -> None:
        """Switch to scenario ``name`` from now on (the control API's flow/scenario); its
        draws come from a stream seeded by the flow's seed, the name and the time."""
        from exchange.flow.scenarios import SCENARIOS
        if name not in SCENARIOS:
            raise ValueError(f"{name!r} is not one of {', '.join(SCENARIOS)}")
        now = self._last_ms if self.started else self.clock.now_ms()
        self.scenario = make_scenario(name, **overrides)
        self.scenario.start(random.Random(f"paperex-flow/{self.config.seed}/scenario/{name}/{now}"), now)
        for sym in self.symbols:
            self.markets[sym].long_share = self.scenario.p.holder_long_share

    # -------------------------------------------------------------------- run
    def run(self, seconds: float) -> FlowStats:
        """Virtual clock: run ``seconds`` of simulated time as fast as possible."""
        if not (self.clock.virtual and getattr(self.clock, "speed", None) is None):
            raise ValueError("run() needs a virtual clock without speed; use run_async() otherwise")
        t0 = time.perf_counter()
        self.start()
        end = self.t0_ms + int(seconds * 1000) if not self.stats.steps else self._last_ms + int(seconds * 1000)
        step = self.config.step_ms
        while self._last_ms + step <= end:
            self.step()
        self.stats.wall_s += time.perf_counter() - t0
        return self.stats

    async def run_async(self, seconds: Optional[float] = None, *, speed: float = 1.0,
                        stop: Optional[asyncio.Event] = None) -> FlowStats:
        """Paced by real time: a step every ``step_ms / speed`` of wall time.
        With a virtual clock without speed the flow moves it (``speed`` x real time);
        with a wall clock or a sped-up virtual clock it follows that clock."""
        t0 = time.perf_counter()
        self.start()
        step_s = self.config.step_ms / 1000.0 / speed
        start_ms = self._last_ms
        next_wall = time.monotonic()
        try:
            while stop is None or not stop.is_set():
                if seconds is not None and self._last_ms - start_ms >= seconds * 1000:
                    break
                next_wall += step_s
                delay = next_wall - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    await asyncio.sleep(0)
                    if delay < -1.0:          # fell behind by more than a second: do not burst
                        next_wall = time.monotonic()
                if not self.paused:
                    self.step()
        finally:
            self.stats.wall_s += time.perf_counter() - t0
        return self.stats

    # ---------------------------------------------------------------- queries
    def accounts(self) -> dict:
        """account id -> agent name (who is who in the venue)."""
        return {a.account_id: a.name for a in self.agents}
