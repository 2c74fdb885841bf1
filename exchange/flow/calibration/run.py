"""``paperex calibrate SCENARIO --seeds 1,2,3 [--json]``: run a scenario on the
virtual clock once per seed, measure it from the committed results (a
:class:`CascadeTape` subscribed to the sequencer), and print per metric the
real band, the value per seed and whether it is inside.  Progress goes to
stderr; ``--json`` prints one JSON object last (``within`` per metric,
``all_within``).

A scenario whose bands judge ``funding_8h_after`` (the named cascades) runs on
after its event's window until :data:`WATCH_AFTER_EXTREME_S` after the scripted
extreme, so the funding 8 h after the bottom is read off a market that kept
running; every other figure is measured on the window alone."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

from exchange.flow.calibration.bands import bands_for, not_applicable_for, within
from exchange.flow.calibration.metrics import METRICS, compute
from exchange.flow.calibration.tape import CascadeTape

T0 = 1_717_200_000_000          # 2024-06-01 00:00 UTC, the venue's clock at the start of a run
#: how long after the scripted extreme a run that measures ``funding_8h_after`` goes on: the 8 h,
#: and 30 minutes of room for an index extreme later than the script's (noise in the early rebound)
WATCH_AFTER_EXTREME_S = 8.5 * 3600.0


def run_one(scenario: str, seed: int, overrides: Optional[dict] = None, *,
            progress: Optional[Callable[[str], None]] = None, seconds: Optional[float] = None,
            config: Optional[dict] = None, watch_after_extreme: bool = False) -> dict:
    """Run ``scenario`` with ``seed`` for its whole duration (or ``seconds``); its figures.
    ``watch_after_extreme``: go on until :data:`WATCH_AFTER_EXTREME_S` after the scripted
    extreme (for ``funding_8h_after``); the other figures still end with the event's window."""
    from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow
    from exchange.engine.runtime import Runtime
    tmp = Path(tempfile.mkdtemp(prefix="paperex-calibrate-"))
    try:
        rt = Runtime.virtual(T0, data_dir=tmp, fsync="never")
        try:
            flow = SyntheticFlow(rt, SyntheticConfig(seed=seed, scenario=scenario,
                                                     scenario_overrides=dict(overrides or {}), **(config or {})))
            tape = CascadeTape(rt.instruments)
            rt.sequencer.subscribe(tape)
            p = flow.scenario.p
            window = p.duration_s()
            total = window
            if watch_after_extreme and p.direction:
                total = max(window, p.start_s + p.fall_s + WATCH_AFTER_EXTREME_S)
            if seconds is not None:
                total = seconds
            done = 0.0
            t0 = time.perf_counter()
            while done < total:
                chunk = min(600.0, total - done)
                flow.run(chunk)
                done += chunk
                if progress is not None:
                    wall = time.perf_counter() - t0
                    via: dict = {}
                    for st in tape.symbols.values():
                        for _, how, n in st.liquidated:
                            via[how] = via.get(how, 0.0) + n
                    book = tape.symbols[flow.symbols[0]].book
                    liq = ", ".join(f"{k} ${v / 1e6:.0f}M" for k, v in sorted(via.items())) or "none"
                    progress(f"{scenario} seed {seed}: {done / 3600:.2f} of {total / 3600:.2f} h simulated "
                             f"({wall:.0f} s, {done / max(wall, 1e-9):.0f}x real time, "
                             f"phase {flow.markets[flow.symbols[0]].state.phase}; liquidated: {liq}; "
                             f"depth +-1 % ${(book[-1][4] if book else 0) / 1e6:.0f}M)")
            scen = flow.scenario
            start = scen.event_start_ms()
            end = flow.t0_ms + int(min(window, total) * 1000)
            figures = compute(tape.finish(), start, end_ms=end, direction=scen.event_direction() or -1,
                              during_end_ms=scen.event_end_ms())
            figures["_drawn"] = dict(flow.scenario.drawn)
            figures["_sim_s_per_wall_s"] = done / max(time.perf_counter() - t0, 1e-9)
            return figures
        finally:
            rt.close(snapshot=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def calibrate(scenario: str, seeds: list[int], overrides: Optional[dict] = None, *,
              progress: Optional[Callable[[str], None]] = None, seconds: Optional[float] = None) -> dict:
    """Every seed's figures and the verdict per metric."""
    watch = "funding_8h_after" in bands_for(scenario)
    runs = [run_one(scenario, s, overrides, progress=progress, seconds=seconds, watch_after_extreme=watch)
            for s in seeds]
    result = judge(scenario, runs)
    result.update(seeds=seeds, overrides=overrides or {})
    return result


def judge(scenario: str, runs: list[dict]) -> dict:
    """The verdict on ``runs`` (one figures dict per seed) against ``scenario``'s bands: per
    metric inside or not, or not applicable (with the reason) to what the scenario models."""
    bands = bands_for(scenario)
    not_applicable = not_applicable_for(scenario)
    metrics: dict[str, Any] = {}
    for name, (unit, how) in METRICS.items():
        values = [r.get(name) for r in runs]
        band = bands.get(name)
        row: dict[str, Any] = {"unit": unit, "how": how, "values": values}
        if name in not_applicable:          # judged: not what this scenario models (the reason says why)
            row.update(applicable=False, not_applicable=not_applicable[name])
        elif band is not None:
            row.update(band=[band[0], band[1]], real=band[2], source=band[3],
                       within=all(within(v, band) for v in values))
        metrics[name] = row
    judged = [m["within"] for m in metrics.values() if "within" in m]
    na = [n for n, m in metrics.items() if m.get("applicable") is False]
    return {"scenario": scenario, "seeds": list(range(1, len(runs) + 1)), "overrides": {}, "metrics": metrics,
            "all_within": bool(judged) and all(judged),
            "judged": len(judged), "inside": sum(1 for w in judged if w), "not_applicable": na,
            "speed": [round(r.get("_sim_s_per_wall_s", 0.0), 1) for r in runs],
            "drawn": [r.get("_drawn", {}) for r in runs]}


def _fmt(v: Optional[float]) -> str:
    if v is None:
        return "-"
    a = abs(v)
    return f"{v:.4f}" if a < 0.1 else (f"{v:.3f}" if a < 10 else f"{v:.1f}")


def table(result: dict) -> str:
    """The human report: one row per metric."""
    seeds = result["seeds"]
    head = f"{'metric':22} {'band':>18}  " + "  ".join(f"{'seed ' + str(s):>9}" for s in seeds) + "  ok   real"
    lines = [f"scenario {result['scenario']}  seeds {','.join(map(str, seeds))}", head, "-" * len(head)]
    for name, m in result["metrics"].items():
        band = m.get("band")
        b = "" if band is None else f"[{_fmt(band[0])}, {_fmt(band[1])}]"
        ok = "" if "within" not in m else ("yes" if m["within"] else "NO")
        real = m.get("real", "")
        if m.get("applicable") is False:
            b, ok, real = "not applicable", "n/a", m["not_applicable"]
        vals = "  ".join(f"{_fmt(v):>9}" for v in m["values"])
        lines.append(f"{name:22} {b:>18}  {vals}  {ok:4} {real}")
    lines.append(f"all within: {'yes' if result['all_within'] else 'NO'}   "
                 f"({result['inside']} of {result['judged']} judged inside, "
                 f"{len(result['not_applicable'])} not applicable)   "
                 f"(speed: {', '.join(str(s) for s in result['speed'])} x real time)")
    return "\n".join(lines)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: Optional[list] = None) -> int:
    from exchange.flow.scenarios import SCENARIOS, describe
    ap = argparse.ArgumentParser(
        prog="paperex calibrate",
        description="Run a synthetic scenario on the virtual clock per seed and compare it with the "
                    "recorded cascades: per metric the real band, the value per seed, inside or not.",
        epilog="scenarios:\n" + "\n".join(f"  {n}: {describe(n)}" for n in SCENARIOS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=SCENARIOS)
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a scenario parameter (JSON value), e.g. --set start_s=600")
    ap.add_argument("--seconds", type=float, default=None,
                    help="simulated seconds per run (default: the scenario's warm-up, event and aftermath; "
                         "a named cascade goes on until 8.5 h after its scripted bottom for funding_8h_after)")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
    if not seeds:
        ap.error("--seeds: no seed given")
    overrides = {}
    for kv in args.set:
        if "=" not in kv:
            ap.error(f"--set: expected KEY=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        overrides[k.strip()] = _value(v.strip())
    try:
        from exchange.flow.scenarios import scenario_params
        scenario_params(args.scenario, **overrides)
    except (ValueError, TypeError) as exc:
        ap.error(str(exc))

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    # a whole-process decision, as paperex serve and the benchmarks make it: young collections less often
    from exchange.engine import heap
    heap.configure()

    result = calibrate(args.scenario, seeds, overrides, progress=progress, seconds=args.seconds)
    print(table(result), flush=True)
    if args.json:
        print(json.dumps(result, default=str))
    return 0 if result["all_within"] else 1
