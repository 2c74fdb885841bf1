"""The WebSocket API (/ws-fapi/v1) on a real server, with a raw websocket client: the
protocol, the same answers as REST, keys of every type, session.logon, the shared rate
limits, faults with method WSAPI and the journal replaying a WebSocket API session."""
from __future__ import annotations

import asyncio
import os
import stat
import time

import pytest
from yarl import URL

from exchange.contract.commands import CancelOrder, InjectFault, NewOrder, command_from_record
from exchange.engine.replay import replay
from exchange.journal import JournalReader
from exchange.gateway.keytypes import generate_key_pair
from exchange.serve import banner, start
from serve_cli import start_serve, stop_process
from wsapi_helpers import Signer, WsApi

SYM = "BTCUSDT"
LIMIT = {"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
         "price": "49000"}


async def _account(api, **extra) -> dict:
    st, acc = await api.control("POST", "/accounts", {"balance": "100000", **extra})
    assert st == 200, acc
    return acc


async def _connect(session, server, acc: dict, private: str | None = None, query: str = "") -> WsApi:
    ws = await session.ws_connect(server.ws_url + "/ws-fapi/v1" + query)
    signer = Signer(private_pem=private) if private else Signer(secret=acc.get("secretKey"))
    return WsApi(ws, acc["apiKey"], signer)


async def _rest(session, server, acc, signer: Signer, method: str, path: str, params: dict):
    url = URL(f"{server.rest_url}{path}?{signer.rest_query(params)}", encoded=True)
    async with session.request(method, url, headers={"X-MBX-APIKEY": acc["apiKey"]}) as r:
        return r.status, await r.json(content_type=None)


async def test_order_lifecycle_answers_like_rest(api, server, session):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    acc = await _account(api)
    c = await _connect(session, server, acc)
    placed = await c.call("order.place", dict(LIMIT, newClientOrderId="w1"), signed=True, rid="place-1")
    assert placed["id"] == "place-1" and placed["status"] == 200, placed
    o = placed["result"]
    assert type(o["orderId"]) is int and o["reduceOnly"] is False and o["status"] == "NEW"
    assert o["price"] == "49000.00" and o["origQty"] == "0.010" and o["clientOrderId"] == "w1"
    kinds = {(r["rateLimitType"], r["interval"]) for r in placed["rateLimits"]}
    assert kinds == {("REQUEST_WEIGHT", "MINUTE"), ("ORDERS", "SECOND"), ("ORDERS", "MINUTE")}
    assert [r["count"] for r in placed["rateLimits"] if r["rateLimitType"] == "ORDERS"] == [1, 1]

    # the same order over REST: the same fields, the same types (one answer builder)
    st, rest = await _rest(session, server, acc, c.signer, "GET", "/fapi/v1/order",
                           {"symbol": SYM, "orderId": o["orderId"]})
    status = await c.call("order.status", {"symbol": SYM, "orderId": o["orderId"]}, signed=True, rid=77)
    assert st == 200 and status["id"] == 77 and status["result"] == rest

    modified = await c.call("order.modify", {"symbol": SYM, "orderId": o["orderId"], "side": "BUY",
                                             "quantity": "0.020", "price": "49100"}, signed=True)
    assert modified["status"] == 200 and modified["result"]["price"] == "49100.00", modified
    assert modified["result"]["origQty"] == "0.020"
    canceled = await c.call("order.cancel", {"symbol": SYM, "origClientOrderId": "w1"}, signed=True)
    assert canceled["result"]["status"] == "CANCELED" and canceled["result"]["orderId"] == o["orderId"]
    again = await c.call("order.cancel", {"symbol": SYM, "orderId": o["orderId"]}, signed=True)
    assert again["status"] == 400 and again["error"]["code"] == -2011, again
    assert "rateLimits" in again and "result" not in again

    # venue refusals arrive as the REST error (same code and text)
    st, rest_err = await _rest(session, server, acc, c.signer, "POST", "/fapi/v1/order",
                               dict(LIMIT, quantity="0.0101"))
    ws_err = await c.call("order.place", dict(LIMIT, quantity="0.0101"), signed=True)
    assert ws_err["status"] == st == 400 and ws_err["error"] == rest_err

    algo = await c.call("algoOrder.place", {"algoType": "CONDITIONAL", "symbol": SYM, "side": "SELL",
                                            "type": "STOP_MARKET", "quantity": "0.010", "triggerPrice": "45000"},
                        signed=True)
    assert algo["status"] == 200 and type(algo["result"]["algoId"]) is int, algo
    gone = await c.call("algoOrder.cancel", {"algoId": algo["result"]["algoId"]}, signed=True)
    assert gone["status"] == 200, gone
    await c.ws.close()


