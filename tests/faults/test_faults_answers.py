"""Each REST fault kind answers with Binance's status and body shape, is journaled before it
acts, and fires deterministically under the seed; the control API validates rules."""
from __future__ import annotations

import pytest

from clients import UsdmClient
from clients.errors import BinanceAPIError, RateLimitError, ServerError
from exchange.gateway.faults import FaultConfigError, FaultInjector, Rule, validate_config
from faulthelpers import SYMBOL, configure, control, market, new_account, stop_and_verify

T1007 = "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
INTERNAL = "Internal error; unable to process your request. Please try again."
THROTTLED = ("Request throttled by system-level protection. Reduce-only/close-position orders are exempt. "
             "Please try again.")
UNKNOWN_503 = "Unknown error, please check your request or try again later."


async def _client(srv, session):
    key, secret, aid = await new_account(session, srv.rest_url)
    await market(session, srv.rest_url)
    return UsdmClient(key, secret, base_url=srv.rest_url), aid


async def _place(c, cid, price="49000"):
    return await c.new_order(SYMBOL, "BUY", "LIMIT", "0.01", price, new_client_order_id=cid)


@pytest.mark.parametrize("kind,status,code,msg,cls", [
    ("-1001", 503, -1001, INTERNAL, ServerError),
    ("-1008", 503, -1008, THROTTLED, ServerError),
    ("502", 502, -1001, INTERNAL, ServerError),
    ("429", 429, -1003, "Too many requests; current limit is 2400 requests per minute.", RateLimitError),
    ("418", 418, -1003, "Way too many requests; IP banned until ", RateLimitError),
])
async def test_failed_kinds_do_nothing(server, session, kind, status, code, msg, cls):
    c, aid = await _client(server, session)
    async with c:
        await configure(session, server.rest_url, {"seed": 3, "rules": [
            {"id": "f", "method": "POST", "path": "/fapi/v1/order", "kind": kind, "every": 1, "times": 1,
             "retry_after": 7}]})
        with pytest.raises(cls) as ei:
            await _place(c, "a1")
        e = ei.value
        assert (e.status, e.code) == (status, code)
        assert e.msg.startswith(msg)
        assert not e.execution_unknown
        if kind in ("429", "418"):
            assert e.retry_after == 7 and e.banned == (kind == "418")
        # nothing was placed; the rule is spent, so the retry goes through
        with pytest.raises(BinanceAPIError) as nf:
            await c.get_order(SYMBOL, orig_client_order_id="a1")
        assert nf.value.code == -2013
        assert (await _place(c, "a1")).status == "NEW"
        state = await configure(session, server.rest_url, {})
        assert state["rules"][0]["fired"] == 1 and state["injectedByKind"] == {kind: 1}
    faults = await stop_and_verify(server)
    assert [(f.kind, f.rule_id, f.account_id) for _, f in faults] == [(kind, "f", aid)]
    assert "POST /fapi/v1/order newClientOrderId=a1" in faults[0][1].detail


async def test_1008_exempts_reduce_only(server, session):
    c, _ = await _client(server, session)
    async with c:
        await configure(session, server.rest_url, {"rules": [
            {"method": "POST", "path": "/fapi/v1/order", "kind": "-1008", "every": 1}]})
        with pytest.raises(BinanceAPIError) as ei:    # exempt from -1008, refused by the venue instead
            await c.new_order(SYMBOL, "SELL", "LIMIT", "0.01", "51000", reduce_only=True)
        assert ei.value.code == -2022
        with pytest.raises(ServerError) as ei:
            await _place(c, "x")
        assert ei.value.code == -1008
    await stop_and_verify(server)


