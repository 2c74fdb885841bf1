"""Events: what ``Venue.apply`` returns, in the order things happened.

Each event is an immutable NamedTuple of ints and strings with a stable
integer ``KIND`` (>= 1000); ``ev.to_record()`` gives ``[kind, [fields...]]``
and ``event_from_record`` decodes one.  Events carry no timestamp: they belong
to the command that produced them, whose journal record carries seq and time.

Money fields are 1e-8 USDT units, prices ticks, quantities lots; enumerations
use ``exchange.contract.codes``.  The gateway renders them as Binance payloads:

* OrderAccepted / OrderFilled / OrderCanceled / OrderExpired / OrderModified
  -> ORDER_TRADE_UPDATE (x = NEW / TRADE / CANCELED / EXPIRED / AMENDMENT);
  OrderFilled with ``is_maker == 0`` is also the public trade.
* BalanceChanged + PositionChanged -> ACCOUNT_UPDATE (reason ``m``); the venue
  emits them once per touched account / position at the end of a command.
* Income -> GET /fapi/v1/income rows.
* LeverageChanged -> ACCOUNT_CONFIG_UPDATE.

Every order event carries the order's fields the wire shows (``ORDER_STATE``:
side, cumulative fill, client id, type, time in force, price, quantity, flags;
the conditional ones only for conditional orders), so ORDER_TRADE_UPDATE, the
WS API answers and the export are built from the event alone: a subscriber
never asks the venue about an order (which may have left its history by the
time a deferred commit is published).
"""
from __future__ import annotations

from typing import NamedTuple

from exchange.contract.records import Registry

EVENTS = Registry("event", 1000, 1_000_000)

#: the order's fields every later order event (canceled, expired, triggered) carries after its own
ORDER_STATE = ("side", "position_side", "filled_qty", "cum_quote", "client_order_id", "order_type",
               "time_in_force", "order_price", "order_qty", "reduce_only", "stp", "stop_price",
               "working_type", "price_protect", "close_position", "activation_price", "callback_rate")
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
    stop_price: int = 0
    working_type: int = 0
    price_protect: int = 0
    close_position: int = 0
    activation_price: int = 0
    callback_rate: int = 0
    KIND = 1010
    CORE_FIELDS = 12


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
    # the order as the wire shows it (with the fields above): ORDER_STATE
    client_order_id: str
    order_type: int
    time_in_force: int
    order_price: int       # the order's limit price (0: market)
    order_qty: int
    reduce_only: int
    stp: int
    KIND = 1012


