#!/usr/bin/env python3
"""CPU of a live ``paperex serve`` market: the server process's CPU time over a fixed
wall interval, as a share of one core.

    python3 scripts/bench_serve_cpu.py --symbols binance --json
    python3 scripts/bench_serve_cpu.py --symbols binance --warmup 30 --interval 60 --json
    python3 scripts/bench_serve_cpu.py --smoke --json        # CI: a few seconds

Starts ``paperex serve --symbols SPEC --flow synthetic --scenario SCENARIO`` (wall
clock, real time, journal in a temporary directory, nobody trading) in a subprocess,
waits ``--warmup`` seconds (agents created, books built), then reads the process's
user + system CPU time (``/proc/PID/stat``, Linux) at the start and the end of
``--interval`` wall seconds.  It also reads ``paperex_flow_steps_total`` and
``paperex_flow_sim_ms_total`` from ``/metrics`` at both ends: the market keeps real time
when simulated ms advance as fast as wall ms and steps run at 10 a second (100 ms steps).

``--json`` prints one JSON object as the last line: cpu_pct_of_one_core, steps_per_s,
sim_s_per_wall_s, commands_per_s, symbols, interval_s, warmup_s.  The machine is shared: compare
figures taken in the same hour, interleaved.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _benchlib import cpu_seconds, finish, parser, stop_process

ROOT = Path(__file__).resolve().parents[1]


def flow_counters(base: str) -> tuple[int, int, int]:
    """(flow steps, simulated ms, venue commands) so far, from /metrics."""
    text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()

    def read(name: str) -> int:
        m = re.search(rf"^{name} (\d+)", text, re.M)
        return int(m.group(1)) if m else 0
    return read("paperex_flow_steps_total"), read("paperex_flow_sim_ms_total"), read("paperex_commands_total")


def main(argv=None) -> int:
    ap = parser(__doc__, "CI: 3 s warm-up, 3 s measured, binance:top5")
    ap.add_argument("--symbols", default="binance", help="--symbols of paperex serve (default binance)")
    ap.add_argument("--scenario", default="calm")
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds before measuring")
    ap.add_argument("--interval", type=float, default=60.0, help="wall seconds measured")
    a = ap.parse_args(argv)
    if a.smoke:
        a.warmup, a.interval, a.symbols = 3.0, 3.0, "binance:top5"
    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_cpu_"))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "exchange.cli", "serve", "--port", "0", "--data-dir", str(tmp / "data"),
           "--flow", "synthetic", "--scenario", a.scenario, "--symbols", a.symbols]
    log = open(tmp / "serve.log", "w+")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, cwd=ROOT, env=env, text=True)
    try:
        base = None
        t_end = time.monotonic() + 120
        while base is None and time.monotonic() < t_end:
            line = p.stdout.readline()
            if not line:
                break
            m = re.search(r"serving Binance USD-M Futures on (http://\S+)", line)
            if m:
                base = m.group(1)
        if base is None:
            log.seek(0)
            raise SystemExit(f"paperex serve did not start: {log.read()[-2000:]}")
        # the banner is printed before the flow starts: drain stdout so the server never blocks
        import threading
        threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
        print(f"serving {a.symbols} at {base}; warm-up {a.warmup:.0f} s", flush=True)
        time.sleep(a.warmup)
        c0, s0, t0 = cpu_seconds(p.pid), flow_counters(base), time.monotonic()
        time.sleep(a.interval)
        c1, s1, t1 = cpu_seconds(p.pid), flow_counters(base), time.monotonic()
    finally:
        stop_process(p)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if c0 is None or c1 is None:
        raise SystemExit("the server's CPU time is read from /proc/PID/stat (Linux only)")
    wall = t1 - t0
    out = {"symbols": a.symbols, "scenario": a.scenario, "warmup_s": a.warmup, "interval_s": round(wall, 2),
           "cpu_pct_of_one_core": round(100.0 * (c1 - c0) / wall, 1),
           "steps_per_s": round((s1[0] - s0[0]) / wall, 2),
           "sim_s_per_wall_s": round((s1[1] - s0[1]) / 1000.0 / wall, 3),
           "commands_per_s": round((s1[2] - s0[2]) / wall, 1)}
    return finish(out, [f"{a.symbols}: {out['cpu_pct_of_one_core']} % of one core over {wall:.0f} s, "
                        f"{out['steps_per_s']} steps/s, {out['sim_s_per_wall_s']}x real time, "
                        f"{out['commands_per_s']} venue commands/s"], a.json)


if __name__ == "__main__":
    raise SystemExit(main())
