"""The synthetic market over many symbols moves like the real one: a common market factor
(BTCUSDT's own path) with per-symbol beta and idiosyncratic volatility, so a crash takes
every symbol down and the small caps furthest; sizes and agents by the snapshot's tier."""
import math

from exchange.contract.symbol_sets import resolve_symbols
from exchange.engine.runtime import Runtime
from exchange.flow.markets import market_profile
from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow

T0 = 1_767_225_600_000
QUIET = dict(makers=(), n_noise=0, n_momentum=0, n_holders=0)     # index paths only: fast


def _flow(symbols: str, scenario="calm", seed=3, **kw) -> SyntheticFlow:
    insts = resolve_symbols(symbols).instruments
    rt = Runtime.virtual(T0, instruments=insts, timers=False)
    return SyntheticFlow(rt, SyntheticConfig(seed=seed, scenario=scenario, **kw))


def _log_prices(flow: SyntheticFlow, seconds: int, every_steps: int = 10) -> dict:
    out = {s: [] for s in flow.symbols}
    flow.start()
    for i in range(seconds * 10):
        flow.step()
        if i % every_steps == 0:
            for s in flow.symbols:
                out[s].append(math.log(flow.processes[s].price))
    return out


def _slope_corr(x: list, y: list) -> tuple:
    dx = [b - a for a, b in zip(x, x[1:])]
    dy = [b - a for a, b in zip(y, y[1:])]
    mx, my = sum(dx) / len(dx), sum(dy) / len(dy)
    cov = sum((a - mx) * (b - my) for a, b in zip(dx, dy))
    vx = sum((a - mx) ** 2 for a in dx)
    vy = sum((b - my) ** 2 for b in dy)
    return cov / vx, cov / math.sqrt(vx * vy)


def test_profiles_by_tier():
    btc, eth = market_profile("BTCUSDT"), market_profile("ETHUSDT")
    bnb, sushi = market_profile("BNBUSDT"), market_profile("SUSHIUSDT")
    assert (btc.beta, btc.follows_market) == (1.0, False)            # BTC is the market factor
    assert bnb.tier == 2 and sushi.tier == 3
    assert 1.0 < bnb.beta < sushi.beta and bnb.index.sigma < sushi.index.sigma
    assert btc.size_scale > eth.size_scale > bnb.size_scale > sushi.size_scale
    assert sushi.index.start_price == "7.6120"                     # the snapshot's recorded price


def test_calm_market_is_correlated_with_betas_by_tier():
    flow = _flow("BTCUSDT,ETHUSDT,BNBUSDT,SUSHIUSDT,AKROUSDT", **QUIET)
    lp = _log_prices(flow, 3_000)
    for sym, lo, hi in (("ETHUSDT", 1.2, 1.6), ("BNBUSDT", 1.1, 1.5), ("SUSHIUSDT", 1.3, 1.9), ("AKROUSDT", 1.3, 1.9)):
        slope, corr = _slope_corr(lp["BTCUSDT"], lp[sym])
        assert lo < slope < hi, (sym, slope)
        assert corr > 0.55, (sym, corr)
    # idiosyncratic volatility: small caps are less tied to the market than ETH
    assert _slope_corr(lp["BTCUSDT"], lp["ETHUSDT"])[1] > _slope_corr(lp["BTCUSDT"], lp["SUSHIUSDT"])[1]


def test_the_factor_is_the_same_with_or_without_btc_served():
    with_btc = _log_prices(_flow("BTCUSDT,SOLUSDT", **QUIET), 120)
    without = _log_prices(_flow("SOLUSDT,DOGEUSDT", **QUIET), 120)
    assert with_btc["SOLUSDT"] == without["SOLUSDT"]


def test_crash_takes_the_whole_market_down_small_caps_furthest():
    flow = _flow("BTCUSDT,ETHUSDT,BNBUSDT,SUSHIUSDT,AKROUSDT", scenario="crash", seed=2,
                 scenario_overrides=dict(start_s=10, gap_s=5, fall_s=120, total=0.2, rebound=0.0),
                 n_holders=6, n_noise=1, n_momentum=0)
    start = {s: flow.processes[s].price for s in flow.symbols}
    low = dict(start)
    flow.start()
    for _ in range(1_600):
        flow.step()
        for s in flow.symbols:
            low[s] = min(low[s], flow.processes[s].price)
    fall = {s: 1 - low[s] / start[s] for s in flow.symbols}
    assert all(f > 0.15 for f in fall.values()), fall
    assert fall["SUSHIUSDT"] > fall["BNBUSDT"] > fall["BTCUSDT"], fall
    assert fall["AKROUSDT"] > fall["ETHUSDT"] > fall["BTCUSDT"], fall
    # every symbol has its own book, trades and open interest
    v = flow.venue
    for s in flow.symbols:
        assert v.book(s).depth(0, 1) and v.book(s).depth(1, 1), s
        assert flow.stats.last_trade_ms.get(s), s


def test_agents_and_makers_by_tier():
    flow = _flow("BTCUSDT,BNBUSDT,SUSHIUSDT")
    flow.start()
    by = {}
    for a in flow.agents:
        by.setdefault(a.symbol, []).append(a)
    assert len(by["BTCUSDT"]) > len(by["BNBUSDT"]) > len(by["SUSHIUSDT"])
    makers = {s: [a for a in ags if a.kind.startswith("maker")] for s, ags in by.items()}
    assert [len(makers[s]) for s in ("BTCUSDT", "BNBUSDT", "SUSHIUSDT")] == [5, 3, 2]   # BTC: + the far ladder
    assert max(m.deposit_usdt for m in makers["SUSHIUSDT"]) < max(m.deposit_usdt for m in makers["BNBUSDT"])
