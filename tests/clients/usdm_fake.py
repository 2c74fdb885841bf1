"""A small fake Binance USD-M server (aiohttp, 127.0.0.1, ephemeral port) for the client tests.

It verifies every SIGNED request exactly as Binance does (spec §2.2: raw query bytes +
raw body, ``signature`` last, HMAC-SHA256 with the account secret, timestamp inside
recvWindow) and answers with spec-shaped canned JSON.  Tests override answers with
``fake.set(method, path, reply)`` and script websockets with ``fake.ws_handler``.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import parse_qsl

from aiohttp import web

KEY = "test-api-key"
SECRET = "test-api-secret-0123456789abcdef"

PUBLIC = {
    "/fapi/v1/ping", "/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/depth", "/fapi/v1/trades",
    "/fapi/v1/aggTrades", "/fapi/v1/klines", "/fapi/v1/markPriceKlines", "/fapi/v1/indexPriceKlines",
    "/fapi/v1/premiumIndexKlines", "/fapi/v1/continuousKlines", "/fapi/v1/premiumIndex", "/fapi/v1/fundingRate",
    "/fapi/v1/fundingInfo", "/fapi/v1/ticker/24hr", "/fapi/v1/ticker/price", "/fapi/v2/ticker/price",
    "/fapi/v1/ticker/bookTicker", "/fapi/v1/openInterest",
}
KEY_ONLY = {"/fapi/v1/historicalTrades", "/fapi/v1/listenKey"}

ORDER = {"orderId": 22542179, "symbol": "BTCUSDT", "status": "FILLED", "clientOrderId": "x-abc", "price": "0.00",
         "avgPrice": "76915.00000", "origQty": "0.010", "executedQty": "0.010", "cumQty": "0.010",
         "cumQuote": "769.15000", "timeInForce": "GTC", "type": "MARKET", "reduceOnly": False,
         "closePosition": False, "side": "BUY", "positionSide": "BOTH", "stopPrice": "0.00",
         "workingType": "CONTRACT_PRICE", "priceProtect": False, "origType": "MARKET", "priceMatch": "NONE",
         "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "updateTime": 1789478303557}
ALGO = {"algoId": 2146760, "clientAlgoId": "x-algo", "algoType": "CONDITIONAL", "orderType": "TAKE_PROFIT",
        "symbol": "BNBUSDT", "side": "SELL", "positionSide": "BOTH", "timeInForce": "GTC", "quantity": "0.01",
        "algoStatus": "NEW", "triggerPrice": "750.000", "price": "750.000", "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER", "workingType": "CONTRACT_PRICE", "priceMatch": "NONE",
        "closePosition": False, "priceProtect": False, "reduceOnly": False, "createTime": 1750485492076,
        "updateTime": 1750485492076, "triggerTime": 0, "goodTillDate": 0}
POSITION = {"symbol": "ADAUSDT", "positionSide": "BOTH", "positionAmt": "30", "entryPrice": "0.385",
            "breakEvenPrice": "0.385077", "markPrice": "0.41047590", "unRealizedProfit": "0.76427700",
            "liquidationPrice": "0", "isolatedMargin": "0", "notional": "12.31427700", "marginAsset": "USDT",
            "isolatedWallet": "0", "initialMargin": "0.61571385", "maintMargin": "0.08004280",
            "positionInitialMargin": "0.61571385", "openOrderInitialMargin": "0", "adl": 2, "bidNotional": "0",
            "askNotional": "0", "updateTime": 1720736417660}
SYMBOL = {"symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
          "onboardDate": 1567965300000, "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
          "marginAsset": "USDT", "pricePrecision": 2, "quantityPrecision": 3,
          "filters": [{"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
                      {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
                      {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
                      {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                      {"filterType": "MIN_NOTIONAL", "notional": "50"},
                      {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
                       "multiplierDecimal": "4"}],
          "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                         "TRAILING_STOP_MARKET"],
          "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"]}
KLINE = [1789478280000, "76900.00", "76950.10", "76880.00", "76915.00", "123.456", 1789478339999,
         "9494000.12", 1234, "60.001", "4614000.50", "0"]
PREMIUM = {"symbol": "BTCUSDT", "markPrice": "76916.95122464", "indexPrice": "76959.67847826",
           "estimatedSettlePrice": "77018.74802742", "lastFundingRate": "0.00008972", "interestRate": "0.00010000",
           "nextFundingTime": 1789488000000, "time": 1789478303000}
TICKER = {"symbol": "BTCUSDT", "priceChange": "-94.99", "priceChangePercent": "-0.123", "weightedAvgPrice": "76990.1",
          "lastPrice": "76935.10", "lastQty": "0.004", "openPrice": "77030.09", "highPrice": "77500.00",
          "lowPrice": "76500.00", "volume": "123456.789", "quoteVolume": "9500000000.12",
          "openTime": 1789391940000, "closeTime": 1789478340000, "firstId": 1, "lastId": 100, "count": 100}
BOOK_TICKER = {"symbol": "BTCUSDT", "bidPrice": "76914.90", "bidQty": "5.878", "askPrice": "76915.00",
               "askQty": "2.149", "time": 1789478303000, "lastUpdateId": 11563384769463}

CANNED: dict[tuple[str, str], Any] = {
    ("GET", "/fapi/v1/ping"): {},
    ("GET", "/fapi/v1/exchangeInfo"): {"timezone": "UTC", "serverTime": 1789478299014, "futuresType": "U_MARGINED",
                                       "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                                       "intervalNum": 1, "limit": 2400}],
                                       "exchangeFilters": [], "assets": [], "symbols": [SYMBOL]},
    ("GET", "/fapi/v1/depth"): {"lastUpdateId": 11563384769463, "E": 1789478303000, "T": 1789478302990,
                                "bids": [["76914.90", "5.878"], ["76914.80", "0.010"]],
                                "asks": [["76915.00", "2.149"], ["76915.10", "1.000"]]},
    ("GET", "/fapi/v1/trades"): [{"id": 7, "price": "76915.00", "qty": "0.010", "quoteQty": "769.15",
                                  "time": 1789478303000, "isBuyerMaker": True, "isRPITrade": False}],
    ("GET", "/fapi/v1/historicalTrades"): [{"id": 6, "price": "76914.00", "qty": "0.020", "quoteQty": "1538.28",
                                            "time": 1789478302000, "isBuyerMaker": False, "isRPITrade": False}],
    ("GET", "/fapi/v1/aggTrades"): [{"a": 26129, "p": "76915.00", "q": "0.100", "nq": "0.100", "f": 27781,
                                     "l": 27781, "T": 1789478303000, "m": True}],
    ("GET", "/fapi/v1/klines"): [KLINE],
    ("GET", "/fapi/v1/markPriceKlines"): [KLINE],
    ("GET", "/fapi/v1/indexPriceKlines"): [KLINE],
    ("GET", "/fapi/v1/premiumIndexKlines"): [KLINE],
    ("GET", "/fapi/v1/continuousKlines"): [KLINE],
    ("GET", "/fapi/v1/premiumIndex"): lambda p: PREMIUM if "symbol" in p else [PREMIUM],
    ("GET", "/fapi/v1/fundingRate"): [{"symbol": "BTCUSDT", "fundingTime": 1789430400000,
                                       "fundingRate": "0.00003563", "markPrice": "78178.30000000",
                                       "rateType": "Regular"}],
    ("GET", "/fapi/v1/fundingInfo"): [],
    ("GET", "/fapi/v1/ticker/24hr"): lambda p: TICKER if "symbol" in p else [TICKER],
    ("GET", "/fapi/v2/ticker/price"): lambda p: ({"symbol": "BTCUSDT", "price": "76935.10", "time": 1789478433767}
                                                 if "symbol" in p else
                                                 [{"symbol": "BTCUSDT", "price": "76935.10", "time": 1789478433767}]),
    ("GET", "/fapi/v1/ticker/bookTicker"): lambda p: BOOK_TICKER if "symbol" in p else [BOOK_TICKER],
    ("GET", "/fapi/v1/openInterest"): {"symbol": "BTCUSDT", "openInterest": "106312.376", "time": 1789478297197},
    ("POST", "/fapi/v1/order"): ORDER,
    ("POST", "/fapi/v1/order/test"): {},
    ("PUT", "/fapi/v1/order"): {**ORDER, "status": "NEW", "type": "LIMIT", "price": "76000.00"},
    ("DELETE", "/fapi/v1/order"): {**ORDER, "status": "CANCELED"},
    ("GET", "/fapi/v1/order"): {**ORDER, "time": 1789478303500},
    ("GET", "/fapi/v1/openOrder"): {**ORDER, "status": "NEW"},
    ("GET", "/fapi/v1/openOrders"): [{**ORDER, "status": "NEW"}],
    ("DELETE", "/fapi/v1/allOpenOrders"): {"code": 200, "msg": "The operation of cancel all open order is done."},
    ("GET", "/fapi/v1/allOrders"): [ORDER],
    ("POST", "/fapi/v1/batchOrders"): [ORDER, {"code": -2019, "msg": "Margin is insufficient."}],
    ("PUT", "/fapi/v1/batchOrders"): [ORDER],
    ("DELETE", "/fapi/v1/batchOrders"): [{**ORDER, "status": "CANCELED"},
                                         {"code": -2011, "msg": "Unknown order sent."}],
    ("POST", "/fapi/v1/countdownCancelAll"): {"symbol": "BTCUSDT", "countdownTime": "100000"},
    ("GET", "/fapi/v1/userTrades"): [{"buyer": False, "commission": "0.18905360", "commissionAsset": "USDT",
                                      "id": 4575108247, "maker": False, "orderId": 261942655610,
                                      "price": "47263.40", "qty": "0.010", "quoteQty": "472.63",
                                      "realizedPnl": "27.38400000", "side": "SELL", "positionSide": "LONG",
                                      "symbol": "BTCUSDT", "time": 1707530039409}],
    ("GET", "/fapi/v1/forceOrders"): [{**ORDER, "clientOrderId": "autoclose-1", "type": "LIMIT",
                                       "timeInForce": "IOC"}],
    ("POST", "/fapi/v1/algoOrder"): ALGO,
    ("DELETE", "/fapi/v1/algoOrder"): {"algoId": 2146760, "clientAlgoId": "x-algo", "code": "200",
                                       "msg": "success"},
    ("GET", "/fapi/v1/algoOrder"): {**ALGO, "actualOrderId": ""},
    ("GET", "/fapi/v1/openAlgoOrders"): [{**ALGO, "actualOrderId": ""}],
    ("GET", "/fapi/v1/allAlgoOrders"): [{**ALGO, "actualOrderId": "123"}],
    ("DELETE", "/fapi/v1/algoOpenOrders"): {"code": 200, "msg": "The operation of cancel all open order is done."},
    ("GET", "/fapi/v3/account"): {
        "totalInitialMargin": "0.61571385", "totalMaintMargin": "0.08004280", "totalWalletBalance": "1000.00000000",
        "totalUnrealizedProfit": "0.76427700", "totalMarginBalance": "1000.76427700",
        "totalPositionInitialMargin": "0.61571385", "totalOpenOrderInitialMargin": "0",
        "totalCrossWalletBalance": "1000", "totalCrossUnPnl": "0.764277", "availableBalance": "1000.14856315",
        "maxWithdrawAmount": "1000.14856315",
        "assets": [{"asset": "USDT", "walletBalance": "1000.00000000", "unrealizedProfit": "0.76427700",
                    "marginBalance": "1000.76427700", "maintMargin": "0.08004280", "initialMargin": "0.61571385",
                    "positionInitialMargin": "0.61571385", "openOrderInitialMargin": "0",
                    "crossWalletBalance": "1000", "crossUnPnl": "0.764277", "availableBalance": "1000.14856315",
                    "maxWithdrawAmount": "1000.14856315", "updateTime": 1720736417660}],
        "positions": [{"symbol": "ADAUSDT", "positionSide": "BOTH", "positionAmt": "30",
                       "unrealizedProfit": "0.76427700", "isolatedMargin": "0", "notional": "12.31427700",
                       "isolatedWallet": "0", "initialMargin": "0.61571385", "maintMargin": "0.08004280",
                       "updateTime": 1720736417660}]},
    ("GET", "/fapi/v3/balance"): [{"accountAlias": "SgsR", "asset": "USDT", "balance": "1000.00000000",
                                   "crossWalletBalance": "1000.00000000", "crossUnPnl": "0.76427700",
                                   "availableBalance": "1000.14856315", "maxWithdrawAmount": "1000.14856315",
                                   "marginAvailable": True, "updateTime": 1720736417660}],
    ("GET", "/fapi/v3/positionRisk"): [POSITION],
    ("POST", "/fapi/v1/leverage"): lambda p: {"leverage": int(p["leverage"]), "maxNotionalValue": "1000000",
                                              "symbol": p["symbol"]},
    ("POST", "/fapi/v1/marginType"): {"code": 200, "msg": "success"},
    ("GET", "/fapi/v1/positionSide/dual"): {"dualSidePosition": False},
    ("POST", "/fapi/v1/positionSide/dual"): {"code": 200, "msg": "success"},
    ("GET", "/fapi/v1/multiAssetsMargin"): {"multiAssetsMargin": False},
    ("POST", "/fapi/v1/multiAssetsMargin"): {"code": 200, "msg": "success"},
    ("POST", "/fapi/v1/positionMargin"): {"amount": 100.0, "code": 200, "msg": "Successfully modify position margin.",
                                          "type": 1},
    ("GET", "/fapi/v1/income"): [{"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": "-0.01340000",
                                  "asset": "USDT", "info": "FUNDING_FEE", "time": 1789459200000,
                                  "tranId": 9689322392, "tradeId": ""}],
    ("GET", "/fapi/v1/leverageBracket"): [{"symbol": "BTCUSDT", "notionalCoef": 1.0, "brackets": [
        {"bracket": 1, "initialLeverage": 150, "notionalCap": 300000, "notionalFloor": 0,
         "maintMarginRatio": 0.004, "cum": 0.0}]}],
    ("GET", "/fapi/v1/commissionRate"): {"symbol": "BTCUSDT", "makerCommissionRate": "0.0002",
                                         "takerCommissionRate": "0.0005", "rpiCommissionRate": "0"},
    ("GET", "/fapi/v1/adlQuantile"): [{"symbol": "BTCUSDT", "adlQuantile": {"LONG": 1, "SHORT": 0, "BOTH": 1}}],
    ("GET", "/fapi/v1/accountConfig"): {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
                                        "dualSidePosition": False, "updateTime": 0, "multiAssetsMargin": False,
                                        "tradeGroupId": -1},
    ("GET", "/fapi/v1/symbolConfig"): [{"symbol": "BTCUSDT", "marginType": "CROSSED", "isAutoAddMargin": False,
                                        "leverage": 20, "maxNotionalValue": "1000000"}],
}


def err(status: int, code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


class Reply:
    """An explicit (status, body, headers) answer for ``FakeBinance.set``."""

    def __init__(self, status: int, body: Any, headers: Optional[dict] = None, raw: bool = False) -> None:
        self.status, self.body, self.headers, self.raw = status, body, headers or {}, raw


class FakeBinance:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict]] = []   # (method, path, merged params) of accepted requests
        self.rejected: list[tuple[str, str, int]] = []
        self.overrides: dict[tuple[str, str], Any] = {}
        self.clock_offset_ms = 0                          # server time = local time + offset
        self.listen_key = "L" * 64
        self.listen_key_calls: list[tuple[str, dict]] = []
        self.listen_key_put_reply: Optional[Reply] = None   # e.g. Reply(400, {"code": -1125, ...})
        self.ws_handler: Optional[Callable[[web.WebSocketResponse, web.Request], Awaitable[None]]] = None
        self.ws_connects: list[tuple[str, dict]] = []      # (path, query) of accepted websocket handshakes
        self.depth_handler: Optional[Callable[[dict], Any]] = None
        self.url = ""
        self.ws_url = ""

    def now(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def set(self, method: str, path: str, reply: Any) -> None:
        self.overrides[(method, path)] = reply

    def calls(self, method: str, path: str) -> list[dict]:
        return [p for m, pa, p in self.requests if m == method and pa == path]

    # ------------------------------------------------------------------ REST

    async def rest(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path
        raw_query = request.raw_path.partition("?")[2]
        body = (await request.read()).decode()
        params = dict(parse_qsl(body, keep_blank_values=True))
        params.update(parse_qsl(raw_query, keep_blank_values=True))   # query wins
        key = request.headers.get("X-MBX-APIKEY")
        if path not in PUBLIC:
            if not key:
                return self._reject(method, path, err(401, -2014, "API-key format invalid."))
            if key != KEY:
                return self._reject(method, path, err(401, -2015, "Invalid API-key, IP, or permissions for action."))
        if path not in PUBLIC and path not in KEY_ONLY:
            bad = self._check_signature(raw_query, body, params)
            if bad is not None:
                return self._reject(method, path, bad)
        self.requests.append((method, path, params))
        if path == "/fapi/v1/time":
            return web.json_response({"serverTime": self.now()})
        if path == "/fapi/v1/listenKey":
            self.listen_key_calls.append((method, params))
            if method == "DELETE":
                return web.json_response({})
            if method == "PUT" and self.listen_key_put_reply is not None:
                r = self.listen_key_put_reply
                return web.json_response(r.body, status=r.status)
            return web.json_response({"listenKey": self.listen_key})
        if path == "/fapi/v1/depth" and self.depth_handler is not None and (method, path) not in self.overrides:
            return web.json_response(self.depth_handler(params))
        reply = self.overrides.get((method, path), CANNED.get((method, path)))
        if reply is None:
            return err(404, -5000, f"Path {path}, Method {method} is invalid")
        if callable(reply):
            reply = reply(params)
        if isinstance(reply, Reply):
            if reply.raw:
                return web.Response(status=reply.status, text=reply.body, headers=reply.headers)
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)
        return web.json_response(reply, headers={"X-MBX-USED-WEIGHT-1M": str(len(self.requests))})

    def _reject(self, method: str, path: str, resp: web.Response) -> web.Response:
        self.rejected.append((method, path, json.loads(resp.text)["code"]))
        return resp

    def _check_signature(self, raw_query: str, body: str, params: dict) -> Optional[web.Response]:
        parts = []
        sig = None
        for part in (raw_query, body):
            head, sep, tail = part.rpartition("&signature=")
            if not sep and part.startswith("signature="):
                head, sep, tail = "", "x", part[len("signature="):]
            if sep:
                if "&" in tail or "=" in tail:
                    return err(400, -1022, "Signature for this request is not valid.")  # not last
                sig = tail
                part = head
            parts.append(part)
        if sig is None:
            return err(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        if "timestamp" not in params:
            return err(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        want = hmac.new(SECRET.encode(), "".join(parts).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, sig.lower()):
            return err(400, -1022, "Signature for this request is not valid.")
        ts, rw, now = int(params["timestamp"]), int(params.get("recvWindow", 5000)), self.now()
        if ts >= now + 1000:
            return err(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if now - ts > rw:
            return err(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    # ------------------------------------------------------------------ websockets

    async def ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.ws_connects.append((request.path, dict(request.query)))
        try:
            if self.ws_handler is not None:
                await self.ws_handler(ws, request)
            else:
                async for _ in ws:
                    pass
        finally:
            await ws.close()
        return ws


async def start_fake() -> tuple[FakeBinance, web.AppRunner]:
    fb = FakeBinance()
    app = web.Application()
    for prefix in ("", "/public", "/market", "/private"):
        app.router.add_get(prefix + "/ws", fb.ws)
        app.router.add_get(prefix + "/ws/{tail:.*}", fb.ws)
        app.router.add_get(prefix + "/stream", fb.ws)
    app.router.add_route("*", "/{tail:.*}", fb.rest)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    fb.url = f"http://127.0.0.1:{port}"
    fb.ws_url = f"ws://127.0.0.1:{port}"
    return fb, runner
