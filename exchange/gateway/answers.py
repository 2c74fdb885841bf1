"""Errors answered as Binance JSON: ``guarded`` wraps a non-REST handler (control API,
websockets) so every exception becomes ``{"code", "msg"}`` with Binance's HTTP status,
never a 500, a traceback or an HTML page."""
from __future__ import annotations

import logging

import orjson
from aiohttp import web

from exchange.gateway import errors
from exchange.gateway.errors import BinanceError

log = logging.getLogger("paperex.gateway")
JSON = "application/json"


def http_error(e: web.HTTPException, headers: dict | None = None) -> web.Response:
    status = e.status if 400 <= e.status < 500 else 400
    if status == 404:
        body = errors.Execution.NOT_FOUND().to_body()
    elif status == 413:
        body = errors.General.ENTITY_TOO_LARGE().to_body()
    else:
        body = errors.unknown_error().to_body()
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON, headers=headers)


def _answer_error(request: web.Request, exc: BaseException) -> web.StreamResponse:
    """The Binance answer to an exception escaping a non-REST handler (control API,
    websockets); an HTTPException below 400 is re-raised for aiohttp to answer."""
    if isinstance(exc, BinanceError):
        return web.Response(body=orjson.dumps(exc.to_body()), status=exc.http_status, content_type=JSON,
                            headers=exc.headers)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        if exc.status in (404, 405):
            err = errors.unknown_path(request.path, request.method)
            return web.Response(body=orjson.dumps(err.to_body()), status=404, content_type=JSON)
        return http_error(exc)
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return web.Response(body=orjson.dumps(errors.unknown_error().to_body()), status=400,
                        content_type=JSON)


def guarded(handler):
    """``handler`` answering every error as Binance JSON (``{"code", "msg"}``, never a
    500 or a traceback).  The control API and websocket routes are registered through
    it; the REST routes go to ``Gateway.handle``, which does the same itself.  (This
    was an application middleware: per route, the REST requests skip two coroutine
    layers of aiohttp's middleware chain.)"""
    async def wrapped(request: web.Request):
        try:
            return await handler(request)
        except Exception as e:
            return _answer_error(request, e)
    wrapped.__name__ = getattr(handler, "__name__", "handler")
    wrapped.__qualname__ = getattr(handler, "__qualname__", "handler")
    return wrapped


@web.middleware
async def error_middleware(request: web.Request, handler):
    """``guarded`` as an aiohttp middleware (for applications that want it app-wide)."""
    try:
        return await handler(request)
    except Exception as e:
        return _answer_error(request, e)
