"""Accounts: cross wallet, per-symbol settings, positions, open orders, order-margin aggregates."""
from __future__ import annotations

from exchange.contract.codes import CROSSED


class OrderAgg:
    """Open-order totals of one (symbol, position side) slot of an account.

    Position-increasing orders (not reduce-only, not hedge closing orders) add
    their remaining lots, notional at their margin price, and open loss; reduce
    orders only count lots (they need no margin, see risk.py).
    """
    __slots__ = ("buy_lots", "buy_notional", "buy_loss", "sell_lots", "sell_notional", "sell_loss",
                 "ro_buy", "ro_sell")

    def __init__(self) -> None:
        self.buy_lots = 0
        self.buy_notional = 0
        self.buy_loss = 0
        self.sell_lots = 0
        self.sell_notional = 0
        self.sell_loss = 0
        self.ro_buy = 0
        self.ro_sell = 0

    def state(self) -> list:
        return [self.buy_lots, self.buy_notional, self.buy_loss, self.sell_lots,
                self.sell_notional, self.sell_loss, self.ro_buy, self.ro_sell]


class Account:
    __slots__ = ("account_id", "cross_wallet", "dual", "settings", "positions", "orders",
                 "client_ids", "closed_client", "order_count", "aggs", "update_time",
                 "algo_count", "liq")

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.cross_wallet = 0          # money; wallet balance = cross_wallet + sum(isolated wallets)
        self.dual = 0                  # 1 = hedge mode
        self.settings: dict[str, list] = {}       # symbol -> [leverage, margin_type]
        self.positions: dict[tuple, object] = {}  # (symbol, position_side) -> Position
        self.orders: dict[int, object] = {}       # open orders, id order
        self.client_ids: dict[str, object] = {}   # client order id -> open Order
        self.closed_client: dict[str, int] = {}   # client order id -> latest closed order id (bounded)
        self.order_count: dict[str, int] = {}     # symbol -> open orders
        self.aggs: dict[tuple, OrderAgg] = {}     # (symbol, position_side) -> OrderAgg
        self.update_time = 0
        self.algo_count: dict[str, int] = {}      # symbol -> open conditional orders
        # liquidation index entries of this account: (symbol, group) -> (item, direction)
        # group 3 = the account's cross positions in that symbol, 0/1/2 = an isolated position
        self.liq: dict[tuple, tuple] = {}

    def symbol_settings(self, symbol: str, spec) -> list:
        """[leverage, margin_type] of a symbol; the default is returned as a fresh
        list *without* storing it (callers store it when a command succeeds)."""
        s = self.settings.get(symbol)
        if s is None:
            return [spec.default_leverage, CROSSED]
        return s

    def wallet_balance(self) -> int:
        total = self.cross_wallet
        for pos in self.positions.values():
            total += pos.iso_wallet
        return total
