"""Market and user-data websockets: reconnect, resubscribe, pings, listenKey keep-alive (spec §9, §10)."""
import asyncio
import json
from decimal import Decimal

import aiohttp
import pytest

from clients.models import AccountUpdate, AggTrade, MarkPrice, OrderUpdate, UserEvent
from clients.streams import stream_route
from clients.usdm import UsdmClient

from usdm_fake import KEY, SECRET, Reply


def agg(sym: str, n: int, conn: int) -> dict:
    return {"e": "aggTrade", "E": 1789478303000 + n, "s": sym.upper(), "a": n, "p": "76915.00", "q": "0.100",
            "nq": "0.100", "f": n, "l": n, "T": 1789478303000 + n, "m": True, "conn": conn}


async def collect_until(it, pred, timeout=5.0):
    out = []

    async def run():
        async for m in it:
            out.append(m)
            if pred(m, out):
                return out
    return await asyncio.wait_for(run(), timeout)


def test_stream_routes():
    assert stream_route("btcusdt@depth@100ms") == "/public"
    assert stream_route("btcusdt@depth10") == "/public"
    assert stream_route("btcusdt@bookTicker") == "/public"
    assert stream_route("!bookTicker") == "/public"
    assert stream_route("btcusdt@trade") == "/public"
    assert stream_route("btcusdt@aggTrade") == "/market"
    assert stream_route("btcusdt@markPrice@1s") == "/market"
    assert stream_route("btcusdt@kline_1m") == "/market"
    assert stream_route("!miniTicker@arr") == "/market"


async def test_market_stream_reconnect_and_resubscribe(fake, client):
    conns = []
    pongs = []

    async def handler(ws, request):
        conns.append(request)
        me = len(conns)
        streams = request.query["streams"].split("/")
        subscribed = asyncio.Event()

        async def reader():
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.PONG:
                    pongs.append((me, msg.data))
                elif msg.type == aiohttp.WSMsgType.TEXT:
                    req = json.loads(msg.data)
                    if req["method"] == "SUBSCRIBE":
                        streams.extend(req["params"])
                        await ws.send_json({"result": None, "id": req["id"]})
                        subscribed.set()

        rt = asyncio.create_task(reader())
        await ws.ping(b"srv-ping")
        n = 0
        try:
            while not ws.closed:
                for s in list(streams):
                    await ws.send_json({"stream": s, "data": agg(s.split("@")[0], n, me)})
                n += 1
                if me == 1 and subscribed.is_set() and n > 20:
                    request.transport.close()        # abrupt drop, no close frame
                    return
                await asyncio.sleep(0.005)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            rt.cancel()

    fake.ws_handler = handler
    async with client.market_stream("btcusdt@aggTrade") as s:
        first = await collect_until(s, lambda m, out: len(out) >= 3)
        assert all(m.stream == "btcusdt@aggTrade" for m in first)
        assert isinstance(first[0].parsed(), AggTrade) and first[0].parsed().price == Decimal("76915.00")
        await asyncio.wait_for(s.subscribe("ethusdt@aggTrade"), 5)
        assert s.streams == ["btcusdt@aggTrade", "ethusdt@aggTrade"]
        # messages keep flowing across the drop; the second connection carries both subscriptions
        rest = await collect_until(s, lambda m, out: m.data["conn"] == 2 and m.stream == "ethusdt@aggTrade")
        assert any(m.data["conn"] == 1 and m.stream == "ethusdt@aggTrade" for m in rest)
        assert s.reconnects >= 1 and s.connects >= 2
    assert [p for p, _ in fake.ws_connects] == ["/market/stream", "/market/stream"]
    assert fake.ws_connects[0][1]["streams"] == "btcusdt@aggTrade"
    assert fake.ws_connects[1][1]["streams"] == "btcusdt@aggTrade/ethusdt@aggTrade"
    assert (1, b"srv-ping") in pongs          # server ping answered with its payload


