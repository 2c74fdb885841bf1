#!/usr/bin/env python
"""What the always-on projections of #16 cost per command: the leaderboard and the dashboard feed.

Both are told of every committed command, whether or not a page is open, so their
per-command time is what the dashboard and the ranking add to the exchange's hot
path.  The script runs the synthetic market (``crash`` scenario, virtual clock, as
fast as it goes) on a runtime with the gateway's projection, records every
committed result (command, events, book changes, new liquidation records), then
times feeding those results to ``Leaderboard.on_executed`` and
``DashboardFeed.on_executed`` (no page open, and with a page: its ladders follow the
books) against an empty loop over the same records, and
compares with the flow's own time per command (agents + sequencer + venue +
projection).  The pages' own cost (building and sending updates) is measured by
``bench_gateway.py --dashboard-pages N`` (``dashboard_cpu_share``).

``--json`` prints one JSON object as the last line; ``--smoke`` is a small run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


class _ProjectionStub:
    """What the feed reads of the gateway's projection: ``new_force`` and ``listeners``."""

    def __init__(self) -> None:
        self.new_force: list = []
        self.listeners: list = []


def record(seconds: float, seed: int) -> tuple[list, float, int]:
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    from exchange.engine.clock import VirtualClock
    from exchange.engine.runtime import Runtime
    from exchange.flow.synthetic import SyntheticFlow
    from exchange.gateway.projection import Projection

    rt = Runtime(dict(DEFAULT_INSTRUMENTS), clock=VirtualClock(1_800_000_000_000))
    proj = Projection(rt.instruments)
    rt.sequencer.subscribe(proj.on_executed)
    results: list = []

    def keep(seq, ts, command, events, changes) -> None:
        results.append((seq, ts, command, events, changes, list(proj.new_force)))

    proj.listeners.append(keep)
    flow = SyntheticFlow(rt, seed=seed, scenario="crash")
    t0 = time.perf_counter()
    stats = flow.run(seconds)
    wall = time.perf_counter() - t0
    return results, wall, stats.commands


def time_listeners(results: list, instruments: dict, books: dict, repeat: int) -> dict:
    from exchange.engine.leaderboard import Leaderboard
    from exchange.gateway.dashboard.feed import DashboardFeed

    best = {"empty": float("inf"), "leaderboard": float("inf"), "feed": float("inf"), "feed_open": float("inf")}
    for _ in range(repeat):                 # interleaved, the best of each
        stub = _ProjectionStub()
        t0 = time.perf_counter()
        for seq, ts, cmd, events, changes, force in results:
            stub.new_force = force
        best["empty"] = min(best["empty"], time.perf_counter() - t0)

        board = Leaderboard.for_instruments(instruments)
        on = board.on_executed
        t0 = time.perf_counter()
        for seq, ts, cmd, events, changes, force in results:
            stub.new_force = force
            on(seq, ts, cmd, events)
        best["leaderboard"] = min(best["leaderboard"], time.perf_counter() - t0)

        for key, page_open in (("feed", False), ("feed_open", True)):
            stub = _ProjectionStub()
            feed = DashboardFeed(stub, sorted(instruments), lambda s: books[s])
            if page_open:           # a page is open: the ladders follow the book changes too
                feed.open_ladders()
            on = feed.on_executed
            t0 = time.perf_counter()
            for seq, ts, cmd, events, changes, force in results:
                stub.new_force = force
                on(seq, ts, cmd, events, changes)
            best[key] = min(best[key], time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=600.0, help="simulated seconds of the crash scenario")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.smoke:
        args.seconds, args.repeat = 20.0, 2
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    results, wall, commands = record(args.seconds, args.seed)
    n = len(results)
    books = {s: ((), ()) for s in DEFAULT_INSTRUMENTS}     # the ladders start empty, as the flow's books did
    best = time_listeners(results, dict(DEFAULT_INSTRUMENTS), books, args.repeat)
    flow_us = wall / max(1, commands) * 1e6
    lb_us = (best["leaderboard"] - best["empty"]) / max(1, n) * 1e6
    feed_us = (best["feed"] - best["empty"]) / max(1, n) * 1e6
    open_us = (best["feed_open"] - best["empty"]) / max(1, n) * 1e6
    res = {"commands": n, "simulated_s": args.seconds, "flow_us_per_command": round(flow_us, 3),
           "leaderboard_us_per_command": round(lb_us, 3), "feed_us_per_command": round(feed_us, 3),
           "feed_page_open_us_per_command": round(open_us, 3),
           "share_of_flow": round((lb_us + feed_us) / flow_us, 4) if flow_us else 0.0}
    print(f"{n:,} committed commands ({args.seconds:.0f} s of the crash scenario), flow {flow_us:.2f} us/command")
    print(f"leaderboard {lb_us:.3f} us/command, dashboard feed {feed_us:.3f} us/command (page open: "
          f"{open_us:.3f}): {res['share_of_flow'] * 100:.1f} % of the flow's time per command")
    if args.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