async def test_market_account_and_user_stream_methods(api, server, session):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    acc = await _account(api)
    c = await _connect(session, server, acc)
    await c.call("order.place", LIMIT, signed=True)
    depth = await c.call("depth", {"symbol": SYM, "limit": 5})
    assert depth["result"]["bids"] == [["49000.00", "0.010"]] and depth["result"]["asks"] == []
    assert depth["rateLimits"][0]["count"] >= 2
    assert (await c.call("ticker.price", {"symbol": SYM}))["result"]["symbol"] == SYM
    book = await c.call("ticker.book", {"symbol": SYM})
    assert book["result"]["bidPrice"] == "49000.00"
    for method in ("account.status", "v2/account.status", "account.balance", "v2/account.balance",
                   "account.position", "v2/account.position"):
        a = await c.call(method, {}, signed=True)
        assert a["status"] == 200, (method, a)
    st, bal = await _rest(session, server, acc, c.signer, "GET", "/fapi/v3/balance", {})
    ws_bal = (await c.call("v2/account.balance", {}, signed=True))["result"]
    assert ws_bal[0].keys() == bal[0].keys() and ws_bal[0]["balance"] == bal[0]["balance"]
    # unsigned account methods need the signature, like REST
    unsigned = await c.call("account.balance", {"timestamp": 1}, key=True)
    assert unsigned["error"]["code"] == -1102 and "signature" in unsigned["error"]["msg"]

    start_ = await c.call("userDataStream.start", key=True)
    key = start_["result"]["listenKey"]
    assert (await c.call("userDataStream.ping", key=True))["result"] == {"listenKey": key}
    assert (await c.call("userDataStream.stop", key=True))["result"] == {}
    assert (await c.call("userDataStream.ping", key=True))["error"]["code"] == -1125
    # returnRateLimits=false leaves them out; so does the connection URL's
    quiet = await c.call("depth", {"symbol": SYM, "returnRateLimits": False})
    assert quiet["status"] == 200 and "rateLimits" not in quiet
    quiet_err = await c.call("depth", {"symbol": "NOPE", "returnRateLimits": "false"})
    assert quiet_err["error"]["code"] == -1121 and "rateLimits" not in quiet_err
    c2 = await _connect(session, server, acc, query="?returnRateLimits=false")
    assert "rateLimits" not in await c2.call("ticker.price", {"symbol": SYM})
    assert "rateLimits" in await c2.call("ticker.price", {"symbol": SYM, "returnRateLimits": "true"})
    await c.ws.close()
    await c2.ws.close()


@pytest.mark.parametrize("kind", ["ED25519", "RSA"])
async def test_public_keys_sign_rest_and_ws_api(api, server, session, kind):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    private, public = generate_key_pair(kind)
    acc = await _account(api, publicKey=public, keyType=kind.lower())
    assert set(acc) == {"accountId", "apiKey", "keyType"} and acc["keyType"] == kind
    signer = Signer(private_pem=private)
    # REST: base64 signature URL-encoded in the query; a client id with : and /
    st, o = await _rest(session, server, acc, signer, "POST", "/fapi/v1/order",
                        dict(LIMIT, newClientOrderId="a:b/c"))
    assert st == 200 and o["clientOrderId"] == "a:b/c", o
    c = await _connect(session, server, acc, private)
    placed = await c.call("order.place", dict(LIMIT, price="48000"), signed=True)
    assert placed["status"] == 200, placed
    # a signature by another key of the same type is refused
    other = Signer(private_pem=generate_key_pair(kind)[0])
    st, bad = await _rest(session, server, acc, other, "POST", "/fapi/v1/order", LIMIT)
    assert (st, bad["code"]) == (400, -1022)
    c.signer = other
    assert (await c.call("order.place", LIMIT, signed=True))["error"]["code"] == -1022
    c.signer = signer
    logon = await c.call("session.logon", {}, signed=True)
    if kind == "RSA":       # session.logon takes Ed25519 keys only
        assert logon["status"] == 400 and logon["error"] == {"code": -4056, "msg": "Invalid api key type."}
    else:
        assert logon["status"] == 200 and logon["result"]["apiKey"] == acc["apiKey"], logon
        # logged on: no apiKey, no signature; timestamp still checked
        p = await c.send({"id": 1, "method": "order.place",
                          "params": dict(LIMIT, price="47000", timestamp=int(time.time() * 1000))})
        assert p["status"] == 200 and p["result"]["price"] == "47000.00", p
        stale = await c.send({"id": 2, "method": "order.status",
                              "params": {"symbol": SYM, "orderId": p["result"]["orderId"], "timestamp": 1}})
        assert stale["error"]["code"] == -1021
        st_ = await c.call("session.status")
        assert st_["result"]["apiKey"] == acc["apiKey"] and st_["result"]["authorizedSince"] is not None
        out = await c.call("session.logout")
        assert out["result"]["apiKey"] is None
        after = await c.send({"id": 3, "method": "account.balance", "params": {"timestamp": 1}})
        assert after["error"]["code"] == -2014
    await c.ws.close()


