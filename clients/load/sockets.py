"""Websockets under Locust (gevent) and the message-lag metric.

``websocket-client`` is a blocking client; Locust monkey-patches sockets, so each blocking
``recv`` only parks its own greenlet. Routes are the client's (``clients.streams.stream_route``:
depth and bookTicker under ``/public``, aggTrade under ``/market``, the user stream under
``/private``), so the load goes where a bot's traffic goes.

Lag is reported to Locust as a request of type ``WS`` whose "response time" is
``receipt time - event time E`` in ms: Locust then keeps its percentiles, charts and CSV
like any request's.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any, Iterable, Optional
from urllib.parse import quote, urlsplit

import gevent
import websocket  # websocket-client

from clients.streams import stream_route

__all__ = ["ws_base", "market_urls", "connect", "fire", "MidFeed"]


def ws_base(host: str) -> str:
    u = urlsplit(host)
    return f"{'wss' if u.scheme == 'https' else 'ws'}://{u.netloc}"


def market_urls(host: str, streams: Iterable[str]) -> list[str]:
    """One combined-stream URL per route for ``streams`` (``btcusdt@depth@100ms`` ...)."""
    by_route: dict[str, list[str]] = defaultdict(list)
    for s in streams:
        by_route[stream_route(s)].append(s)
    base = ws_base(host)
    return [f"{base}{route}/stream?streams=" + "/".join(quote(s, safe="@!_") for s in names)
            for route, names in sorted(by_route.items())]


def connect(url: str, timeout: float = 10.0) -> websocket.WebSocket:
    ws = websocket.create_connection(url, timeout=timeout, enable_multithread=False)
    ws.settimeout(None)
    return ws


def fire(environment: Any, name: str, ms: float, length: int = 0, exc: Optional[BaseException] = None) -> None:
    """Report one websocket measurement (or failure) to Locust as a ``WS`` request."""
    environment.events.request.fire(request_type="WS", name=name, response_time=ms, response_length=length,
                                    exception=exc, context={}, response=None)


class MidFeed:
    """Mid prices of some symbols from their ``@bookTicker`` streams (no REST weight), one
    greenlet per process, reconnecting after a drop."""

    def __init__(self, host: str, symbols: Iterable[str]) -> None:
        self.host = host
        self.symbols = [s.upper() for s in symbols]
        self.mids: dict[str, float] = {}
        self._greenlet: Optional[gevent.Greenlet] = None
        self._ws: Optional[websocket.WebSocket] = None

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # noqa: BLE001 - closing a socket that may be gone
                pass
            self._ws = None

    def wait(self, symbol: str, timeout: float = 5.0) -> float:
        """The mid of ``symbol`` (0.0 if none arrived within ``timeout``: no book)."""
        end = time.time() + timeout
        while time.time() < end and self.mids.get(symbol, 0.0) <= 0:
            gevent.sleep(0.05)
        return self.mids.get(symbol, 0.0)

    def _run(self) -> None:
        (url,) = market_urls(self.host, [f"{s.lower()}@bookTicker" for s in self.symbols])
        while True:
            try:
                if self._ws is not None:
                    self._ws.close()
                # a local name: stop() may clear self._ws while this greenlet is being killed
                ws = self._ws = connect(url)
                while True:
                    raw = ws.recv()
                    if not raw:
                        raise websocket.WebSocketConnectionClosedException("closed")
                    msg = json.loads(raw)
                    d = msg.get("data") or {}
                    bid, ask = float(d.get("b") or 0), float(d.get("a") or 0)
                    if bid > 0 and ask > 0:
                        self.mids[d.get("s")] = (bid + ask) / 2
                    gevent.sleep(0)     # a socket that always has data never blocks: let others run
            except (websocket.WebSocketException, OSError, ValueError):
                gevent.sleep(0.5)
