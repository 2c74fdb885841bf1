"""A trend follower with a stop-loss and a take-profit on every position.

Every step it samples the mid (``bookTicker``) into a fast and a slow EMA.  When
flat (and the cooldown after the last exit has passed) it enters with a MARKET
order in the direction of the trend (fast EMA above slow: long; below: short),
then protects the position with a stop-loss ``stop_loss_pct`` and a take-profit
``take_profit_pct`` away from the fill price.

Where the protection lives (``stop_mode``):

* ``order``: ``STOP_MARKET`` + ``TAKE_PROFIT_MARKET`` (``closePosition=true``,
  ``workingType=MARK_PRICE``) on ``POST /fapi/v1/order`` (Binance before 2025-12);
* ``algo``: the same through the Algo Order API (``POST /fapi/v1/algoOrder``),
  which Binance requires since 2025-12 (``-4120`` on the old endpoint);
* ``client``: the bot watches the mark price itself and closes with a reduce-only
  MARKET order when a level is crossed (works everywhere, but only while the bot runs);
* ``auto`` (default): ``order/test`` with a STOP_MARKET decides: accepted ->
  ``order``; ``-4120`` and the algo endpoints answer -> ``algo``; else ``client``.

When one protective order fires, the other is canceled.  On stop the bot cancels
its orders and (``flatten``, default) closes its position.

    python -m clients.bots.trend_follower --url http://127.0.0.1:8800 --key K --secret S --duration 120
"""
from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any, Optional

from clients import BinanceAPIError, UsdmClient
from clients.models import AlgoOrder, UserEvent

from clients.bots.base import Bot
from clients.bots.runner import main as run_main

__all__ = ["TrendFollower", "main"]

STOP_MODES = ("auto", "order", "algo", "client")