async def test_session_logon_refuses_hmac_and_bad_signatures(api, server, session):
    acc = await _account(api)
    c = await _connect(session, server, acc)
    r = await c.call("session.logon", {}, signed=True)
    assert r["error"] == {"code": -4056, "msg": "Invalid api key type."}
    private, public = generate_key_pair("ED25519")
    ed = await _account(api, publicKey=public)
    c.api_key, c.signer = ed["apiKey"], Signer(private_pem=generate_key_pair("ED25519")[0])
    assert (await c.call("session.logon", {}, signed=True))["error"]["code"] == -1022
    assert (await c.call("session.status"))["result"]["apiKey"] is None
    await c.ws.close()


async def test_key_registration_errors_change_nothing(api, server, session):
    st, before = await api.control("GET", "/accounts")
    private, public = generate_key_pair("ED25519")
    rsa_private, rsa_public = generate_key_pair("RSA")
    bad = [({"publicKey": "not a pem"}, -1130, "not a valid PEM"),
           ({"publicKey": private}, -1130, "private key"),
           ({"publicKey": public, "keyType": "RSA"}, -1130, "does not match"),
           ({"publicKey": rsa_public, "keyType": "ED25519"}, -1130, "does not match"),
           ({"publicKey": public, "keyType": "DSA"}, -1130, "ED25519 or RSA"),
           ({"publicKey": public, "keyType": "HMAC"}, -1130, "HMAC"),
           ({"publicKey": 5}, -1130, "PEM"),
           ({"publickey": public}, -1103, "publickey"),
           ({"balance": "1", "secret": "x"}, -1103, "secret")]
    for body, code, text in bad:
        st, r = await api.control("POST", "/accounts", body)
        assert st == 400 and r["code"] == code and text in r["msg"], (body, r)
    st, after = await api.control("GET", "/accounts")
    assert after == before

    # more keys for one account: an HMAC key (secret answered once), then a public key
    acc = await _account(api, publicKey=public)
    aid = acc["accountId"]
    st, hk = await api.control("POST", f"/accounts/{aid}/keys", {})
    assert st == 200 and set(hk) == {"accountId", "apiKey", "secretKey"} and hk["accountId"] == aid
    st, rk = await api.control("POST", f"/accounts/{aid}/keys", {"publicKey": rsa_public})
    assert st == 200 and rk["keyType"] == "RSA" and "secretKey" not in rk
    st, r = await api.control("POST", f"/accounts/{aid}/keys", {"publicKey": public, "extra": 1})
    assert st == 400 and r["code"] == -1103
    st, r = await api.control("POST", "/accounts/999/keys", {})
    assert st == 404
    # all three keys reach the same account
    for key, signer in ((acc["apiKey"], Signer(private_pem=private)), (hk["apiKey"], Signer(secret=hk["secretKey"])),
                        (rk["apiKey"], Signer(private_pem=rsa_private))):
        st, b = await _rest(session, server, {"apiKey": key}, signer, "GET", "/fapi/v2/balance", {})
        assert st == 200 and b[0]["balance"] == "100000.00000000", b


async def test_public_keys_survive_restart_and_demo_key(tmp_path, session):
    data = tmp_path / "data"
    srv = await start(host="127.0.0.1", port=0, data_dir=data, fsync="never", demo=True, demo_key="ed25519")
    try:
        demo = srv.demo
        path = demo["privateKeyFile"]
        assert demo["keyType"] == "ED25519" and "secretKey" not in demo and path in banner(srv)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and os.path.dirname(path) == str(data)
        assert "PUBLIC" not in open(path).read() and "PRIVATE KEY" in open(path).read()
        keys_file = (data / "keys.json").read_text()
        assert "ED25519" in keys_file and "PRIVATE" not in keys_file
    finally:
        await srv.stop()
    # restart: the same key signs; asking for RSA adds an RSA key to the same demo account
    srv = await start(host="127.0.0.1", port=0, data_dir=data, fsync="never", demo=True, demo_key="rsa")
    try:
        assert srv.demo["accountId"] == demo["accountId"] and srv.demo["keyType"] == "RSA"
        for d in (demo, srv.demo):
            signer = Signer(private_pem=open(d["privateKeyFile"]).read())
            st, b = await _rest(session, srv, d, signer, "GET", "/fapi/v2/balance", {})
            assert st == 200 and b[0]["balance"] == "100000.00000000", b
        c = await _connect(session, srv, demo, open(demo["privateKeyFile"]).read())
        assert (await c.call("session.logon", {}, signed=True))["status"] == 200
        await c.ws.close()
    finally:
        await srv.stop()


