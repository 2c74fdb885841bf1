"""The bots as the README runs them: ``python -m clients.bots.<bot>`` against a ``paperex serve`` process."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest


def _serve(tmp_path, *args):
    proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), "--fsync", "never", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, url, key, secret = [], None, None, None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (url and key and secret):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if m := re.search(r"REST base : (http://\S+)", line):
            url = m.group(1)
        elif m := re.search(r"apiKey : (\S+)", line):
            key = m.group(1)
        elif m := re.search(r"secret : (\S+)", line):
            secret = m.group(1)
    if not (url and key and secret):
        proc.kill()
        pytest.fail("paperex serve did not start:\n" + "".join(lines))
    return proc, url, key, secret


def _stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


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
        _stop(proc)


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
        _stop(proc)
