#!/usr/bin/env python3
"""Benchmark the order-flow sources through sequencer, journal and venue (virtual clock).

Figures:
* synthetic_sim_s_per_wall_s - simulated seconds per wall second of the default
  synthetic market (BTCUSDT + ETHUSDT, default agents, ``--scenario``, 100 ms
  steps), as fast as possible, with the calibrated book (issue #19: about $40 M
  within +-0.2 % and $90 M within +-1 % on BTCUSDT, like the Binance tape).  Target: >= 100.
* replay_sim_s_per_wall_s   - recorded seconds per wall second replaying the
  largest sample in ``../shared/data`` the replay driver supports (the
  BTCUSDT websocket tape), as fast as possible.  Target: >= 100.
  ``--replay-batch-ms N`` groups N recorded ms per sequencer group (coarser
  time, fewer commands); the default 1 keeps every recorded millisecond.
* events_per_s              - venue events produced (and journaled) per wall
  second, both runs together; also per run.
* cascade_sim_s_per_wall_s  - with ``--cascade SCENARIO`` (e.g. cascade-2021-05-19):
  the named scenario's market, seed 1, with the calibration's tape subscribed as
  ``paperex calibrate`` runs it; its warm-up runs untimed, then the first
  ``--cascade-seconds`` (default 1800) of the event are timed - the busiest stretch
  of a calibration run (liquidations, makers re-quoting on every step).  Also
  ``cascade_cpu_sim_s_per_cpu_s`` (process CPU time: less sensitive to other load).

Both runs journal to a temporary directory (``--fsync``, default ``batch``)
that is removed afterwards.  ``--smoke`` runs a few simulated seconds of each
(CI: finishes in well under 10 s).  The runs use the garbage-collector policy of
``paperex serve`` (``exchange/engine/heap.py``: young collections less often, the heap
frozen after start-up), the process a replay or a synthetic market runs in;
``venue`` says whether the compiled venue ran (``PAPEREX_PURE=1``: its
pure-Python twin).

    python scripts/bench_flow.py --json
    python scripts/bench_flow.py --smoke --json
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:
    import exchange  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from exchange.engine import heap  # noqa: E402
from exchange._accelerated import compiled  # noqa: E402
from exchange.flow.records import BookTicker, DepthDiff, DepthSnapshot, Trade  # noqa: E402
from exchange.flow.replay_driver import ReplayDriver  # noqa: E402
from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow  # noqa: E402
from exchange.contract.instruments import DEFAULT_INSTRUMENTS  # noqa: E402
from exchange.contract.symbol_sets import resolve_symbols  # noqa: E402
from exchange.engine.runtime import Runtime  # noqa: E402

DATA_DIRS = [ROOT.parent / "shared" / "data", Path("/work/shared/data")]
T0 = 1_717_200_000_000


def find_largest_sample() -> "Path | None":
    """The largest recording the replay driver can use: a known format, with book or
    trade records for a symbol the venue lists."""
    from exchange.flow import open_recording, sniff_format
    base = next((d for d in DATA_DIRS if d.is_dir()), None)
    if base is None:
        return None
    files = sorted((p for p in base.rglob("*") if p.is_file()), key=lambda p: -p.stat().st_size)
    for p in files:
        try:
            sniff_format(p)
            reader = open_recording(p, on_error="skip")
            for i, rec in enumerate(reader):
                if i > 5000:
                    break
                if isinstance(rec, (Trade, BookTicker, DepthDiff, DepthSnapshot)) and \
                        rec.symbol in DEFAULT_INSTRUMENTS:
                    return p
        except Exception:
            continue
    return None


def bench_synthetic(seconds: float, scenario: str, fsync: str, tmp: Path, symbols: "str | None" = None) -> dict:
    insts = resolve_symbols(symbols).instruments if symbols else None
    rt = Runtime.virtual(T0, data_dir=tmp / "synthetic", fsync=fsync, instruments=insts)
    flow = SyntheticFlow(rt, SyntheticConfig(seed=1, scenario=scenario))
    heap.settle()
    t = time.perf_counter()
    st = flow.run(seconds)
    wall = time.perf_counter() - t
    depth = {}
    for sym in flow.symbols:         # the resting book the run ends with (the deeper book of issue #19)
        bids, asks = rt.venue.depth(sym, 1000)
        if bids and asks:
            mid = (bids[0][0] + asks[0][0]) / 2
            unit = flow.markets[sym].unit / 1e8
            depth[sym] = {f"within_{w}pct_usdt": round(sum(p * q for p, q in bids + asks
                                                           if abs(p - mid) <= mid * w / 100) * unit)
                          for w in (0.2, 1)}
            depth[sym]["resting_orders"] = sum(1 for _ in bids) + sum(1 for _ in asks)
    rt.close()
    return {"sim_s": st.sim_ms / 1000, "wall_s": wall, "commands": st.commands, "events": st.events,
            "trades": st.trades, "agents": len(flow.agents), "symbols": len(flow.symbols),
            "book": depth if len(depth) <= 4 else {}}


def bench_cascade(scenario: str, seconds: float, tmp: Path) -> dict:
    from exchange.flow.calibration.tape import CascadeTape
    rt = Runtime.virtual(T0, data_dir=tmp / "cascade", fsync="never")      # as paperex calibrate runs it
    flow = SyntheticFlow(rt, SyntheticConfig(seed=1, scenario=scenario))
    rt.sequencer.subscribe(CascadeTape(rt.instruments))
    warm = flow.scenario.p.start_s
    flow.run(warm)
    heap.settle()
    c0, e0 = flow.stats.commands, flow.stats.events
    t, cpu = time.perf_counter(), time.process_time()
    flow.run(seconds)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    rt.close(snapshot=False)
    return {"scenario": scenario, "warmup_s": warm, "sim_s": seconds, "wall_s": wall, "cpu_s": cpu,
            "commands": flow.stats.commands - c0, "events": flow.stats.events - e0}


def bench_replay(path: Path, seconds: "float | None", fsync: str, tmp: Path, batch_ms: int = 1) -> dict:
    t0 = ReplayDriver.first_timestamp(path)
    rt = Runtime.virtual(t0, data_dir=tmp / "replay", fsync=fsync)
    drv = ReplayDriver(rt, path, batch_ms=batch_ms)
    heap.settle()
    t = time.perf_counter()
    st = drv.run(until_ms=None if seconds is None else t0 + int(seconds * 1000))
    wall = time.perf_counter() - t
    rt.close()
    return {"file": str(path), "sim_s": st.sim_ms / 1000, "wall_s": wall, "records": st.records,
            "commands": st.commands, "events": st.events, "trades": st.trades, "progress": st.progress,
            "groups": st.groups, "batch_ms": batch_ms}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="a few simulated seconds of each (CI)")
    ap.add_argument("--synthetic-seconds", type=float, default=600.0, help="simulated seconds (default 600)")
    ap.add_argument("--replay-seconds", type=float, default=None,
                    help="recorded seconds to replay (default: the whole file)")
    ap.add_argument("--scenario", default="calm", help="synthetic scenario (default calm)")
    ap.add_argument("--symbols", default=None, help="the synthetic market's symbols, as paperex serve "
                                                     "--symbols (default BTCUSDT, ETHUSDT; e.g. binance)")
    ap.add_argument("--no-replay", action="store_true", help="the synthetic run only")
    ap.add_argument("--data", help="recording to replay (default: the largest supported sample)")
    ap.add_argument("--replay-batch-ms", type=int, default=1,
                    help="replay group window in recorded ms (default 1: one group per recorded "
                         "millisecond, the driver's default; larger coalesces book updates)")
    ap.add_argument("--cascade", default=None, metavar="SCENARIO",
                    help="also time the first --cascade-seconds of this named scenario's event "
                         "(after its untimed warm-up), as paperex calibrate runs it")
    ap.add_argument("--cascade-seconds", type=float, default=1800.0)
    ap.add_argument("--fsync", choices=["always", "batch", "never"], default="batch")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args(argv)
    syn_s = 20.0 if args.smoke else args.synthetic_seconds
    rep_s = 20.0 if args.smoke else args.replay_seconds
    tmp = Path(tempfile.mkdtemp(prefix="bench_flow_"))
    out: dict = {"smoke": bool(args.smoke), "fsync": args.fsync, "scenario": args.scenario,
                 "venue": "compiled" if compiled() else "pure"}
    heap.configure()            # paperex serve's collector policy (see the docstring)
    try:
        syn = bench_synthetic(syn_s, args.scenario, args.fsync, tmp, args.symbols)
        out["synthetic_sim_s_per_wall_s"] = round(syn["sim_s"] / syn["wall_s"], 1)
        # the cost of one symbol: CPU ms per simulated second per symbol (the live market needs
        # this x symbols / 1000 of a core to keep real time)
        out["synthetic_symbols"] = syn["symbols"]
        out["synthetic_ms_per_symbol_sim_s"] = round(1000.0 * syn["wall_s"] / syn["sim_s"] / syn["symbols"], 3)
        out["synthetic_events_per_s"] = round(syn["events"] / syn["wall_s"])
        out["synthetic_commands_per_s"] = round(syn["commands"] / syn["wall_s"])
        out["synthetic"] = syn
        print(f"synthetic  {syn['sim_s']:.0f} sim s in {syn['wall_s']:.2f} s wall: "
              f"{out['synthetic_sim_s_per_wall_s']}x real time, {syn['commands']} commands, "
              f"{syn['events']} events, {syn['trades']} trades, {syn['agents']} agents")
        print(f"           {syn['symbols']} symbols: {out['synthetic_ms_per_symbol_sim_s']} ms per symbol per "
              f"simulated second")
        path = None if args.no_replay else Path(args.data) if args.data else find_largest_sample()
        events = syn["events"]
        wall = syn["wall_s"]
        if path is None:
            print("replay     skipped: no recorded sample found under ../shared/data")
            out["replay_sim_s_per_wall_s"] = None
        else:
            rep = bench_replay(path, rep_s, args.fsync, tmp, args.replay_batch_ms)
            out["replay_sim_s_per_wall_s"] = round(rep["sim_s"] / rep["wall_s"], 1)
            out["replay_events_per_s"] = round(rep["events"] / rep["wall_s"])
            out["replay_records_per_s"] = round(rep["records"] / rep["wall_s"])
            out["replay"] = rep
            events += rep["events"]
            wall += rep["wall_s"]
            print(f"replay     {path.name}: {rep['sim_s']:.0f} recorded s in {rep['wall_s']:.2f} s wall: "
                  f"{out['replay_sim_s_per_wall_s']}x real time, {rep['records']} records, "
                  f"{rep['commands']} commands, {rep['events']} events, {rep['trades']} prints")
        if args.cascade:
            cas = bench_cascade(args.cascade, 60.0 if args.smoke else args.cascade_seconds, tmp)
            out["cascade_sim_s_per_wall_s"] = round(cas["sim_s"] / cas["wall_s"], 1)
            out["cascade_cpu_sim_s_per_cpu_s"] = round(cas["sim_s"] / cas["cpu_s"], 1)
            out["cascade"] = cas
            print(f"cascade    {args.cascade}: {cas['sim_s']:.0f} sim s of the event in {cas['wall_s']:.2f} s "
                  f"wall: {out['cascade_sim_s_per_wall_s']}x real time ({out['cascade_cpu_sim_s_per_cpu_s']}x "
                  f"per CPU second), {cas['commands']} commands, {cas['events']} events")
        out["events_per_s"] = round(events / wall) if wall else 0
        print(f"events     {out['events_per_s']} per wall second (both runs)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
