"""Venue commands that are not orders: market data, accounts and transfers, symbol/account settings.

A mixin of ``Venue`` (see venue.py): each handler takes (ts, command) and
returns the command's events; a refusal is one CommandRejected and no change.
"""
from __future__ import annotations

from exchange.contract import codes as C
from exchange.contract import errors as E
from exchange.venue.accounts import Account
from exchange.contract.commands import (
    AdjustIsolatedMargin, CreateAccount, Deposit, SetLeverage, SetMarginType, SetPositionMode, Withdraw,
)
from exchange.contract.events import (
    AccountCreated, BalanceChanged, CommandRejected, Income, LeverageChanged,
    MarginTypeChanged, PositionChanged, PositionMarginChanged, PositionModeChanged,
)
from exchange.perp import initial_margin
from exchange.venue.risk import account_margin, position_notional, slot_order_margin
from exchange.venue.accounts import OrderAgg
from exchange.venue.positions import Position
from exchange.venue.spec import SymbolSpec
from exchange.venue.symbol_state import SymbolState

_MAX_ID = (1 << 63) - 1


class AdminCommands:
    # ============================================================== accounts
    def _create_account(self, ts: int, c: CreateAccount) -> list:
        acct: Account
        aid = c.account_id
        if not (0 < aid <= _MAX_ID):
            return [CommandRejected(aid, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        if aid in self.accounts:
            return [CommandRejected(aid, c.KIND, *E.Request.ACCOUNT_EXISTS.reason())]
        acct = self.accounts[aid] = Account(aid)
        acct.update_time = ts
        return [AccountCreated(aid)]

    def _deposit(self, ts: int, c: Deposit) -> list:
        acct: Account
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        if c.amount <= 0:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.AMOUNT_MUST_BE_POSITIVE.reason())]
        acct.cross_wallet += c.amount
        acct.update_time = ts
        self.deposits += c.amount
        events = self._transfer_events(acct, C.R_DEPOSIT, c.amount)
        if acct.liq:
            self._dirty[acct.account_id] = None
            self._post(events, ts)
        return events

    def _withdraw(self, ts: int, c: Withdraw) -> list:
        acct: Account
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        if c.amount <= 0:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.AMOUNT_MUST_BE_POSITIVE.reason())]
        if c.amount > account_margin(acct, self.symbols)[4]:
            return [CommandRejected(c.account_id, c.KIND, *E.Processing.BALANCE_NOT_SUFFICIENT.reason())]
        acct.cross_wallet -= c.amount
        acct.update_time = ts
        self.withdrawals += c.amount
        events = self._transfer_events(acct, C.R_WITHDRAW, -c.amount)
        if acct.liq:
            self._dirty[acct.account_id] = None
            self._post(events, ts)
        return events

    def _transfer_events(self, acct: Account, reason: int, change: int) -> list:
        tran = self.next_tran_id
        self.next_tran_id = tran + 1
        return [BalanceChanged(acct.account_id, reason, acct.wallet_balance(), acct.cross_wallet, change),
                Income(acct.account_id, C.I_TRANSFER, "", change, tran, 0)]

    # ============================================================== settings
    def _settings_target(self, c):
        acct: Account
        st: SymbolState
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return None, None, CommandRejected(c.account_id, c.KIND, *E.Request.BAD_ACCOUNT.reason())
        st = self.symbols.get(c.symbol)
        if st is None:
            return None, None, CommandRejected(c.account_id, c.KIND, *E.Request.BAD_SYMBOL.reason())
        return acct, st, None

    def _set_leverage(self, ts: int, c: SetLeverage) -> list:
        acct: Account
        agg: OrderAgg
        pos: Position
        spec: SymbolSpec
        st: SymbolState
        acct, st, rej = self._settings_target(c)
        if rej is not None:
            return [rej]
        spec = st.spec
        lev = c.leverage
        if not (1 <= lev <= spec.max_leverage):
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.INVALID_LEVERAGE.reason(lev))]
        settings = acct.symbol_settings(c.symbol, spec)
        old = settings[0]
        has_position = any(p.qty for k, p in acct.positions.items() if k[0] == c.symbol)
        if settings[1] == C.ISOLATED and lev < old and has_position:
            return [CommandRejected(c.account_id, c.KIND, *E.Orders41.ISOLATED_LEVERAGE_REJECT_WITH_POSITION.reason())]
        cap = spec.max_notional(lev)
        stored = c.symbol in acct.settings
        settings[0] = lev
        acct.settings[c.symbol] = settings       # tentatively: the checks below read it
        err = None
        for key, agg in acct.aggs.items():
            if key[0] != c.symbol:
                continue
            pos = acct.positions.get(key)
            pn = position_notional(pos, st.mark, spec.notional_unit) if pos is not None and pos.qty else 0
            if slot_order_margin(agg, key[1], pn, lev)[1] > cap:
                err = E.Processing.MAX_LEVERAGE_RATIO.reason()
                break
        if err is None:
            for key, pos in acct.positions.items():
                if key[0] == c.symbol and pos.qty and key not in acct.aggs:
                    pn = position_notional(pos, st.mark, spec.notional_unit)
                    if (pn if pn >= 0 else -pn) > cap:
                        err = E.Processing.MAX_LEVERAGE_RATIO.reason()
                        break
        if err is None and lev < old and account_margin(acct, self.symbols)[0] < 0:
            err = E.Processing.MIN_LEVERAGE_RATIO.reason()
        if err is not None:
            settings[0] = old
            if not stored:
                del acct.settings[c.symbol]
            return [CommandRejected(c.account_id, c.KIND, err[0], err[1])]
        acct.update_time = ts
        return [LeverageChanged(c.account_id, c.symbol, lev, cap)]

    def _set_margin_type(self, ts: int, c: SetMarginType) -> list:
        acct: Account
        st: SymbolState
        acct, st, rej = self._settings_target(c)
        if rej is not None:
            return [rej]
        mt = c.margin_type
        if mt != C.CROSSED and mt != C.ISOLATED:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.INVALID_PARAMETER.reason("marginType"))]
        settings = acct.symbol_settings(c.symbol, st.spec)
        if settings[1] == mt:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.NO_NEED_TO_CHANGE_MARGIN_TYPE.reason())]
        if acct.order_count.get(c.symbol, 0) or acct.algo_count.get(c.symbol, 0):
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.MARGIN_TYPE_OPEN_ORDERS.reason())]
        if any(p.qty for k, p in acct.positions.items() if k[0] == c.symbol):
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.MARGIN_TYPE_POSITION.reason())]
        settings[1] = mt
        acct.settings[c.symbol] = settings
        acct.update_time = ts
        return [MarginTypeChanged(c.account_id, c.symbol, mt)]

    def _set_position_mode(self, ts: int, c: SetPositionMode) -> list:
        acct: Account
        acct = self.accounts.get(c.account_id)
        if acct is None:
            return [CommandRejected(c.account_id, c.KIND, *E.Request.BAD_ACCOUNT.reason())]
        dual = 1 if c.dual else 0
        if acct.dual == dual:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.NO_NEED_TO_CHANGE_POSITION_SIDE.reason())]
        if acct.orders:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.POSITION_SIDE_CHANGE_OPEN_ORDERS.reason())]
        if any(p.qty for p in acct.positions.values()):
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.POSITION_SIDE_CHANGE_POSITION.reason())]
        acct.dual = dual
        acct.update_time = ts
        return [PositionModeChanged(c.account_id, dual)]

    # ======================================================== isolated margin
    def _adjust_isolated_margin(self, ts: int, c: AdjustIsolatedMargin) -> list:
        """positionMargin: move money between the cross wallet and an isolated position.

        Add: at most the available balance (-4050).  Remove: at most
        ``isolated wallet + min(0, UPNL) - initial margin at mark`` (-4051), so the
        position keeps its initial margin.  No position: -4054; crossed symbol: -4049.
        """
        acct: Account
        pos: Position
        st: SymbolState
        acct, st, rej = self._settings_target(c)
        if rej is not None:
            return [rej]
        if c.change_type not in (1, 2):
            return [CommandRejected(c.account_id, c.KIND, *E.Request.INVALID_PARAMETER.reason("type"))]
        if c.amount <= 0:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.AMOUNT_MUST_BE_POSITIVE.reason())]
        if not (0 <= c.position_side <= 2) or (c.position_side == C.BOTH) == bool(acct.dual):
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.POSITION_SIDE_NOT_MATCH.reason())]
        settings = acct.symbol_settings(c.symbol, st.spec)
        if settings[1] != C.ISOLATED:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.ADD_ISOLATED_MARGIN_REJECT.reason())]
        pos = acct.positions.get((c.symbol, c.position_side))
        if pos is None or not pos.qty:
            return [CommandRejected(c.account_id, c.KIND, *E.Filters.ADD_ISOLATED_MARGIN_NO_POSITION.reason())]
        amount = c.amount
        if c.change_type == 1:
            if amount > account_margin(acct, self.symbols)[0]:
                return [CommandRejected(c.account_id, c.KIND, *E.Filters.CROSS_BALANCE_INSUFFICIENT.reason())]
            acct.cross_wallet -= amount
            pos.iso_wallet += amount
            change = amount
        else:
            unit = st.spec.notional_unit
            pn = position_notional(pos, st.mark, unit)
            upnl = pn - pos.signed_entry() if st.mark else 0
            apn = pn if pn >= 0 else -pn
            im = initial_margin(apn, settings[0])
            removable = pos.iso_wallet + (upnl if upnl < 0 else 0) - im
            if amount > removable:
                return [CommandRejected(c.account_id, c.KIND, *E.Filters.ISOLATED_BALANCE_INSUFFICIENT.reason())]
            acct.cross_wallet += amount
            pos.iso_wallet -= amount
            change = -amount
        acct.update_time = ts
        pos.update_time = ts
        events = [PositionMarginChanged(c.account_id, c.symbol, c.position_side, amount, c.change_type,
                                        pos.iso_wallet),
                  BalanceChanged(c.account_id, C.R_MARGIN_TRANSFER, acct.wallet_balance(), acct.cross_wallet, 0),
                  PositionChanged(c.account_id, c.symbol, c.position_side, pos.qty, pos.entry, pos.realized,
                                  pos.iso_wallet, C.ISOLATED)]
        self._dirty[c.account_id] = None
        self._post(events, ts)
        _ = change
        return events
