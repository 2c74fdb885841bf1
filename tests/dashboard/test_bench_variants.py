"""``scripts/bench_dashboard.py --gateway``: each variant is what its name says.

The #16 speed comparison reads the variants against each other (the exchange's own cost of the
pages is ``feeds`` and ``sink``; what five browsers cost whatever page they show is ``blank`` and
``ticker``),
so a variant that quietly did something else would make the comparison say the wrong thing.
One tiny round of every variant, with one real headless Chromium where the variant has one.
"""
from __future__ import annotations

import json
import subprocess
import sys

from browserkit import ROOT, need_browser


def test_every_variant_runs_what_it_names():
    need_browser()
    variants = ["none", "blank", "ticker", "pages", "frozen", "feeds", "sink"]
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_dashboard.py"), "--gateway", "1", "--pages", "1",
         "--variants", ",".join(variants), "--json", "--",
         "--duration", "1", "--ws-clients", "2", "--ws-duration", "1", "--connections", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    runs = {v: rs[0] for v, rs in json.loads(out.stdout.strip().splitlines()[-1])["runs"].items()}
    assert sorted(runs) == sorted(variants)
    for v, r in runs.items():
        assert r["variant"] == v and r["orders_per_s"] > 0 and r["wsapi_orders_per_s"] > 0, v
    # no dashboard at all: no page, nothing measured beside the exchange
    assert "dashboard_updates" not in runs["none"]
    assert "dashboard_side_cpu_s" not in runs["none"]["phases"]["orders"]
    # blank and ticker: a browser whose page never talks to the exchange - the server builds and
    # sends nothing for pages; the blank page never changes, the ticker changes once a second
    for v in ("blank", "ticker"):
        assert runs[v]["dashboard_cpu_s"] == 0.0, v
        assert "dashboard_side_cpu_s" in runs[v]["phases"]["orders"], v
    assert runs["blank"]["dashboard_updates"] == [0]
    assert runs["ticker"]["dashboard_updates"][0] >= 2
    # pages and frozen: the dashboard itself, fed by the server
    for v in ("pages", "frozen"):
        assert runs[v]["dashboard_updates"][0] >= 1 and runs[v]["dashboard_cpu_s"] > 0, v
    # feeds and sink: websocket clients of the dashboard feed, no browser (sink: raw sockets that
    # count the frames and drop their payloads); the server builds and sends for them
    for v in ("feeds", "sink"):
        assert runs[v]["feed_messages"][0] >= 1 and runs[v]["feed_bytes"] > 0 and runs[v]["dashboard_cpu_s"] > 0, v