@register
class OrderCanceled(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    remaining: int
    reason: int            # codes.CANCEL_*
    # the order as the wire shows it (ORDER_TRADE_UPDATE, WS API, export): ORDER_STATE
    side: int
    position_side: int
    filled_qty: int        # cumulative, lots
    cum_quote: int         # cumulative notional, money
    client_order_id: str
    order_type: int
    time_in_force: int
    order_price: int       # the order's limit price (0: market)
    order_qty: int
    reduce_only: int
    stp: int
    stop_price: int = 0    # conditional orders only (trimmed from the record when 0)
    working_type: int = 0
    price_protect: int = 0
    close_position: int = 0
    activation_price: int = 0
    callback_rate: int = 0
    KIND = 1013
    CORE_FIELDS = 16


@register
class OrderExpired(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    remaining: int
    reason: int            # Binance ``er`` (codes.ER_*)
    status: int            # EXPIRED / EXPIRED_IN_MATCH
    # the order as the wire shows it (ORDER_TRADE_UPDATE, WS API, export): ORDER_STATE
    side: int
    position_side: int
    filled_qty: int        # cumulative, lots
    cum_quote: int         # cumulative notional, money
    client_order_id: str
    order_type: int
    time_in_force: int
    order_price: int       # the order's limit price (0: market)
    order_qty: int
    reduce_only: int
    stp: int
    stop_price: int = 0    # conditional orders only (trimmed from the record when 0)
    working_type: int = 0
    price_protect: int = 0
    close_position: int = 0
    activation_price: int = 0
    callback_rate: int = 0
    KIND = 1014
    CORE_FIELDS = 17


@register
class OrderModified(NamedTuple):
    order_id: int
    account_id: int
    symbol: str
    price: int             # the new price and quantity
    qty: int
    filled_qty: int
    # the order as the wire shows it (with the fields above)
    side: int
    position_side: int
    cum_quote: int
    client_order_id: str
    order_type: int
    time_in_force: int
    reduce_only: int
    stp: int
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
    """Every mark refresh (also when unchanged: it is the markPriceUpdate stream)."""
    symbol: str
    price: int
    index_price: int = 0
    funding_rate: int = 0          # current estimate (premiumIndex lastFundingRate), RATE_SCALE
    next_funding_time: int = 0     # ms
    estimated_settle_price: int = 0
    pinned: int = 0                # 1 while a SetMarkPrice pin holds
    KIND = 1031
    CORE_FIELDS = 2


@register
class FundingSettled(NamedTuple):
    """One funding settlement (GET /fapi/v1/fundingRate row).  The per-position
    Income(FUNDING_FEE) / BalanceChanged(FUNDING_FEE) rows follow it."""
    symbol: str
    funding_time: int
    funding_rate: int              # RATE_SCALE
    mark_price: int
    positions: int                 # positions charged or credited
    paid: int                      # money paid by payers (>= 0)
    received: int                  # money credited to receivers (>= 0); paid - received -> rounding residue
    KIND = 1032


@register
class PremiumSampled(NamedTuple):
    """One premium-index sample a SamplePremium took (both book sides and the index were
    there): the premium candles and the markPrice stream's funding estimate come from it."""
    symbol: str
    premium: int                   # (impact price - index) / index, RATE_SCALE
    funding_rate: int              # the funding estimate after this sample, RATE_SCALE
    KIND = 1033


@register
class MarginCall(NamedTuple):
    """MARGIN_CALL: one position of an account whose margin ratio reached the call level."""
    account_id: int
    symbol: str
    position_side: int
    margin_type: int
    qty: int
    mark_price: int
    unrealized_pnl: int
    maint_margin: int
    isolated_wallet: int
    cross_wallet: int
    KIND = 1040


@register
class ForceOrder(NamedTuple):
    """A liquidation order (forceOrder stream): LIMIT IOC at the bankruptcy price.
    ``filled_qty``/``cum_quote`` cover its book fills; the rest was taken over
    or deleveraged (see PositionClosedOut)."""
    symbol: str
    order_id: int
    account_id: int
    side: int
    position_side: int
    price: int                     # bankruptcy price, ticks
    qty: int
    filled_qty: int
    cum_quote: int                 # money; avg price = cum_quote / (filled_qty * notional_unit)
    status: int                    # FILLED / EXPIRED (partly or not filled in the book)
    KIND = 1041


@register
class PositionClosedOut(NamedTuple):
    """A position change outside the book (not a public trade): insurance-fund
    takeover, ADL, or netting of a liquidated cross hedge."""
    account_id: int
    symbol: str
    position_side: int
    side: int                      # the side of the closing trade for this account
    price: int
    qty: int
    realized_pnl: int
    kind: int                      # codes.CLOSE_*
    order_id: int                  # the liquidation order it belongs to
    counter_account_id: int        # 0 = insurance fund
    KIND = 1042


@register
class InsuranceFundChanged(NamedTuple):
    symbol: str
    change: int
    balance: int
    reason: int                    # codes.F_*
    account_id: int                # 0 for contributions
    KIND = 1043


@register
class OrderTriggered(NamedTuple):
    """A conditional order fired; its regular order is ``new_order_id`` (0 if it was refused)."""
    order_id: int
    account_id: int
    symbol: str
    trigger_price: int             # the working price that fired it
    new_order_id: int
    # the order as the wire shows it (ORDER_TRADE_UPDATE, WS API, export): ORDER_STATE
    side: int
    position_side: int
    filled_qty: int        # cumulative, lots
    cum_quote: int         # cumulative notional, money
    client_order_id: str
    order_type: int
    time_in_force: int
    order_price: int       # the order's limit price (0: market)
    order_qty: int
    reduce_only: int
    stp: int
    stop_price: int = 0    # conditional orders only (trimmed from the record when 0)
    working_type: int = 0
    price_protect: int = 0
    close_position: int = 0
    activation_price: int = 0
    callback_rate: int = 0
    KIND = 1016
    CORE_FIELDS = 16


@register
class PositionMarginChanged(NamedTuple):
    """positionMargin: isolated margin added (1) or removed (2)."""
    account_id: int
    symbol: str
    position_side: int
    amount: int
    change_type: int
    isolated_wallet: int
    KIND = 1021


def event_from_record(record) -> NamedTuple:
    return EVENTS.from_record(record)
