"""The bots as the README runs them: ``python -m clients.bots.<bot>`` against a ``paperex serve`` process."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from serve_cli import start_serve, stop_process


def _serve(tmp_path, *args):
    proc, banner, _ = start_serve(tmp_path / "data", *args, want=("url", "key", "secret"))
    return proc, banner["url"], banner["key"], banner["secret"]


def _bot(module, *args, timeout=90):
    out = subprocess.run([sys.executable, "-m", f"clients.bots.{module}", *args], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module,extra", [
    ("market_maker", ["--interval", "0.3", "--spread-bps", "4"]),
    ("trend_follower", ["--interval", "0.3", "--fast", "3", "--slow", "6", "--stop-loss-pct", "0.05",
                        "--take-profit-pct", "0.05"]),
])
def test_bot_cli_against_paperex_serve(tmp_path, module, extra):
    proc, url, key, secret = _serve(tmp_path, "--clock", "virtual", "--speed", "10", "--seed", "7")
    try:
        report = _bot(module, "--url", url, "--key", key, "--secret", secret, "--duration", "6", *extra)
        assert report["bot"] == module and report["steps"] >= 5
        assert report["open_orders_believed"] == []
        assert not report["errors"], report["errors"]
    finally:
        stop_process(proc)


def test_high_leverage_cli_in_the_crash_scenario(tmp_path):
    proc, url, key, secret = _serve(tmp_path, "--clock", "virtual", "--speed", "20", "--scenario", "crash",
                                    "--seed", "3", "--scenario-param", "start_s=60", "--scenario-param", "entry_window=0.05",
                                    "--scenario-param", "fall_s=300")
    try:
        # no --key: the bot creates its own account (the demo account keeps its 100000 USDT)
        report = _bot("high_leverage", "--url", url, "--balance", "1000", "--duration", "40")
        assert report["leverage"] >= 100 and report["entry"]
        assert report["liquidated"], f"no liquidation within 40 s of the crash scenario: {report}"
        assert "rest_position_risk" in report["detected_by"]
        assert "force_order where account_id" in report["export_sql"]
    finally:
        stop_process(proc)
