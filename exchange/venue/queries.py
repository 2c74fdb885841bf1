"""Read-only views of the venue for the gateway: accounts, positions, orders, money identity.

A mixin of ``Venue``.  Views are dicts of ints (money units, ticks, lots,
codes) and strings; the gateway formats decimals.  Queries never change state.
"""
from __future__ import annotations

from exchange.venue.orders import order_view
from exchange.venue.positions import Position
from exchange.perp import initial_margin
from exchange.venue.risk import account_margin, position_notional, slot_order_margin
from exchange.venue.accounts import Account, OrderAgg
from exchange.venue.symbol_state import SymbolState


class Queries:
    def money_identity(self) -> dict:
        """The pieces of the money identity, all in money units:

            wallets + insurance_fund + fees_collected + rounding_residue - open_basis
                == deposits - withdrawals

        ``wallets`` sums cross wallets and isolated wallets; ``open_basis`` is the
        sum of open positions' signed entry notionals (long +, short -), which
        equals the realized PnL not yet matched by the counterparties' realized
        PnL (Σ UPNL at any common price = -open_basis).  When every position is
        flat, open_basis is 0 and realized PnL is exactly zero-sum.
        ``balanced`` is the identity's truth value."""
        acct: Account
        pos: Position
        wallets = 0
        basis = 0
        for acct in self.accounts.values():
            wallets += acct.cross_wallet
            for pos in acct.positions.values():
                wallets += pos.iso_wallet
                if pos.qty:
                    basis += pos.entry if pos.qty > 0 else -pos.entry
        lhs = wallets + self.insurance_fund + self.fees_collected + self.rounding_residue - basis
        return {"wallets": wallets, "insurance_fund": self.insurance_fund,
                "fees_collected": self.fees_collected, "rounding_residue": self.rounding_residue,
                "open_basis": basis, "deposits": self.deposits, "withdrawals": self.withdrawals,
                "balanced": lhs == self.deposits - self.withdrawals}

    def state_digest(self) -> str:
        from exchange.venue.digest import state_digest
        return state_digest(self)

    def account(self, account_id: int):
        """Account view (ints): balances, margins, positions, open orders; None if unknown."""
        acct: Account
        acct = self.accounts.get(account_id)
        if acct is None:
            return None
        available, cross_upnl, pos_im, order_im, max_withdraw = account_margin(acct, self.symbols)
        return {
            "account_id": account_id, "dual": acct.dual,
            "wallet_balance": acct.wallet_balance(), "cross_wallet": acct.cross_wallet,
            "cross_upnl": cross_upnl, "position_initial_margin": pos_im,
            "open_order_initial_margin": order_im, "available_balance": available,
            "max_withdraw": max_withdraw, "update_time": acct.update_time,
            "settings": {s: {"leverage": v[0], "margin_type": v[1]} for s, v in acct.settings.items()},
            "positions": self.position_risk(account_id),
            "open_orders": [order_view(o) for o in acct.orders.values()],
        }

    def position_risk(self, account_id: int, symbol: str | None = None) -> list:
        """Per position slot with a position or open orders: ints + entry price as a
        (numerator, denominator) pair of ticks."""
        acct: Account
        agg: OrderAgg
        pos: Position
        st: SymbolState
        acct = self.accounts.get(account_id)
        if acct is None:
            return []
        keys = {}
        for key, pos in acct.positions.items():
            if pos.qty:
                keys[key] = None
        for o in acct.orders.values():
            keys[o.key] = None
        out = []
        adl_by_symbol: dict = {}
        for key in sorted(keys):
            if symbol is not None and key[0] != symbol:
                continue
            st = self.symbols[key[0]]
            unit = st.spec.notional_unit
            pos = acct.positions.get(key) or Position(key[0], key[1])
            settings = acct.symbol_settings(key[0], st.spec)
            mark = st.mark
            pn = position_notional(pos, mark, unit) if pos.qty else 0
            apn = pn if pn >= 0 else -pn
            upnl = pn - pos.signed_entry() if (mark and pos.qty) else 0
            agg = acct.aggs.get(key)
            oim = slot_order_margin(agg, key[1], pn, settings[0])[0] if agg is not None else 0
            aq = pos.qty if pos.qty >= 0 else -pos.qty
            out.append({
                "symbol": key[0], "position_side": key[1], "qty": pos.qty,
                "entry_notional": pos.entry, "entry_price": (pos.entry, aq * unit) if aq else (0, 1),
                "mark_price": mark, "notional": pn, "unrealized_pnl": upnl,
                "leverage": settings[0], "margin_type": settings[1],
                "isolated_wallet": pos.iso_wallet,
                "initial_margin": initial_margin(apn, settings[0]) + oim,
                "position_initial_margin": initial_margin(apn, settings[0]),
                "open_order_initial_margin": oim,
                "maint_margin": st.spec.maint_margin(apn),
                "max_notional": st.spec.max_notional(settings[0]),
                "realized_pnl": pos.realized, "update_time": pos.update_time,
                "liquidation_price": self.liquidation_price(account_id, key[0], key[1]) if pos.qty else 0,
                "adl": self._adl_of(adl_by_symbol, account_id, key) if pos.qty else 0,
            })
        return out

    def _adl_of(self, cache: dict, account_id: int, key: tuple) -> int:
        q = cache.get(key[0])
        if q is None:
            q = cache[key[0]] = self.adl_quantiles(key[0])
        return q.get((account_id, key[1]), 0)

    def order(self, account_id: int, symbol: str, order_id: int = 0, client_order_id: str = ""):
        """Order view by id (wins) or client order id, open or recently closed; None if unknown."""
        acct: Account
        acct = self.accounts.get(account_id)
        if acct is None:
            return None
        o = None
        if order_id > 0:
            o = self.orders.get(order_id) or self.closed.get(order_id)
            if o is not None and o.account_id != account_id:
                o = None
        elif client_order_id:
            o = acct.client_ids.get(client_order_id)
            if o is None:
                oid = acct.closed_client.get(client_order_id)
                o = self.closed.get(oid) if oid is not None else None
        if o is None or o.symbol != symbol:
            return None
        return order_view(o)

    def open_orders(self, account_id: int, symbol: str | None = None) -> list:
        acct: Account
        acct = self.accounts.get(account_id)
        if acct is None:
            return []
        return [order_view(o) for o in acct.orders.values() if symbol is None or o.symbol == symbol]

    def mark_price(self, symbol: str) -> int:
        return self.symbols[symbol].mark

    def index_price(self, symbol: str) -> int:
        return self.symbols[symbol].index

    def book(self, symbol: str):
        return self.symbols[symbol].book

    def depth(self, symbol: str, n: int = 20) -> tuple[list, list]:
        book = self.symbols[symbol].book
        return book.depth(0, n), book.depth(1, n)
