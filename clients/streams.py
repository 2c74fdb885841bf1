"""Market and user-data websockets with reconnect (spec §9, §10).

Both stream classes are async iterators *and* async context managers; use them as
``async with client.market_stream(...) as s: async for msg in s: ...`` so the sockets
and background tasks are closed deterministically (``close()`` does the same).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any, Iterable, Optional
from urllib.parse import quote

import aiohttp

from clients.errors import BinanceAPIError, StreamError
from clients.models import StreamMessage, parse_user_event

if TYPE_CHECKING:  # pragma: no cover
    from clients.usdm import UsdmClient

__all__ = ["MarketStream", "UserStream", "stream_route"]

log = logging.getLogger("clients.streams")

_CONNECT_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError, aiohttp.WSServerHandshakeError)
_CLOSED = object()

_PUBLIC_MARKERS = ("@depth", "@bookticker", "@rpidepth", "@trade")


def stream_route(name: str) -> str:
    """``/public`` for high-frequency streams (depth, bookTicker, trade), ``/market`` otherwise (§9.1)."""
    n = name.lower()
    if n == "!bookticker" or any(m in n for m in _PUBLIC_MARKERS):
        return "/public"
    return "/market"


async def _ws_connect(session: aiohttp.ClientSession, url: str, heartbeat: Optional[float],
                      receive_timeout: Optional[float]) -> aiohttp.ClientWebSocketResponse:
    kw: dict[str, Any] = {"heartbeat": heartbeat, "autoping": True}
    if hasattr(aiohttp, "ClientWSTimeout"):
        kw["timeout"] = aiohttp.ClientWSTimeout(ws_receive=receive_timeout, ws_close=5.0)
    else:  # pragma: no cover - aiohttp < 3.10
        kw["receive_timeout"] = receive_timeout
    return await session.ws_connect(url, **kw)


_ENDS = (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
         aiohttp.WSMsgType.CLOSED)


async def _json_messages(ws: aiohttp.ClientWebSocketResponse):
    """The decoded JSON text messages of ``ws`` until it closes (bad JSON is skipped)."""
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            try:
                data = json.loads(msg.data)
            except ValueError:
                continue
            yield data
        elif msg.type in _ENDS:
            return


async def cancel_and_wait(*tasks: Optional[asyncio.Task]) -> None:
    """Cancel every task given (None: none there) and wait until each has ended, whatever it
    ended with: a closed stream or book leaves no task of its own running."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    for t in live:
        with contextlib.suppress(BaseException):
            await t


