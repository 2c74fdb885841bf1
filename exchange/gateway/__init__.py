"""Layer 5 — the gateway: the Binance USD-M wire over aiohttp, in rooms by face.

* ``rest/`` market data, trading (orders, algo orders), account endpoints;
* ``ws/`` market streams and user data streams, fed from committed results;
* ``control/`` the paperex control API (``/paperex/v1``);
* ``faults/`` injected faults and latency (rules, injector, websocket tap);
* at the top: ``app`` (the ``Gateway`` and the aiohttp application), and the pieces every
  face shares: ``params``, ``auth``, ``keys``, ``errors``, ``ratelimit``, ``format``,
  ``answers``, ``projection`` (trade and kline history), ``market_views``.

The edge's pure pieces (no server, no venue) are called like this:

    raw = await RawRequest.from_aiohttp(request)
    cost = endpoint_cost(raw.method, raw.path, params)      # params = raw.params()
    headers = limiter.check_request(raw.remote, cost, now_ms)
    ctx = authenticate(raw, params, security_type(raw.method, raw.path), keys, wall_ms=..., venue_ms=...)
    ... on BinanceError e: respond e.http_status, e.to_body(), headers | e.headers
"""
from exchange.gateway.errors import BinanceError

__all__ = ["BinanceError"]
