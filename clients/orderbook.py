"""Local order book kept in sync from ``<symbol>@depth@100ms`` diffs + a REST snapshot (spec §9.4).

Procedure (Binance USD-M futures):

1. open the diff stream and buffer events;
2. ``GET /fapi/v1/depth?limit=1000`` -> ``lastUpdateId`` (L);
3. drop buffered events with ``u < L``;
4. the first applied event must satisfy ``U <= L <= u`` (also accepted: ``pu == L``, i.e. the
   event starts right after the snapshot, which a server with contiguous ids produces);
5. every later event must have ``pu == previous u``; otherwise resync from step 2;
6. quantities are absolute, ``0`` removes the level (removing a missing level is normal).

The websocket itself reconnects (see :class:`MarketStream`); a reconnect leaves a gap in
``pu``, which triggers a resync like any other gap.
"""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Optional

import aiohttp
from sortedcontainers import SortedDict

from clients.errors import RateLimitError, ServerError
from clients.models import DepthUpdate, Level
from clients.streams import cancel_and_wait

if TYPE_CHECKING:  # pragma: no cover
    from clients.usdm import UsdmClient

__all__ = ["LocalOrderBook"]

log = logging.getLogger("clients.orderbook")


class LocalOrderBook:
    """``async with LocalOrderBook(client, "BTCUSDT") as book: await book.wait_synced(); book.best_bid``.

    Attributes: ``synced`` (bool), ``last_update_id`` (u of the last applied event, or the
    snapshot id), ``resyncs`` (snapshots fetched after the first), ``snapshots`` (total).
    ``on_update(book)`` is called after every applied event.
    """

    def __init__(self, client: "UsdmClient", symbol: str, *, speed: Optional[str] = "100ms",
                 limit: int = 1000, on_update: Optional[Callable[["LocalOrderBook"], None]] = None,
                 resync_delay: float = 0.0, **stream_kw) -> None:
        self.client = client
        self.symbol = symbol.upper()
        self.stream_name = f"{symbol.lower()}@depth" + (f"@{speed}" if speed else "")
        self.limit = limit
        self.on_update = on_update
        self.resync_delay = resync_delay
        self._stream_kw = stream_kw
        self._bids: SortedDict = SortedDict()   # price -> qty, ascending (best = last)
        self._asks: SortedDict = SortedDict()   # price -> qty, ascending (best = first)
        self.synced = False
        self.last_update_id: Optional[int] = None
        self.resyncs = 0
        self.snapshots = 0
        self.gaps = 0
        self._events: asyncio.Queue = asyncio.Queue()
        self._cond: Optional[asyncio.Condition] = None
        self._task: Optional[asyncio.Task] = None
        self._reader: Optional[asyncio.Task] = None
        self._stream = None
        self._error: Optional[BaseException] = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> "LocalOrderBook":
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def start(self) -> None:
        if self._task is not None:
            return
        self._cond = asyncio.Condition()
        self._stream = self.client.market_stream(self.stream_name, **self._stream_kw)
        self._stream.start()
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read())
        self._task = loop.create_task(self._run())

    async def close(self) -> None:
        await cancel_and_wait(self._task, self._reader)
        if self._stream is not None:
            await self._stream.close()
        self.synced = False

    async def wait_synced(self, timeout: Optional[float] = None) -> None:
        await self._wait(lambda: self.synced, timeout)

    async def wait_for_update_id(self, update_id: int, timeout: Optional[float] = None) -> None:
        """Wait until the book is synced and includes every update up to ``update_id``."""
        await self._wait(lambda: self.synced and self.last_update_id is not None
                         and self.last_update_id >= update_id, timeout)

    async def _wait(self, pred, timeout: Optional[float]) -> None:
        if self._cond is None:
            self.start()

        async def inner():
            async with self._cond:
                while not pred():
                    if self._error is not None:
                        raise self._error
                    await self._cond.wait()

        await asyncio.wait_for(inner(), timeout)

    # ------------------------------------------------------------------ views

    @property
    def best_bid(self) -> Optional[Level]:
        return self._bids.peekitem(-1) if self._bids else None

    @property
    def best_ask(self) -> Optional[Level]:
        return self._asks.peekitem(0) if self._asks else None

    @property
    def bids(self) -> list[Level]:
        """All bid levels, best (highest) first."""
        return [(p, self._bids[p]) for p in reversed(self._bids)]

    @property
    def asks(self) -> list[Level]:
        """All ask levels, best (lowest) first."""
        return list(self._asks.items())

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        bk, ak = self._bids.keys(), self._asks.keys()
        bids = [(p, self._bids[p]) for p in reversed(bk[-n:])] if n else []
        asks = [(p, self._asks[p]) for p in ak[:n]]
        return bids, asks

    @property
    def mid_price(self) -> Optional[Decimal]:
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else (b[0] + a[0]) / 2

    # ------------------------------------------------------------------ sync machinery

    async def _read(self) -> None:
        try:
            async for msg in self._stream:
                d = msg.data
                if isinstance(d, dict) and d.get("e") == "depthUpdate":
                    self._events.put_nowait(DepthUpdate.from_json(d))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # surface stream failures to waiters instead of hanging them
            self._error = e
            self.synced = False
            await self._notify()

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    def _load(self, snap) -> None:
        self._bids.clear()
        self._asks.clear()
        for p, q in snap.bids:
            if q:
                self._bids[p] = q
        for p, q in snap.asks:
            if q:
                self._asks[p] = q

    def _apply(self, ev: DepthUpdate) -> None:
        for side, levels in ((self._bids, ev.bids), (self._asks, ev.asks)):
            for p, q in levels:
                if q:
                    side[p] = q
                else:
                    side.pop(p, None)
        self.last_update_id = ev.final_update_id

    async def _snapshot(self):
        """REST snapshot; transient failures (5xx, 429/418, network) are retried, others raised."""
        while True:
            try:
                return await self.client.depth(self.symbol, self.limit)
            except (RateLimitError, ServerError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
                delay = getattr(e, "retry_after", None) or max(self.resync_delay, 0.5)
                log.warning("%s: depth snapshot failed (%r), retrying in %.1fs", self.symbol, e, delay)
                await asyncio.sleep(delay)

    async def _run(self) -> None:
        try:
            first = True
            while True:
                # (1) make sure the stream is live: wait for one buffered event before the snapshot
                ev = await self._events.get()
                # (2) snapshot
                if not first:
                    self.resyncs += 1
                    if self.resync_delay:
                        await asyncio.sleep(self.resync_delay)
                first = False
                snap = await self._snapshot()
                self.snapshots += 1
                L = snap.last_update_id
                # (3) drop events older than the snapshot
                while ev.final_update_id < L:
                    ev = await self._events.get()
                # (4) first event must straddle the snapshot id
                if not (ev.first_update_id <= L <= ev.final_update_id or ev.prev_final_update_id == L):
                    log.info("%s: first event U=%s u=%s does not cover snapshot %s, resyncing",
                             self.symbol, ev.first_update_id, ev.final_update_id, L)
                    self._requeue_front(ev)
                    continue
                self._load(snap)
                self.last_update_id = L
                self._apply(ev)
                self.synced = True
                self._updated()
                await self._notify()
                # (5) follow pu continuity
                while True:
                    ev = await self._events.get()
                    if ev.prev_final_update_id != self.last_update_id:
                        log.info("%s: gap (pu=%s, previous u=%s), resyncing", self.symbol,
                                 ev.prev_final_update_id, self.last_update_id)
                        self.gaps += 1
                        self.synced = False
                        self._requeue_front(ev)
                        await self._notify()
                        break
                    self._apply(ev)
                    self._updated()
                    await self._notify()
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # surface unexpected failures to waiters
            self._error = e
            self.synced = False
            await self._notify()
            raise

    def _updated(self) -> None:
        if self.on_update is not None:
            try:
                self.on_update(self)
            except Exception:  # a user callback must not kill the sync loop
                log.exception("on_update callback failed")

    def _requeue_front(self, ev: DepthUpdate) -> None:
        """Put ``ev`` back at the head of the buffer (it is still valid for the next snapshot)."""
        rest = []
        while not self._events.empty():
            rest.append(self._events.get_nowait())
        self._events.put_nowait(ev)
        for x in rest:
            self._events.put_nowait(x)
