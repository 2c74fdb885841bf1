"""A high-leverage trader: what a liquidation looks like, from the trader's side.

It sets ``leverage`` (default 125x), opens a long worth ``margin_fraction`` of its
balance times the leverage with a MARKET order, and then only watches.  In the
``crash`` scenario (``paperex serve --scenario crash``) the mark price falls
through its liquidation price and the exchange closes the position.  The bot
detects that three ways, all public wire API:

* REST ``GET /fapi/v3/positionRisk``: the position is gone though the bot never
  sold (its wallet balance dropped by about the margin it had);
* the user data stream: a ``MARGIN_CALL`` event, an ``ORDER_TRADE_UPDATE`` of the
  liquidation order (execution type ``CALCULATED``, client id ``autoclose-...``),
  an ``ACCOUNT_UPDATE`` that sets the position to 0;
* REST ``GET /fapi/v1/forceOrders``: the liquidation order itself.

It stops once liquidated and reports what each source showed, plus the SQL that
finds the liquidation in ``paperex export``'s SQLite file.

    paperex serve --scenario crash
    python -m clients.bots.high_leverage --url http://127.0.0.1:8800 --duration 120
"""
from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any, Optional

from clients import BinanceAPIError, UsdmClient
from clients.models import AccountUpdate, OrderUpdate, UserEvent

from clients.bots.base import Bot
from clients.bots.runner import main as run_main

__all__ = ["HighLeverageTrader", "main", "EXPORT_SQL"]

EXPORT_SQL = """\
-- after `paperex export ./paperex-data run.db`: the liquidation of account {account}
select seq, time, symbol, side, price, qty, filled_qty, status from force_order where account_id = {account};
select seq, time, symbol, qty, entry_notional, realized_pnl from position_changed where account_id = {account} order by seq;
select income_type, round(sum(amount), 8) from income where account_id = {account} group by income_type;"""


