"""batchOrders signed by hand (spec §2.2: HMAC-SHA256 over the exact query string + body),
with ``batchOrders`` a URL-encoded JSON list: POST and PUT with every parameter in the
query string (binance-futures-connector) or in the form body (ccxt, python-binance).

A client whose URL library re-quotes the query after signing (aiohttp's yarl turns
``%3A``/``%2C`` back into ``:``/``,``) sends bytes it did not sign: Binance answers
-1022 to that (python-binance#1099, aiohttp#11447), and so do we."""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from yarl import URL

from gwhelpers import sign

SYM = "BTCUSDT"
FC_HEADERS = {"Content-Type": "application/json;charset=utf-8"}   # what FC declares, body empty


def _signed_qs(secret: str, params: dict) -> str:
    """binance-futures-connector's encoding: urlencode, ``%40`` back to ``@``, signature last."""
    qs = urlencode({**params, "timestamp": int(time.time() * 1000)}).replace("%40", "@")
    return f"{qs}&signature={sign(secret, qs)}"


async def _send(session, acct, method: str, path: str, params: dict, *, where: str):
    h = {"X-MBX-APIKEY": acct.key}
    signed = _signed_qs(acct.secret, params)
    if where == "query":
        url, data, h = URL(f"{acct.base}{path}?{signed}", encoded=True), None, {**h, **FC_HEADERS}
    else:
        url, data = URL(acct.base + path), signed
        h["Content-Type"] = "application/x-www-form-urlencoded"
    async with session.request(method, url, data=data, headers=h) as r:
        return r.status, await r.json(content_type=None)


def _batch(items: list) -> str:
    return json.dumps(items)          # FC / python-binance: json.dumps defaults (", " and ": ")


async def _open_prices(acct) -> dict:
    st, rows = await acct.signed("GET", "/fapi/v1/openOrders", {"symbol": SYM})
    assert st == 200, rows
    return {o["orderId"]: (o["price"], o["origQty"]) for o in rows}


async def _setup(api):
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    assert st == 200
    return await api.new_account()


async def test_post_batch_orders_in_query_and_body(api, session):
    a = await _setup(api)
    placed = []
    for where, prices in (("query", ("49000", "48000")), ("body", ("47000", "46000"))):
        orders = [{"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
                   "price": p, "newClientOrderId": f"{where}-{p}"} for p in prices]
        st, res = await _send(session, a, "POST", "/fapi/v1/batchOrders", {"batchOrders": _batch(orders)},
                              where=where)
        assert st == 200 and [o["price"] for o in res] == [f"{p}.00" for p in prices], (where, res)
        assert [o["clientOrderId"] for o in res] == [f"{where}-{p}" for p in prices]
        placed += [o["orderId"] for o in res]
    assert sorted(await _open_prices(a)) == sorted(placed)


async def test_put_batch_orders_in_query_and_body(api, session):
    a = await _setup(api)
    ids = []
    for price in ("49000", "48000"):
        st, o = await a.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "BUY", "type": "LIMIT",
                                                          "timeInForce": "GTC", "quantity": "0.010",
                                                          "price": price})
        assert st == 200, o
        ids.append(o["orderId"])
    for where, (p0, p1) in (("query", ("49100", "48100")), ("body", ("49200", "48200"))):
        mods = [{"symbol": SYM, "orderId": ids[0], "side": "BUY", "quantity": "0.020", "price": p0},
                {"symbol": SYM, "orderId": ids[1], "side": "BUY", "quantity": "0.010", "price": p1}]
        st, res = await _send(session, a, "PUT", "/fapi/v1/batchOrders", {"batchOrders": _batch(mods)},
                              where=where)
        assert st == 200, (where, res)
        assert [(o["orderId"], o["price"]) for o in res] == [(ids[0], p0 + ".00"), (ids[1], p1 + ".00")], res
        assert await _open_prices(a) == {ids[0]: (p0 + ".00", "0.020"), ids[1]: (p1 + ".00", "0.010")}


async def test_batch_signed_unencoded_in_query(api, session):
    """python-binance signs the un-encoded JSON and sends it encoded: the decoded retry (§2.2)."""
    a = await _setup(api)
    orders = [{"symbol": SYM, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
               "price": "45000"}]
    raw = f"batchOrders={_batch(orders)}&timestamp={int(time.time() * 1000)}"
    wire = urlencode({"batchOrders": _batch(orders)}) + raw[raw.index("&timestamp="):]
    url = URL(f"{a.base}/fapi/v1/batchOrders?{wire}&signature={sign(a.secret, raw)}", encoded=True)
    async with session.post(url, headers={"X-MBX-APIKEY": a.key}) as r:
        st, res = r.status, await r.json(content_type=None)
    assert st == 200 and res[0]["price"] == "45000.00", res


async def test_requoted_query_is_refused_and_changes_nothing(api, session):
    a = await _setup(api)
    st, o = await a.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "BUY", "type": "LIMIT",
                                                      "timeInForce": "GTC", "quantity": "0.010", "price": "49000"})
    assert st == 200
    mods = [{"symbol": SYM, "orderId": o["orderId"], "side": "BUY", "quantity": "0.010", "price": "49500"}]
    signed = _signed_qs(a.secret, {"batchOrders": _batch(mods)})
    url = URL(f"{a.base}/fapi/v1/batchOrders?{signed}")           # yarl re-quotes the signed query
    assert url.raw_query_string != signed
    async with session.put(url, headers={"X-MBX-APIKEY": a.key}) as r:
        assert r.status == 400
        assert await r.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    assert await _open_prices(a) == {o["orderId"]: ("49000.00", "0.010")}
