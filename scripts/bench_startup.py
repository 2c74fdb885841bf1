#!/usr/bin/env python3
"""Benchmark ``paperex serve`` start-up with a seeded market history (#15: under 3 s for the default).

For each ``--history`` span (default ``0``, ``3d`` = the default of ``paperex serve``, ``7d``),
interleaved ``--repeat`` times so the machine's drift hits every span alike, a real
``python -m exchange.cli serve --port 0 --flow synthetic`` is started on a fresh data dir and
timed from the process spawn to

* ``banner_s``   - the banner (the server listens; the SeedHistory command is journaled and
  expanded by then), and
* ``klines_s``   - the first answer of ``GET /fapi/v1/klines?interval=1m&limit=500`` holding 500
  candles (what freqtrade asks first); with ``--history 0`` the first answer at all.

Also ``generate_s``: ``exchange.engine.history.generate`` alone for the span (in this process).
Medians are reported; the process start of Python and the imports are part of every figure.

    python scripts/bench_startup.py --json
    python scripts/bench_startup.py --spans 3d --repeat 1 --json      # quick
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exchange.contract.instruments import DEFAULT_INSTRUMENTS  # noqa: E402
from exchange.engine.history import generate, parse_span  # noqa: E402
from exchange.venue.spec import SymbolSpec  # noqa: E402


def one_start(span: str, tmp: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    data = Path(tempfile.mkdtemp(dir=tmp))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", "0", "--data-dir", str(data),
                             "--fsync", "never", "--history", span],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = None
        for line in proc.stdout:
            m = re.search(r"REST base : (http://127\.0\.0\.1:\d+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            raise RuntimeError("paperex serve printed no banner")
        banner = time.perf_counter() - t0
        want = 500 if parse_span(span) >= 500 * 60_000 else 0
        while True:
            with urllib.request.urlopen(url + "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=500") as r:
                rows = json.loads(r.read())
            if len(rows) >= want:
                break
            time.sleep(0.01)
        klines = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        shutil.rmtree(data, ignore_errors=True)
    return {"banner_s": banner, "klines_s": klines, "candles": len(rows)}


def generate_time(span: str) -> float:
    specs = {s: SymbolSpec(i) for s, i in DEFAULT_INSTRUMENTS.items()}
    t0 = time.perf_counter()
    generate(1, parse_span(span), 1_767_225_600_000, {"BTCUSDT": 600_000, "ETHUSDT": 300_000}, specs)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", default="0,3d,7d", help="comma-separated --history spans")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    spans = [s.strip() for s in args.spans.split(",") if s.strip()]
    for s in spans:
        parse_span(s)
    runs: dict[str, list] = {s: [] for s in spans}
    tmp = Path(tempfile.mkdtemp(prefix="paperex-bench-startup-"))
    try:
        for _ in range(args.repeat):
            for s in spans:
                runs[s].append(one_start(s, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"repeat": args.repeat, "spans": {}}
    for s in spans:
        r = runs[s]
        out["spans"][s] = {
            "banner_s": round(statistics.median(x["banner_s"] for x in r), 3),
            "klines_s": round(statistics.median(x["klines_s"] for x in r), 3),
            "candles": r[-1]["candles"],
            "generate_s": round(generate_time(s), 3),
        }
        if not args.json:
            f = out["spans"][s]
            print(f"--history {s:>4}: banner {f['banner_s']:.3f} s, 500 candles {f['klines_s']:.3f} s, "
                  f"generate {f['generate_s']:.3f} s ({f['candles']} candles)")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
