"""Hostile frames against the WebSocket API of a real server: every frame gets a Binance
answer (``{"id", "status": 4xx, "error": {"code": <0, "msg"}}``), the connection and the
server stay up, and nothing changes (same state digest, no journaled command).

The hypothesis property runs against a server in a background thread (its own loop) so
the property stays synchronous; the 10k-request burst runs on the test's own server with
the rate limits on: the burst is refused with -1003 / the IP ban after its budget, and the
ban reaches REST too (one budget for both faces)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp
import pytest
import websocket
from hypothesis import HealthCheck, given, settings, strategies as st

from exchange.gateway.ws.api import METHODS, SESSION_METHODS
from gwhelpers import ServerThread
from wsapi_helpers import payload

SYM = "BTCUSDT"


def _signed(key: str, secret: str, method: str, params: dict, rid) -> str:
    p = dict(params, apiKey=key, timestamp=int(time.time() * 1000))
    p["signature"] = hmac.new(secret.encode(), payload(p).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"id": rid, "method": method, "params": p})


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    th = ServerThread(tmp_path_factory.mktemp("wsfuzz") / "data")
    demo = th.srv.demo
    ws = websocket.create_connection(th.srv.ws_url + "/ws-fapi/v1", timeout=10)
    from exchange.contract.commands import SetIndexPrice
    th.run(th.srv.gateway.submit(SetIndexPrice(SYM, 5_000_000)))
    # a resting order: a stray modify / cancel would show in the digest
    ws.send(_signed(demo["apiKey"], demo["secretKey"], "order.place",
                    {"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
                     "price": "49000", "newClientOrderId": "rest1"}, "setup"))
    placed = json.loads(ws.recv())
    assert placed["status"] == 200, placed
    yield th, ws
    ws.close()
    th.stop()


def _state(th) -> tuple:
    return th.srv.runtime.venue.state_digest(), th.srv.runtime.sequencer.seq


def _assert_refused(raw: str, rid=None) -> dict:
    ans = json.loads(raw)
    assert set(ans) <= {"id", "status", "error", "result", "rateLimits"}, ans
    assert isinstance(ans["status"], int) and 400 <= ans["status"] < 500, ans
    err = ans["error"]
    assert isinstance(err["code"], int) and err["code"] < 0 and isinstance(err["msg"], str) and err["msg"], ans
    assert "result" not in ans
    assert ans["id"] == rid, (ans, rid)
    return ans


HOSTILE = [
    ("not json", None, -1135), ("{", None, -1135), ("[]", None, -1135), ('"order.place"', None, -1135),
    ("123", None, -1135), ("null", None, -1135), ("[" * 5000 + "]" * 5000, None, -1135),
    (json.dumps({"id": {"a": 1}, "method": "depth"}), None, -1135),
    (json.dumps({"id": 1.5, "method": "depth"}), None, -1135),
    (json.dumps({"id": True, "method": "depth"}), None, -1135),
    (json.dumps({"id": "x" * 37, "method": "depth"}), None, -1135),
    (json.dumps({"id": 2 ** 70, "method": "depth"}), None, -1135),
    (json.dumps({"id": 1}), 1, -1135),
    (json.dumps({"id": 1, "method": 5}), 1, -1135),
    (json.dumps({"id": 1, "method": "order.place", "params": []}), 1, -1135),
    (json.dumps({"id": 1, "method": "order.place", "params": "symbol=BTCUSDT"}), 1, -1135),
    (json.dumps({"id": 1, "method": "depth", "params": {"symbol": SYM}, "extra": 1}), 1, -1135),
    (json.dumps({"id": "u", "method": "order.nope"}), "u", -5000),
    (json.dumps({"id": "u", "method": "ORDER.PLACE"}), "u", -5000),
    (json.dumps({"id": "u", "method": ""}), "u", -1135),
    (json.dumps({"id": 2, "method": "depth", "params": {"symbol": SYM, "limit": [5]}}), 2, -1130),
    (json.dumps({"id": 2, "method": "depth", "params": {"symbol": {"$ne": 1}}}), 2, -1130),
    (json.dumps({"id": 2, "method": "depth", "params": {"symbol": SYM, "lmit": 5}}), 2, -1103),
    (json.dumps({"id": 2, "method": "depth", "params": {"symbol": "NOPE"}}), 2, -1121),
    (json.dumps({"id": 2, "method": "depth", "params": {"symbol": SYM, "limit": "abc"}}), 2, -1100),
    (json.dumps({"id": 2, "method": "depth", "params": {"symbol": SYM, "returnRateLimits": "maybe"}}), 2, -1130),
    (json.dumps({"id": 2, "method": "depth", "params": {f"p{i}": 1 for i in range(100)}}), 2, -1101),
    (json.dumps({"id": 3, "method": "order.place", "params": {"symbol": SYM}}), 3, -2014),
    (json.dumps({"id": 3, "method": "order.place", "params": {"symbol": SYM, "apiKey": "nope"}}), 3, -2015),
    (json.dumps({"id": 3, "method": "session.logon", "params": {}}), 3, -1102),
    (json.dumps({"id": 3, "method": "userDataStream.start", "params": {}}), 3, -2014),
]


def test_hostile_frames_get_binance_errors(live):
    th, ws = live
    demo = th.srv.demo
    before = _state(th)
    frames = list(HOSTILE)
    frames.append(("x" * 70_000, None, -1000))           # above the request size limit
    # signed, but wrong: signature, timestamp, types, missing parameters, unknown order
    frames.append((_signed(demo["apiKey"], "0" * 64, "order.place", {"symbol": SYM}, 4), 4, -1022))
    frames.append((_signed(demo["apiKey"], demo["secretKey"], "order.cancel",
                           {"symbol": SYM, "orderId": 987654}, 5), 5, -2011))
    frames.append((_signed(demo["apiKey"], demo["secretKey"], "order.modify",
                           {"symbol": SYM, "orderId": 987654, "side": "BUY", "quantity": "1", "price": "1"}, 6),
                   6, -2013))
    frames.append((_signed(demo["apiKey"], demo["secretKey"], "order.place",
                           {"symbol": SYM, "side": "UP", "type": "LIMIT"}, 7), 7, -1117))
    frames.append((_signed(demo["apiKey"], demo["secretKey"], "order.place",
                           {"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                            "quantity": "1e-3", "price": "49000"}, 8), 8, -1100))
    frames.append((_signed(demo["apiKey"], demo["secretKey"], "order.place",
                           {"symbol": SYM, "side": "BUY", "type": "LIMIT", "unknownThing": "1"}, 9), 9, -1103))
    frames.append((_signed(demo["apiKey"], demo["secretKey"], "session.logon", {}, 10), 10, -4056))
    stale = json.loads(_signed(demo["apiKey"], demo["secretKey"], "order.cancel", {"symbol": SYM, "orderId": 1}, 11))
    stale["params"]["timestamp"] = 1                    # signature no longer matches either
    frames.append((json.dumps(stale), 11, -1022))
    for frame, rid, code in frames:
        ws.send(frame)
        ans = _assert_refused(ws.recv(), rid)
        assert ans["error"]["code"] == code, (frame[:120], ans)
        assert ans["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    ws.send_binary(b"\x00\x01binary")
    _assert_refused(ws.recv(), None)
    assert _state(th) == before
    # still serving, on the same connection
    ws.send(json.dumps({"id": "ok", "method": "depth", "params": {"symbol": SYM, "limit": 5}}))
    ok = json.loads(ws.recv())
    assert ok["status"] == 200 and ok["result"]["bids"] == [["49000.00", "0.010"]]


_scalar = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
_value = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3), max_leaves=6)
_names = st.sampled_from(sorted(METHODS) + sorted(SESSION_METHODS) + ["order.placed", "v3/account.status"])
_param_names = st.sampled_from(["symbol", "side", "type", "quantity", "price", "orderId", "origClientOrderId",
                                "timeInForce", "apiKey", "signature", "timestamp", "recvWindow", "limit",
                                "algoId", "listenKey", "returnRateLimits"]) | st.text(max_size=12)
_request = st.fixed_dictionaries(
    {"id": st.one_of(st.none(), st.integers(0, 2 ** 40), st.text(max_size=36)), "method": _names},
    optional={"params": st.dictionaries(_param_names, _value, max_size=8)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(req=st.one_of(_request, _value))
def test_generated_frames_never_change_state(live, req):
    th, ws = live
    before = _state(th)
    ws.send(json.dumps(req))
    ans = json.loads(ws.recv())
    rid = req.get("id") if isinstance(req, dict) else None
    if ans["status"] == 200:            # a valid public request (depth, ticker.*, session.status ...)
        assert ans["id"] == rid and "result" in ans and "error" not in ans
    else:
        _assert_refused(json.dumps(ans), ans["id"])
        assert ans["id"] in (rid, None)
    assert _state(th) == before


async def test_burst_of_10k_requests_is_refused_and_changes_nothing(server, api, session):
    server.runtime.sequencer.timers.clear()
    st_, acc = await api.control("POST", "/accounts", {"balance": "1000"})
    before = server.runtime.venue.state_digest(), server.runtime.sequencer.seq
    frames = []
    for i in range(10_000):
        k = i % 4
        if k == 0:       # signed with the wrong secret
            frames.append(_signed(acc["apiKey"], "f" * 64, "order.place",
                                  {"symbol": SYM, "side": "BUY", "type": "MARKET", "quantity": "0.001"}, i))
        elif k == 1:     # a well-signed cancel of an order that does not exist
            frames.append(_signed(acc["apiKey"], acc["secretKey"], "order.cancel",
                                  {"symbol": SYM, "orderId": 10 ** 9 + i}, i))
        elif k == 2:
            frames.append('{"id": %d, "method": "order.place", "params": {"symbol": "BTCUSDT", "x": [1]}}' % i)
        else:
            frames.append("%d not json" % i)
    t0 = time.perf_counter()
    async with session.ws_connect(server.ws_url + "/ws-fapi/v1", max_msg_size=0) as ws:
        for f in frames:
            await ws.send_str(f)
        answers = [json.loads((await ws.receive(timeout=60)).data) for _ in frames]
    elapsed = time.perf_counter() - t0
    assert len(answers) == 10_000 and elapsed < 60
    codes: dict = {}
    for i, a in enumerate(answers):
        assert a["status"] >= 400 and a["error"]["code"] < 0, a
        assert a["id"] == (None if i % 4 == 3 else i), (i, a)
        codes[a["error"]["code"]] = codes.get(a["error"]["code"], 0) + 1
    # the request-weight budget (2400 a minute) ran out, then the IP was banned (418 -1003)
    assert codes.get(-1022, 0) > 0 and codes.get(-2011, 0) > 0 and codes.get(-1003, 0) > 5000, codes
    assert any(a["status"] == 418 for a in answers) and any(a["status"] == 429 for a in answers)
    assert (server.runtime.venue.state_digest(), server.runtime.sequencer.seq) == before
    # one budget for both faces: REST from the same IP is banned too; the server still serves
    async with session.get(server.rest_url + "/fapi/v1/time") as r:
        assert r.status == 418 and (await r.json())["code"] == -1003
    async with session.get(server.rest_url + "/paperex/v1/health") as r:
        assert r.status == 200


async def test_oversized_frame_closes_only_that_connection(server, session):
    async with session.ws_connect(server.ws_url + "/ws-fapi/v1") as ws:
        await ws.send_str('{"id": 1, "method": "depth", "params": {"symbol": "' + "A" * (2 << 20) + '"}}')
        msg = await ws.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert ws.close_code == 1009
    async with session.ws_connect(server.ws_url + "/ws-fapi/v1") as ws:
        await ws.send_str('{"id": 2, "method": "ticker.price", "params": {"symbol": "BTCUSDT"}}')
        ans = json.loads((await ws.receive(timeout=10)).data)
        assert ans["id"] == 2 and ans["status"] == 200
