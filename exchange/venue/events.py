"""Events: what ``Venue.apply`` returns, in the order things happened.

Each event is an immutable NamedTuple of ints and strings with a stable
integer ``KIND`` (>= 1000); ``ev.to_record()`` gives ``[kind, [fields...]]``
and ``event_from_record`` decodes one.  Events carry no timestamp: they belong
to the command that produced them, whose journal record carries seq and time.

Money fields are 1e-8 USDT units, prices ticks, quantities lots; enumerations
use ``exchange.venue.codes``.  The gateway renders them as Binance payloads:

* OrderAccepted / OrderFilled / OrderCanceled / OrderExpired / OrderModified
  -> ORDER_TRADE_UPDATE (x = NEW / TRADE / CANCELED / EXPIRED / AMENDMENT);
  OrderFilled with ``is_maker == 0`` is also the public trade.
* BalanceChanged + PositionChanged -> ACCOUNT_UPDATE (reason ``m``); the venue
  emits them once per touched account / position at the end of a command.
* Income -> GET /fapi/v1/income rows.
* LeverageChanged -> ACCOUNT_CONFIG_UPDATE.
"""
from __future__ import annotations

from typing import NamedTuple

from .records import Registry

EVENTS = Registry("event", 1000, 1_000_000)
register = EVENTS.register


@register
class AccountCreated(NamedTuple):
    account_id: int
    KIND = 1000


@register
class BalanceChanged(NamedTuple):
    account_id: int
    reason: int            # codes.R_* (ACCOUNT_UPDATE ``m``)
    wallet_balance: int    # cross wallet + all isolated wallets (``wb``)
    cross_wallet: int      # ``cw``
    balance_change: int    # change excluding PnL and commission (``bc``)
    KIND = 1001


@register
class Income(NamedTuple):
    account_id: int
    income_type: int       # codes.I_*
    symbol: str            # "" for account-level rows
    amount: int            # signed money units
    tran_id: int
    trade_id: int          # 0 when not from a trade
    KIND = 1002


@register
class CommandRejected(NamedTuple):
    account_id: int
    command_kind: int
    code: int
    msg: str
    KIND = 1003


@register
class LeverageChanged(NamedTuple):
    account_id: int
    symbol: str
    leverage: int
    max_notional: int      # money units
    KIND = 1004


@register
class MarginTypeChanged(NamedTuple):
    account_id: int
    symbol: str
    margin_type: int
    KIND = 1005


@register
class PositionModeChanged(NamedTuple):
    account_id: int
    dual: int
    KIND = 1006


@register
class OrderAccepted(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    qty: int
    reduce_only: int
    position_side: int
    stp: int
    KIND = 1010


@register
class OrderRejected(NamedTuple):
    account_id: int
    symbol: str
    client_order_id: str
    code: int
    msg: str
    KIND = 1011


@register
class OrderFilled(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    trade_id: int
    side: int
    position_side: int
    price: int
    qty: int
    is_maker: int
    fee: int               # money charged (negative = rebate)
    realized_pnl: int      # money, before fee
    filled_qty: int        # cumulative, lots
    cum_quote: int         # cumulative notional, money
    status: int            # PARTIALLY_FILLED / FILLED
    counter_order_id: int
    KIND = 1012


@register
class OrderCanceled(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    remaining: int
    reason: int            # codes.CANCEL_*
    KIND = 1013


@register
class OrderExpired(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    remaining: int
    reason: int            # Binance ``er`` (codes.ER_*)
    status: int            # EXPIRED / EXPIRED_IN_MATCH
    KIND = 1014


@register
class OrderModified(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    price: int
    qty: int
    filled_qty: int
    KIND = 1015


@register
class PositionChanged(NamedTuple):
    account_id: int
    symbol: str
    position_side: int
    qty: int               # signed lots: + long, - short (a SHORT slot is <= 0, as Binance positionAmt)
    entry_notional: int    # money, >= 0; entry price = entry_notional / (|qty| * notional_unit) ticks
    realized_pnl: int      # cumulative realized PnL of this position slot (``cr``)
    isolated_wallet: int   # money (0 when crossed)
    margin_type: int
    KIND = 1020


@register
class IndexPriceChanged(NamedTuple):
    symbol: str
    price: int
    KIND = 1030


@register
class MarkPriceChanged(NamedTuple):
    symbol: str
    price: int
    KIND = 1031


def event_from_record(record) -> NamedTuple:
    return EVENTS.from_record(record)