class TrendFollower(Bot):
    name = "trend_follower"

    def __init__(self, client: UsdmClient, symbol: str = "BTCUSDT", *, qty: Optional[Decimal] = None,
                 fast: int = 5, slow: int = 20, stop_loss_pct: Decimal = Decimal("0.5"),
                 take_profit_pct: Decimal = Decimal("1.0"), min_edge_bps: Decimal = Decimal(0),
                 cooldown: float = 2.0, stop_mode: str = "auto", flatten: bool = True, leverage: Optional[int] = None,
                 interval: float = 1.0, logger: Optional[logging.Logger] = None) -> None:
        super().__init__(client, symbol, interval=interval, logger=logger)
        if stop_mode not in STOP_MODES:
            raise ValueError(f"stop_mode must be one of {STOP_MODES}")
        if not 0 < fast < slow:
            raise ValueError("need 0 < fast < slow")
        self.qty = Decimal(qty) if qty is not None else None
        self.fast_n, self.slow_n = fast, slow
        self.stop_loss_pct = Decimal(stop_loss_pct)
        self.take_profit_pct = Decimal(take_profit_pct)
        self.min_edge_bps = Decimal(min_edge_bps)
        self.cooldown = cooldown
        self.stop_mode = stop_mode
        self.flatten_on_exit = flatten
        self.leverage = leverage
        self.fast: Optional[Decimal] = None
        self.slow: Optional[Decimal] = None
        self.samples = 0
        self.trade: Optional[dict] = None         # the open round trip
        self.trades: list[dict] = []              # closed round trips
        self.protect: dict[str, int] = {}         # "stop_loss"/"take_profit" -> order id (order mode)
        self.open_algo: dict[int, AlgoOrder] = {}  # algo mode: the bot's view of its algo orders
        self._last_exit = 0.0

    # ------------------------------------------------------------------ set-up

    async def setup(self) -> None:
        await super().setup()
        if self.leverage:
            await self.client.change_leverage(self.symbol, self.leverage)
        if self.stop_mode == "auto":
            self.stop_mode = await self.detect_stop_mode()
        self.log.info("%s: stop mode %s", self.name, self.stop_mode)

    async def detect_stop_mode(self) -> str:
        t = await self.client.book_ticker(self.symbol)
        probe = self.price_down(t.bid_price / 2)
        try:
            await self.client.test_order(self.symbol, "SELL", "STOP_MARKET", stopPrice=probe, closePosition="true",
                                         workingType="MARK_PRICE")
            return "order"
        except BinanceAPIError as e:
            if e.code != -4120:                   # "use the Algo Order API"
                self.log.info("%s: STOP_MARKET refused (%s): stops managed by the bot", self.name, e)
                return "client"
        try:
            await self.client.open_algo_orders(self.symbol)
            return "algo"
        except BinanceAPIError as e:
            self.log.info("%s: no algo order API (%s): stops managed by the bot", self.name, e)
            return "client"

    # ------------------------------------------------------------------ the loop

    def _sample(self, px: Decimal) -> None:
        af = Decimal(2) / (self.fast_n + 1)
        as_ = Decimal(2) / (self.slow_n + 1)
        self.fast = px if self.fast is None else self.fast + af * (px - self.fast)
        self.slow = px if self.slow is None else self.slow + as_ * (px - self.slow)
        self.samples += 1

    async def step(self) -> None:
        t = await self.client.book_ticker(self.symbol)
        if not (t.bid_price and t.ask_price and t.bid_price > 0 and t.ask_price > 0):
            return
        mid = (t.bid_price + t.ask_price) / 2
        self._sample(mid)
        if self.qty is None:
            self.qty = self.min_order_qty(mid)
        if self.trade is not None:
            await self.manage(mid)
            return
        if self.samples < self.slow_n or time.monotonic() - self._last_exit < self.cooldown:
            return
        edge = (self.fast - self.slow) / self.slow / Decimal("0.0001")
        if abs(edge) < self.min_edge_bps or edge == 0:
            return
        await self.enter("BUY" if edge > 0 else "SELL")

    async def enter(self, side: str) -> None:
        o = await self.place(side=side, type="MARKET", quantity=self.qty)
        if o is None or not o.executed_qty:
            return
        entry = o.avg_price
        sign = 1 if side == "BUY" else -1
        sl = entry * (1 - sign * self.stop_loss_pct / 100)
        tp = entry * (1 + sign * self.take_profit_pct / 100)
        # a long's stop is below (round down), its target above (round up); mirrored for a short
        sl = self.price_down(sl) if sign > 0 else self.price_up(sl)
        tp = self.price_up(tp) if sign > 0 else self.price_down(tp)
        self.trade = {"side": side, "qty": str(o.executed_qty), "entry": str(entry), "stop_loss": str(sl),
                      "take_profit": str(tp), "opened": o.update_time}
        await self.refresh_position()
        self.log.info("%s: %s %s at %s, stop-loss %s, take-profit %s (%s)", self.name, side, o.executed_qty,
                      entry, sl, tp, self.stop_mode)
        close = "SELL" if side == "BUY" else "BUY"
        if self.stop_mode == "order":
            for kind, typ, px in (("stop_loss", "STOP_MARKET", sl), ("take_profit", "TAKE_PROFIT_MARKET", tp)):
                po = await self.place(side=close, type=typ, stopPrice=px, closePosition="true",
                                      workingType="MARK_PRICE")
                if po is not None:
                    self.protect[kind] = po.order_id
        elif self.stop_mode == "algo":
            for kind, typ, px in (("stop_loss", "STOP_MARKET", sl), ("take_profit", "TAKE_PROFIT_MARKET", tp)):
                try:
                    a = await self.client.new_algo_order(self.symbol, close, typ, trigger_price=px,
                                                         close_position=True, working_type="MARK_PRICE")
                    self.open_algo[a.algo_id] = a
                    self.protect[kind] = a.algo_id
                except BinanceAPIError as e:
                    self.errors.append(f"algo {typ}: {e}")

    async def manage(self, mid: Decimal) -> None:
        tr = self.trade
        long = tr["side"] == "BUY"
        if self.stop_mode == "client":
            mark = (await self.client.premium_index(self.symbol)).mark_price or mid
            sl, tp = Decimal(tr["stop_loss"]), Decimal(tr["take_profit"])
            hit = None
            if (long and mark <= sl) or (not long and mark >= sl):
                hit = "stop_loss"
            elif (long and mark >= tp) or (not long and mark <= tp):
                hit = "take_profit"
            if hit:
                o = await self.flatten()
                self._closed(hit, o.avg_price if o is not None else mark)
            return
        # server-side protection: has one of them fired?
        pos = await self.refresh_position()
        if pos != 0:
            return
        fired = None
        for kind, oid in self.protect.items():
            if (self.stop_mode == "order" and oid not in self.open_orders) or \
               (self.stop_mode == "algo" and oid not in self.open_algo):
                fired = kind
        await self._cancel_protection()
        price = None
        try:
            last = await self.client.user_trades(self.symbol, limit=1)
            price = last[-1].price if last else None
        except BinanceAPIError:
            pass
        self._closed(fired or "closed", price)

    def _closed(self, reason: str, price: Optional[Decimal]) -> None:
        tr, self.trade = self.trade, None
        if tr is None:
            return
        tr.update(exit_reason=reason, exit=str(price) if price is not None else None)
        if price is not None:
            sign = 1 if tr["side"] == "BUY" else -1
            tr["pnl"] = str((Decimal(price) - Decimal(tr["entry"])) * Decimal(tr["qty"]) * sign)
        self.trades.append(tr)
        self._last_exit = time.monotonic()
        self.log.info("%s: closed by %s at %s", self.name, reason, price)

    async def _cancel_protection(self) -> None:
        for kind, oid in list(self.protect.items()):
            if self.stop_mode == "order" and oid in self.open_orders:
                try:
                    await self.cancel(oid)
                except BinanceAPIError:
                    pass
            elif self.stop_mode == "algo" and oid in self.open_algo:
                try:
                    await self.client.cancel_algo_order(algo_id=oid)
                except BinanceAPIError as e:
                    if e.code not in (-2011, -2013):
                        self.errors.append(f"cancel algo {oid}: {e}")
                self.open_algo.pop(oid, None)
        self.protect.clear()

    def on_user_event(self, ev: Any) -> None:
        # algo mode: ALGO_UPDATE tells when a conditional order triggered / finished
        if isinstance(ev, UserEvent) and ev.event_type == "ALGO_UPDATE":
            o = ev.raw.get("o", {})
            aid = o.get("aid")
            if aid is not None and o.get("X") in ("TRIGGERED", "FINISHED", "CANCELED", "EXPIRED", "REJECTED"):
                self.open_algo.pop(int(aid), None)

    async def teardown(self) -> None:
        await self._cancel_protection()
        await self.cancel_all_tracked()
        if self.flatten_on_exit:
            o = await self.flatten()
            if self.trade is not None:
                self._closed("bot_stopped", o.avg_price if o is not None else None)

    def report(self) -> dict:
        r = super().report()
        r.update(stop_mode=self.stop_mode, entries=len(self.trades) + (self.trade is not None),
                 trades=self.trades, open_trade=self.trade, open_algo_believed=sorted(self.open_algo))
        return r


