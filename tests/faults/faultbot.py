"""A small bot that survives injected faults: it places and cancels LIMIT orders with its own
clientOrderIds, retries what failed, and reconciles what has an unknown execution status
(-1007, 503 "Unknown error") by querying the order by clientOrderId before acting again."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from clients import UsdmClient
from clients.errors import BinanceAPIError, RateLimitError

SYMBOL = "BTCUSDT"
RETRYABLE_CODES = {-1001, -1003, -1007, -1008}


class FaultTolerantBot:
    def __init__(self, client: UsdmClient, *, max_retry_after: float = 0.05) -> None:
        self.c = client
        self.max_retry_after = max_retry_after
        self.open: dict[str, int] = {}        # clientOrderId -> orderId: what the bot believes is open
        self.canceled: set[str] = set()
        self.errors: dict[str, int] = {}      # what the bot saw, by "status/code"
        self.reconciled = 0

    def _saw(self, e: BinanceAPIError) -> None:
        k = f"{e.status}/{e.code}"
        self.errors[k] = self.errors.get(k, 0) + 1

    async def _pause(self, e: BinanceAPIError) -> None:
        if isinstance(e, RateLimitError) and e.retry_after:
            await asyncio.sleep(min(e.retry_after, self.max_retry_after))   # a real bot waits it out
        else:
            await asyncio.sleep(0.005)

    def _retryable(self, e: BinanceAPIError) -> bool:
        return e.status >= 500 or e.status in (408, 418, 429) or e.code in RETRYABLE_CODES

    async def read(self, fn, *args, **kw):
        """An idempotent call: retried on any failed or unknown answer."""
        for _ in range(200):
            try:
                return await fn(*args, **kw)
            except BinanceAPIError as e:
                if not self._retryable(e):
                    raise
                self._saw(e)
                await self._pause(e)
        raise AssertionError("gave up")

    async def lookup(self, cid: str):
        try:
            return await self.read(self.c.get_order, SYMBOL, orig_client_order_id=cid)
        except BinanceAPIError as e:
            if e.code == -2013:
                return None
            raise

    async def _reconcile(self, e: BinanceAPIError, cid: str):
        """A write of order ``cid`` failed with ``e``: raised again unless worth a retry.  When its
        execution status is unknown the attempt may have gone through: the order as the exchange
        has it now (None when it is not there); None when the status is known (nothing happened)."""
        if not self._retryable(e):
            raise e
        self._saw(e)
        if not e.execution_unknown:
            return None
        self.reconciled += 1
        return await self.lookup(cid)

    async def place(self, cid: str, price: str, qty: str = "0.01") -> None:
        for _ in range(200):
            try:
                o = await self.c.new_order(SYMBOL, "BUY", "LIMIT", qty, price, new_client_order_id=cid)
                self.open[cid] = o.order_id
                return
            except BinanceAPIError as e:
                o = await self._reconcile(e, cid)
                if o is not None:
                    self.open[cid] = o.order_id
                    return
                await self._pause(e)
        raise AssertionError("gave up placing")

    async def cancel(self, cid: str) -> None:
        for _ in range(200):
            try:
                await self.c.cancel_order(SYMBOL, orig_client_order_id=cid)
                break
            except BinanceAPIError as e:
                if e.code == -2011:                       # an earlier, unknown attempt did it
                    o = await self.lookup(cid)
                    assert o is not None and o.status == "CANCELED", o
                    break
                o = await self._reconcile(e, cid)
                if o is not None and o.status == "CANCELED":
                    break
                await self._pause(e)
        else:
            raise AssertionError("gave up cancelling")
        del self.open[cid]
        self.canceled.add(cid)

    async def run(self, n: int = 12, cancel_every: int = 3, prefix: str = "bot") -> None:
        for i in range(n):
            await self.place(f"{prefix}{i}", str(49000 - 10 * i))
            if i % cancel_every == cancel_every - 1:
                await self.cancel(f"{prefix}{i - 1}")

    async def check(self) -> None:
        """Everything the bot believes is what the exchange has: nothing lost, nothing extra."""
        server_open = {o.client_order_id: o.order_id for o in await self.read(self.c.open_orders, SYMBOL)}
        assert server_open == self.open, (server_open, self.open)
        for cid in self.canceled:
            o: Optional[object] = await self.lookup(cid)
            assert o is not None and o.status == "CANCELED"


@asynccontextmanager
async def bot_on_user_stream(key: str, secret: str, base: str, events: list, *,
                             reconnect_max_delay: float) -> AsyncIterator[tuple[FaultTolerantBot, object]]:
    """A FaultTolerantBot on its own UsdmClient, with the account's user stream open and
    connected; every event it delivers is appended to ``events`` while the block runs.
    Yields (bot, user stream)."""
    async with UsdmClient(key, secret, base_url=base, reconnect_min_delay=0.02,
                          reconnect_max_delay=reconnect_max_delay) as c:
        bot = FaultTolerantBot(c)
        async with c.user_stream(parse=False) as us:

            async def listen():
                async for ev in us:
                    events.append(ev)

            reader = asyncio.get_running_loop().create_task(listen())
            try:
                await asyncio.wait_for(us.connected.wait(), 5)
                yield bot, us
            finally:
                reader.cancel()
