"""What every example bot shares: its view of its own open orders, the user data
stream that keeps that view current, bounded runs, and a clean stop.

A bot's *view* (``bot.open_orders``: order id -> :class:`clients.models.Order`) is
what it believes is resting on the exchange.  It is built only from the answers
to its own requests and from its user data stream (never by copying
``openOrders``), so comparing it with ``GET /fapi/v1/openOrders`` checks the bot:

* a new order enters the view when the REST answer says NEW / PARTIALLY_FILLED
  (unless the stream already reported it finished: the stream can be faster);
* it leaves on a FILLED / CANCELED / EXPIRED ``ORDER_TRADE_UPDATE``, on a cancel
  answer, or on ``-2011 Unknown order`` (it is gone: filled in between).

Bots use only the public wire API (``clients.UsdmClient``), so they run against
``paperex serve`` and against Binance alike.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Optional

from clients import BinanceAPIError, UsdmClient
from clients.models import AccountUpdate, Order, OrderUpdate, SymbolInfo, UserEvent
from clients.streams import cancel_and_wait

__all__ = ["Bot", "TERMINAL"]

TERMINAL = frozenset({"FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH", "REJECTED"})
UNKNOWN_ORDER = -2011


class Bot:
    """Subclasses implement :meth:`step` (called every ``interval`` seconds) and may
    override :meth:`setup`, :meth:`teardown` and :meth:`on_user_event`."""

    name = "bot"
    #: order refusals that are part of the strategy (not reported as errors)
    expected_rejects: frozenset = frozenset()

    def __init__(self, client: UsdmClient, symbol: str = "BTCUSDT", *, interval: float = 1.0,
                 logger: Optional[logging.Logger] = None) -> None:
        self.client = client
        self.symbol = symbol.upper()
        self.interval = interval
        self.log = logger or logging.getLogger(f"paperex.bots.{self.name}")
        self.info: Optional[SymbolInfo] = None
        self.open_orders: dict[int, Order] = {}        # the bot's view (see module docstring)
        self._finished: set[int] = set()               # ids the stream reported finished
        self.position = Decimal(0)                     # signed position in self.symbol (stream + REST)
        self.user_events: list[Any] = []               # every user-data event received
        self.fills = 0
        self.orders_placed = 0
        self.orders_canceled = 0
        self.errors: list[str] = []
        self.rejects: dict[int, int] = {}              # Binance code -> refused orders (e.g. -5022 post-only)
        self.steps = 0
        self.account_id: Optional[int] = None          # known when the runner created the account
        self.stop_event = asyncio.Event()
        self._stream = None
        self._stream_task: Optional[asyncio.Task] = None

    # ------------------------------------------------------------------ run

    async def run(self, duration: Optional[float] = None, stop: Optional[asyncio.Event] = None) -> dict:
        """Run until ``duration`` seconds have passed, ``stop`` is set, or :meth:`stop` is
        called; then :meth:`teardown` (cancel own orders, ...).  Returns :meth:`report`."""
        deadline = None if duration is None else time.monotonic() + duration
        await self._start_user_stream()
        try:
            await self.setup()
            while not self.stop_event.is_set() and (stop is None or not stop.is_set()):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    await self.step()
                except BinanceAPIError as e:
                    self.errors.append(str(e))
                    self.log.warning("%s: step failed: %s", self.name, e)
                self.steps += 1
                await self._sleep(self.interval, deadline, stop)
        finally:
            try:
                await asyncio.shield(self._teardown_all())
            except asyncio.CancelledError:
                pass
        return self.report()

    def stop(self) -> None:
        """Ask the bot to stop after its current step."""
        self.stop_event.set()

    async def _sleep(self, seconds: float, deadline: Optional[float], stop: Optional[asyncio.Event]) -> None:
        if deadline is not None:
            seconds = max(0.0, min(seconds, deadline - time.monotonic()))
        waits = [asyncio.ensure_future(self.stop_event.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds)
        finally:
            for w in waits:
                w.cancel()

    async def _teardown_all(self) -> None:
        try:
            await self.teardown()
        finally:
            await self._stop_user_stream()

    # ------------------------------------------------------------------ hooks

    async def setup(self) -> None:
        await self.load_symbol()
        await self.refresh_position()

    async def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    async def teardown(self) -> None:
        await self.cancel_all_tracked()

    def on_user_event(self, ev: Any) -> None:
        """Called for every user-data event after the view is updated."""

    def report(self) -> dict:
        return {"bot": self.name, "symbol": self.symbol, "steps": self.steps,
                "orders_placed": self.orders_placed, "orders_canceled": self.orders_canceled,
                "fills": self.fills, "position": str(self.position), "rejects": dict(self.rejects),
                "open_orders_believed": sorted(self.open_orders), "errors": self.errors[-10:]}

    # ------------------------------------------------------------------ exchange info, rounding

    async def load_symbol(self) -> SymbolInfo:
        if self.info is None:
            info = await self.client.exchange_info()
            if self.symbol not in info.symbols:
                raise ValueError(f"{self.symbol} is not listed by the exchange")
            self.info = info.symbols[self.symbol]
        return self.info

    def price_down(self, p: Decimal) -> Decimal:
        t = self.info.tick_size
        return (p / t).to_integral_value(ROUND_FLOOR) * t

    def price_up(self, p: Decimal) -> Decimal:
        t = self.info.tick_size
        return (p / t).to_integral_value(ROUND_CEILING) * t

    def qty_down(self, q: Decimal) -> Decimal:
        s = self.info.step_size
        return (q / s).to_integral_value(ROUND_FLOOR) * s

    def min_order_qty(self, price: Decimal, margin: Decimal = Decimal("1.2")) -> Decimal:
        """The smallest quantity on the step grid whose notional clears MIN_NOTIONAL (with a margin)."""
        s = self.info.step_size
        q = Decimal(self.info.min_qty or s)
        if self.info.min_notional and price > 0:
            need = (self.info.min_notional * margin / price / s).to_integral_value(ROUND_CEILING) * s
            q = max(q, need)
        return q

    # ------------------------------------------------------------------ orders (keep the view)

    async def place(self, **kw) -> Optional[Order]:
        """``new_order`` for this bot's symbol; the order enters the view if it rests."""
        kw.setdefault("symbol", self.symbol)
        try:
            o = await self.client.new_order(**kw)
        except BinanceAPIError as e:
            self.rejects[e.code] = self.rejects.get(e.code, 0) + 1
            if e.code not in self.expected_rejects:
                self.errors.append(f"new_order {kw.get('side')} {kw.get('type')}: {e}")
            self.log.info("%s: order refused: %s", self.name, e)
            return None
        self.orders_placed += 1
        if o.is_open and o.order_id not in self._finished:
            self.open_orders[o.order_id] = o
        return o

    async def cancel(self, order_id: int) -> bool:
        """Cancel one of our orders; it leaves the view whatever the answer (gone either way)."""
        try:
            o = await self.client.cancel_order(self.symbol, order_id=order_id)
            self.orders_canceled += 1
            if not o.is_open:
                self.open_orders.pop(order_id, None)
            return True
        except BinanceAPIError as e:
            if e.code == UNKNOWN_ORDER:           # filled (or canceled) before our cancel arrived
                self.open_orders.pop(order_id, None)
                return False
            self.errors.append(f"cancel {order_id}: {e}")
            raise

    async def cancel_all_tracked(self) -> None:
        """Cancel every order of the view, one by one (the bot cancels what it believes it has)."""
        for oid in list(self.open_orders):
            with contextlib.suppress(BinanceAPIError):
                await self.cancel(oid)

    async def refresh_position(self) -> Decimal:
        rows = await self.client.position_risk(self.symbol)
        self.position = sum((r.position_amt for r in rows if r.symbol == self.symbol), Decimal(0))
        return self.position

    async def flatten(self) -> Optional[Order]:
        """Close the position with a reduce-only MARKET order."""
        pos = await self.refresh_position()
        if pos == 0:
            return None
        side = "SELL" if pos > 0 else "BUY"
        o = await self.place(side=side, type="MARKET", quantity=abs(pos), reduce_only=True)
        await self.refresh_position()
        return o

    # ------------------------------------------------------------------ user data stream

    async def _start_user_stream(self) -> None:
        self._stream = self.client.user_stream()
        self._stream.start()
        self._stream_task = asyncio.get_running_loop().create_task(self._consume())
        try:
            await asyncio.wait_for(self._stream.connected.wait(), 10)
        except asyncio.TimeoutError:
            self.log.warning("%s: user data stream not connected after 10 s; continuing", self.name)

    async def _stop_user_stream(self) -> None:
        if self._stream is not None:
            await asyncio.sleep(0.2)          # let events of the last requests arrive
            await self._stream.close()
        await cancel_and_wait(self._stream_task)

    async def _consume(self) -> None:
        try:
            async for ev in self._stream:
                self.user_events.append(ev)
                self._apply(ev)
                try:
                    self.on_user_event(ev)
                except Exception:  # a bot bug must not kill its stream
                    self.log.exception("%s: on_user_event failed", self.name)
        except BinanceAPIError as e:
            self.errors.append(f"user stream: {e}")

    def _apply(self, ev: Any) -> None:
        if isinstance(ev, OrderUpdate):
            if ev.symbol != self.symbol:
                return
            if ev.last_filled_qty and ev.last_filled_qty > 0:
                self.fills += 1
            if ev.status in TERMINAL:
                self._finished.add(ev.order_id)
                self.open_orders.pop(ev.order_id, None)
        elif isinstance(ev, AccountUpdate):
            for p in ev.positions:
                if p.symbol == self.symbol and (p.position_side in (None, "BOTH")):
                    self.position = p.position_amt
        elif isinstance(ev, UserEvent):
            pass


async def create_account(base_url: str, balance: str = "10000") -> tuple[str, str, int]:
    """paperex only: a fresh funded account through the control API."""
    import aiohttp
    async with aiohttp.ClientSession() as s:
        async with s.post(base_url.rstrip("/") + "/paperex/v1/accounts", json={"balance": str(balance)}) as r:
            data = await r.json(content_type=None)
            if r.status != 200:
                raise RuntimeError(f"cannot create an account on {base_url}: {data}")
    return data["apiKey"], data["secretKey"], data["accountId"]
