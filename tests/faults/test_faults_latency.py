"""The latency model: requests wait between arrival and execution (so the flow that arrives
meanwhile gets ahead in the queue), distributions are seeded; ``paperex serve`` options.
Under the virtual clock every delay is venue time (``VenueTime``)."""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import pytest

from clients import UsdmClient
from clients.errors import BinanceAPIError
from clients.pytest_plugin import DEFAULT_START_MS
from exchange.gateway.faults import FaultConfigError, LatencyModel
from exchange.serve import add_arguments, fault_config, start
from exchange.journal import JournalReader
from exchange.contract.commands import RefreshMarkPrice
from exchange.contract.events import OrderAccepted
from faulthelpers import SYMBOL, configure, fault_records, market, new_account, stop_and_verify


async def test_request_latency_delays_execution(server, session):
    base = server.rest_url
    key, secret, _ = await new_account(session, base)
    await market(session, base)
    async with UsdmClient(key, secret, base_url=base) as c:
        t0 = time.time() * 1000
        o = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")
        assert o.update_time - t0 < 250                      # off: executed at once
        await configure(session, base, {"latency": {"request": "fixed:300"}})
        for i in range(3):
            t0 = time.time() * 1000
            o = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", str(48990 - i))
            t1 = time.time() * 1000
            assert 295 <= o.update_time - t0 <= t1 - t0 + 1   # the venue stamped it 300 ms after arrival
    assert await stop_and_verify(server) == []


