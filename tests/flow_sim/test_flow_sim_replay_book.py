"""The replay driver's model of the recorded book keeps only its best levels
sorted (the near tier) and the rest in a plain dict (the far tier): whatever the
updates, it must hold exactly the levels a plain price -> size map holds, and
its best prices and window edges must be that map's."""
import random

import pytest

from exchange.flow.records import DepthDiff, DepthSnapshot
from exchange.flow.replay_driver import ReplayDriver, ReplayStats, _Book
from exchange.contract.instruments import DEFAULT_INSTRUMENTS


def book(depth_levels=10):
    return _Book("BTCUSDT", DEFAULT_INSTRUMENTS["BTCUSDT"], ReplayStats(), depth_levels)


def all_levels(b, side):
    out = dict(b.levels[side])
    for p, n in b.far[side].items():
        n = b.lots(n) if type(n) is str else n
        if n:
            assert p not in out
            out[p] = n
    return out


def check(b, ref, moves=None):
    for side in (0, 1):
        if moves is not None:
            n = len(b.keys[side])
            moves["refill"] += n < b.low and bool(b.far[side])
            moves["shrink"] += n > b.high
        b.rebalance(side)
        assert all_levels(b, side) == ref[side]
        want = sorted(ref[side], reverse=(side == 0))
        assert b.best(side) == (want[0] if want else None)
        for n in (1, b.n, b.n + b.slack):
            assert b.edge(side, n) == (want[n - 1] if len(want) > n else None)
        keys = b.keys[side]
        assert keys == sorted(keys) and len(keys) == len(b.levels[side])


@pytest.mark.parametrize("seed", range(6))
def test_two_tier_model_matches_a_plain_map(seed):
    rnd = random.Random(seed)
    b = book()
    ref = ({}, {})
    mid = 600_000

    def put(side, p, n):
        b.set(side, p, n)
        if n:
            ref[side][p] = n
        else:
            ref[side].pop(p, None)

    for i in range(1, 3001, 3):                   # a deep book, as a snapshot brings
        put(0, mid - i, 5)
        put(1, mid + i, 5)
    for side in (0, 1):
        b.rebalance(side)
    moves = {"refill": 0, "shrink": 0}
    for step in range(6_000):
        op = rnd.random()
        side = rnd.randrange(2)
        depth = rnd.randrange(1, 300) if rnd.random() < 0.6 else rnd.randrange(1, 2_500)
        p = mid - depth if side == 0 else mid + depth
        growing = (step // 1_000) % 2 == 0       # phases: the top fills up / gets swept
        if growing or op < 0.85:
            put(side, p, 0 if rnd.random() < (0.05 if growing else 0.4) else rnd.randrange(1, 50))
        else:
            # a sweep through the top of one side; now and then through all of the near tier
            inclusive = rnd.random() < 0.5
            b.clear_through(side, p, inclusive)
            for q in list(ref[side]):
                if (q > p or (inclusive and q == p)) if side == 0 else (q < p or (inclusive and q == p)):
                    del ref[side][q]
        if step % 40 == 0:
            check(b, ref, moves)                  # (rebalances, as the driver does per group)
        b.dirty[0].clear()
        b.dirty[1].clear()
    check(b, ref)
    assert moves["refill"] and moves["shrink"]     # both ways between the tiers were taken


def test_depth_diffs_reach_the_far_tier_and_come_back(make_runtime):
    """A 1000-level snapshot leaves most levels far; when the best levels go the
    far ones come near and the LP quotes them."""
    bids = tuple((f"{60000 - i * 0.1:.1f}", "1.000") for i in range(1, 1001))
    asks = tuple((f"{60000 + i * 0.1:.1f}", "1.000") for i in range(0, 1000))
    t0 = 1_723_161_000_000
    recs = [DepthSnapshot(t0, "BTCUSDT", 10, bids, asks)]
    # a diff that deletes the best 600 bids (deep ones change too)
    gone = tuple((p, "0") for p, _ in bids[:600]) + (("59910.0", "7.000"),)
    recs.append(DepthDiff(t0 + 1, "BTCUSDT", 11, 12, 10, gone, ()))
    rt = make_runtime("far", start_ms=t0)
    drv = ReplayDriver(rt, iter(recs), depth_levels=20)
    drv.run(until_ms=t0)
    b = drv.books["BTCUSDT"]
    assert len(b.keys[0]) == b.target and len(b.far[0]) == 1000 - b.target
    drv.run()
    got, _ = rt.venue.depth("BTCUSDT", 30)
    assert [p for p, _ in got[:20]] == [600_000 - 601 - i for i in range(20)]
    assert all(q == 1000 for _, q in got[:20])
    assert all_levels(b, 0) == {**{600_000 - i: 1000 for i in range(601, 1001)}, 599_100: 7000}
