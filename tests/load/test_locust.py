"""The Locust load test (clients/load) end to end against real `paperex serve` processes on
127.0.0.1: a headless run, ``--processes 2``, one master with two workers, and the
stop-time check of acknowledged orders on its own (it must find an order that is not there).

Each run is a few seconds; every process is started here and stopped here."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from serve_cli import stop_process, tree_env

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "clients" / "load" / "locustfile.py"
ENV = tree_env()
LOCUST = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
SHORT = ["--headless", "-u", "30", "-r", "30", "-t", "5s", "--only-summary"]

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_server(tmp_path):
    """`paperex serve` (the stock CLI, Binance's limits on) with its own journal."""
    port = _free_port()
    data = tmp_path / "data"
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--data-dir", str(data)], stdout=log, stderr=subprocess.STDOUT, env=ENV,
                            cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/fapi/v1/ping", timeout=1).read()
            break
        except OSError:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
    try:
        yield url, data
    finally:
        stop_process(proc, signal.SIGTERM, timeout=30)
        log.close()


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def _assert_clean(p: subprocess.CompletedProcess, *, workers: int = 0) -> dict:
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-6000:]
    res = _last_json(p.stdout)
    assert res["exit_code"] == 0
    assert res["failures"] == 0, p.stderr[-6000:]
    assert res["acked_missing"] == 0, res
    assert res["acknowledged"] > 20 and res["acked_in_exchange"] + res["acked_in_journal"] == res["acknowledged"]
    assert res["order_requests"] > res["acknowledged"]           # quotes are also re-priced and pulled
    assert res["order_p99_ms"] >= res["order_p50_ms"] >= 0 and res["order_requests_per_s"] > 0
    lags = res["ws_lag"]
    for name in ("depth@100ms lag", "aggTrade lag", "bookTicker lag", "ack->ORDER_TRADE_UPDATE"):
        assert lags[name]["n"] > 0, (name, lags)
    if workers:
        assert res["workers_reported"] == workers and res["acks_unreported"] == 0
    return res


def test_headless_run_against_a_running_server(running_server):
    url, data = running_server
    p = subprocess.run(LOCUST + SHORT + ["--host", url], capture_output=True, text=True, env=ENV, cwd=ROOT,
                       timeout=180)
    res = _assert_clean(p)
    assert res["replay_verified"] is None          # not our server: its journal is its own business
    # the stats Locust printed name the signed order requests of all four users' kinds
    for name in ("/fapi/v1/order LIMIT GTC (quote)", "/fapi/v1/order (re-quote)", "/fapi/v1/order MARKET",
                 "/fapi/v1/order LIMIT IOC", "/paperex/v1/accounts (control)"):
        assert name in p.stderr, name


def test_processes_2_starting_its_own_server_and_replaying_its_journal():
    p = subprocess.run(LOCUST + SHORT + ["--processes", "2", "--paperex-serve"], capture_output=True, text=True,
                       env=ENV, cwd=ROOT, timeout=180)
    res = _assert_clean(p, workers=2)
    assert res["server_stopped_cleanly"] is True
    assert res["replay_verified"] is True and res["replay_commands"] == res["server_last_seq"] > 0


