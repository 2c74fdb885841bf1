#!/usr/bin/env python3
"""Compare two checkouts on one benchmark script, interleaved in the same hour.

    python3 scripts/interleave.py --pairs 3 OLD_CHECKOUT NEW_CHECKOUT scripts/bench_venue.py -- ARGS

Runs OLD's and NEW's own copy of the script alternately (A B, B A, A B, ...: neither side
always runs first), each with PYTHONPATH and the working directory at its own checkout (so
each imports its own build), reads the last line of each run as JSON and prints, per numeric
figure both report, the median of A, the median of B and B/A; the last line is one JSON
object with the same.  This machine's speed drifts by tens of percent between hours: only
figures taken this way are compared in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def numbers(obj: object, prefix: str = "") -> dict[str, float]:
    """The numeric leaves of a JSON object, by dotted path."""
    out: dict[str, float] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(numbers(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix] = float(obj)
    return out


def run(root: str, script: str, args: list[str], timeout: float) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=root)
    p = subprocess.run([sys.executable, script, *args, "--json"], cwd=root, env=env,
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"{root}: {script} exited {p.returncode}\n{p.stderr[-2000:]}")
    lines = [line for line in p.stdout.splitlines() if line.strip()]
    return numbers(json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per run")
    ap.add_argument("--keys", default="", help="comma-separated substrings: only figures naming one")
    ap.add_argument("a", help="the old checkout (built)")
    ap.add_argument("b", help="the new checkout (built)")
    ap.add_argument("script", help="the script's path inside each checkout")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="after --: the script's arguments")
    ns = ap.parse_args(argv)
    args = [x for x in ns.args if x != "--"]
    runs: dict[str, list[dict[str, float]]] = {ns.a: [], ns.b: []}
    for i in range(ns.pairs):
        for root in ((ns.a, ns.b) if i % 2 == 0 else (ns.b, ns.a)):
            t0 = time.monotonic()
            runs[root].append(run(root, ns.script, args, ns.timeout))
            print(f"# pair {i + 1}: {root} {time.monotonic() - t0:.0f} s, load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr, flush=True)
    a, b = runs[ns.a], runs[ns.b]
    keys = sorted(set(a[0]) & set(b[0]))
    if ns.keys:
        keys = [k for k in keys if any(s in k for s in ns.keys.split(","))]
    results = {}
    print(f"{'figure':60s} {'A median':>14s} {'B median':>14s} {'B/A':>7s}")
    for k in keys:
        ma = statistics.median(r[k] for r in a if k in r)
        mb = statistics.median(r[k] for r in b if k in r)
        ratio = mb / ma if ma else float("nan")
        results[k] = [ma, mb, ratio]
        print(f"{k:60s} {ma:14.4g} {mb:14.4g} {ratio:7.3f}")
    print(json.dumps({"a": ns.a, "b": ns.b, "script": ns.script, "args": args, "pairs": ns.pairs,
                      "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
