"""scripts/loadtest.py: the smoke run end to end (server, bots, websockets, replay --verify,
acknowledged orders), and the pure pieces (percentiles, ramp search, /proc sampling)."""
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "loadtest.py"


def _load():
    spec = importlib.util.spec_from_file_location("paperex_loadtest", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


lt = _load()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("loadtest-smoke")
    p = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--json", "--data-dir", str(data_dir),
                        "--plot", str(data_dir / "run.png")],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1]), data_dir


def test_smoke_run_verifies_the_journal_and_every_acked_order(smoke):
    res, _ = smoke
    assert res["replay_verified"] is True
    assert res["acked_missing"] == 0
    assert res["acked"] > 0
    assert res["orders_per_s"] > 0
    assert res["ws_msgs_per_s"] > 0
    assert res["ws_market_msgs_per_s"] > 0 and res["ws_user_msgs_per_s"] > 0
    assert res["server_clean_stop"] is True
    assert isinstance(res["errors"], dict)
    assert res["p99_ms"] >= res["p50_ms"] > 0
    for key in ("p50", "p90", "p99", "p99_9"):
        assert key in res["latency_ms"]["POST /fapi/v1/order LIMIT"]
    assert res["server_rss_mb"] > 0 and res["server_cpu_pct"] > 0
    assert res["wall_s"] < 15


def test_plot_draws_latency_and_throughput_into_a_png(smoke):
    pytest.importorskip("matplotlib")
    _, data_dir = smoke
    png = (data_dir / "run.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000     # three panels of lines, not an empty canvas


def test_acked_orders_are_found_in_the_journal_history_when_the_state_lost_them(smoke):
    _, data_dir = smoke
    from exchange.journal import JournalReader
    from exchange.engine.offline import _journal_dir
    from exchange.contract.events import OrderAccepted
    rec = next(r for r in JournalReader(_journal_dir(str(data_dir))).records() if r.kind == OrderAccepted.KIND)
    oid, aid = rec.payload[0], rec.payload[1]
    sym = rec.payload[2]
    # a wrong symbol hides it from the venue query: only the journal scan can find it
    out = lt.verify_journal(str(data_dir), [(aid, sym, oid), (aid, "NOSUCH", oid), (aid, sym, 10 ** 12)])
    assert out["replay_verified"] is True
    assert out["acked"] == 3
    assert out["acked_in_state"] == 1
    assert out["acked_in_journal_history"] == 1
    assert out["acked_missing"] == 1
    assert out["acked_missing_sample"] == [(aid, sym, 10 ** 12)]


def test_percentile_nearest_rank():
    vals = list(range(1, 101))          # 1..100
    assert lt.percentile(vals, 0.5) == 50
    assert lt.percentile(vals, 0.9) == 90
    assert lt.percentile(vals, 0.99) == 99
    assert lt.percentile(vals, 0.999) == 100
    assert lt.percentile(vals, 1.0) == 100
    assert lt.percentile(vals, 0.0) == 1
    assert lt.percentile([], 0.99) == 0.0
    assert lt.percentile([7.5], 0.999) == 7.5
    thousand = list(range(1000))
    assert lt.percentile(thousand, 0.999) == 998
    s = lt.summarize([5, 1, 3, 2, 4])
    assert s["n"] == 5 and s["p50"] == 3 and s["max"] == 5 and s["mean"] == 3
    assert lt.summarize([])["n"] == 0


def _drive(search, capacity: float, p99_at=lambda rate, cap: 5.0 if rate <= cap else 500.0):
    """A fake system: p99 is fine up to ``capacity`` and the achieved rate is capped by it."""
    while (rate := search.next_rate()) is not None:
        search.record(rate, p99_at(rate, capacity), min(rate, capacity * 1.02))
    return search


def test_ramp_doubles_then_bisects_to_within_precision():
    s = _drive(lt.RampSearch(start=100, bound_ms=50, precision=0.1, max_steps=20), capacity=1300)
    rates = [st["rate"] for st in s.steps]
    assert rates[:5] == [100, 200, 400, 800, 1600]          # doubling until the first failure
    assert all(st["ok"] for st in s.steps[:4]) and not s.steps[4]["ok"]
    assert rates[5] == 1200                                  # then bisection
    assert s.best <= 1300 and (s.hi - s.best) / s.best <= 0.1
    assert s.best >= 1300 / 1.1


def test_ramp_fails_a_step_whose_rate_is_not_achieved_even_with_a_low_p99():
    s = lt.RampSearch(start=100, bound_ms=50, min_achieved=0.9)
    assert s.record(100, 3.0, 95.0) is True
    assert s.record(200, 3.0, 150.0) is False                # p99 fine, but only 75 % of the target
    assert s.record(150, 60.0, 150.0) is False               # achieved, but p99 over the bound
    assert s.best == 100 and s.hi == 150


def test_ramp_halves_when_the_first_rate_fails_and_stops_at_max_steps():
    s = _drive(lt.RampSearch(start=1000, bound_ms=50, max_steps=30), capacity=90)
    assert [st["rate"] for st in s.steps][:5] == [1000, 500, 250, 125, 62]
    assert 80 <= s.best <= 90
    s = _drive(lt.RampSearch(start=1000, bound_ms=50, min_rate=10), capacity=0)
    assert s.best == 0 and s.steps[-1]["rate"] >= 10
    s = _drive(lt.RampSearch(start=100, bound_ms=50, max_steps=3), capacity=10_000)
    assert len(s.steps) == 3 and s.best == 400


def test_read_proc_of_this_process():
    r = lt.read_proc(os.getpid())
    assert r["rss_kb"] > 0 and r["hwm_kb"] >= r["rss_kb"] and r["cpu_s"] > 0
    assert not math.isnan(r["cpu_s"])
