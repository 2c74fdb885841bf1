"""The aiohttp application: Binance USD-M REST + websockets + the paperex control API.

``Gateway`` holds what every handler needs (runtime, key store, rate limiter,
projections, stream hub, listen keys, per-symbol formats).  ``make_app`` builds
the aiohttp ``Application``:

* ``/ws``, ``/stream``, ``/public/...``, ``/market/...``, ``/private/...``: websockets
  (``streams.py``);
* ``/ws-fapi/v1``: the WebSocket API (``ws/api.py``), the REST handlers behind JSON frames;
* ``/paperex/v1/...`` and ``/metrics``: the control API (``control.py``);
* everything else: one catch-all handler that dispatches ``(method, path)``
  through ``Gateway.routes`` (Binance REST); an unknown pair answers 404
  ``{"code":-5000,"msg":"Path ..., Method ... is invalid"}``.

Every error is Binance JSON ``{"code", "msg"}`` with Binance's HTTP status; an
unexpected exception is logged and answered ``400 -1000`` - never a 500, a
traceback or an HTML page (the middleware also turns aiohttp's own HTTP errors
into that shape).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Optional

import orjson
from aiohttp import web

from exchange.engine.sequencer import SequencerFailed

from exchange.gateway import errors
from exchange.gateway.body import read_body
from exchange.gateway.auth import SecurityType, authenticate, authenticate_parts, security_type  # noqa: F401
from exchange.gateway.common import Req, parse_params, wall_ms
from exchange.gateway.errors import BinanceError
from exchange.gateway.format import SymbolFormat
from exchange.gateway.keys import PersistentKeyStore
from exchange.gateway.params import RawRequest, BODY_METHODS, _to_bytes  # noqa: F401
from exchange.gateway.projection import Projection
from exchange.gateway.answers import JSON, error_middleware, guarded, http_error  # noqa: F401 - the app's error answers
from exchange.gateway.ratelimit import (  # noqa: F401
    _DEFAULT_COST, ENDPOINT_WEIGHTS, RateLimitConfig, RateLimiter, endpoint_cost, with_rate_headers,
)

log = logging.getLogger("paperex.gateway")

Handler = Callable[["Gateway", Req], Awaitable[Any]]
GW_KEY = web.AppKey("gateway", object)


def runtime_projection(runtime) -> Projection:
    """The gateway's projection of ``runtime``'s venue (before any journal is fed to it).

    The projection learns from committed results only; the venue's depth query seeds its
    book levels once (the state the journal rebuilt)."""
    venue = runtime.venue
    return Projection(
        runtime.instruments,
        depth=lambda s: (venue.book(s).depth(0, 1 << 30), venue.book(s).depth(1, 1 << 30)))


class Gateway:
    def __init__(self, runtime, keys: Optional[PersistentKeyStore] = None, *,
                 rate_limits: RateLimitConfig | None = None, admin_token: str | None = None,
                 ws_queue_limit: int = 2000, ws_max_lifetime_s: float = 86_400.0,
                 legacy_conditional_orders: bool = True) -> None:
        self.runtime = runtime
        self.flow = None          # the order-flow source paperex serve runs beside us, if any
        self.venue = runtime.venue
        self.sequencer = runtime.sequencer
        self.clock = runtime.clock
        self.instruments = runtime.instruments
        self.keys = keys if keys is not None else PersistentKeyStore(
            runtime.data_dir / "keys.json" if runtime.data_dir is not None else None)
        self.limiter = RateLimiter(rate_limits or RateLimitConfig())
        self.admin_token = admin_token
        self.formats = {s: SymbolFormat(i) for s, i in sorted(self.instruments.items())}
        #: conditional types on /fapi/v1/order (Binance before 2025-12-09, what
        #: binance-futures-connector sends); False answers -4120 as Binance does now
        self.legacy_conditional_orders = legacy_conditional_orders
        self.projection = runtime_projection(runtime)
        # the ranking of accounts (and of a competition's teams) and the dashboard's feed:
        # projections of the journal too, restored with the projection (its checkpoint's
        # companions, then the same journal tail)
        from exchange.engine.leaderboard import Leaderboard
        self.leaderboard = Leaderboard.for_instruments(self.instruments)
        self.competition = None     # the CompetitionGuard of --competition (competition.py)
        from exchange.gateway import dashboard
        self.dashboard = dashboard.install(self)     # the page's projection (dashboard/feed.py)
        if runtime.data_dir is not None and (runtime.data_dir / "journal").exists():
            try:
                from exchange.gateway.projection_checkpoint import restore
                restore(self.projection, runtime.data_dir, runtime.sequencer.seq)
            except Exception:  # a projection must never keep the exchange from starting
                log.exception("projection rebuild failed; history starts empty")
        dashboard.restored(self)
        if runtime.data_dir is not None:
            # a checkpoint beside every venue snapshot: the next start reads only the tail
            from exchange.gateway.projection_checkpoint import write_checkpoint
            runtime.snapshot_companions.append(
                lambda directory, seq: write_checkpoint(directory, self.projection, seq))
        self.sequencer.subscribe(self.projection.on_executed)
        self.sequencer.subscribe(self.leaderboard.on_executed)
        self.faults = None          # the FaultInjector while faults / latency are on (faults.py)
        self.fault_injector = None
        self.routes: dict[tuple[str, str], tuple[Handler, SecurityType]] = {}
        self.paths: set[str] = set()
        self.requests_total = 0
        self.errors_total = 0
        self.orders_placed = 0
        self.started_ms = wall_ms()
        from exchange.gateway.ws.market_streams import StreamHub
        from exchange.gateway.ws.user_data import UserStreams
        self.hub = StreamHub(self, queue_limit=ws_queue_limit, max_lifetime_s=ws_max_lifetime_s)
        self.users = UserStreams(self)
        self.projection.listeners.append(self.hub.on_executed)
        self.projection.listeners.append(self.users.on_executed)
        from exchange.gateway.rest import algo as conditional
        from exchange.gateway.rest import account as rest_account
        from exchange.gateway.rest import market_data as rest_market
        from exchange.gateway.rest import trade as rest_trade
        rest_market.register(self)
        rest_trade.register(self)
        rest_account.register(self)
        conditional.register(self)

    # ------------------------------------------------------------- routes
    def route(self, method: str, path: str, handler: Handler,
              security: SecurityType | None = None) -> None:
        sec = security or security_type(method, path) or SecurityType.NONE
        self.routes[(method, path)] = (handler, sec)
        self.paths.add(path)

    def next_account_id(self) -> int:
        """A fresh account id, reserved synchronously (concurrent creations never collide)."""
        nxt = max(max(self.venue.accounts, default=0), max(self.keys.accounts(), default=0),
                  getattr(self, "_last_account_id", 0)) + 1
        self._last_account_id = nxt
        return nxt

    def now(self) -> int:
        """The venue's time (what every response and event carries)."""
        return self.clock.now_ms()

    async def submit(self, command):
        if self.competition is not None:
            self.competition.check(command)     # a team's order outside the window: -4108
        try:
            res = await self.sequencer.submit(command)
        except SequencerFailed:
            raise errors.internal_error() from None
        if res.error:
            # the venue raised (a bug, logged by the sequencer): never answer as if it worked
            raise errors.unknown_error()
        return res

    # ----------------------------------------------------------- dispatch
    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests_total += 1
        method = request.method
        path = request.path
        ip = request.remote or ""
        wall = wall_ms()
        key = (method, path)
        route = self.routes.get(key)
        headers: dict[str, str] = {}
        try:
            if route is None:
                headers = self.limiter.check_request(ip, 1, wall)
                raise errors.unknown_path(path, method)
            # what RawRequest.from_aiohttp reads (a known route's method is upper case)
            raw_query = request.raw_path.partition("?")[2]
            try:
                raw_query = raw_query.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                raw_query = _to_bytes(raw_query)
            raw_body = await read_body(request) if method in BODY_METHODS and request.can_read_body else b""
            params = parse_params(raw_query, raw_body)
            cost_fn = ENDPOINT_WEIGHTS.get(key)
            cost = _DEFAULT_COST if cost_fn is None else cost_fn(params)
            headers = self.limiter.check_request(ip, cost, wall)
            handler, security = route
            venue_now = self.clock.now_ms()
            if security is SecurityType.NONE:
                req = Req(params, None, None, venue_now, ip, method, path, request.headers)
            else:
                rec = authenticate_parts(request.headers, raw_query, raw_body, params, security, self.keys,
                                         wall, venue_now if venue_now != wall else None)[0]
                req = Req(params, rec.account_id, rec.api_key, venue_now, ip, method, path,
                          request.headers)
                if cost.is_order:
                    headers.update(self.limiter.check_orders(rec.account_id, cost, wall))
            if self.faults is None:
                body = await handler(self, req)
            else:                           # faults / latency model on (faults.py)
                body = await self.faults.around(self, req, handler)
        except BinanceError as e:
            self.errors_total += 1
            with_rate_headers(e, headers)
            return web.Response(body=orjson.dumps(e.to_body()), status=e.http_status,
                                content_type=JSON, headers=e.headers)
        except web.HTTPException as e:
            self.errors_total += 1
            return http_error(e, headers)
        except Exception:  # never a 500 / traceback
            self.errors_total += 1
            log.exception("unexpected error on %s %s", method, path)
            e = errors.unknown_error()
            return web.Response(body=orjson.dumps(e.to_body()), status=e.http_status,
                                content_type=JSON, headers=headers)
        return web.Response(body=orjson.dumps(body), content_type=JSON, headers=headers)


