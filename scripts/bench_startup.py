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

Also ``generate_s``: ``exchange.engine.history.generate`` alone for the span (in this process),
and ``query_ms``: what answering over that past costs in the gateway's projection (mean of 200
calls each): the latest 1m candle (a ``kline_1m`` stream asks 4 times a second), 500 1m candles,
500 1m candles from a startTime a day back, 500 1h candles, the latest mark-price candle, the
24 h ticker.  Medians are reported; the process start of Python and the imports are part of
every start-up figure.  ``--queries-only`` skips the server starts.

    python scripts/bench_startup.py --json
    python scripts/bench_startup.py --spans 3d --repeat 1 --json      # quick
    python scripts/bench_startup.py --spans 3d,30d --queries-only --json
    python scripts/bench_startup.py --smoke --json                     # CI
"""
from __future__ import annotations

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
from _benchlib import parser, stop_process  # noqa: E402


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
        stop_process(proc, signal.SIGINT)
        shutil.rmtree(data, ignore_errors=True)
    return {"banner_s": banner, "klines_s": klines, "candles": len(rows)}


def generate_time(span: str) -> float:
    t0 = time.perf_counter()
    generate(1, parse_span(span), 1_767_225_600_000, {"BTCUSDT": 600_000, "ETHUSDT": 300_000}, DEFAULT_INSTRUMENTS)
    return time.perf_counter() - t0


def query_times(span: str, n: int = 200) -> dict:
    from exchange.contract.commands import SeedHistory
    from exchange.gateway.projection import Projection
    end = 1_767_225_600_000
    p = Projection(DEFAULT_INSTRUMENTS)
    p.seed_history(SeedHistory(1, parse_span(span), "BTCUSDT:600000,ETHUSDT:300000"), end)
    calls = {
        "klines_1m_latest": lambda: p.klines("BTCUSDT", 60_000, None, None, 1),
        "klines_1m_500": lambda: p.klines("BTCUSDT", 60_000, None, None, 500),
        "klines_1m_500_from_1d_ago": lambda: p.klines("BTCUSDT", 60_000, end - 86_400_000, None, 500),
        "klines_1h_500": lambda: p.klines("BTCUSDT", 3_600_000, None, None, 500),
        "mark_1m_latest": lambda: p.price_klines("BTCUSDT", "mark", 60_000, None, None, 1),
        "ticker24": lambda: p.ticker24("BTCUSDT", end),
    }
    out = {}
    for name, f in calls.items():
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        out[name] = round((time.perf_counter() - t0) / n * 1e3, 3)
    return out


def main() -> int:
    ap = parser(__doc__, "CI: spans 0 and 1h, one start each")
    ap.add_argument("--spans", default="0,3d,7d", help="comma-separated --history spans")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--queries-only", action="store_true", help="only generate_s and query_ms")
    args = ap.parse_args()
    if args.smoke:
        args.spans, args.repeat = "0,1h", 1
    spans = [s.strip() for s in args.spans.split(",") if s.strip()]
    for s in spans:
        parse_span(s)
    runs: dict[str, list] = {s: [] for s in spans}
    tmp = Path(tempfile.mkdtemp(prefix="paperex-bench-startup-"))
    try:
        for _ in range(0 if args.queries_only else args.repeat):
            for s in spans:
                runs[s].append(one_start(s, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"repeat": args.repeat, "spans": {}}
    for s in spans:
        r = runs[s]
        f = out["spans"][s] = {"generate_s": round(generate_time(s), 3),
                               "query_ms": query_times(s) if parse_span(s) else {}}
        if r:
            f.update(banner_s=round(statistics.median(x["banner_s"] for x in r), 3),
                     klines_s=round(statistics.median(x["klines_s"] for x in r), 3), candles=r[-1]["candles"])
        if not args.json:
            if r:
                print(f"--history {s:>4}: banner {f['banner_s']:.3f} s, 500 candles {f['klines_s']:.3f} s "
                      f"({f['candles']} candles)")
            print(f"--history {s:>4}: generate {f['generate_s']:.3f} s, queries (ms) {f['query_ms']}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
