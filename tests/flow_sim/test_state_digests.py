"""The state the restructure of issue #14 must not move: three seeded runs whose state digests
were recorded on the code before it (bb39c7b) and must stay equal.  A change that alters the
venue's behaviour on purpose updates a digest here, in its own commit, saying why.

* the seeded ``crash`` scenario, 10 simulated minutes (synthetic flow, virtual clock);
* the first 120 s of the recorded BTCUSDT tape in ``../shared/data`` (replay driver);
* the order mix of ``scripts/bench_venue.py`` (20,000 commands against the bare venue).
"""
from __future__ import annotations

import sys
from pathlib import Path

from exchange.engine.runtime import Runtime
from exchange.flow.replay_driver import ReplayDriver
from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_717_200_000_000
BTC_TAPE = "binance-usdm/btcusdt_20240808.gz"

# #21: ETHUSDT follows the market factor (beta 1.4 x BTCUSDT's own moves plus 20 % of its own,
# instead of moving independently); with ETHUSDT independent this run gives main's
# d6cafe64f6cdcbe0125ea734f157edbfd02279be26ab975264ca707b7c02cb83 (issue #19's re-tuned crash).
# The venue digests below are unchanged.  Then (#19, speed) makers keep their size jitter per grid
# price, re-size only beyond 0.5-1.5x and send the retreating side first; a fifth ladder 0.5-4.9 %
# from the mid and makers refilling after fills: the book differs, on purpose.
# Then (#19, squeeze) the deep and far makers set 3-4x / 1x instead of 10x (their leverage's bracket
# cap holds 1.5x their inventory limit): the accounts' leverage settings differ, on purpose.
# Then (#19, squeeze ADL) the far ladder's levels grow 120 % a level instead of 30 % (the largest
# shorts a squeeze liquidates outgrew its asks within the take bound): its resting orders differ,
# on purpose (was 573c692954165b4db316d8287697c4d1a49b7ee94d7468a6717ff9bcb25dc116).
CRASH_SEED1_600S = "5dc3769f73e7773663b0cd54aaed36e348bf0ec37fe0f6d785c9a82a23e6f3ba"
BTC_TAPE_120S = "1ab63cbd1c6e77fbe5b6854988bb5c990348c88b97f665af98a2c03e965ee04e"
BENCH_VENUE_MIX_20000 = "5d7f0fa842ecdb38c91f7529534bb9ae6741adc172d0f44f7c6fda6a34912e32"


def test_crash_scenario_state_digest(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path / "crash", fsync="never")
    try:
        SyntheticFlow(rt, SyntheticConfig(seed=1, scenario="crash")).run(600)
        assert rt.venue.state_digest() == CRASH_SEED1_600S
    finally:
        rt.close(snapshot=False)


def test_btc_tape_replay_state_digest(tmp_path, shared_sample):
    tape = shared_sample(BTC_TAPE)
    t0 = ReplayDriver.first_timestamp(tape)
    rt = Runtime.virtual(t0, data_dir=tmp_path / "tape", fsync="never")
    try:
        ReplayDriver(rt, tape).run(until_ms=t0 + 120_000)
        assert rt.venue.state_digest() == BTC_TAPE_120S
    finally:
        rt.close(snapshot=False)


def test_bench_venue_order_mix_state_digest():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_venue
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    cmds, _ = bench_venue.order_commands(20_000)
    venue = bench_venue._order_setup()
    for c in cmds:
        venue.apply(1, c)
    assert venue.state_digest() == BENCH_VENUE_MIX_20000
