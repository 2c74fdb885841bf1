"""The crash scenario, compressed to minutes (its default main leg is hours long; the timing is
overridden here so a test watches a whole cascade): the index falls 10-30 %, makers widen and pull,
leveraged longs are liquidated."""
import pytest

from exchange.contract import events as venue_events
from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow

START_S, FALL_S = 600, 120


def book_stats(venue, sym):
    bids, asks = venue.depth(sym, 1000)
    if not bids or not asks:
        return None, 0, len(bids), len(asks)
    mid = (bids[0][0] + asks[0][0]) / 2
    near = sum(q * p for p, q in bids + asks if abs(p - mid) / mid < 0.01)   # depth within 1 % of mid
    return asks[0][0] - bids[0][0], near, len(bids), len(asks)


@pytest.fixture(scope="module")
def crash_run(tmp_path_factory):
    from exchange.engine.runtime import Runtime
    rt = Runtime.virtual(1_717_200_000_000, data_dir=tmp_path_factory.mktemp("crash"), fsync="never")
    flow = SyntheticFlow(rt, SyntheticConfig(seed=11, scenario="crash",
                                             scenario_overrides={"start_s": START_S, "fall_s": FALL_S,
                                                                 "gap_s": 40, "rebound_s": 60,
                                                                 "withdrawal": (0.6, 0.8)}))
    names = {venue_events.ForceOrder.KIND, venue_events.InsuranceFundChanged.KIND}
    liquidations = []
    rt.sequencer.subscribe(lambda seq, ts, cmd, evs, book: liquidations.extend(e for e in evs if e.KIND in names))
    # BTC taker fills (quantity by side) per phase, and the holders' positions as the fall starts
    taker_qty = {}

    def count_takers(seq, ts, cmd, evs, book):
        phase = flow.markets["BTCUSDT"].state.phase
        for e in evs:
            if isinstance(e, venue_events.OrderFilled) and not e.is_maker and e.symbol == "BTCUSDT":
                key = (phase, e.side)
                taker_qty[key] = taker_qty.get(key, 0) + e.qty
    rt.sequencer.subscribe(count_takers)
    samples = {"pre": [], "cascade": [], "taker_qty": taker_qty, "holder_positions": None}
    for sec in range(START_S + FALL_S + 5):
        flow.run(1)
        phase = flow.markets["BTCUSDT"].state.phase
        if phase != "pre" and samples["holder_positions"] is None:
            holders = {a.account_id for a in flow.agents if a.kind == "holder"}
            samples["holder_positions"] = [p.qty for aid in sorted(holders)
                                           for p in rt.venue.accounts[aid].positions.values() if p.qty]
        key = "pre" if phase == "pre" else ("cascade" if phase == "cascade" and sec > START_S + 30 else None)
        if key:
            samples[key].append({s: book_stats(rt.venue, s) for s in flow.symbols})
    yield rt, flow, samples, names, liquidations
    rt.close()


def test_index_drops_10_to_30_percent_over_minutes(crash_run):
    rt, flow, *_ = crash_run
    drop = flow.scenario.drawn["total"]
    assert 0.10 <= drop <= 0.30
    for sym, beta in (("BTCUSDT", 1.0), ("ETHUSDT", 1.3)):
        path = flow.index_path[sym]
        t0 = flow.t0_ms
        before = [p for t, p in path if t <= t0 + START_S * 1000]
        p0 = before[-1]
        low_t, low = min(((t, p) for t, p in path), key=lambda tp: tp[1])
        fall = 1 - low / p0
        assert drop * beta * 0.9 <= fall <= min(0.6, drop * beta) * 1.1 + 0.01, (sym, fall, drop)
        # over minutes, not at once: a minute in, less than half the fall is done ...
        one_min = [p for t, p in path if t <= t0 + (START_S + 60) * 1000][-1]
        assert 0.02 <= 1 - one_min / p0 < 0.8 * fall
        # ... and the bottom comes near the end of the slide
        assert (low_t - t0) / 1000 >= START_S + 0.8 * FALL_S
        assert rt.venue.index_price(sym) == path[-1][1]


def test_makers_widen_and_pull(crash_run):
    rt, flow, samples, *_ = crash_run
    assert samples["pre"] and samples["cascade"]
    for sym in flow.symbols:
        pre = [s[sym][0] for s in samples["pre"] if s[sym][0] is not None]
        cas = [s[sym][0] for s in samples["cascade"] if s[sym][0] is not None]
        pre_spread = sum(pre) / len(pre)
        cas_spread = sum(cas) / len(cas)
        pre_depth = sum(s[sym][1] for s in samples["pre"]) / len(samples["pre"])
        cas_depth = sum(s[sym][1] for s in samples["cascade"]) / len(samples["cascade"])
        assert cas_spread > 2 * pre_spread, (sym, pre_spread, cas_spread)
        assert cas_depth < 0.5 * pre_depth, (sym, pre_depth, cas_depth)
        # the book stays two-sided through most of the cascade: compressed to two minutes, the
        # liquidation selling of a realistic open interest empties the bids for moments at a time
        assert sum(1 for s in samples["cascade"] if s[sym][2] > 0 and s[sym][3] > 0) >= 0.6 * len(samples["cascade"])


def test_holders_go_into_the_crash_mostly_long(crash_run):
    rt, flow, samples, *_ = crash_run
    assert flow.stats.trades > 500
    # holders went in mostly long (the side a crash liquidates): counted in the venue
    held = samples["holder_positions"]
    assert held and sum(1 for q in held if q > 0) > sum(1 for q in held if q < 0), held


def test_takers_sell_into_the_cascade(crash_run):
    rt, flow, samples, *_ = crash_run
    from exchange.contract import codes as C
    # in the cascade the takers sold more than they bought: counted fills
    taker = samples["taker_qty"]
    assert taker.get(("cascade", C.SELL), 0) > taker.get(("cascade", C.BUY), 0), taker


def test_leveraged_longs_are_liquidated_and_the_insurance_fund_moves(crash_run):
    rt, flow, samples, names, liquidations = crash_run
    from exchange.contract import codes as C
    holders = {a.account_id for a in flow.agents if a.kind == "holder"}
    forced = [e for e in liquidations if isinstance(e, venue_events.ForceOrder)]
    # a cascade: many leveraged holders, liquidated by selling (they were long)
    assert len({e.account_id for e in forced if e.account_id in holders}) >= 3
    assert sum(1 for e in forced if e.side == C.SELL) > sum(1 for e in forced if e.side == C.BUY)
    assert any(isinstance(e, venue_events.InsuranceFundChanged) for e in liquidations)
    assert rt.venue.money_identity()["balanced"]