def test_master_and_two_workers_on_loopback(running_server, tmp_path):
    url, data = running_server
    port = _free_port()
    master = subprocess.Popen(LOCUST + SHORT + ["--host", url, "--master", "--master-bind-host", "127.0.0.1",
                                                "--master-bind-port", str(port), "--expect-workers", "2",
                                                "--paperex-data-dir", str(data)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    workers = [subprocess.Popen(LOCUST + ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker{i}.log", "w"), env=ENV,
                                cwd=ROOT) for i in range(2)]
    try:
        out, err = master.communicate(timeout=180)
        for w in workers:
            assert w.wait(60) == 0, (tmp_path / "worker0.log").read_text()[-3000:]
    finally:
        for proc in [master, *workers]:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    _assert_clean(subprocess.CompletedProcess(master.args, master.returncode, out, err), workers=2)


def test_the_stop_check_finds_an_acknowledged_order_that_is_not_there(running_server):
    """check_acks against the real exchange: one real order is found, a made-up id is
    missing; the journal finds the real one and not the made-up one."""
    from clients.load.ledger import Ledger, check_acks, journal_order_ids
    from clients.load.wire import WeightBudget
    from clients.signing import signed_query

    url, data = running_server

    def post(path, body=None, headers=None, query=""):
        req = urllib.request.Request(url + path + (f"?{query}" if query else ""), method="POST",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        return json.loads(urllib.request.urlopen(req, timeout=10).read())

    acct = post("/paperex/v1/accounts", {"balance": "100000"})
    post("/paperex/v1/index", {"symbol": "BTCUSDT", "price": "60000"})
    qs = signed_query(acct["secretKey"], {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                          "quantity": "0.002", "price": "55000"}, timestamp=int(time.time() * 1000))
    order = post("/fapi/v1/order", headers={"X-MBX-APIKEY": acct["apiKey"]}, query=qs)
    aid, oid = acct["accountId"], order["orderId"]

    ledger = Ledger()
    ledger.account(aid, acct["apiKey"], acct["secretKey"])
    ledger.ack(aid, "BTCUSDT", oid)
    ledger.ack(aid, "BTCUSDT", oid + 10_000)
    res = check_acks(url, ledger.accounts, ledger.acks, weights=WeightBudget())
    assert res["acknowledged"] == 2 and res["acked_in_exchange"] == 1 and res["acked_missing"] == 1
    assert res["acked_missing_sample"] == [[aid, "BTCUSDT", oid + 10_000]]
    # an account whose credentials never reached the checker: its orders are missing, and it is said
    res = check_acks(url, {}, [(aid, "BTCUSDT", oid)], weights=WeightBudget())
    assert res["acked_missing"] == 1 and "no credentials" in res["check_errors"][0]
    time.sleep(0.5)                                 # the journal's batch fsync
    assert journal_order_ids(str(data), {(aid, oid), (aid, oid + 10_000)}) == {(aid, oid)}


def test_the_ledger_ships_each_acknowledgement_once_and_the_master_counts_them():
    from clients.load.ledger import Ledger

    worker, master = Ledger(), Ledger()
    worker.account(7, "k", "s")
    worker.ack(7, "BTCUSDT", 1)
    worker.ack(7, "BTCUSDT", 2)
    master.merge("w1", worker.take())
    assert worker.take() == {"accounts": [], "acks": []}
    worker.ack(7, "ETHUSDT", 3)
    master.merge("w1", worker.take())
    assert master.accounts == {7: ("k", "s")}
    assert master.acks == [(7, "BTCUSDT", 1), (7, "BTCUSDT", 2), (7, "ETHUSDT", 3)]
    assert master.received["w1"] == worker.total == 3


def test_the_weight_budget_keeps_to_the_share_and_learns_from_the_servers_header():
    from clients.load.wire import WeightBudget

    b = WeightBudget(limit=100)
    assert b.spend(60, 0.7) and not b.spend(20, 0.7) and b.spend(10, 0.7)
    b.observe({"X-MBX-USED-WEIGHT-1M": "95"})       # the other processes spent more
    assert not b.spend(1, 0.95) and b.used == 95
    b.observe({"x-mbx-used-weight-1m": "20"})       # a late reply of the same minute: never lowers it
    assert b.used == 95


_SHAPE_TICKS = """
import json, sys
from types import SimpleNamespace
from clients.load.{module} import {cls} as Shape
out = []
for t in json.loads(sys.argv[1]):
    shape = Shape()
    shape.runner = SimpleNamespace(environment=SimpleNamespace(parsed_options=SimpleNamespace(**json.loads(sys.argv[2]))))
    shape.get_run_time = lambda: t
    out.append(shape.tick())
print(json.dumps(out))
"""


def _ticks(module: str, cls: str, times: list, **opts) -> list:
    """The shape's ticks at ``times`` - in a child process: importing Locust monkey-patches the
    whole interpreter (gevent), which the rest of the suite must not inherit."""
    p = subprocess.run([sys.executable, "-c", _SHAPE_TICKS.format(module=module, cls=cls), json.dumps(times),
                        json.dumps(opts)], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    return [tuple(x) if x is not None else None for x in json.loads(p.stdout)]


def test_the_step_shape_adds_a_step_per_period_and_stops_after_the_top_one():
    o = dict(shape_users=45, shape_step_users=20, shape_step_s=10.0, shape_spawn_rate=5.0)
    assert _ticks("step_shape", "StepShape", [0, 9.9, 10, 25, 29.9, 30], **o) == [
        (20, 5.0), (20, 5.0), (40, 5.0), (45, 5.0), (45, 5.0), None]


def test_the_ramp_shape_climbs_linearly_holds_then_stops():
    o = dict(shape_users=100, shape_ramp_s=50.0, shape_hold_s=20.0, shape_spawn_rate=1.0)
    # the spawn rate is at least the ramp's slope (100 users / 50 s)
    assert _ticks("ramp_shape", "RampShape", [0, 25, 60, 70.1], **o) == [(1, 2.0), (50, 2.0), (100, 2.0), None]