class HighLeverageTrader(Bot):
    name = "high_leverage"

    def __init__(self, client: UsdmClient, symbol: str = "BTCUSDT", *, leverage: int = 125,
                 margin_fraction: Decimal = Decimal("0.9"), side: str = "BUY", stop_when_liquidated: bool = True,
                 close_on_exit: bool = False, interval: float = 0.5,
                 logger: Optional[logging.Logger] = None) -> None:
        super().__init__(client, symbol, interval=interval, logger=logger)
        self.leverage = leverage
        self.margin_fraction = Decimal(margin_fraction)
        self.side = side
        self.stop_when_liquidated = stop_when_liquidated
        self.close_on_exit = close_on_exit
        self.entry: Optional[dict] = None
        self.position_before: Optional[dict] = None
        self.wallet_before: Optional[Decimal] = None
        self.wallet_after: Optional[Decimal] = None
        self.liquidated = False
        self.liquidated_at: Optional[float] = None
        self.detected_by: dict[str, Any] = {}      # source -> what it showed
        self.force_orders: list[dict] = []
        self.income: list[dict] = []
        self._closing = False

    async def setup(self) -> None:
        await super().setup()
        r = await self.client.change_leverage(self.symbol, self.leverage)
        self.leverage = int(r.get("leverage", self.leverage))
        acct = await self.client.account()
        self.wallet_before = acct.total_wallet_balance if hasattr(acct, "total_wallet_balance") else None
        avail = getattr(acct, "available_balance", None) or self.wallet_before
        t = await self.client.book_ticker(self.symbol)
        price = t.ask_price if self.side == "BUY" else t.bid_price
        notional = Decimal(avail) * self.margin_fraction * self.leverage
        cap = await self._notional_cap()
        if cap:
            notional = min(notional, cap * Decimal("0.95"))
        qty = self.qty_down(notional / price)
        qty = max(qty, self.min_order_qty(price))
        o = await self.place(side=self.side, type="MARKET", quantity=qty)
        if o is None:
            raise RuntimeError(f"{self.name}: the opening order was refused: {self.errors[-1:]}")
        self.entry = {"side": self.side, "qty": str(o.executed_qty), "avg_price": str(o.avg_price),
                      "leverage": self.leverage, "notional": str(o.cum_quote)}
        rows = await self.client.position_risk(self.symbol)
        self.position_before = {k: str(v) for k, v in (rows[0].raw.items() if rows else [])}
        await self.refresh_position()
        self.log.info("%s: opened %s %s %s at %s with %sx; liquidation price %s", self.name, self.side,
                      o.executed_qty, self.symbol, o.avg_price, self.leverage,
                      self.position_before.get("liquidationPrice"))

    async def _notional_cap(self) -> Optional[Decimal]:
        try:
            br = await self.client.leverage_bracket(self.symbol)
        except BinanceAPIError:
            return None
        rows = br[0].get("brackets", []) if br else []
        ok = [b for b in rows if int(b.get("initialLeverage", 0)) >= self.leverage]
        return Decimal(str(max(b["notionalCap"] for b in ok))) if ok else None

    async def step(self) -> None:
        if self.liquidated:
            if self.stop_when_liquidated:
                self.stop()
            return
        rows = await self.client.position_risk(self.symbol)
        amt = sum((r.position_amt for r in rows if r.symbol == self.symbol), Decimal(0))
        self.position = amt
        if amt == 0 and not self._closing:
            self.detected_by.setdefault("rest_position_risk", {"positionAmt": "0", "rows": [r.raw for r in rows]})
            await self._liquidated()

    def on_user_event(self, ev: Any) -> None:
        if isinstance(ev, UserEvent) and ev.event_type == "MARGIN_CALL":
            self.detected_by.setdefault("user_stream_margin_call", ev.raw)
        elif isinstance(ev, OrderUpdate) and ev.symbol == self.symbol:
            cid = ev.client_order_id or ""
            if ev.execution_type == "CALCULATED" or cid.startswith(("autoclose-", "adl_autoclose")) \
                    or ev.orig_type == "LIQUIDATION":
                self.detected_by.setdefault("user_stream_liquidation_order", ev.raw)
        elif isinstance(ev, AccountUpdate) and not self._closing:
            for p in ev.positions:
                if p.symbol == self.symbol and p.position_amt == 0 and self.entry is not None:
                    self.detected_by.setdefault("user_stream_account_update", ev.raw)

    async def _liquidated(self) -> None:
        self.liquidated = True
        self.liquidated_at = time.time()
        try:
            fo = await self.client.force_orders(self.symbol)
            self.force_orders = [o.raw for o in fo]
            if fo:
                self.detected_by.setdefault("rest_force_orders", self.force_orders)
        except BinanceAPIError as e:
            self.errors.append(f"forceOrders: {e}")
        try:
            self.income = [i.raw if hasattr(i, "raw") else i for i in await self.client.income(self.symbol)]
        except BinanceAPIError as e:
            self.errors.append(f"income: {e}")
        acct = await self.client.account()
        self.wallet_after = getattr(acct, "total_wallet_balance", None)
        self.log.warning("%s: LIQUIDATED: position gone; wallet %s -> %s; seen by %s", self.name,
                         self.wallet_before, self.wallet_after, ", ".join(sorted(self.detected_by)))

    async def teardown(self) -> None:
        await self.cancel_all_tracked()
        if self.close_on_exit and not self.liquidated:
            self._closing = True
            await self.flatten()

    def report(self) -> dict:
        r = super().report()
        r.update(leverage=self.leverage, entry=self.entry, liquidated=self.liquidated,
                 detected_by=sorted(self.detected_by), wallet_before=str(self.wallet_before),
                 wallet_after=str(self.wallet_after) if self.wallet_after is not None else None,
                 liquidation_price_before=(self.position_before or {}).get("liquidationPrice"),
                 force_orders=self.force_orders)
        if self.liquidated:
            r["export_sql"] = EXPORT_SQL.format(account=self.account_id if self.account_id is not None
                                                else "<your account id>")
        return r


def _add_args(p) -> None:
    p.add_argument("--leverage", type=int, default=125)
    p.add_argument("--margin-fraction", type=Decimal, default=Decimal("0.9"),
                   help="part of the available balance used as margin")
    p.add_argument("--side", choices=("BUY", "SELL"), default="BUY")
    p.add_argument("--close-on-exit", action="store_true", help="close the position if still alive at the end")
    p.set_defaults(interval=0.5)


def _make(client, args) -> HighLeverageTrader:
    return HighLeverageTrader(client, args.symbol, leverage=args.leverage, margin_fraction=args.margin_fraction,
                              side=args.side, close_on_exit=args.close_on_exit, interval=args.interval)


def main(argv=None) -> int:
    return run_main("paperex example high-leverage trader (gets liquidated in a crash)", _add_args, _make, argv)


if __name__ == "__main__":
    raise SystemExit(main())