def _add_args(p) -> None:
    p.add_argument("--qty", type=Decimal, default=None, help="order size (default: just above MIN_NOTIONAL)")
    p.add_argument("--fast", type=int, default=5)
    p.add_argument("--slow", type=int, default=20)
    p.add_argument("--stop-loss-pct", type=Decimal, default=Decimal("0.5"))
    p.add_argument("--take-profit-pct", type=Decimal, default=Decimal("1.0"))
    p.add_argument("--cooldown", type=float, default=2.0, help="seconds flat after an exit")
    p.add_argument("--stop-mode", choices=STOP_MODES, default="auto")
    p.add_argument("--leverage", type=int, default=None)
    p.add_argument("--no-flatten", action="store_true", help="keep the position when the bot stops")


def _make(client, args) -> TrendFollower:
    return TrendFollower(client, args.symbol, qty=args.qty, fast=args.fast, slow=args.slow,
                         stop_loss_pct=args.stop_loss_pct, take_profit_pct=args.take_profit_pct,
                         cooldown=args.cooldown, stop_mode=args.stop_mode, leverage=args.leverage,
                         flatten=not args.no_flatten, interval=args.interval)


def main(argv=None) -> int:
    return run_main("paperex example trend follower (stop-loss + take-profit)", _add_args, _make, argv)


if __name__ == "__main__":
    raise SystemExit(main())