async def test_latency_costs_queue_position(server, session):
    """A's order arrives first but waits 300 ms (a 'latency' fault on A's account); B's order
    at the same price, sent 50 ms later, is ahead of it in the queue and is the one filled."""
    import asyncio
    base = server.rest_url
    ka, sa, a = await new_account(session, base)
    kb, sb, b = await new_account(session, base)
    kt, st, _ = await new_account(session, base)
    await market(session, base)
    await configure(session, base, {"rules": [
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
    faults = await stop_and_verify(server)
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


async def test_start_with_faults_file(tmp_path, session):
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
        key, secret, aid = await new_account(session, srv.rest_url)
        await market(session, srv.rest_url)
        async with UsdmClient(key, secret, base_url=srv.rest_url) as c:
            with pytest.raises(Exception) as ei:
                await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")
            assert getattr(ei.value, "code", None) == -1008
            assert (await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")).status == "NEW"
    finally:
        faults = await stop_and_verify(srv)
    assert [(f.kind, f.rule_id) for _, f in faults] == [("-1008", "busy")]
    assert fault_records(srv.runtime.data_dir / "journal") == faults


# ------------------------------------------------------------- latency under the virtual clock
# The paperex_server fixture: a virtual clock standing at DEFAULT_START_MS that only the test
# (advance), a running flow, or the delayed requests themselves move.


@pytest.mark.paperex(latency="fixed:400")
async def test_virtual_clock_latency_is_venue_time(paperex_server):
    """Each request executes 400 ms of venue time after its arrival (the venue's timestamps
    show it), costs no real time, and the timers due meanwhile fire first, at their own time."""
    t0 = DEFAULT_START_MS
    key, secret, aid = await paperex_server.create_account("100000")
    await paperex_server.set_index_price(SYMBOL, "50000")
    async with paperex_server.client(key, secret) as c:
        w0 = time.monotonic()
        o1 = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")
        o2 = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "48990")
        o3 = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "48980")
        assert await c.server_time() == t0 + 1600          # answered when executed
        wall = time.monotonic() - w0
    assert (o1.update_time, o2.update_time, o3.update_time) == (t0 + 400, t0 + 800, t0 + 1200)
    assert wall < 1.0, wall                                 # a wall-clock sleep would take 1.6 s
    assert (await paperex_server.advance(1))["time"] == t0 + 2600
    paperex_server.verify_replay()
    recs = list(JournalReader(paperex_server.journal_dir).records())
    mark = [(r.seq, r.ts) for r in recs if r.kind == RefreshMarkPrice.KIND]
    accepted = [(r.seq, r.ts) for r in recs if r.kind == OrderAccepted.KIND]
    assert [ts for _, ts in accepted] == [t0 + 400, t0 + 800, t0 + 1200]
    # the mark refresh due at t0+1000 ran at t0+1000, between the 2nd and the 3rd order
    at_1000 = [seq for seq, ts in mark if ts == t0 + 1000]
    assert at_1000 and all(accepted[1][0] < seq < accepted[2][0] for seq in at_1000)


@pytest.mark.paperex(faults=[{"id": "slow", "kind": "latency", "method": "GET", "path": "/fapi/v1/time",
                              "every": 1, "ms": 300}])
async def test_virtual_latency_waits_for_a_running_flow(paperex_server):
    """With a flow moving the virtual clock, a delayed request waits for the flow to get 300 ms
    further (the flow's commands meanwhile execute first: queue position, slippage); it does
    not move the clock itself."""
    paperex_server.start_flow("calm", seed=3, speed=20)
    async with paperex_server.client() as c:
        answered = await c.server_time()
    paperex_server.stop_flow()
    [(fseq, arrival, fault)] = paperex_server.injected_faults()
    assert fault.detail == "GET /fapi/v1/time ms=300"
    step = 100                                              # the synthetic flow's step (ms)
    assert arrival + 300 <= answered <= arrival + 300 + step
    paperex_server.verify_replay()
    flow_meanwhile = [r for r in JournalReader(paperex_server.journal_dir).records()
                      if r.seq > fseq and arrival < r.ts <= answered]
    assert flow_meanwhile                                   # the market moved while the request waited


async def test_a_paused_flow_leaves_the_clock_to_the_requests(paperex_server):
    """A request waits for a running flow to move the clock; when the flow is paused the waiting
    request notices and moves the clock itself (nothing waits for a clock that nobody moves)."""
    await paperex_server.set_latency(request="fixed:250")
    paperex_server.start_flow("calm", seed=3, speed=0.2)    # one 100 ms step per 0.5 s of real time
    async with paperex_server.client() as c:
        task = asyncio.get_running_loop().create_task(c.server_time())
        await asyncio.sleep(0.2)
        assert not task.done()                              # waiting: 250 ms is 1.25 s of this flow
        paperex_server.pause_flow()
        t = (await paperex_server.state())["time"]
        answered = await asyncio.wait_for(task, 5)
    arrival = answered - 250
    assert arrival <= t and (arrival - DEFAULT_START_MS) % 100 == 0   # at a flow step, 250 ms later
    # the request moved the paused clock itself (it may have done so before state() was read)
    assert answered >= t
    paperex_server.stop_flow()


@pytest.mark.paperex(clock_speed=4)
async def test_sped_up_virtual_clock_waits_speed_times_less(paperex_server):
    """On a virtual clock running at 4x, 400 ms of venue time is 100 ms of real time."""
    await paperex_server.set_faults([{"id": "l", "kind": "latency", "method": "GET", "path": "/fapi/v1/time",
                                      "every": 1, "ms": 400}])
    async with paperex_server.client() as c:
        w0 = time.monotonic()
        answered = await c.server_time()
        wall = time.monotonic() - w0
        # the speed itself, measured so that a loaded machine cannot break it: the venue
        # time between two state reads lies within 4x the real time between them
        outer0 = time.monotonic()
        v0 = (await paperex_server.state())["time"]
        inner0 = time.monotonic()
        await asyncio.sleep(0.2)
        inner1 = time.monotonic()
        v1 = (await paperex_server.state())["time"]
        outer1 = time.monotonic()
    [(_, arrival, _)] = paperex_server.injected_faults()
    assert answered >= arrival + 400
    assert wall >= 0.09, wall                      # 400 ms of venue time is >= 100 ms of real time
    assert 4000 * (inner1 - inner0) - 5 <= v1 - v0 <= 4000 * (outer1 - outer0) + 5, (v1 - v0, inner1 - inner0)


async def test_advance_runs_a_delayed_expiry_at_its_venue_time(paperex_server):
    """``listen_key_expire`` with ``after_ms`` waits for venue time and never moves the clock;
    ``advance()`` stops at its due time, so it is journaled there, between the timers."""
    key, secret, aid = await paperex_server.create_account("1000")
    await paperex_server.set_faults([{"id": "lk", "kind": "listen_key_expire", "method": "POST",
                                      "path": "/fapi/v1/listenKey", "every": 1, "times": 1, "after_ms": 2500}])
    async with paperex_server.client(key, secret) as c:
        await c.new_listen_key()
        await asyncio.sleep(0.1)
        assert paperex_server.injected_faults() == []       # the still clock has not got there
        assert (await paperex_server.state())["time"] == DEFAULT_START_MS
        assert (await paperex_server.advance(5))["time"] == DEFAULT_START_MS + 5000
        [(seq, ts, fault)] = paperex_server.injected_faults()
        assert fault.kind == "listen_key_expire" and ts == DEFAULT_START_MS + 2500
        with pytest.raises(BinanceAPIError) as e:
            await c.keepalive_listen_key()
        assert e.value.code == -1125
    paperex_server.verify_replay()
    marks = [(r.seq, r.ts) for r in JournalReader(paperex_server.journal_dir).records()
             if r.kind == RefreshMarkPrice.KIND]
    assert [s for s, t in marks if t <= ts] and all(s < seq for s, t in marks if t <= ts)
    assert all(s > seq for s, t in marks if t > ts)


@pytest.mark.paperex(ws_latency="fixed:300")
async def test_ws_latency_on_a_still_clock_takes_real_time_and_never_moves_it(paperex_server):
    key, secret, aid = await paperex_server.create_account("100000")
    await paperex_server.set_index_price(SYMBOL, "50000")
    async with paperex_server.client(key, secret) as c:
        async with c.user_stream(parse=False) as us:
            await asyncio.wait_for(us.connected.wait(), 5)
            o = await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", "49000")
            w0 = time.monotonic()

            async def first_update():
                async for ev in us:
                    if ev.get("e") == "ORDER_TRADE_UPDATE":
                        return ev
            ev = await asyncio.wait_for(first_update(), 5)
            wall = time.monotonic() - w0
    assert ev["o"]["i"] == o.order_id and ev["E"] == DEFAULT_START_MS
    assert wall >= 0.25, wall
    assert (await paperex_server.state())["time"] == DEFAULT_START_MS


async def test_venue_time_runs_waiting_requests_earliest_due_first():
    """VenueTime on its own: on a still virtual clock, requests in flight move it in due order
    (not in arrival order), each running at its own due time; websocket-style waits never move
    it (they end after the same real time); waits that timed out do not pile up."""
    from types import SimpleNamespace

    from exchange.engine.clock import VirtualClock
    from exchange.engine.venue_time import VenueTime
    from exchange.engine.sequencer import Sequencer

    clock = VirtualClock(1_000)
    vt = VenueTime(clock, Sequencer(SimpleNamespace(apply=lambda ts, c: []), None, clock))
    ran = []

    async def request(ms):
        async with vt.after(ms, drive=True):
            ran.append((ms, clock.now_ms()))

    await asyncio.gather(request(30), request(10), request(20))
    assert ran == [(10, 1_010), (20, 1_020), (30, 1_030)]

    for _ in range(4):                      # 2400 waits in all, at most 600 at a time
        w0 = time.monotonic()
        await asyncio.gather(*(vt.until(clock.now_ms() + 50, wall_fallback=True) for _ in range(600)))
        assert time.monotonic() - w0 >= 0.045                              # real time, not venue time
    assert clock.now_ms() == 1_030 and len(vt._heap) <= VenueTime.COMPACT_AT + 600
    await request(1)
    assert ran[-1] == (1, 1_031)
    vt.stop()