class _AnyPath(web.DynamicResource):
    """The last route: every request target the catch-all's pattern does not match
    (``OPTIONS *``), so aiohttp never answers a routing error of its own."""

    def _match(self, path: str):
        return {"tail": path}


async def _unknown_target(request: web.Request) -> web.StreamResponse:
    err = errors.unknown_path(request.path, request.method)
    return web.Response(body=orjson.dumps(err.to_body()), status=404, content_type=JSON)


def make_app(gw: Gateway, *, client_max_size: int = 1 << 20) -> web.Application:
    # no middleware: every route answers its own errors as Binance JSON (REST:
    # Gateway.handle; control API and websockets: ``guarded``), and every target is routed
    app = web.Application(client_max_size=client_max_size)
    app[GW_KEY] = gw
    from exchange.gateway.control import api as control
    from exchange.gateway.ws import api as ws_api
    from exchange.gateway.ws import market_streams as streams
    streams.add_routes(app, gw)
    ws_api.add_routes(app, gw)          # /ws-fapi/v1: the WebSocket API
    control.add_routes(app, gw)
    from exchange.gateway import competition
    competition.add_routes(app, gw)
    from exchange.gateway import dashboard
    dashboard.add_routes(app, gw)

    binance = gw.handle     # the bound method itself: one coroutine frame less per request

    for path in sorted(gw.paths):       # exact routes resolve fastest; the catch-all answers -5000
        app.router.add_route("*", path, binance)
    app.router.add_route("*", "/{tail:.*}", binance)
    anything = _AnyPath("/{tail:.*}")
    app.router.register_resource(anything)
    anything.add_route("*", _unknown_target)

    async def on_shutdown(app: web.Application) -> None:
        await gw.hub.close_all()
        await gw.wsapi.close_all()

    async def on_startup(app: web.Application) -> None:
        gw.hub.start()
        gw.users.start()

    async def on_cleanup(app: web.Application) -> None:
        if gw.competition is not None:
            await gw.competition.stop()
        gw.countdowns.stop()
        await gw.hub.stop()
        await gw.users.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


__all__ = ["Gateway", "runtime_projection", "make_app", "guarded", "GW_KEY", "BODY_METHODS"]