async def test_market_stream_retries_with_backoff_after_immediate_closes(fake):
    """A server that closes right after the handshake (three times) is retried with bounded backoff."""
    refusals = {"n": 3}

    async def handler(ws, request):
        if refusals["n"] > 0:
            refusals["n"] -= 1
            return                                   # fixture closes the socket
        await ws.send_json({"stream": "btcusdt@markPrice@1s", "data": {
            "e": "markPriceUpdate", "E": 1, "s": "BTCUSDT", "p": "76916.95", "i": "76959.67", "P": "77018.7",
            "r": "0.00008972", "T": 1789488000000}})
        async for _ in ws:
            pass

    fake.ws_handler = handler
    async with UsdmClient(KEY, SECRET, base_url=fake.url, reconnect_min_delay=0.01, reconnect_max_delay=0.04) as c:
        async with c.market_stream("btcusdt@markPrice@1s") as s:
            msgs = await collect_until(s, lambda m, out: True)
            mp = msgs[0].parsed()
            assert isinstance(mp, MarkPrice) and mp.mark_price == Decimal("76916.95")
            assert mp.funding_rate == Decimal("0.00008972")
            assert s.connects == 4 and s.reconnects == 3


async def test_market_stream_reconnects_when_server_is_down(fake):
    """Connection refused (nothing listening) -> retry until a server appears on that port."""
    import socket
    from aiohttp import web
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    async def ws_handler(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"stream": "btcusdt@aggTrade", "data": agg("btcusdt", 1, 1)})
        async for _ in ws:
            pass
        return ws

    async with UsdmClient(base_url=f"http://127.0.0.1:{port}", reconnect_min_delay=0.01,
                          reconnect_max_delay=0.05) as c:
        async with c.market_stream("btcusdt@aggTrade") as s:
            await asyncio.sleep(0.2)                 # several refused attempts
            app = web.Application()
            app.router.add_get("/market/stream", ws_handler)
            runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            try:
                msgs = await collect_until(s, lambda m, out: True)
                assert msgs[0].data["a"] == 1 and s.connects == 1
            finally:
                await s.close()
                await asyncio.wait_for(runner.cleanup(), 5)


async def test_market_stream_mixed_routes_and_close(fake, client):
    async def handler(ws, request):
        for s in request.query["streams"].split("/"):
            await ws.send_json({"stream": s, "data": {"e": "x", "path": request.path}})
        async for _ in ws:
            pass

    fake.ws_handler = handler
    s = client.market_stream("btcusdt@bookTicker", "btcusdt@kline_1m")
    got = await collect_until(s, lambda m, out: len(out) == 2)
    assert {(m.stream, m.data["path"]) for m in got} == {("btcusdt@bookTicker", "/public/stream"),
                                                          ("btcusdt@kline_1m", "/market/stream")}
    await asyncio.wait_for(s.close(), 5)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(s.__anext__(), 1)
    assert all(c.task.done() for c in s._conns.values())


async def test_market_stream_legacy_root(fake):
    async def handler(ws, request):
        await ws.send_json({"stream": "btcusdt@aggTrade", "data": agg("btcusdt", 1, 1)})
        async for _ in ws:
            pass

    fake.ws_handler = handler
    async with UsdmClient(base_url=fake.url, ws_routes=False) as c:
        async with c.market_stream("btcusdt@aggTrade") as s:
            await collect_until(s, lambda m, out: True)
    assert fake.ws_connects[0][0] == "/stream"


async def test_subscribe_error_raises(fake, client):
    from clients.errors import StreamError

    async def handler(ws, request):
        async for msg in ws:
            req = json.loads(msg.data)
            await ws.send_json({"error": {"code": 2, "msg": "Invalid request: bad stream"}, "id": req["id"]})

    fake.ws_handler = handler
    async with client.market_stream("btcusdt@aggTrade") as s:
        for _ in range(200):
            if any(c.ws is not None for c in s._conns.values()):
                break
            await asyncio.sleep(0.01)
        with pytest.raises(StreamError) as ei:
            await asyncio.wait_for(s.subscribe("nope@aggTrade"), 5)
        assert ei.value.code == 2


