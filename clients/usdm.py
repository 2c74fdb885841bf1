"""Async client for the Binance USD-M Futures wire API (aiohttp).

Works against paperex (``base_url="http://127.0.0.1:8800"``) and against the real
``https://fapi.binance.com``: same paths, same signing, same JSON.

Wire conventions used by this client (spec §1-§3):

* every parameter travels in the query string, for every method; the body is empty;
* SIGNED calls append ``recvWindow`` (if configured), ``timestamp`` and, last,
  ``signature = hex(HMAC_SHA256(secret, query))``;
* ``X-MBX-APIKEY`` is sent on SIGNED, USER_STREAM and MARKET_DATA calls;
* any 4xx/5xx, or an HTTP 200 whose JSON object carries a negative ``code``, raises
  :class:`BinanceAPIError` (:class:`RateLimitError` for 429/418, :class:`ServerError` for 5xx).

Orders are never retried automatically.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any, Iterable, Optional, Sequence, Union
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from clients.errors import BinanceAPIError, error_from_response
from clients.models import (Account, AggTrade, AlgoOrder, Balance, BookTicker, CommissionRate, Depth, ExchangeInfo,
                     FundingRate, Income, Kline, MarkPrice, OpenInterest, Order, Position, Ticker24h, TickerPrice,
                     Trade, UserTrade, one_or_many)
from clients.signing import encode_params, format_value, signed_query

__all__ = ["UsdmClient", "derive_ws_url"]

Num = Union[Decimal, str, int, float]

BINANCE_REST = "https://fapi.binance.com"
BINANCE_WS = "wss://fstream.binance.com"


def derive_ws_url(base_url: str) -> str:
    """The websocket base that goes with a REST base URL."""
    u = urlsplit(base_url)
    host = u.netloc
    if host == "fapi.binance.com":
        return BINANCE_WS
    if host == "testnet.binancefuture.com":
        return "wss://fstream.binancefuture.com"
    if host.startswith("demo-fapi.binance.com"):
        return "wss://demo-fstream.binance.com"
    scheme = "wss" if u.scheme == "https" else "ws"
    return f"{scheme}://{host}"


class UsdmClient:
    """``async with UsdmClient(key, secret, base_url=...) as c: await c.new_order(...)``.

    ``ws_url`` defaults to the websocket base matching ``base_url`` (``wss://fstream.binance.com``
    for Binance, ``ws://host:port`` for paperex).  ``ws_routes=True`` opens market streams under
    ``/public`` or ``/market`` and the user stream under ``/private`` (Binance's 2026 URL layout,
    also served by paperex); ``False`` uses the legacy root ``/stream`` and ``/ws``.
    """

    def __init__(self, api_key: Optional[str] = None, api_secret: Optional[str] = None,
                 base_url: str = BINANCE_REST, ws_url: Optional[str] = None, recv_window: Optional[int] = 5000,
                 session: Optional[aiohttp.ClientSession] = None, *, timeout: float = 10.0,
                 ws_routes: bool = True, reconnect_min_delay: float = 0.5, reconnect_max_delay: float = 30.0,
                 ws_heartbeat: Optional[float] = None, ws_receive_timeout: Optional[float] = 600.0) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.base_url = base_url.rstrip("/")
        self.ws_url = (ws_url or derive_ws_url(self.base_url)).rstrip("/")
        self.recv_window = recv_window
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.ws_routes = ws_routes
        self.reconnect_min_delay = reconnect_min_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.ws_heartbeat = ws_heartbeat
        self.ws_receive_timeout = ws_receive_timeout
        self.time_offset_ms = 0           # server time - local time, set by sync_time()
        self.last_headers: dict[str, str] = {}
        self._session = session
        self._own_session = session is None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> "UsdmClient":
        self.session  # create it inside the running loop
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._own_session and self._session.closed):
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # ------------------------------------------------------------------ plumbing

    def timestamp(self) -> int:
        """Milliseconds for the ``timestamp`` parameter (local clock + server offset)."""
        return int(time.time() * 1000) + self.time_offset_ms

    async def sync_time(self) -> int:
        """Measure the offset to ``/fapi/v1/time`` (half round trip corrected); returns it in ms."""
        t0 = time.time() * 1000
        server = await self.server_time()
        t1 = time.time() * 1000
        self.time_offset_ms = int(round(server - (t0 + t1) / 2))
        return self.time_offset_ms

    @property
    def used_weight(self) -> Optional[int]:
        """``X-MBX-USED-WEIGHT-1M`` of the last response, if the server sent it."""
        for k, v in self.last_headers.items():
            if k.lower() == "x-mbx-used-weight-1m":
                try:
                    return int(v)
                except ValueError:
                    return None
        return None

    async def request(self, method: str, path: str, params: Optional[dict] = None, *,
                      signed: bool = False, api_key: bool = False) -> Any:
        """Send one request and return the decoded JSON (raises :class:`BinanceAPIError`)."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        headers = {}
        if signed or api_key:
            if not self.api_key:
                raise ValueError(f"{method} {path} needs an API key")
            headers["X-MBX-APIKEY"] = self.api_key
        if signed:
            if not self.api_secret:
                raise ValueError(f"{method} {path} needs an API secret")
            qs = signed_query(self.api_secret, params, timestamp=self.timestamp(), recv_window=self.recv_window)
        else:
            qs = encode_params(params)
        url = URL(self.base_url + path + (f"?{qs}" if qs else ""), encoded=True)
        async with self.session.request(method, url, headers=headers) as resp:
            text = await resp.text()
            self.last_headers = dict(resp.headers)
            status = resp.status
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if status >= 400 or (status == 200 and data is None and text):
            raise error_from_response(status, data, text, self.last_headers)
        if isinstance(data, dict) and _negative_code(data.get("code")):
            raise error_from_response(status, data, text, self.last_headers)
        return data

    async def _public(self, path: str, **params) -> Any:
        return await self.request("GET", path, params)

    async def _signed(self, method: str, path: str, **params) -> Any:
        return await self.request(method, path, params, signed=True)

    # ------------------------------------------------------------------ market data (§6)

    async def ping(self) -> dict:
        return await self._public("/fapi/v1/ping")

    async def server_time(self) -> int:
        return int((await self._public("/fapi/v1/time"))["serverTime"])

    time = server_time  # alias matching the endpoint name

    async def exchange_info(self) -> ExchangeInfo:
        return ExchangeInfo.from_json(await self._public("/fapi/v1/exchangeInfo"))

    async def depth(self, symbol: str, limit: Optional[int] = None) -> Depth:
        return Depth.from_json(await self._public("/fapi/v1/depth", symbol=symbol, limit=limit))

    async def trades(self, symbol: str, limit: Optional[int] = None) -> list[Trade]:
        return [Trade.from_json(x) for x in await self._public("/fapi/v1/trades", symbol=symbol, limit=limit)]

    async def historical_trades(self, symbol: str, limit: Optional[int] = None,
                                from_id: Optional[int] = None) -> list[Trade]:
        data = await self.request("GET", "/fapi/v1/historicalTrades",
                                  {"symbol": symbol, "limit": limit, "fromId": from_id}, api_key=True)
        return [Trade.from_json(x) for x in data]

    async def agg_trades(self, symbol: str, from_id: Optional[int] = None, start_time: Optional[int] = None,
                         end_time: Optional[int] = None, limit: Optional[int] = None) -> list[AggTrade]:
        data = await self._public("/fapi/v1/aggTrades", symbol=symbol, fromId=from_id, startTime=start_time,
                                  endTime=end_time, limit=limit)
        return [AggTrade.from_json(x) for x in data]

    async def klines(self, symbol: str, interval: str, start_time: Optional[int] = None,
                     end_time: Optional[int] = None, limit: Optional[int] = None) -> list[Kline]:
        return await self._klines("/fapi/v1/klines", symbol=symbol, interval=interval, startTime=start_time,
                                  endTime=end_time, limit=limit)

    async def mark_price_klines(self, symbol: str, interval: str, start_time: Optional[int] = None,
                                end_time: Optional[int] = None, limit: Optional[int] = None) -> list[Kline]:
        return await self._klines("/fapi/v1/markPriceKlines", symbol=symbol, interval=interval,
                                  startTime=start_time, endTime=end_time, limit=limit)

    async def index_price_klines(self, pair: str, interval: str, start_time: Optional[int] = None,
                                 end_time: Optional[int] = None, limit: Optional[int] = None) -> list[Kline]:
        return await self._klines("/fapi/v1/indexPriceKlines", pair=pair, interval=interval,
                                  startTime=start_time, endTime=end_time, limit=limit)

    async def premium_index_klines(self, symbol: str, interval: str, start_time: Optional[int] = None,
                                   end_time: Optional[int] = None, limit: Optional[int] = None) -> list[Kline]:
        return await self._klines("/fapi/v1/premiumIndexKlines", symbol=symbol, interval=interval,
                                  startTime=start_time, endTime=end_time, limit=limit)

    async def continuous_klines(self, pair: str, contract_type: str, interval: str,
                                start_time: Optional[int] = None, end_time: Optional[int] = None,
                                limit: Optional[int] = None) -> list[Kline]:
        return await self._klines("/fapi/v1/continuousKlines", pair=pair, contractType=contract_type,
                                  interval=interval, startTime=start_time, endTime=end_time, limit=limit)

    async def _klines(self, path: str, **params) -> list[Kline]:
        return [Kline.from_json(x) for x in await self._public(path, **params)]

    async def premium_index(self, symbol: Optional[str] = None) -> Union[MarkPrice, list[MarkPrice]]:
        """Mark/index price and funding: one object with ``symbol``, a list without."""
        return one_or_many(await self._public("/fapi/v1/premiumIndex", symbol=symbol), MarkPrice.from_json)

    mark_price = premium_index

    async def funding_rate(self, symbol: Optional[str] = None, start_time: Optional[int] = None,
                           end_time: Optional[int] = None, limit: Optional[int] = None) -> list[FundingRate]:
        data = await self._public("/fapi/v1/fundingRate", symbol=symbol, startTime=start_time, endTime=end_time,
                                  limit=limit)
        return [FundingRate.from_json(x) for x in data]

    async def funding_info(self) -> list[dict]:
        return await self._public("/fapi/v1/fundingInfo")

    async def ticker_24hr(self, symbol: Optional[str] = None) -> Union[Ticker24h, list[Ticker24h]]:
        return one_or_many(await self._public("/fapi/v1/ticker/24hr", symbol=symbol), Ticker24h.from_json)

    async def ticker_price(self, symbol: Optional[str] = None) -> Union[TickerPrice, list[TickerPrice]]:
        return one_or_many(await self._public("/fapi/v2/ticker/price", symbol=symbol), TickerPrice.from_json)

    async def book_ticker(self, symbol: Optional[str] = None) -> Union[BookTicker, list[BookTicker]]:
        return one_or_many(await self._public("/fapi/v1/ticker/bookTicker", symbol=symbol), BookTicker.from_json)

    async def open_interest(self, symbol: str) -> OpenInterest:
        return OpenInterest.from_json(await self._public("/fapi/v1/openInterest", symbol=symbol))

    # ------------------------------------------------------------------ orders (§7.3)

    @staticmethod
    def _order_params(symbol: str, side: str, type: str, quantity: Optional[Num], price: Optional[Num],
                      time_in_force: Optional[str], reduce_only: Optional[bool], position_side: Optional[str],
                      new_client_order_id: Optional[str], new_order_resp_type: Optional[str],
                      self_trade_prevention_mode: Optional[str], good_till_date: Optional[int],
                      price_match: Optional[str], extra: dict) -> dict:
        if time_in_force is None and type.upper() == "LIMIT":
            time_in_force = "GTC"
        p = {"symbol": symbol, "side": side, "type": type, "positionSide": position_side,
             "timeInForce": time_in_force, "quantity": quantity, "price": price, "reduceOnly": reduce_only,
             "newClientOrderId": new_client_order_id, "newOrderRespType": new_order_resp_type,
             "selfTradePreventionMode": self_trade_prevention_mode, "goodTillDate": good_till_date,
             "priceMatch": price_match}
        p.update(extra)
        return p

    async def new_order(self, symbol: str, side: str, type: str, quantity: Optional[Num] = None,
                        price: Optional[Num] = None, *, time_in_force: Optional[str] = None,
                        reduce_only: Optional[bool] = None, position_side: Optional[str] = None,
                        new_client_order_id: Optional[str] = None, new_order_resp_type: Optional[str] = "RESULT",
                        self_trade_prevention_mode: Optional[str] = None, good_till_date: Optional[int] = None,
                        price_match: Optional[str] = None, **extra) -> Order:
        """``POST /fapi/v1/order``.  LIMIT defaults to GTC; the response type defaults to RESULT
        (pass ``new_order_resp_type=None`` for the server default ACK).  ``extra`` goes on the wire as is."""
        p = self._order_params(symbol, side, type, quantity, price, time_in_force, reduce_only, position_side,
                               new_client_order_id, new_order_resp_type, self_trade_prevention_mode,
                               good_till_date, price_match, extra)
        return Order.from_json(await self._signed("POST", "/fapi/v1/order", **p))

    async def test_order(self, symbol: str, side: str, type: str, quantity: Optional[Num] = None,
                         price: Optional[Num] = None, *, time_in_force: Optional[str] = None,
                         reduce_only: Optional[bool] = None, position_side: Optional[str] = None,
                         new_client_order_id: Optional[str] = None, new_order_resp_type: Optional[str] = None,
                         self_trade_prevention_mode: Optional[str] = None, good_till_date: Optional[int] = None,
                         price_match: Optional[str] = None, **extra) -> dict:
        """``POST /fapi/v1/order/test``: validation only; returns the raw reply."""
        p = self._order_params(symbol, side, type, quantity, price, time_in_force, reduce_only, position_side,
                               new_client_order_id, new_order_resp_type, self_trade_prevention_mode,
                               good_till_date, price_match, extra)
        return await self._signed("POST", "/fapi/v1/order/test", **p)

    async def modify_order(self, symbol: str, side: str, quantity: Num, price: Num, *,
                           order_id: Optional[int] = None, orig_client_order_id: Optional[str] = None,
                           price_match: Optional[str] = None, **extra) -> Order:
        """``PUT /fapi/v1/order`` (LIMIT only)."""
        _need_id(order_id, orig_client_order_id)
        return Order.from_json(await self._signed(
            "PUT", "/fapi/v1/order", symbol=symbol, side=side, quantity=quantity, price=price, orderId=order_id,
            origClientOrderId=orig_client_order_id, priceMatch=price_match, **extra))

    async def cancel_order(self, symbol: str, order_id: Optional[int] = None,
                           orig_client_order_id: Optional[str] = None) -> Order:
        _need_id(order_id, orig_client_order_id)
        return Order.from_json(await self._signed("DELETE", "/fapi/v1/order", symbol=symbol, orderId=order_id,
                                                  origClientOrderId=orig_client_order_id))

    async def get_order(self, symbol: str, order_id: Optional[int] = None,
                        orig_client_order_id: Optional[str] = None) -> Order:
        _need_id(order_id, orig_client_order_id)
        return Order.from_json(await self._signed("GET", "/fapi/v1/order", symbol=symbol, orderId=order_id,
                                                  origClientOrderId=orig_client_order_id))

    async def get_open_order(self, symbol: str, order_id: Optional[int] = None,
                             orig_client_order_id: Optional[str] = None) -> Order:
        _need_id(order_id, orig_client_order_id)
        return Order.from_json(await self._signed("GET", "/fapi/v1/openOrder", symbol=symbol, orderId=order_id,
                                                  origClientOrderId=orig_client_order_id))

    async def open_orders(self, symbol: Optional[str] = None) -> list[Order]:
        return [Order.from_json(x) for x in await self._signed("GET", "/fapi/v1/openOrders", symbol=symbol)]

    async def cancel_all(self, symbol: str) -> dict:
        """``DELETE /fapi/v1/allOpenOrders`` -> ``{"code":200,"msg":...}``."""
        return await self._signed("DELETE", "/fapi/v1/allOpenOrders", symbol=symbol)

    cancel_all_orders = cancel_all

    async def all_orders(self, symbol: str, order_id: Optional[int] = None, start_time: Optional[int] = None,
                         end_time: Optional[int] = None, limit: Optional[int] = None) -> list[Order]:
        data = await self._signed("GET", "/fapi/v1/allOrders", symbol=symbol, orderId=order_id,
                                  startTime=start_time, endTime=end_time, limit=limit)
        return [Order.from_json(x) for x in data]

    async def batch_orders(self, orders: Sequence[dict]) -> list[Union[Order, BinanceAPIError]]:
        """``POST /fapi/v1/batchOrders`` (≤5 orders, wire keys: ``{"symbol":..,"side":..,"type":..}``).
        Returns, in input order, an :class:`Order` or a :class:`BinanceAPIError` per item."""
        data = await self._signed("POST", "/fapi/v1/batchOrders", batchOrders=_batch(orders))
        return _batch_reply(data)

    async def modify_batch_orders(self, orders: Sequence[dict]) -> list[Union[Order, BinanceAPIError]]:
        data = await self._signed("PUT", "/fapi/v1/batchOrders", batchOrders=_batch(orders))
        return _batch_reply(data)

    async def cancel_batch_orders(self, symbol: str, order_ids: Optional[Iterable[int]] = None,
                                  orig_client_order_ids: Optional[Iterable[str]] = None
                                  ) -> list[Union[Order, BinanceAPIError]]:
        data = await self._signed(
            "DELETE", "/fapi/v1/batchOrders", symbol=symbol,
            orderIdList=None if order_ids is None else [int(x) for x in order_ids],
            origClientOrderIdList=None if orig_client_order_ids is None else list(orig_client_order_ids))
        return _batch_reply(data)

    async def countdown_cancel_all(self, symbol: str, countdown_time: int) -> dict:
        return await self._signed("POST", "/fapi/v1/countdownCancelAll", symbol=symbol,
                                  countdownTime=countdown_time)

    async def user_trades(self, symbol: str, order_id: Optional[int] = None, start_time: Optional[int] = None,
                          end_time: Optional[int] = None, from_id: Optional[int] = None,
                          limit: Optional[int] = None) -> list[UserTrade]:
        data = await self._signed("GET", "/fapi/v1/userTrades", symbol=symbol, orderId=order_id,
                                  startTime=start_time, endTime=end_time, fromId=from_id, limit=limit)
        return [UserTrade.from_json(x) for x in data]

    async def force_orders(self, symbol: Optional[str] = None, auto_close_type: Optional[str] = None,
                           start_time: Optional[int] = None, end_time: Optional[int] = None,
                           limit: Optional[int] = None) -> list[Order]:
        """``GET /fapi/v1/forceOrders``: the account's liquidation / ADL orders."""
        data = await self._signed("GET", "/fapi/v1/forceOrders", symbol=symbol, autoCloseType=auto_close_type,
                                  startTime=start_time, endTime=end_time, limit=limit)
        return [Order.from_json(x) for x in data]

    # ------------------------------------------------------------------ algo (conditional) orders (§7.4)

    async def new_algo_order(self, symbol: str, side: str, type: str, quantity: Optional[Num] = None,
                             price: Optional[Num] = None, *, trigger_price: Optional[Num] = None,
                             algo_type: str = "CONDITIONAL", time_in_force: Optional[str] = None,
                             working_type: Optional[str] = None, position_side: Optional[str] = None,
                             reduce_only: Optional[bool] = None, close_position: Optional[bool] = None,
                             price_protect: Optional[bool] = None, activate_price: Optional[Num] = None,
                             callback_rate: Optional[Num] = None, client_algo_id: Optional[str] = None,
                             new_order_resp_type: Optional[str] = None, **extra) -> AlgoOrder:
        """``POST /fapi/v1/algoOrder``: STOP[_MARKET], TAKE_PROFIT[_MARKET], TRAILING_STOP_MARKET."""
        data = await self._signed(
            "POST", "/fapi/v1/algoOrder", algoType=algo_type, symbol=symbol, side=side, type=type,
            positionSide=position_side, timeInForce=time_in_force, quantity=quantity, price=price,
            triggerPrice=trigger_price, workingType=working_type, reduceOnly=reduce_only,
            closePosition=close_position, priceProtect=price_protect, activatePrice=activate_price,
            callbackRate=callback_rate, clientAlgoId=client_algo_id, newOrderRespType=new_order_resp_type,
            **extra)
        return AlgoOrder.from_json(data)

    async def cancel_algo_order(self, algo_id: Optional[int] = None, client_algo_id: Optional[str] = None) -> dict:
        _need_id(algo_id, client_algo_id, "algoId", "clientAlgoId")
        return await self._signed("DELETE", "/fapi/v1/algoOrder", algoId=algo_id, clientAlgoId=client_algo_id)

    async def get_algo_order(self, algo_id: Optional[int] = None,
                             client_algo_id: Optional[str] = None) -> AlgoOrder:
        _need_id(algo_id, client_algo_id, "algoId", "clientAlgoId")
        return AlgoOrder.from_json(await self._signed("GET", "/fapi/v1/algoOrder", algoId=algo_id,
                                                      clientAlgoId=client_algo_id))

    async def open_algo_orders(self, symbol: Optional[str] = None) -> list[AlgoOrder]:
        data = await self._signed("GET", "/fapi/v1/openAlgoOrders", symbol=symbol)
        return [AlgoOrder.from_json(x) for x in _rows(data)]

    async def all_algo_orders(self, symbol: str, algo_id: Optional[int] = None, start_time: Optional[int] = None,
                              end_time: Optional[int] = None, limit: Optional[int] = None) -> list[AlgoOrder]:
        data = await self._signed("GET", "/fapi/v1/allAlgoOrders", symbol=symbol, algoId=algo_id,
                                  startTime=start_time, endTime=end_time, limit=limit)
        return [AlgoOrder.from_json(x) for x in _rows(data)]

    async def cancel_all_algo_orders(self, symbol: str) -> dict:
        return await self._signed("DELETE", "/fapi/v1/algoOpenOrders", symbol=symbol)

    # ------------------------------------------------------------------ account (§7.1, §7.2)

    async def account(self) -> Account:
        return Account.from_json(await self._signed("GET", "/fapi/v3/account"))

    async def balance(self) -> list[Balance]:
        return [Balance.from_json(x) for x in await self._signed("GET", "/fapi/v3/balance")]

    async def position_risk(self, symbol: Optional[str] = None) -> list[Position]:
        return [Position.from_json(x) for x in await self._signed("GET", "/fapi/v3/positionRisk", symbol=symbol)]

    async def change_leverage(self, symbol: str, leverage: int) -> dict:
        return await self._signed("POST", "/fapi/v1/leverage", symbol=symbol, leverage=int(leverage))

    async def change_margin_type(self, symbol: str, margin_type: str) -> dict:
        """``margin_type``: ``ISOLATED`` or ``CROSSED``."""
        return await self._signed("POST", "/fapi/v1/marginType", symbol=symbol, marginType=margin_type)

    async def get_position_mode(self) -> bool:
        """True = hedge mode (dual side)."""
        return bool((await self._signed("GET", "/fapi/v1/positionSide/dual"))["dualSidePosition"])

    async def set_position_mode(self, dual_side_position: bool) -> dict:
        return await self._signed("POST", "/fapi/v1/positionSide/dual", dualSidePosition=bool(dual_side_position))

    async def get_multi_assets_margin(self) -> bool:
        return bool((await self._signed("GET", "/fapi/v1/multiAssetsMargin"))["multiAssetsMargin"])

    async def set_multi_assets_margin(self, multi_assets_margin: bool) -> dict:
        return await self._signed("POST", "/fapi/v1/multiAssetsMargin", multiAssetsMargin=bool(multi_assets_margin))

    async def position_margin(self, symbol: str, amount: Num, type: int,
                              position_side: Optional[str] = None) -> dict:
        """``type`` 1 = add margin, 2 = reduce (isolated positions)."""
        return await self._signed("POST", "/fapi/v1/positionMargin", symbol=symbol, amount=amount, type=int(type),
                                  positionSide=position_side)

    async def income(self, symbol: Optional[str] = None, income_type: Optional[str] = None,
                     start_time: Optional[int] = None, end_time: Optional[int] = None,
                     page: Optional[int] = None, limit: Optional[int] = None) -> list[Income]:
        data = await self._signed("GET", "/fapi/v1/income", symbol=symbol, incomeType=income_type,
                                  startTime=start_time, endTime=end_time, page=page, limit=limit)
        return [Income.from_json(x) for x in data]

    async def leverage_bracket(self, symbol: Optional[str] = None) -> list[dict]:
        """Raw brackets (JSON numbers); always a list, even when Binance returns one object."""
        data = await self._signed("GET", "/fapi/v1/leverageBracket", symbol=symbol)
        return data if isinstance(data, list) else [data]

    async def commission_rate(self, symbol: str) -> CommissionRate:
        return CommissionRate.from_json(await self._signed("GET", "/fapi/v1/commissionRate", symbol=symbol))

    async def adl_quantile(self, symbol: Optional[str] = None) -> Any:
        return await self._signed("GET", "/fapi/v1/adlQuantile", symbol=symbol)

    async def account_config(self) -> dict:
        return await self._signed("GET", "/fapi/v1/accountConfig")

    async def symbol_config(self, symbol: Optional[str] = None) -> list[dict]:
        return await self._signed("GET", "/fapi/v1/symbolConfig", symbol=symbol)

    # ------------------------------------------------------------------ listen key (§10.1)

    async def new_listen_key(self) -> str:
        return (await self.request("POST", "/fapi/v1/listenKey", api_key=True))["listenKey"]

    async def keepalive_listen_key(self, listen_key: Optional[str] = None) -> dict:
        return await self.request("PUT", "/fapi/v1/listenKey", {"listenKey": listen_key}, api_key=True)

    async def close_listen_key(self, listen_key: Optional[str] = None) -> dict:
        return await self.request("DELETE", "/fapi/v1/listenKey", {"listenKey": listen_key}, api_key=True)

    # ------------------------------------------------------------------ websockets

    def market_stream(self, *streams: str, **kw):
        """Combined market stream with reconnect: ``async with c.market_stream("btcusdt@aggTrade") as s:
        async for msg in s: msg.stream, msg.data``.  See :class:`clients.streams.MarketStream`."""
        from clients.streams import MarketStream
        return MarketStream(self, streams, **kw)

    def user_stream(self, **kw):
        """User data stream (listenKey create/keep-alive/reconnect).  See :class:`clients.streams.UserStream`."""
        from clients.streams import UserStream
        return UserStream(self, **kw)

    def order_book(self, symbol: str, **kw):
        """A :class:`clients.orderbook.LocalOrderBook` for ``symbol``."""
        from clients.orderbook import LocalOrderBook
        return LocalOrderBook(self, symbol, **kw)


# ---------------------------------------------------------------------------- helpers

def _negative_code(code: Any) -> bool:
    try:
        return code is not None and not isinstance(code, bool) and int(code) < 0
    except (TypeError, ValueError):
        return False


def _need_id(a: Any, b: Any, na: str = "orderId", nb: str = "origClientOrderId") -> None:
    if a is None and b is None:
        raise ValueError(f"either {na} or {nb} is required")


def _batch(orders: Sequence[dict]) -> list[dict]:
    """Batch items with every value rendered as a wire string (Binance's documented form)."""
    return [{k: format_value(v) for k, v in o.items() if v is not None} for o in orders]


def _batch_reply(data: Any) -> list:
    out: list = []
    for item in data or []:
        if isinstance(item, dict) and "orderId" not in item and _negative_code(item.get("code")):
            out.append(BinanceAPIError(200, int(item["code"]), str(item.get("msg", "")), body=item))
        else:
            out.append(Order.from_json(item))
    return out


def _rows(data: Any) -> list:
    """Algo list replies: a bare array (or, defensively, ``{"orders": [...]}``)."""
    if isinstance(data, dict):
        for k in ("orders", "rows", "data"):
            if isinstance(data.get(k), list):
                return data[k]
        return []
    return data or []
