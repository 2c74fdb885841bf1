"""The latency model: requests wait between arrival and execution (so the flow that arrives
meanwhile gets ahead in the queue), distributions are seeded; ``paperex serve`` options."""
from __future__ import annotations

import argparse
import json
import statistics
import time

import pytest

from clients import UsdmClient
from exchange.gateway.faults import FaultConfigError, LatencyModel
from exchange.gateway.serve import add_arguments, fault_config, start
from faulthelpers import SYMBOL, configure, fault_records, market, new_account, stop_and_verify


async def test_request_latency_delays_execution(fserver, fsession):
    base = fserver.rest_url
    key, secret, _ = await new_account(fsession, base)
    await market(fsession, base)
    async with UsdmClient(key, secret, base_url=base) as c:
        t0 = time.time() * 1000
        o = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")
        assert o.update_time - t0 < 250                      # off: executed at once
        await configure(fsession, base, {"latency": {"request": "fixed:300"}})
        for i in range(3):
            t0 = time.time() * 1000
            o = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", str(48990 - i))
            t1 = time.time() * 1000
            assert 295 <= o.update_time - t0 <= t1 - t0 + 1   # the venue stamped it 300 ms after arrival
    assert await stop_and_verify(fserver) == []


async def test_latency_costs_queue_position(fserver, fsession):
    """A's order arrives first but waits 300 ms (a 'latency' fault on A's account); B's order
    at the same price, sent 50 ms later, is ahead of it in the queue and is the one filled."""
    import asyncio
    base = fserver.rest_url
    ka, sa, a = await new_account(fsession, base)
    kb, sb, b = await new_account(fsession, base)
    kt, st, _ = await new_account(fsession, base)
    await market(fsession, base)
    await configure(fsession, base, {"rules": [
        {"id": "slow", "kind": "latency", "account": a, "method": "POST", "path": "/fapi/v1/order",
         "every": 1, "ms": 300}]})
    async with UsdmClient(ka, sa, base_url=base) as ca, UsdmClient(kb, sb, base_url=base) as cb, \
            UsdmClient(kt, st, base_url=base) as ct:
        t0 = time.time()
        task_a = asyncio.get_running_loop().create_task(
            ca.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49900", new_client_order_id="A"))
        await asyncio.sleep(0.05)
        ob = await cb.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49900", new_client_order_id="B")
        oa = await task_a
        assert time.time() - t0 >= 0.29 and ob.update_time < oa.update_time
        await ct.new_order(SYMBOL, "SELL", "MARKET", "0.01")
        assert (await cb.get_order(SYMBOL, orig_client_order_id="B")).status == "FILLED"
        assert (await ca.get_order(SYMBOL, orig_client_order_id="A")).status == "NEW"
    faults = await stop_and_verify(fserver)
    assert [(f.kind, f.account_id, f.detail) for _, f in faults] == [
        ("latency", a, "POST /fapi/v1/order newClientOrderId=A ms=300")]


def test_distributions_are_seeded():
    def draws(spec, seed="s"):
        m = LatencyModel(spec, seed)
        return [m.sample_ms() for _ in range(2000)]
    for spec in ({"dist": "fixed", "ms": 5}, {"dist": "uniform", "low_ms": 2, "high_ms": 8},
                 {"dist": "exponential", "mean_ms": 4}, {"dist": "lognormal", "median_ms": 5, "sigma": 0.5}):
        assert draws(spec) == draws(spec)
    u = draws({"dist": "uniform", "low_ms": 2, "high_ms": 8})
    assert 2 <= min(u) and max(u) <= 8 and abs(statistics.mean(u) - 5) < 0.3
    e = draws({"dist": "exponential", "mean_ms": 4})
    assert abs(statistics.mean(e) - 4) < 0.4 and draws({"dist": "exponential", "mean_ms": 4}, "t") != e
    ln = draws({"dist": "lognormal", "median_ms": 5, "sigma": 0.5})
    assert abs(statistics.median(ln) - 5) < 0.4
    c = draws({"dist": "exponential", "mean_ms": 4, "min_ms": 1, "max_ms": 6})
    assert min(c) == 1 and max(c) == 6
    assert LatencyModel.parse("uniform:2,8", "s").to_json() == {"dist": "uniform", "low_ms": 2, "high_ms": 8}
    assert LatencyModel.parse("exp:3", "s").dist == "exponential"
    with pytest.raises(FaultConfigError):
        LatencyModel.parse("lognormal:5", "s")


def _args(*argv):
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(list(argv))


def test_serve_options(tmp_path):
    assert fault_config(_args()) is None                        # everything off by default
    f = tmp_path / "faults.json"
    f.write_text(json.dumps({"seed": 3, "rules": [{"kind": "-1001", "path": "/fapi/v1/order", "every": 5}]}))
    cfg = fault_config(_args("--faults", str(f), "--latency", "uniform:1,3", "--ws-latency", "fixed:2",
                             "--fault-seed", "8"))
    assert cfg == {"seed": 8, "rules": [{"kind": "-1001", "path": "/fapi/v1/order", "every": 5}],
                   "latency": {"request": "uniform:1,3", "ws": "fixed:2"}}
    with pytest.raises(ValueError):
        fault_config(_args("--latency", "gamma:1"))
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError):
        fault_config(_args("--faults", str(bad)))


async def test_start_with_faults_file(tmp_path, fsession):
    f = tmp_path / "faults.json"
    f.write_text(json.dumps([{"id": "busy", "kind": "-1008", "method": "POST", "path": "/fapi/v1/order",
                              "every": 1, "times": 1}]))
    with pytest.raises(ValueError):
        await start(host="127.0.0.1", port=0, data_dir=tmp_path / "x", demo=False,
                    faults={"rules": [{"kind": "bad"}]})
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False,
                      faults=f)
    try:
        assert srv.gateway.faults is not None
        key, secret, aid = await new_account(fsession, srv.rest_url)
        await market(fsession, srv.rest_url)
        async with UsdmClient(key, secret, base_url=srv.rest_url) as c:
            with pytest.raises(Exception) as ei:
                await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")
            assert getattr(ei.value, "code", None) == -1008
            assert (await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")).status == "NEW"
    finally:
        faults = await stop_and_verify(srv)
    assert [(f.kind, f.rule_id) for _, f in faults] == [("-1008", "busy")]
    assert fault_records(srv.runtime.data_dir / "journal") == faults