async def _surface(coro, queue: asyncio.Queue) -> None:
    """Run a background loop; an unexpected exception is handed to the consumer instead of vanishing."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception as e:  # pragma: no cover - defensive
        log.exception("stream task failed")
        await queue.put(e)


class _Backoff:
    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi, self.n = lo, hi, 0

    def next(self) -> float:
        d = min(self.hi, self.lo * (2 ** self.n))
        self.n = min(self.n + 1, 30)
        return d

    def reset(self) -> None:
        self.n = 0


class _Conn:
    """One combined-stream websocket for one route, with its own subscription list."""

    def __init__(self, route: str, streams: list[str]) -> None:
        self.route = route
        self.streams = streams
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self.task: Optional[asyncio.Task] = None
        self.pending: dict[int, asyncio.Future] = {}
        self.wake = asyncio.Event()
        self.connects = 0


class _QueuedStream:
    """What both streams share: ``async with`` / ``async for`` over a queue that a
    background task fills with messages, errors to raise, or ``_CLOSED``."""

    async def __aenter__(self):
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def __aiter__(self):
        self.start()
        return self

    async def __anext__(self):
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _CLOSED:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item


class MarketStream(_QueuedStream):
    """Combined market streams (``/stream?streams=a/b``) that survive disconnects.

    * Streams are grouped by route (``/public`` vs ``/market``, unless the client has
      ``ws_routes=False``); each group is one websocket; messages from all are merged.
    * On any disconnect the socket is reopened with bounded exponential backoff
      (``reconnect_min_delay`` .. ``reconnect_max_delay``) and the *current* subscription
      list, including streams added with :meth:`subscribe`.
    * Server pings are answered by aiohttp (autoping); ``heartbeat``/``receive_timeout``
      detect dead connections.

    Yields :class:`clients.models.StreamMessage` (``.stream``, ``.data``, ``.parsed()``).
    """

    def __init__(self, client: "UsdmClient", streams: Iterable[str], *, max_queue: int = 10000,
                 reconnect_min_delay: Optional[float] = None, reconnect_max_delay: Optional[float] = None,
                 heartbeat: Optional[float] = None, receive_timeout: Optional[float] = None,
                 control_timeout: float = 10.0) -> None:
        self.client = client
        self._queue: asyncio.Queue = asyncio.Queue(max_queue)
        self._conns: dict[str, _Conn] = {}
        self._closed = False
        self._started = False
        self._next_id = 1
        self.min_delay = client.reconnect_min_delay if reconnect_min_delay is None else reconnect_min_delay
        self.max_delay = client.reconnect_max_delay if reconnect_max_delay is None else reconnect_max_delay
        self.heartbeat = client.ws_heartbeat if heartbeat is None else heartbeat
        self.receive_timeout = client.ws_receive_timeout if receive_timeout is None else receive_timeout
        self.control_timeout = control_timeout
        self.connects = 0        # successful websocket handshakes, all routes
        self.reconnects = 0      # times a socket was lost and reopened
        for s in streams:
            self._conn_for(s).streams.append(s)

    # ------------------------------------------------------------------ public API

    @property
    def streams(self) -> list[str]:
        return [s for c in self._conns.values() for s in c.streams]

    def start(self) -> None:
        if self._started or self._closed:
            return
        self._started = True
        for c in self._conns.values():
            self._spawn(c)

    async def subscribe(self, *streams: str) -> None:
        """Add streams (SUBSCRIBE on the live socket; remembered for reconnects)."""
        await self._change("SUBSCRIBE", streams)

    async def unsubscribe(self, *streams: str) -> None:
        await self._change("UNSUBSCRIBE", streams)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancel_and_wait(*(c.task for c in self._conns.values()))
        for c in self._conns.values():
            if c.ws is not None:
                with contextlib.suppress(Exception):
                    await c.ws.close()
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_CLOSED)

    # ------------------------------------------------------------------ internals

    def _route(self, stream: str) -> str:
        return stream_route(stream) if self.client.ws_routes else ""

    def _conn_for(self, stream: str) -> _Conn:
        r = self._route(stream)
        c = self._conns.get(r)
        if c is None:
            c = self._conns[r] = _Conn(r, [])
        return c

    def _spawn(self, c: _Conn) -> None:
        if c.task is None and not self._closed:
            c.task = asyncio.get_running_loop().create_task(_surface(self._pump(c), self._queue))

    async def _change(self, method: str, streams: Iterable[str]) -> None:
        groups: dict[str, list[str]] = {}
        for s in streams:
            groups.setdefault(self._route(s), []).append(s)
        for route, names in groups.items():
            c = self._conns.get(route)
            if method == "SUBSCRIBE":
                if c is None:
                    c = self._conns[route] = _Conn(route, [])
                new = [s for s in names if s not in c.streams]
                c.streams.extend(new)
                if self._started:
                    self._spawn(c)
                c.wake.set()
                if new:
                    await self._control(c, method, new)
            else:
                if c is None:
                    continue
                gone = [s for s in names if s in c.streams]
                c.streams[:] = [s for s in c.streams if s not in gone]
                if gone:
                    await self._control(c, method, gone)

    async def _control(self, c: _Conn, method: str, params: list[str]) -> None:
        ws = c.ws
        if ws is None or ws.closed:
            return  # applied through the URL on the next (re)connect
        rid = self._next_id
        self._next_id += 1
        fut = asyncio.get_running_loop().create_future()
        c.pending[rid] = fut
        try:
            await ws.send_str(json.dumps({"method": method, "params": params, "id": rid}))
            reply = await asyncio.wait_for(fut, self.control_timeout)
        except (ConnectionError, aiohttp.ClientError):
            return  # the socket died; the reconnect URL carries the new list
        finally:
            c.pending.pop(rid, None)
        if isinstance(reply, dict) and reply.get("error"):
            err = reply["error"]
            raise StreamError(err.get("code"), err.get("msg", ""))

    def _url(self, c: _Conn) -> str:
        names = "/".join(quote(s, safe="@!_/") for s in c.streams)
        return f"{self.client.ws_url}{c.route}/stream?streams={names}"

    async def _pump(self, c: _Conn) -> None:
        backoff = _Backoff(self.min_delay, self.max_delay)
        session = self.client.session
        while not self._closed:
            if not c.streams:
                c.wake.clear()
                await c.wake.wait()
                continue
            try:
                ws = await _ws_connect(session, self._url(c), self.heartbeat, self.receive_timeout)
            except _CONNECT_ERRORS as e:
                log.debug("market stream connect failed: %r", e)
                await asyncio.sleep(backoff.next())
                continue
            c.ws = ws
            c.connects += 1
            self.connects += 1
            got = False
            try:
                async for data in _json_messages(ws):
                    if isinstance(data, dict) and "id" in data and ("result" in data or "error" in data):
                        fut = c.pending.get(data.get("id"))
                        if fut is not None and not fut.done():
                            fut.set_result(data)
                        continue
                    if isinstance(data, dict) and "stream" in data and "data" in data:
                        item = StreamMessage(data["stream"], data["data"])
                    else:
                        item = StreamMessage(None, data)
                    if not got:
                        got = True
                        backoff.reset()
                    await self._queue.put(item)
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
                log.debug("market stream read failed: %r", e)
            finally:
                c.ws = None
                for fut in c.pending.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("websocket closed"))
                with contextlib.suppress(Exception):
                    await ws.close()
            if self._closed:
                break
            self.reconnects += 1
            await asyncio.sleep(backoff.next())  # reset to the minimum if messages flowed


class UserStream(_QueuedStream):
    """User data stream: creates a listenKey, keeps it alive with a PUT every
    ``keepalive_interval`` seconds (Binance: valid 60 min; default 30 min), connects to
    ``/private/ws?listenKey=K`` (``/ws/K`` with ``ws_routes=False``), and reconnects on
    drops or ``listenKeyExpired`` (re-POSTing the key, which is idempotent per API key).

    Yields typed events (:class:`OrderUpdate`, :class:`AccountUpdate`, else :class:`UserEvent`)
    or raw dicts with ``parse=False``.  ``close()`` stops everything and DELETEs the key
    (``close_listen_key=False`` keeps it).
    """

    def __init__(self, client: "UsdmClient", *, keepalive_interval: float = 1800.0, parse: bool = True,
                 close_listen_key: bool = True, max_queue: int = 10000,
                 reconnect_min_delay: Optional[float] = None, reconnect_max_delay: Optional[float] = None,
                 heartbeat: Optional[float] = None, receive_timeout: Optional[float] = None) -> None:
        self.client = client
        self.keepalive_interval = keepalive_interval
        self.parse = parse
        self.close_listen_key = close_listen_key
        self.min_delay = client.reconnect_min_delay if reconnect_min_delay is None else reconnect_min_delay
        self.max_delay = client.reconnect_max_delay if reconnect_max_delay is None else reconnect_max_delay
        self.heartbeat = client.ws_heartbeat if heartbeat is None else heartbeat
        self.receive_timeout = client.ws_receive_timeout if receive_timeout is None else receive_timeout
        self.listen_key: Optional[str] = None
        self.connects = 0
        self.reconnects = 0
        self.keepalives = 0       # successful PUTs
        self.connected = asyncio.Event()
        self._queue: asyncio.Queue = asyncio.Queue(max_queue)
        self._ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self._task: Optional[asyncio.Task] = None
        self._ka_task: Optional[asyncio.Task] = None
        self._closed = False

    def start(self) -> None:
        if self._task is None and not self._closed:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(_surface(self._pump(), self._queue))
            self._ka_task = loop.create_task(_surface(self._keepalive(), self._queue))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancel_and_wait(self._task, self._ka_task)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self.close_listen_key and self.listen_key:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.close_listen_key(self.listen_key), 5)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_CLOSED)

    def _url(self, key: str) -> str:
        if self.client.ws_routes:
            return f"{self.client.ws_url}/private/ws?listenKey={quote(key, safe='')}"
        return f"{self.client.ws_url}/ws/{quote(key, safe='')}"

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_interval)
            key = self.listen_key
            if key is None:
                continue
            try:
                await self.client.keepalive_listen_key(key)
                self.keepalives += 1
            except BinanceAPIError as e:
                log.info("listenKey keep-alive failed: %s", e)
                if e.code == -1125:           # key gone: force a reconnect with a fresh key
                    self.listen_key = None
                    ws = self._ws
                    if ws is not None:
                        await ws.close()
            except _CONNECT_ERRORS as e:
                log.info("listenKey keep-alive failed: %r", e)

    async def _pump(self) -> None:
        backoff = _Backoff(self.min_delay, self.max_delay)
        session = self.client.session
        while not self._closed:
            try:
                self.listen_key = await self.client.new_listen_key()
                ws = await _ws_connect(session, self._url(self.listen_key), self.heartbeat,
                                       self.receive_timeout)
            except BinanceAPIError as e:
                if e.status in (401,) or e.code in (-2014, -2015):
                    await self._queue.put(e)          # bad credentials: not worth retrying
                    return
                log.info("user stream setup failed: %s", e)
                await asyncio.sleep(backoff.next())
                continue
            except _CONNECT_ERRORS as e:
                log.debug("user stream connect failed: %r", e)
                await asyncio.sleep(backoff.next())
                continue
            self._ws = ws
            self.connects += 1
            self.connected.set()
            got = False
            try:
                async for data in _json_messages(ws):
                    if isinstance(data, dict) and "stream" in data and "data" in data:
                        data = data["data"]
                    if not isinstance(data, dict) or ("id" in data and "result" in data):
                        continue
                    if not got:
                        got = True
                        backoff.reset()
                    await self._queue.put(parse_user_event(data) if self.parse else data)
                    if data.get("e") == "listenKeyExpired":
                        break
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
                log.debug("user stream read failed: %r", e)
            finally:
                self._ws = None
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await ws.close()
            if self._closed:
                break
            self.reconnects += 1
            await asyncio.sleep(backoff.next())