ORDER_EVENT = {"e": "ORDER_TRADE_UPDATE", "E": 1789478303600, "T": 1789478303557, "o": {
    "s": "BTCUSDT", "c": "x-abc", "S": "BUY", "o": "LIMIT", "f": "GTC", "q": "0.010", "p": "76000.00",
    "ap": "76000.00", "sp": "0", "x": "TRADE", "X": "PARTIALLY_FILLED", "i": 22542179, "l": "0.004", "z": "0.004",
    "L": "76000.00", "N": "USDT", "n": "0.0608", "T": 1789478303557, "t": 99, "b": "456", "a": "0", "m": True,
    "R": False, "wt": "CONTRACT_PRICE", "ot": "LIMIT", "ps": "BOTH", "cp": False, "rp": "0", "pP": False,
    "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0}}
ACCOUNT_EVENT = {"e": "ACCOUNT_UPDATE", "E": 1789478303600, "T": 1789478303557, "a": {
    "m": "ORDER", "B": [{"a": "USDT", "wb": "999.9392", "cw": "999.9392", "bc": "0"}],
    "P": [{"s": "BTCUSDT", "pa": "0.004", "ep": "76000.0", "bep": "76030.4", "cr": "0", "up": "0.1",
           "mt": "cross", "iw": "0", "ps": "BOTH"}]}}
CONFIG_EVENT = {"e": "ACCOUNT_CONFIG_UPDATE", "E": 1789478303700, "T": 1789478303700,
                "ac": {"s": "BTCUSDT", "l": 25}}


async def test_user_stream_events_and_keepalive(fake, client):
    async def handler(ws, request):
        assert request.path == "/private/ws" and request.query["listenKey"] == fake.listen_key
        for ev in (ORDER_EVENT, ACCOUNT_EVENT, CONFIG_EVENT):
            await ws.send_json(ev)
        async for _ in ws:
            pass

    fake.ws_handler = handler
    async with client.user_stream(keepalive_interval=0.05) as us:
        evs = await collect_until(us, lambda m, out: len(out) == 3)
        o, a, c = evs
        assert isinstance(o, OrderUpdate) and o.status == "PARTIALLY_FILLED" and o.execution_type == "TRADE"
        assert o.last_filled_qty == Decimal("0.004") and o.commission == Decimal("0.0608") and o.is_maker
        assert isinstance(a, AccountUpdate) and a.reason == "ORDER"
        assert a.balances[0].wallet_balance == Decimal("999.9392")
        assert a.positions[0].position_amt == Decimal("0.004") and a.positions[0].margin_type == "cross"
        assert isinstance(c, UserEvent) and c.event_type == "ACCOUNT_CONFIG_UPDATE" and c.raw["ac"]["l"] == 25
        for _ in range(200):
            if us.keepalives >= 2:
                break
            await asyncio.sleep(0.01)
        assert us.keepalives >= 2
    methods = [m for m, _ in fake.listen_key_calls]
    assert methods[0] == "POST" and methods.count("PUT") >= 2 and methods[-1] == "DELETE"
    assert all(p.get("listenKey") == fake.listen_key for m, p in fake.listen_key_calls if m == "PUT")


async def test_user_stream_reconnects_after_expiry_and_drop(fake, client):
    conns = []

    async def handler(ws, request):
        conns.append(request.query["listenKey"])
        n = len(conns)
        if n == 1:
            await ws.send_json({"e": "listenKeyExpired", "E": 1789478303000, "listenKey": conns[0]})
            fake.listen_key = "K2" + "x" * 62       # the next POST hands out a new key
            async for _ in ws:
                pass
        elif n == 2:
            await ws.send_json(ORDER_EVENT)
            request.transport.close()             # abrupt drop
        else:
            await ws.send_json(ACCOUNT_EVENT)
            async for _ in ws:
                pass

    fake.ws_handler = handler
    async with client.user_stream(parse=False) as us:
        evs = await collect_until(us, lambda m, out: m.get("e") == "ACCOUNT_UPDATE")
    assert [e["e"] for e in evs] == ["listenKeyExpired", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"]
    assert conns == ["L" * 64, "K2" + "x" * 62, "K2" + "x" * 62]
    assert us.reconnects == 2


async def test_user_stream_keepalive_unknown_key_forces_new_key(fake, client):
    conns = []

    async def handler(ws, request):
        conns.append(request.query["listenKey"])
        await ws.send_json({**CONFIG_EVENT, "key": request.query["listenKey"]})
        async for _ in ws:
            pass

    fake.ws_handler = handler
    fake.listen_key_put_reply = Reply(400, {"code": -1125, "msg": "This listenKey does not exist."})
    async with client.user_stream(keepalive_interval=0.05) as us:
        await collect_until(us, lambda m, out: True)
        fake.listen_key = "K3" + "y" * 62          # the key was lost server-side; a POST makes a new one
        await collect_until(us, lambda m, out: m.raw["key"] == fake.listen_key)
        assert us.reconnects >= 1 and us.listen_key == fake.listen_key
    assert conns[0] == "L" * 64 and "K3" + "y" * 62 in conns


async def test_user_stream_bad_key_surfaces_error(fake):
    from clients.errors import BinanceAPIError
    async with UsdmClient("nope", SECRET, base_url=fake.url) as c:
        async with c.user_stream() as us:
            with pytest.raises(BinanceAPIError) as ei:
                await asyncio.wait_for(us.__anext__(), 5)
    assert ei.value.code == -2015
