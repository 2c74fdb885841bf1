"""A market maker: quotes both sides around the mid, leans against its inventory.

Every step it reads the mid from a :class:`clients.LocalOrderBook` (depth snapshot
+ diff stream; ``bookTicker`` over REST if the book is not synced), shifts its
reservation price against its position (``skew_bps`` at ``max_position``), and
keeps one post-only (GTX) bid and ask ``spread_bps`` apart around it.  A quote
that drifted more than ``requote_bps`` from its target is canceled and replaced;
at ``max_position`` only the side that reduces the position is quoted.  On stop
it cancels every order it believes it has (and with ``flatten`` closes the
position).

    python -m clients.bots.market_maker --url http://127.0.0.1:8800 --key K --secret S --duration 60
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Optional

from clients import UsdmClient

from clients.bots.base import Bot
from clients.bots.runner import main as run_main

__all__ = ["MarketMaker", "main"]

BPS = Decimal("0.0001")


class MarketMaker(Bot):
    name = "market_maker"
    expected_rejects = frozenset({-5022})      # post-only quote that would have crossed: requoted next step

    def __init__(self, client: UsdmClient, symbol: str = "BTCUSDT", *, qty: Optional[Decimal] = None,
                 spread_bps: Decimal = Decimal(10), skew_bps: Decimal = Decimal(10),
                 max_position: Optional[Decimal] = None, requote_bps: Decimal = Decimal(2),
                 flatten: bool = False, use_book: bool = True, interval: float = 1.0,
                 logger: Optional[logging.Logger] = None) -> None:
        super().__init__(client, symbol, interval=interval, logger=logger)
        self.qty = Decimal(qty) if qty is not None else None
        self.spread_bps = Decimal(spread_bps)
        self.skew_bps = Decimal(skew_bps)
        self.max_position = Decimal(max_position) if max_position is not None else None
        self.requote_bps = Decimal(requote_bps)
        self.flatten_on_exit = flatten
        self.use_book = use_book
        self.book = None
        self.quotes: dict[str, Optional[int]] = {"BUY": None, "SELL": None}   # side -> order id
        self.requotes = 0
        self.last_mid: Optional[Decimal] = None

    async def setup(self) -> None:
        await super().setup()
        if self.use_book:
            self.book = self.client.order_book(self.symbol)
            self.book.start()
            try:
                await self.book.wait_synced(10)
            except Exception as e:  # fall back to bookTicker; the book keeps trying
                self.log.warning("%s: order book not synced (%r); using bookTicker", self.name, e)

    async def mid(self) -> Optional[Decimal]:
        if self.book is not None and self.book.synced and self.book.mid_price is not None:
            return self.book.mid_price
        t = await self.client.book_ticker(self.symbol)
        if t.bid_price and t.ask_price and t.bid_price > 0 and t.ask_price > 0:
            return (t.bid_price + t.ask_price) / 2
        return None

    def targets(self, mid: Decimal) -> dict[str, Optional[Decimal]]:
        """Bid and ask prices for this mid and the current position (None: do not quote that side)."""
        max_pos = self.max_position
        inv = self.position / max_pos if max_pos else Decimal(0)
        inv = max(Decimal(-1), min(Decimal(1), inv))
        reservation = mid * (1 - inv * self.skew_bps * BPS)
        half = mid * self.spread_bps * BPS / 2
        bid = self.price_down(reservation - half)
        ask = self.price_up(reservation + half)
        if ask <= bid:
            ask = bid + self.info.tick_size
        out: dict[str, Optional[Decimal]] = {"BUY": bid, "SELL": ask}
        if max_pos and self.position >= max_pos:
            out["BUY"] = None
        if max_pos and self.position <= -max_pos:
            out["SELL"] = None
        return out

    async def step(self) -> None:
        mid = await self.mid()
        if mid is None:
            return
        self.last_mid = mid
        if self.qty is None:
            self.qty = self.min_order_qty(mid)
        if self.max_position is None:
            self.max_position = self.qty * 5
        if self.steps % 10 == 0:
            await self.refresh_position()
        targets = self.targets(mid)
        for side in ("BUY", "SELL"):
            await self._quote(side, targets[side])

    async def _quote(self, side: str, price: Optional[Decimal]) -> None:
        oid = self.quotes.get(side)
        if oid is not None and oid not in self.open_orders:
            oid = self.quotes[side] = None               # filled or canceled meanwhile
        if oid is not None:
            current = self.open_orders[oid].price
            if price is not None and abs(current - price) <= price * self.requote_bps * BPS:
                return                                   # close enough: keep the queue position
            await self.cancel(oid)
            self.quotes[side] = None
            self.requotes += 1
        if price is None:
            return
        qty = self.qty
        if self.max_position:
            # never let a fill carry the position beyond max_position
            room = self.max_position - self.position if side == "BUY" else self.max_position + self.position
            qty = min(qty, self.qty_down(max(room, Decimal(0))))
        if qty <= 0 or qty * price < (self.info.min_notional or 0):
            return
        o = await self.place(side=side, type="LIMIT", quantity=qty, price=price, time_in_force="GTX")
        if o is not None and o.order_id in self.open_orders:
            self.quotes[side] = o.order_id

    async def teardown(self) -> None:
        try:
            await self.cancel_all_tracked()
            self.quotes = {"BUY": None, "SELL": None}
            if self.flatten_on_exit:
                await self.flatten()
        finally:
            if self.book is not None:
                await self.book.close()

    def report(self) -> dict:
        r = super().report()
        r.update(requotes=self.requotes, last_mid=str(self.last_mid) if self.last_mid else None,
                 qty=str(self.qty) if self.qty else None)
        return r


def _add_args(p) -> None:
    p.add_argument("--qty", type=Decimal, default=None, help="quote size (default: just above MIN_NOTIONAL)")
    p.add_argument("--spread-bps", type=Decimal, default=Decimal(10))
    p.add_argument("--skew-bps", type=Decimal, default=Decimal(10),
                   help="reservation price shift at max position")
    p.add_argument("--max-position", type=Decimal, default=None, help="default: 5 x qty")
    p.add_argument("--requote-bps", type=Decimal, default=Decimal(2))
    p.add_argument("--flatten", action="store_true", help="close the position on exit")


def _make(client, args) -> MarketMaker:
    return MarketMaker(client, args.symbol, qty=args.qty, spread_bps=args.spread_bps, skew_bps=args.skew_bps,
                       max_position=args.max_position, requote_bps=args.requote_bps, flatten=args.flatten,
                       interval=args.interval)


def main(argv=None) -> int:
    return run_main("paperex example market maker", _add_args, _make, argv)


if __name__ == "__main__":
    raise SystemExit(main())
