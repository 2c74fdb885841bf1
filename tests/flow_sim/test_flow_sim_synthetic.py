"""The synthetic market: determinism, depth and trade rate of the defaults, replay --verify."""
import asyncio

from exchange.journal import JournalReader
from exchange.engine.replay import replay
from exchange.contract.events import OrderFilled

from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow


def command_records(journal_dir):
    return [(r.seq, r.ts, r.kind, r.payload) for r in JournalReader(journal_dir).records(events=False)]


def test_same_seed_same_journal_command_for_command(make_runtime, tmp_path):
    runs = []
    for name in ("a", "b"):
        rt = make_runtime(name)
        SyntheticFlow(rt, SyntheticConfig(seed=42, scenario="crash",
                                          scenario_overrides={"start_s": 3, "fall_s": 20})).run(25)
        rt.close()
        runs.append(command_records(tmp_path / name / "journal"))
    a, b = runs
    assert len(a) > 2_000
    assert a == b
    kinds = {r[2] for r in a}
    assert {1, 2, 4, 10, 11, 12, 20} <= kinds          # accounts, deposits, leverage, orders, cancels, modifies, index


def test_another_seed_gives_another_journal(make_runtime, tmp_path):
    out = []
    for name, seed in (("s1", 1), ("s2", 2)):
        rt = make_runtime(name)
        SyntheticFlow(rt, SyntheticConfig(seed=seed)).run(5)
        rt.close()
        out.append(command_records(tmp_path / name / "journal"))
    assert out[0] != out[1]


def test_defaults_give_a_deep_two_sided_book_and_trades_every_second(make_runtime):
    rt = make_runtime()
    trades: dict = {}

    def on_exec(seq, ts, cmd, events, book):
        for ev in events:
            if type(ev) is OrderFilled and not ev.is_maker:
                trades.setdefault(ev.symbol, set()).add(ts // 1000)

    rt.sequencer.subscribe(on_exec)
    flow = SyntheticFlow(rt)
    flow.run(3)
    for sym in flow.symbols:
        bids, asks = rt.venue.depth(sym, 100)
        assert len(bids) >= 20 and len(asks) >= 20, (sym, len(bids), len(asks))
        assert bids[0][0] < asks[0][0]
        # the book sits around the index
        idx = rt.venue.index_price(sym)
        assert abs((bids[0][0] + asks[0][0]) / 2 - idx) / idx < 0.002
    t_start = rt.clock.now_ms() // 1000
    flow.run(30)
    for sym in flow.symbols:
        bids, asks = rt.venue.depth(sym, 100)
        assert len(bids) >= 20 and len(asks) >= 20
        missing = [s for s in range(t_start, t_start + 30) if s not in trades.get(sym, ())]
        assert not missing, f"{sym}: no trade in simulated seconds {missing}"
    assert flow.stats.trades > 60


def test_replay_verify_passes_on_a_synthetic_journal(make_runtime, tmp_path):
    rt = make_runtime("verify")
    flow = SyntheticFlow(rt, SyntheticConfig(seed=5, scenario="squeeze",
                                             scenario_overrides={"start_s": 2, "fall_s": 15}))
    flow.run(20)
    digest = rt.venue.state_digest()
    rt.close()
    result = replay(tmp_path / "verify" / "journal", verify=True)
    assert result.divergence is None, str(result.divergence)
    assert result.commands == rt.sequencer.seq
    assert result.venue.state_digest() == digest


def test_every_scenario_runs(make_runtime):
    for name in ("calm", "trend", "crash", "squeeze", "funding-spike"):
        rt = make_runtime(name)
        flow = SyntheticFlow(rt, SyntheticConfig(seed=3, scenario=name))
        st = flow.run(5)
        assert st.trades > 0 and st.steps == 50, name
        assert rt.sequencer.failed is None


def test_wall_clock_mode_is_paced(make_runtime):
    rt = make_runtime()
    flow = SyntheticFlow(rt, SyntheticConfig(seed=1))

    async def main():
        return await flow.run_async(2.0, speed=20.0)   # 2 simulated seconds at 20x: ~0.1 s

    st = asyncio.run(main())
    assert st.steps == 20
    assert 0.05 < st.wall_s < 5.0


def test_makers_order_index_matches_the_venue_and_crosses_nothing(make_runtime):
    """Each maker re-quotes from its own index of resting orders, kept from the committed
    order events; through a compressed crash (fills, liquidations, pulled depth) the index
    stays what the venue says, and no maker's own quotes ever cross (the retreating side is
    sent first)."""
    rt = make_runtime("index")
    flow = SyntheticFlow(rt, SyntheticConfig(seed=4, scenario="crash",
                                             scenario_overrides={"start_s": 20, "fall_s": 60, "gap_s": 10,
                                                                 "rebound_s": 30}))
    makers = [a for a in flow.agents if a.kind.startswith("maker")] if flow.agents else []
    checked = 0
    for _ in range(12):
        flow.run(10)
        makers = makers or [a for a in flow.agents if a.kind.startswith("maker")]
        for mm in makers:
            venue_orders = {o["order_id"]: [o["side"], o["price"], o["qty"], o["filled_qty"]]
                            for o in rt.venue.open_orders(mm.account_id, mm.symbol)}
            assert mm.live == venue_orders, mm.name
            bids = [o[1] for o in mm.live.values() if o[0] == 0]
            asks = [o[1] for o in mm.live.values() if o[0] == 1]
            if bids and asks:
                assert max(bids) < min(asks), mm.name
            checked += len(venue_orders)
    assert len(makers) == 10 and checked > 1_000
    assert any(mm.requotes > 100 for mm in makers)