@pytest.mark.parametrize("kind", ["-1007", "503"])
async def test_unknown_status_both_outcomes(server, session, kind):
    """-1007 / 503 "Unknown error": the order may or may not have been placed - both happen,
    each journaled (InjectFault first, then the NewOrder when it was executed)."""
    c, aid = await _client(server, session)
    outcomes = {}
    async with c:
        await configure(session, server.rest_url, {"seed": 11, "rules": [
            {"id": "u", "method": "POST", "path": "/fapi/v1/order", "kind": kind, "every": 1}]})
        for i in range(12):
            cid = f"u{i}"
            with pytest.raises(BinanceAPIError) as ei:
                await _place(c, cid, str(49000 - i * 10))
            e = ei.value
            assert e.execution_unknown
            if kind == "-1007":
                assert (e.status, e.code, e.msg) == (408, -1007, T1007)
            else:
                assert (e.status, e.msg) == (503, UNKNOWN_503) and isinstance(e, ServerError)
            try:
                o = await c.get_order(SYMBOL, orig_client_order_id=cid)
                outcomes[cid] = o.status == "NEW"
            except BinanceAPIError as nf:
                assert nf.code == -2013
                outcomes[cid] = False
    assert set(outcomes.values()) == {True, False}
    faults = await stop_and_verify(server)
    assert len(faults) == 12
    for _, f in faults:
        cid = f.detail.split("newClientOrderId=")[1].split()[0]
        assert f.detail.endswith(f"executed={int(outcomes[cid])}") and f.account_id == aid


async def test_503_unavailable_is_a_failure(server, session):
    c, _ = await _client(server, session)
    async with c:
        await configure(session, server.rest_url, {"rules": [
            {"path": "/fapi/v1/order", "method": "POST", "kind": "503", "body": "unavailable", "every": 1}]})
        with pytest.raises(ServerError) as ei:
            await _place(c, "s1")
        assert (ei.value.status, ei.value.msg) == (503, "Service Unavailable.")
        assert not ei.value.execution_unknown
        await control(session, server.rest_url, "DELETE", "/paperex/v1/faults")
        assert [o.client_order_id for o in await c.open_orders(SYMBOL)] == []
    await stop_and_verify(server)


async def test_fault_matches_account_and_path(server, session):
    c1, a1 = await _client(server, session)
    key2, secret2, a2 = await new_account(session, server.rest_url)
    async with c1, UsdmClient(key2, secret2, base_url=server.rest_url) as c2:
        await configure(session, server.rest_url, {"rules": [
            {"path": "/fapi/*/order", "account": a2, "kind": "-1001", "every": 1}]})
        assert (await _place(c1, "one")).status == "NEW"
        await c1.account()                            # other path: no fault
        with pytest.raises(ServerError):
            await _place(c2, "two")
        with pytest.raises(ServerError):
            await c2.get_order(SYMBOL, orig_client_order_id="two")
        await c2.account()
        await c2.ping()
    faults = await stop_and_verify(server)
    assert [f.account_id for _, f in faults] == [a2, a2]


async def _sequence(srv, session, seed) -> list[tuple]:
    c, _ = await _client(srv, session)
    async with c:
        await configure(session, srv.rest_url, {"seed": seed, "rules": [
            {"id": "p", "path": "/fapi/v1/order", "kind": "-1007", "probability": 0.4},
            {"id": "q", "path": "/fapi/v1/*", "kind": "-1001", "probability": 0.2}]})
        for i in range(30):
            try:
                await _place(c, f"d{i}", str(49000 - i))
            except BinanceAPIError:
                pass
            try:
                await c.open_orders(SYMBOL)
            except BinanceAPIError:
                pass
    return [(f.kind, f.rule_id, f.detail) for _, f in await stop_and_verify(srv)]


async def test_same_seed_same_faults(tmp_path, session):
    from exchange.serve import start
    runs = []
    for i, seed in enumerate((5, 5, 6)):
        srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / f"d{i}", fsync="never", demo=False)
        try:
            runs.append(await _sequence(srv, session, seed))
        finally:
            await srv.stop()
    assert runs[0] == runs[1]
    assert len(runs[0]) > 5 and {k for k, _, _ in runs[0]} == {"-1007", "-1001"}
    assert runs[0] != runs[2]


def test_rule_sequences_are_seeded():
    def fires(seed, rid="r"):
        r = Rule({"kind": "-1001", "probability": 0.3}, rid, seed)
        return [r.decide() for _ in range(200)]
    assert fires(1) == fires(1) and fires(1) != fires(2) and fires(1) != fires(1, "other")
    r = Rule({"kind": "429", "every": 3, "after": 2, "times": 2}, "e", 1)
    assert [r.decide() for _ in range(12)] == [False, False, False, False, True, False, False, True,
                                             False, False, False, False]


