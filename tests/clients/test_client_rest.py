"""UsdmClient REST against a fake server that verifies every signature (spec §2, §3, §6, §7, §10.1)
and answers with Binance's documented sample replies (what paperex cannot produce: real
Binance values and field sets); every method also runs against paperex itself in
test_client_real_server.py."""
import asyncio
import json
from decimal import Decimal

import pytest

from clients.errors import BinanceAPIError, RateLimitError, ServerError
from clients.models import (Account, AggTrade, AlgoOrder, Balance, BookTicker, CommissionRate, Depth, ExchangeInfo,
                            FundingRate, Income, Kline, MarkPrice, OpenInterest, Order, Position, Ticker24h,
                            TickerPrice, Trade, UserTrade)
from clients.usdm import UsdmClient, derive_ws_url

from usdm_fake import KEY, SECRET, Reply

D = Decimal


# (coroutine factory, expected method, expected path, expected params subset, result check)
CALLS = [
    (lambda c: c.ping(), "GET", "/fapi/v1/ping", {}, lambda r: r == {}),
    (lambda c: c.exchange_info(), "GET", "/fapi/v1/exchangeInfo", {},
     lambda r: isinstance(r, ExchangeInfo) and r.symbols["BTCUSDT"].tick_size == D("0.10")),
    (lambda c: c.depth("BTCUSDT", 5), "GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "5"},
     lambda r: isinstance(r, Depth) and r.bids[0] == (D("76914.90"), D("5.878")) and r.last_update_id == 11563384769463),
    (lambda c: c.trades("BTCUSDT", limit=10), "GET", "/fapi/v1/trades", {"symbol": "BTCUSDT", "limit": "10"},
     lambda r: isinstance(r[0], Trade) and r[0].price == D("76915.00") and r[0].is_buyer_maker),
    (lambda c: c.historical_trades("BTCUSDT", from_id=5), "GET", "/fapi/v1/historicalTrades",
     {"symbol": "BTCUSDT", "fromId": "5"}, lambda r: r[0].id == 6),
    (lambda c: c.agg_trades("BTCUSDT", start_time=1, end_time=2), "GET", "/fapi/v1/aggTrades",
     {"startTime": "1", "endTime": "2"}, lambda r: isinstance(r[0], AggTrade) and r[0].qty == D("0.100")),
    (lambda c: c.klines("BTCUSDT", "1m", limit=2), "GET", "/fapi/v1/klines", {"interval": "1m", "limit": "2"},
     lambda r: isinstance(r[0], Kline) and r[0].close == D("76915.00") and r[0].trades == 1234),
    (lambda c: c.mark_price_klines("BTCUSDT", "1h"), "GET", "/fapi/v1/markPriceKlines", {"interval": "1h"},
     lambda r: r[0].open_time == 1789478280000),
    (lambda c: c.index_price_klines("BTCUSDT", "1h"), "GET", "/fapi/v1/indexPriceKlines", {"pair": "BTCUSDT"},
     lambda r: len(r) == 1),
    (lambda c: c.premium_index_klines("BTCUSDT", "1h"), "GET", "/fapi/v1/premiumIndexKlines", {}, lambda r: len(r) == 1),
    (lambda c: c.continuous_klines("BTCUSDT", "PERPETUAL", "1h"), "GET", "/fapi/v1/continuousKlines",
     {"contractType": "PERPETUAL"}, lambda r: len(r) == 1),
    (lambda c: c.premium_index("BTCUSDT"), "GET", "/fapi/v1/premiumIndex", {"symbol": "BTCUSDT"},
     lambda r: isinstance(r, MarkPrice) and r.mark_price == D("76916.95122464") and r.funding_rate == D("0.00008972")),
    (lambda c: c.mark_price(), "GET", "/fapi/v1/premiumIndex", {},
     lambda r: isinstance(r, list) and isinstance(r[0], MarkPrice)),
    (lambda c: c.funding_rate("BTCUSDT", limit=1), "GET", "/fapi/v1/fundingRate", {"limit": "1"},
     lambda r: isinstance(r[0], FundingRate) and r[0].funding_rate == D("0.00003563")),
    (lambda c: c.funding_info(), "GET", "/fapi/v1/fundingInfo", {}, lambda r: r == []),
    (lambda c: c.ticker_24hr("BTCUSDT"), "GET", "/fapi/v1/ticker/24hr", {"symbol": "BTCUSDT"},
     lambda r: isinstance(r, Ticker24h) and r.last_price == D("76935.10") and r.count == 100),
    (lambda c: c.ticker_price("BTCUSDT"), "GET", "/fapi/v2/ticker/price", {},
     lambda r: isinstance(r, TickerPrice) and r.price == D("76935.10")),
    (lambda c: c.book_ticker(), "GET", "/fapi/v1/ticker/bookTicker", {},
     lambda r: isinstance(r[0], BookTicker) and r[0].ask_price == D("76915.00")),
    (lambda c: c.open_interest("BTCUSDT"), "GET", "/fapi/v1/openInterest", {},
     lambda r: isinstance(r, OpenInterest) and r.open_interest == D("106312.376")),
    # ---- trading
    (lambda c: c.new_order("BTCUSDT", "BUY", "LIMIT", D("0.010"), D("76000.0")), "POST", "/fapi/v1/order",
     {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "76000",
      "timeInForce": "GTC", "newOrderRespType": "RESULT"},
     lambda r: isinstance(r, Order) and r.executed_qty == D("0.010") and r.avg_price == D("76915")),
    (lambda c: c.new_order("BTCUSDT", "SELL", "MARKET", "0.5", reduce_only=True, new_client_order_id="my/id:1"),
     "POST", "/fapi/v1/order", {"reduceOnly": "true", "newClientOrderId": "my/id:1", "quantity": "0.5"},
     lambda r: r.order_id == 22542179),
    (lambda c: c.test_order("BTCUSDT", "BUY", "LIMIT", 1, 9000), "POST", "/fapi/v1/order/test",
     {"timeInForce": "GTC"}, lambda r: r == {}),
    (lambda c: c.modify_order("BTCUSDT", "BUY", "0.010", "76000", order_id=22542179), "PUT", "/fapi/v1/order",
     {"orderId": "22542179", "price": "76000", "quantity": "0.010"},
     lambda r: r.status == "NEW" and r.price == D("76000")),
    (lambda c: c.cancel_order("BTCUSDT", orig_client_order_id="x-abc"), "DELETE", "/fapi/v1/order",
     {"origClientOrderId": "x-abc"}, lambda r: r.status == "CANCELED"),
    (lambda c: c.get_order("BTCUSDT", 22542179), "GET", "/fapi/v1/order", {"orderId": "22542179"},
     lambda r: r.time == 1789478303500 and not r.is_open),
    (lambda c: c.get_open_order("BTCUSDT", 22542179), "GET", "/fapi/v1/openOrder", {}, lambda r: r.is_open),
    (lambda c: c.open_orders("BTCUSDT"), "GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"},
     lambda r: r[0].status == "NEW"),
    (lambda c: c.cancel_all("BTCUSDT"), "DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"},
     lambda r: r["code"] == 200),
    (lambda c: c.all_orders("BTCUSDT", limit=5), "GET", "/fapi/v1/allOrders", {"limit": "5"},
     lambda r: isinstance(r[0], Order)),
    (lambda c: c.batch_orders([{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": D("0.01"),
                                "price": D("76000"), "timeInForce": "GTC"},
                               {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": 5}]),
     "POST", "/fapi/v1/batchOrders", {},
     lambda r: isinstance(r[0], Order) and isinstance(r[1], BinanceAPIError) and r[1].code == -2019),
    (lambda c: c.modify_batch_orders([{"symbol": "BTCUSDT", "orderId": 1, "side": "BUY", "quantity": "1",
                                       "price": "2"}]), "PUT", "/fapi/v1/batchOrders", {},
     lambda r: isinstance(r[0], Order)),
    (lambda c: c.cancel_batch_orders("BTCUSDT", order_ids=[1, 2]), "DELETE", "/fapi/v1/batchOrders",
     {"orderIdList": "[1,2]"}, lambda r: r[0].status == "CANCELED" and r[1].code == -2011),
    (lambda c: c.countdown_cancel_all("BTCUSDT", 100000), "POST", "/fapi/v1/countdownCancelAll",
     {"countdownTime": "100000"}, lambda r: r["countdownTime"] == "100000"),
    (lambda c: c.user_trades("BTCUSDT", from_id=3), "GET", "/fapi/v1/userTrades", {"fromId": "3"},
     lambda r: isinstance(r[0], UserTrade) and r[0].realized_pnl == D("27.384") and r[0].commission == D("0.1890536")),
    (lambda c: c.force_orders("BTCUSDT"), "GET", "/fapi/v1/forceOrders", {},
     lambda r: r[0].client_order_id == "autoclose-1"),
    # ---- algo
    (lambda c: c.new_algo_order("BNBUSDT", "SELL", "TAKE_PROFIT", "0.01", "750", trigger_price="750"),
     "POST", "/fapi/v1/algoOrder", {"algoType": "CONDITIONAL", "triggerPrice": "750", "type": "TAKE_PROFIT"},
     lambda r: isinstance(r, AlgoOrder) and r.trigger_price == D("750") and r.algo_status == "NEW"),
    (lambda c: c.cancel_algo_order(algo_id=2146760), "DELETE", "/fapi/v1/algoOrder", {"algoId": "2146760"},
     lambda r: r["msg"] == "success"),
    (lambda c: c.get_algo_order(client_algo_id="x-algo"), "GET", "/fapi/v1/algoOrder", {"clientAlgoId": "x-algo"},
     lambda r: r.actual_order_id == ""),
    (lambda c: c.open_algo_orders(), "GET", "/fapi/v1/openAlgoOrders", {}, lambda r: r[0].algo_id == 2146760),
    (lambda c: c.all_algo_orders("BNBUSDT"), "GET", "/fapi/v1/allAlgoOrders", {}, lambda r: r[0].actual_order_id == "123"),
    (lambda c: c.cancel_all_algo_orders("BNBUSDT"), "DELETE", "/fapi/v1/algoOpenOrders", {}, lambda r: r["code"] == 200),
    # ---- account
    (lambda c: c.account(), "GET", "/fapi/v3/account", {},
     lambda r: isinstance(r, Account) and r.asset("USDT").wallet_balance == D("1000")
     and r.positions[0].position_amt == D("30") and r.positions[0].unrealized_profit == D("0.764277")),
    (lambda c: c.balance(), "GET", "/fapi/v3/balance", {},
     lambda r: isinstance(r[0], Balance) and r[0].available_balance == D("1000.14856315")),
    (lambda c: c.position_risk("ADAUSDT"), "GET", "/fapi/v3/positionRisk", {"symbol": "ADAUSDT"},
     lambda r: isinstance(r[0], Position) and r[0].entry_price == D("0.385") and r[0].unrealized_profit == D("0.764277")),
    (lambda c: c.change_leverage("BTCUSDT", 21), "POST", "/fapi/v1/leverage", {"leverage": "21"},
     lambda r: r["leverage"] == 21),
    (lambda c: c.change_margin_type("BTCUSDT", "ISOLATED"), "POST", "/fapi/v1/marginType", {"marginType": "ISOLATED"},
     lambda r: r["code"] == 200),
    (lambda c: c.get_position_mode(), "GET", "/fapi/v1/positionSide/dual", {}, lambda r: r is False),
    (lambda c: c.set_position_mode(True), "POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"},
     lambda r: r["code"] == 200),
    (lambda c: c.get_multi_assets_margin(), "GET", "/fapi/v1/multiAssetsMargin", {}, lambda r: r is False),
    (lambda c: c.set_multi_assets_margin(False), "POST", "/fapi/v1/multiAssetsMargin", {"multiAssetsMargin": "false"},
     lambda r: r["code"] == 200),
    (lambda c: c.position_margin("BTCUSDT", D("100"), 1), "POST", "/fapi/v1/positionMargin",
     {"amount": "100", "type": "1"}, lambda r: r["type"] == 1),
    (lambda c: c.income(income_type="FUNDING_FEE"), "GET", "/fapi/v1/income", {"incomeType": "FUNDING_FEE"},
     lambda r: isinstance(r[0], Income) and r[0].income == D("-0.0134")),
    (lambda c: c.leverage_bracket("BTCUSDT"), "GET", "/fapi/v1/leverageBracket", {},
     lambda r: r[0]["brackets"][0]["initialLeverage"] == 150),
    (lambda c: c.commission_rate("BTCUSDT"), "GET", "/fapi/v1/commissionRate", {},
     lambda r: isinstance(r, CommissionRate) and r.taker == D("0.0005")),
    (lambda c: c.adl_quantile(), "GET", "/fapi/v1/adlQuantile", {}, lambda r: r[0]["symbol"] == "BTCUSDT"),
    (lambda c: c.account_config(), "GET", "/fapi/v1/accountConfig", {}, lambda r: r["dualSidePosition"] is False),
    (lambda c: c.symbol_config("BTCUSDT"), "GET", "/fapi/v1/symbolConfig", {}, lambda r: r[0]["leverage"] == 20),
    # ---- listen key
    (lambda c: c.new_listen_key(), "POST", "/fapi/v1/listenKey", {}, lambda r: r == "L" * 64),
    (lambda c: c.keepalive_listen_key("abc"), "PUT", "/fapi/v1/listenKey", {"listenKey": "abc"},
     lambda r: r["listenKey"] == "L" * 64),
    (lambda c: c.close_listen_key(), "DELETE", "/fapi/v1/listenKey", {}, lambda r: r == {}),
]


@pytest.mark.parametrize("call,method,path,expect,check", CALLS,
                         ids=[f"{m} {p} #{i}" for i, (_, m, p, _e, _c) in enumerate(CALLS)])
async def test_endpoint(fake, client, call, method, path, expect, check):
    result = await asyncio.wait_for(call(client), 5)
    assert fake.rejected == []
    assert fake.requests, "nothing reached the server"
    m, p, params = fake.requests[-1]
    assert (m, p) == (method, path)
    for k, v in expect.items():
        assert params.get(k) == v, (k, params)
    assert check(result), result


async def test_batch_orders_wire_format(fake, client):
    await client.batch_orders([{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": D("0.010"),
                                "price": 76000.5, "timeInForce": "GTC", "reduceOnly": False}])
    params = fake.calls("POST", "/fapi/v1/batchOrders")[0]
    assert json.loads(params["batchOrders"]) == [{"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                  "quantity": "0.01", "price": "76000.5", "timeInForce": "GTC",
                                                  "reduceOnly": "false"}]


async def test_every_signed_call_verified_and_body_empty(fake, client):
    """All parameters go in the query; the server-side HMAC check accepted them all."""
    await client.new_order("BTCUSDT", "BUY", "LIMIT", "0.001", "70000", new_client_order_id="a b+c/d=e&f")
    params = fake.calls("POST", "/fapi/v1/order")[0]
    assert params["newClientOrderId"] == "a b+c/d=e&f"
    assert params["recvWindow"] == "5000" and "signature" in params and "timestamp" in params


async def test_bad_secret_rejected_with_1022(fake):
    async with UsdmClient(KEY, "wrong-secret", base_url=fake.url) as c:
        with pytest.raises(BinanceAPIError) as ei:
            await c.account()
    e = ei.value
    assert (e.status, e.code, e.msg) == (400, -1022, "Signature for this request is not valid.")
    assert not isinstance(e, RateLimitError)
    assert fake.rejected == [("GET", "/fapi/v3/account", -1022)]


async def test_unknown_key_and_missing_key(fake):
    async with UsdmClient("other", SECRET, base_url=fake.url) as c:
        with pytest.raises(BinanceAPIError) as ei:
            await c.balance()
        assert (ei.value.status, ei.value.code) == (401, -2015)
    async with UsdmClient(base_url=fake.url) as c:
        with pytest.raises(ValueError):
            await c.balance()
        assert await c.ping() == {}   # public calls need no key


async def test_error_400_maps_code_and_msg(fake, client):
    fake.set("DELETE", "/fapi/v1/order", Reply(400, {"code": -2011, "msg": "Unknown order sent."}))
    with pytest.raises(BinanceAPIError) as ei:
        await client.cancel_order("BTCUSDT", 1)
    assert (ei.value.status, ei.value.code, ei.value.msg) == (400, -2011, "Unknown order sent.")


async def test_error_429_and_418_retry_after(fake, client):
    fake.set("GET", "/fapi/v1/depth", Reply(429, {"code": -1003, "msg": "Too many requests; current limit is 2400 "
                                                  "requests per minute."}, {"Retry-After": "7"}))
    with pytest.raises(RateLimitError) as ei:
        await client.depth("BTCUSDT")
    assert (ei.value.status, ei.value.code, ei.value.retry_after, ei.value.banned) == (429, -1003, 7.0, False)
    assert isinstance(ei.value, BinanceAPIError)
    fake.set("GET", "/fapi/v1/depth", Reply(418, {"code": -1003, "msg": "Way too many requests; IP banned"},
                                            {"Retry-After": "120"}))
    with pytest.raises(RateLimitError) as ei:
        await client.depth("BTCUSDT")
    assert ei.value.banned and ei.value.retry_after == 120.0


async def test_server_errors(fake, client):
    fake.set("POST", "/fapi/v1/order", Reply(503, "Unknown error, please check your request or try again later.",
                                             raw=True))
    with pytest.raises(ServerError) as ei:
        await client.new_order("BTCUSDT", "BUY", "MARKET", "0.01")
    assert ei.value.code is None and ei.value.execution_unknown
    fake.set("POST", "/fapi/v1/order", Reply(408, {"code": -1007, "msg": "Timeout waiting for response from backend "
                                                   "server. Send status unknown; execution status unknown."}))
    with pytest.raises(BinanceAPIError) as ei:
        await client.new_order("BTCUSDT", "BUY", "MARKET", "0.01")
    assert ei.value.code == -1007 and ei.value.execution_unknown
    fake.set("GET", "/fapi/v1/ping", Reply(403, "<html>WAF</html>", raw=True))
    with pytest.raises(BinanceAPIError) as ei:
        await client.ping()
    assert ei.value.status == 403 and ei.value.code is None


async def test_http_200_with_negative_code_raises(fake, client):
    fake.set("POST", "/fapi/v1/leverage", {"code": -4028, "msg": "Leverage 200 is not valid"})
    with pytest.raises(BinanceAPIError) as ei:
        await client.change_leverage("BTCUSDT", 200)
    assert ei.value.status == 200 and ei.value.code == -4028


async def test_unknown_path_is_5000(fake, client):
    with pytest.raises(BinanceAPIError) as ei:
        await client.request("GET", "/fapi/v1/positionRisk", signed=True)
    assert (ei.value.status, ei.value.code) == (404, -5000)


async def test_time_sync_fixes_skewed_clock(fake, client):
    fake.clock_offset_ms = 20_000          # server runs 20 s ahead: timestamps now too old
    with pytest.raises(BinanceAPIError) as ei:
        await client.account()
    assert ei.value.code == -1021
    offset = await client.sync_time()
    assert abs(offset - 20_000) < 1000
    assert isinstance(await client.account(), Account)
    fake.clock_offset_ms = -20_000         # server behind: "1000ms ahead"
    with pytest.raises(BinanceAPIError) as ei:
        await client.account()
    assert ei.value.code == -1021 and "ahead" in ei.value.msg
    await client.sync_time()
    await client.account()


async def test_used_weight_header(fake, client):
    await client.ping()
    assert client.used_weight == 1


async def test_external_session_not_closed(fake):
    import aiohttp
    async with aiohttp.ClientSession() as s:
        async with UsdmClient(base_url=fake.url, session=s) as c:
            await c.ping()
        assert not s.closed
        assert await UsdmClient(base_url=fake.url, session=s).server_time() > 0


def test_derive_ws_url():
    assert derive_ws_url("https://fapi.binance.com") == "wss://fstream.binance.com"
    assert derive_ws_url("http://127.0.0.1:8800") == "ws://127.0.0.1:8800"
    assert derive_ws_url("https://demo-fapi.local:8443") == "wss://demo-fapi.local:8443"
    assert UsdmClient().ws_url == "wss://fstream.binance.com"
