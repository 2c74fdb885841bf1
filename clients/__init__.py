"""Clients for paperex and the Binance USD-M Futures wire API.

``clients.usdm.UsdmClient`` is the async REST + websocket client; ``clients.orderbook.LocalOrderBook``
keeps a local book in sync from depth diffs.
"""
from clients.errors import BinanceAPIError, RateLimitError, ServerError, StreamError
from clients.orderbook import LocalOrderBook
from clients.streams import MarketStream, UserStream
from clients.usdm import UsdmClient

__all__ = ["UsdmClient", "LocalOrderBook", "MarketStream", "UserStream", "BinanceAPIError", "RateLimitError",
           "ServerError", "StreamError"]