@pytest.mark.parametrize("bad", [
    {"rules": [{"kind": "-9999", "every": 1}]},
    {"rules": [{"kind": "-1001"}]},                                # neither probability nor every
    {"rules": [{"kind": "-1001", "every": 1, "probability": 0.5}]},
    {"rules": [{"kind": "-1001", "probability": 1.5}]},
    {"rules": [{"kind": "ws_drop", "method": "GET", "every": 1}]},
    {"rules": [{"kind": "-1001", "method": "WS", "every": 1}]},
    {"rules": [{"kind": "-1001", "every": 1, "colour": "red"}]},
    {"rules": [{"id": "a", "kind": "-1001", "every": 1}, {"id": "a", "kind": "418", "every": 1}]},
    {"latency": {"request": {"dist": "gamma", "ms": 1}}},
    {"latency": {"request": "uniform:5"}},
    {"latency": {"request": {"dist": "uniform", "low_ms": 5, "high_ms": 1}}},
    {"seed": 1.5},
])
def test_bad_configurations(bad):
    with pytest.raises(FaultConfigError):
        validate_config(bad)


async def test_control_api(server, session):
    base = server.rest_url
    status, body = await control(session, base, "GET", "/paperex/v1/faults")
    assert status == 200 and body["enabled"] is False and body["rules"] == []
    assert server.gateway.faults is None
    status, body = await control(session, base, "POST", "/paperex/v1/faults",
                                 {"kind": "-1001", "path": "/fapi/v1/order", "every": 2})
    assert status == 200 and body["added"] == ["r1"] and body["enabled"] is True
    assert server.gateway.faults is not None
    status, body = await control(session, base, "POST", "/paperex/v1/faults",
                                 {"latency": {"request": "fixed:1", "ws": {"dist": "exponential", "mean_ms": 2}},
                                  "rules": [{"id": "late", "kind": "user_event_late", "every": 5, "ms": 50}]})
    assert status == 200 and [r["id"] for r in body["rules"]] == ["r1", "late"]
    assert body["rules"][1]["method"] == "WS" and body["rules"][1]["path"] == "*"
    assert body["latency"]["request"] == {"dist": "fixed", "ms": 1}
    status, err = await control(session, base, "POST", "/paperex/v1/faults", {"kind": "nope", "every": 1})
    assert status == 400 and err["code"] == -1130 and "kind" in err["msg"]
    status, err = await control(session, base, "DELETE", "/paperex/v1/faults/zzz")
    assert status == 404 and err["code"] == -1130
    status, body = await control(session, base, "DELETE", "/paperex/v1/faults/r1")
    assert status == 200 and [r["id"] for r in body["rules"]] == ["late"]
    status, body = await control(session, base, "DELETE", "/paperex/v1/faults")
    assert status == 200 and body["enabled"] is False and body["latency"] == {"request": None, "ws": None}
    assert server.gateway.faults is None
    await stop_and_verify(server)


def test_injector_off_by_default():
    inj = FaultInjector(None)
    assert not inj.active and inj.to_json()["rules"] == []


async def test_faults_in_cli_replay_and_export(server, session, tmp_path):
    """`paperex replay --verify` passes on a run with faults, and the export shows each fault."""
    import json as _json
    import sqlite3
    from exchange.cli import main as cli_main
    c, aid = await _client(server, session)
    async with c:
        await configure(session, server.rest_url, {"seed": 1, "rules": [
            {"id": "t", "method": "POST", "path": "/fapi/v1/order", "kind": "-1007", "every": 2}]})
        for i in range(6):
            try:
                await _place(c, f"e{i}", str(49000 - i))
            except BinanceAPIError:
                pass
    faults = await stop_and_verify(server)
    assert len(faults) == 3
    data = server.runtime.data_dir
    assert cli_main(["replay", str(data), "--verify", "--json"]) == 0
    db = tmp_path / "audit.db"
    assert cli_main(["export", str(data), str(db)]) == 0
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT seq, fields FROM commands WHERE type = 'InjectFault' ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [seq for seq, _ in faults]
    assert [_json.loads(r[1])["kind"] for r in rows] == ["-1007"] * 3
