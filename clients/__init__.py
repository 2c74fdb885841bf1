"""Clients for paperex and the Binance USD-M Futures wire API.

``clients.usdm.UsdmClient`` is the async REST + websocket client; ``clients.orderbook.LocalOrderBook``
keeps a local book in sync from depth diffs.
"""
from .errors import BinanceAPIError, RateLimitError, ServerError, StreamError
from .orderbook import LocalOrderBook
from .streams import MarketStream, UserStream
from .usdm import UsdmClient

__all__ = ["UsdmClient", "LocalOrderBook", "MarketStream", "UserStream", "BinanceAPIError", "RateLimitError",
           "ServerError", "StreamError"]
