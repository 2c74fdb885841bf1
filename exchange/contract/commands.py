"""Commands: what the sequencer feeds to ``Venue.apply(ts_ms, command)``.

Each command is an immutable NamedTuple of ints and short strings with a stable
integer ``KIND`` (< 1000).  ``cmd.to_record()`` gives ``[kind, [fields...]]``
for the journal; ``command_from_record(rec)`` decodes and type-checks one.

Enumerated fields use the codes in ``exchange.contract.codes`` (sides, order
types, time in force, position sides, margin types, STP modes).  Prices are
integer ticks, quantities integer lots, money integer 1e-8 USDT units.
"""
from __future__ import annotations

from typing import NamedTuple

from exchange.contract.records import Registry

COMMANDS = Registry("command", 1, 1000)
register = COMMANDS.register


@register
class CreateAccount(NamedTuple):
    account_id: int
    KIND = 1


@register
class Deposit(NamedTuple):
    account_id: int
    amount: int            # money units
    KIND = 2


@register
class Withdraw(NamedTuple):
    account_id: int
    amount: int            # money units
    KIND = 3


@register
class SetLeverage(NamedTuple):
    account_id: int
    symbol: str
    leverage: int
    KIND = 4


@register
class SetMarginType(NamedTuple):
    account_id: int
    symbol: str
    margin_type: int       # CROSSED / ISOLATED
    KIND = 5


@register
class SetPositionMode(NamedTuple):
    account_id: int
    dual: int              # 1 = hedge mode (dualSidePosition), 0 = one-way
    KIND = 6


@register
class NewOrder(NamedTuple):
    account_id: int
    symbol: str
    side: int              # BUY / SELL
    order_type: int        # LIMIT / MARKET
    time_in_force: int     # GTC / IOC / FOK / GTX (ignored for MARKET)
    qty: int               # lots
    price: int = 0         # ticks; 0 for MARKET
    reduce_only: int = 0
    position_side: int = 0  # BOTH / LONG / SHORT
    client_order_id: str = ""  # "" = venue assigns one
    stp: int = 0           # STP_NONE / EXPIRE_TAKER / EXPIRE_MAKER / EXPIRE_BOTH
    # conditional orders (order_type STOP .. TRAILING_STOP_MARKET); ignored by LIMIT / MARKET
    stop_price: int = 0        # trigger price, ticks (stopPrice / triggerPrice)
    working_type: int = 0      # CONTRACT_PRICE / MARK_PRICE
    price_protect: int = 0
    close_position: int = 0    # STOP_MARKET / TAKE_PROFIT_MARKET: close the whole position (qty 0)
    activation_price: int = 0  # TRAILING_STOP_MARKET, ticks; 0 = the working price when placed
    callback_rate: int = 0     # TRAILING_STOP_MARKET, RATE_SCALE units (1 % = 1_000_000), 0.1 % - 10 %
    algo: int = 0              # 1: placed through the Algo Order API (the venue ignores it; the
                               # gateway shows such orders as algo orders, also after a replay)
    KIND = 10
    CORE_FIELDS = 11           # fields after these are written to records only when set


@register
class CancelOrder(NamedTuple):
    account_id: int
    symbol: str
    order_id: int = 0            # wins when > 0
    client_order_id: str = ""    # origClientOrderId
    KIND = 11


@register
class ModifyOrder(NamedTuple):
    account_id: int
    symbol: str
    order_id: int                # wins when > 0
    price: int
    qty: int
    client_order_id: str = ""    # origClientOrderId
    KIND = 12


@register
class CancelAllOrders(NamedTuple):
    account_id: int
    symbol: str
    KIND = 13


@register
class SetIndexPrice(NamedTuple):
    symbol: str
    price: int
    KIND = 20


@register
class SetMarkPrice(NamedTuple):
    """Pins the mark price (it then ignores the mark rule and the index) until a
    SetMarkPrice with ``price == 0`` releases it."""
    symbol: str
    price: int
    KIND = 21


@register
class RefreshMarkPrice(NamedTuple):
    """Timer (every second): recompute the mark by Binance's rule, then run the
    MARK_PRICE triggers and the liquidation check."""
    symbol: str
    KIND = 22


@register
class SamplePremium(NamedTuple):
    """Timer (every 5 s): one premium-index sample (impact bid/ask vs index) and
    one basis sample for the mark rule's moving average."""
    symbol: str
    KIND = 23


@register
class SettleFunding(NamedTuple):
    """Timer (every funding interval): funding for the interval boundary at or
    before the command's time; refused if that boundary is already settled.
    ``rate`` set: charge this recorded rate instead of the interval's premium
    average (a replay of recorded funding)."""
    symbol: str
    NO_RATE = -(1 << 62)       # ``rate`` unset (any real rate is within a few % = 10**6 units)
    rate: int = NO_RATE        # RATE_SCALE units
    KIND = 24
    CORE_FIELDS = 1            # ``rate`` came later: written to records only when set


@register
class AdjustIsolatedMargin(NamedTuple):
    """POST /fapi/v1/positionMargin: ``margin_type`` 1 adds, 2 removes ``amount``."""
    account_id: int
    symbol: str
    position_side: int
    amount: int            # money units, > 0
    change_type: int       # 1 add / 2 reduce
    KIND = 25


@register
class FundInsurance(NamedTuple):
    """Pays ``amount`` into the insurance fund (counted as a deposit)."""
    amount: int
    KIND = 26


@register
class InjectFault(NamedTuple):
    """An injected fault (``exchange/gateway/faults.py``), journaled before it takes
    effect so a replay and an auditor see every one.  The venue changes nothing
    and emits nothing (the state digest is unaffected).  ``kind`` is the fault
    kind (``-1007``, ``429``, ``ws_drop``...), ``rule_id`` the rule that fired,
    ``account_id`` the account it hit (0: none / unknown), ``detail`` what and how
    (``POST /fapi/v1/order executed=1 newClientOrderId=...``)."""
    kind: str
    rule_id: str
    account_id: int
    detail: str
    KIND = 30


@register
class SeedHistory(NamedTuple):
    """A market's past, journaled as one command instead of millions of events:
    ``exchange.engine.history.generate`` expands (seed, span, anchors) into klines,
    mark / index / premium klines, funding history, trades and open interest
    ending at the command's time.  The venue changes nothing and emits nothing;
    the gateway's projection and the export expand it, identically every time.
    ``anchors``: each symbol's price at the start point in integer ticks,
    ``"BTCUSDT:600000,ETHUSDT:300000"`` (the live market starts there)."""
    seed: int
    span_ms: int
    anchors: str
    KIND = 31


@register
class OpenCompetition(NamedTuple):
    """A competition begins (``paperex serve --competition FILE``): ``definition`` is
    the canonical JSON of its rules and teams (``exchange.contract.competition``), so the
    journal alone tells a projection which accounts compete and from when to when.
    The venue changes nothing and emits nothing (like InjectFault)."""
    definition: str
    KIND = 32


@register
class RecordStandings(NamedTuple):
    """The final standings of a competition at its window's end (canonical JSON of the
    leaderboard projection's ranking), journaled so ``paperex export`` and an auditor
    read them from the journal.  The venue changes nothing and emits nothing."""
    standings: str
    KIND = 33


def command_from_record(record) -> NamedTuple:
    return COMMANDS.from_record(record)