async def test_rate_limits_are_shared_with_rest(api, server, session):
    acc = await _account(api)
    c = await _connect(session, server, acc)
    first = (await c.call("ticker.price", {"symbol": SYM}))["rateLimits"][0]["count"]
    async with session.get(server.rest_url + "/fapi/v1/depth", params={"symbol": SYM, "limit": 5}) as r:
        rest_used = int(r.headers["X-MBX-USED-WEIGHT-1M"])
    assert rest_used == first + 2                    # depth limit 5 weighs 2, on the same counter
    then = (await c.call("ticker.price", {"symbol": SYM}))["rateLimits"][0]["count"]
    assert then == rest_used + 1
    # orders: one per-account count for both faces
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    await _rest(session, server, acc, c.signer, "POST", "/fapi/v1/order", LIMIT)
    placed = await c.call("order.place", LIMIT, signed=True)
    assert [r["count"] for r in placed["rateLimits"] if r["rateLimitType"] == "ORDERS"] == [2, 2]
    await c.ws.close()


async def test_faults_apply_and_the_journal_replays_a_session(api, server, session):
    await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    acc = await _account(api)
    c = await _connect(session, server, acc)
    st, _ = await api.control("POST", "/faults", {"seed": 3, "rules": [
        {"id": "t", "method": "WSAPI", "path": "order.place", "kind": "-1007", "every": 1, "times": 1,
         "executed_probability": 1}]})
    assert st == 200
    timed_out = await c.call("order.place", dict(LIMIT, newClientOrderId="t1"), signed=True)
    assert timed_out["error"]["code"] == -1007, timed_out
    # executed anyway (status unknown to the client): the order is there
    status = await c.call("order.status", {"symbol": SYM, "origClientOrderId": "t1"}, signed=True)
    assert status["result"]["status"] == "NEW"
    # a REST rule does not touch the WebSocket API
    await api.control("POST", "/faults", {"replace": True, "rules": [
        {"method": "POST", "path": "/fapi/v1/order", "kind": "-1008", "every": 1}]})
    ok = await c.call("order.place", dict(LIMIT, price="48000"), signed=True)
    assert ok["status"] == 200
    # a latency rule for WSAPI: the order executes that much later in venue time
    await api.control("POST", "/faults", {"replace": True, "rules": [
        {"id": "slow", "method": "WSAPI", "path": "order.*", "kind": "latency", "ms": 300, "every": 1, "times": 1}]})
    sent = int(time.time() * 1000)
    late = await c.call("order.place", dict(LIMIT, price="47000"), signed=True)
    assert late["status"] == 200 and late["result"]["updateTime"] >= sent + 300, (sent, late)
    await c.call("order.cancel", {"symbol": SYM, "orderId": late["result"]["orderId"]}, signed=True)
    await c.call("order.cancel", {"symbol": SYM, "origClientOrderId": "t1"}, signed=True)
    await c.ws.close()

    digest = server.runtime.venue.state_digest()
    journal = server.runtime.data_dir / "journal"
    await server.stop()
    result = replay(journal, verify=True)
    assert result.divergence is None and result.venue.state_digest() == digest
    kinds = [rec.kind for rec in JournalReader(journal).records()]
    assert kinds.count(NewOrder.KIND) == 3 and kinds.count(InjectFault.KIND) == 2 and CancelOrder.KIND in kinds, kinds
    details = [command_from_record([r.kind, r.payload]).detail for r in JournalReader(journal).records()
               if r.kind == InjectFault.KIND]
    assert details[0].startswith("WSAPI order.place newClientOrderId=t1") and "ms=300" in details[1], details


async def test_cli_demo_key_prints_the_private_key_file(tmp_path, session):
    """``paperex serve --demo-key ed25519`` as a user runs it: the banner names the private
    key file (mode 0600 in the data dir) and that key logs a WebSocket API session on."""
    proc, banner, lines = await asyncio.to_thread(start_serve, tmp_path / "data", "--flow", "none",
                                                  "--demo-key", "ed25519", want=("ws_api", "key", "pem"))
    try:
        ws_api, key, path = banner["ws_api"], banner["key"], banner["pem"]
        assert "secret :" not in "".join(lines)
        assert path == str(tmp_path / "data" / "demo-ed25519-private.pem")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        ws = await session.ws_connect(ws_api)
        c = WsApi(ws, key, Signer(private_pem=open(path).read()))
        logon = await c.call("session.logon", {}, signed=True)
        assert logon["status"] == 200 and logon["result"]["apiKey"] == key, logon
        bal = await c.send({"id": 1, "method": "account.balance", "params": {"timestamp": int(time.time() * 1000)}})
        assert bal["status"] == 200 and bal["result"][0]["balance"] == "100000.00000000", bal
        await ws.close()
    finally:
        await asyncio.to_thread(stop_process, proc)
