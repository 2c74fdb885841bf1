"""The Binance USD-M wire edge: parameter parsing, HMAC auth, error catalog, rate limits.

Pure pieces (no server, no venue); the aiohttp routes call into them:

    raw = await RawRequest.from_aiohttp(request)
    cost = endpoint_cost(raw.method, raw.path, params)      # params = raw.params()
    headers = limiter.check_request(raw.remote, cost, now_ms)
    ctx = authenticate(raw, params, security_type(raw.method, raw.path), keys, wall_ms=..., venue_ms=...)
    ... on BinanceError e: respond e.http_status, e.to_body(), headers | e.headers
"""
from .errors import BinanceError

__all__ = ["BinanceError"]
