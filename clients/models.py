"""Typed results with Decimal prices and quantities.

Every object keeps the untouched wire dict in ``.raw`` (excluded from ``repr``/``==``).
Parsers are tolerant: a missing field becomes ``None`` rather than an exception, so the
same models work against paperex and against the real Binance as fields come and go.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

__all__ = [
    "D", "Level", "Depth", "DepthUpdate", "Trade", "AggTrade", "Kline", "MarkPrice", "FundingRate",
    "Ticker24h", "TickerPrice", "BookTicker", "OpenInterest", "SymbolInfo", "ExchangeInfo",
    "Order", "AlgoOrder", "UserTrade", "Position", "Balance", "AccountAsset", "Account", "Income",
    "CommissionRate", "OrderUpdate", "AccountUpdate", "BalanceUpdate", "PositionUpdate", "UserEvent",
    "StreamMessage", "parse_market_event", "parse_user_event", "one_or_many",
]

Level = tuple[Decimal, Decimal]


def D(v: Any) -> Optional[Decimal]:
    """Decimal from a wire value (str/int/float); ``None``/``""`` -> ``None``."""
    if v is None or v == "":
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        return Decimal(repr(v))
    return Decimal(str(v))


def _i(v: Any) -> Optional[int]:
    if v is None or v == "":
        return None
    return int(v)


def _b(v: Any) -> Optional[bool]:
    if v is None:
        return None
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v)


def _levels(rows: Any) -> list[Level]:
    return [(Decimal(p), Decimal(q)) for p, q, *_ in (rows or [])]


def one_or_many(data: Any, parse):
    """Binance returns an object with ``symbol`` and an array without: parse either."""
    if isinstance(data, list):
        return [parse(x) for x in data]
    return parse(data)


def _raw():
    return field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------------------- market data

@dataclass(frozen=True, slots=True)
class Depth:
    last_update_id: int
    bids: list[Level]          # best (highest) first
    asks: list[Level]          # best (lowest) first
    event_time: Optional[int] = None
    transaction_time: Optional[int] = None
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Depth":
        return cls(int(d["lastUpdateId"]), _levels(d.get("bids")), _levels(d.get("asks")),
                   _i(d.get("E")), _i(d.get("T")), d)


@dataclass(frozen=True, slots=True)
class DepthUpdate:
    """``depthUpdate`` stream event (diff or partial depth): ``U``/``u``/``pu`` ids."""
    symbol: str
    first_update_id: int       # U
    final_update_id: int       # u
    prev_final_update_id: Optional[int]  # pu
    bids: list[Level]
    asks: list[Level]
    event_time: Optional[int] = None
    transaction_time: Optional[int] = None
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "DepthUpdate":
        return cls(d.get("s", ""), int(d["U"]), int(d["u"]), _i(d.get("pu")), _levels(d.get("b")),
                   _levels(d.get("a")), _i(d.get("E")), _i(d.get("T")), d)


@dataclass(frozen=True, slots=True)
class Trade:
    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Optional[Decimal]
    time: int
    is_buyer_maker: bool
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Trade":
        if "e" in d:  # <s>@trade stream event
            return cls(int(d["t"]), Decimal(d["p"]), Decimal(d["q"]), None, int(d["T"]), bool(d["m"]), d)
        return cls(int(d["id"]), Decimal(d["price"]), Decimal(d["qty"]), D(d.get("quoteQty")),
                   int(d["time"]), bool(d["isBuyerMaker"]), d)


@dataclass(frozen=True, slots=True)
class AggTrade:
    agg_id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool
    symbol: Optional[str] = None
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "AggTrade":
        return cls(int(d["a"]), Decimal(d["p"]), Decimal(d["q"]), int(d["f"]), int(d["l"]), int(d["T"]),
                   bool(d["m"]), d.get("s"), d)


@dataclass(frozen=True, slots=True)
class Kline:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_volume: Decimal
    trades: int
    taker_buy_base: Decimal
    taker_buy_quote: Decimal
    closed: Optional[bool] = None        # stream only (``x``)
    symbol: Optional[str] = None
    interval: Optional[str] = None
    raw: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Any) -> "Kline":
        if isinstance(d, dict):  # stream event {"e":"kline","k":{...}} or the inner k
            k = d.get("k", d)
            return cls(int(k["t"]), Decimal(k["o"]), Decimal(k["h"]), Decimal(k["l"]), Decimal(k["c"]),
                       Decimal(k["v"]), int(k["T"]), Decimal(k["q"]), int(k["n"]), Decimal(k["V"]),
                       Decimal(k["Q"]), bool(k["x"]), k.get("s"), k.get("i"), d)
        return cls(int(d[0]), Decimal(d[1]), Decimal(d[2]), Decimal(d[3]), Decimal(d[4]), Decimal(d[5]),
                   int(d[6]), Decimal(d[7]), int(d[8]), Decimal(d[9]), Decimal(d[10]), None, None, None, d)


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """REST ``premiumIndex`` or stream ``markPriceUpdate``."""
    symbol: str
    mark_price: Decimal
    index_price: Optional[Decimal]
    estimated_settle_price: Optional[Decimal]
    funding_rate: Optional[Decimal]
    next_funding_time: Optional[int]
    time: Optional[int]
    interest_rate: Optional[Decimal] = None
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "MarkPrice":
        if d.get("e") == "markPriceUpdate":
            return cls(d["s"], Decimal(d["p"]), D(d.get("i")), D(d.get("P")), D(d.get("r")), _i(d.get("T")),
                       _i(d.get("E")), None, d)
        return cls(d["symbol"], Decimal(d["markPrice"]), D(d.get("indexPrice")), D(d.get("estimatedSettlePrice")),
                   D(d.get("lastFundingRate")), _i(d.get("nextFundingTime")), _i(d.get("time")),
                   D(d.get("interestRate")), d)


@dataclass(frozen=True, slots=True)
class FundingRate:
    symbol: str
    funding_time: int
    funding_rate: Decimal
    mark_price: Optional[Decimal]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "FundingRate":
        return cls(d["symbol"], int(d["fundingTime"]), Decimal(d["fundingRate"]), D(d.get("markPrice")), d)


@dataclass(frozen=True, slots=True)
class Ticker24h:
    symbol: str
    price_change: Decimal
    price_change_percent: Decimal
    weighted_avg_price: Decimal
    last_price: Decimal
    last_qty: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    count: int
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Ticker24h":
        if d.get("e") == "24hrTicker":
            return cls(d["s"], D(d["p"]), D(d["P"]), D(d["w"]), D(d["c"]), D(d["Q"]), D(d["o"]), D(d["h"]),
                       D(d["l"]), D(d["v"]), D(d["q"]), int(d["O"]), int(d["C"]), int(d["n"]), d)
        return cls(d["symbol"], D(d["priceChange"]), D(d["priceChangePercent"]), D(d["weightedAvgPrice"]),
                   D(d["lastPrice"]), D(d["lastQty"]), D(d["openPrice"]), D(d["highPrice"]), D(d["lowPrice"]),
                   D(d["volume"]), D(d["quoteVolume"]), int(d["openTime"]), int(d["closeTime"]),
                   int(d["count"]), d)


@dataclass(frozen=True, slots=True)
class TickerPrice:
    symbol: str
    price: Decimal
    time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "TickerPrice":
        return cls(d["symbol"], Decimal(d["price"]), _i(d.get("time")), d)


@dataclass(frozen=True, slots=True)
class BookTicker:
    """REST ``ticker/bookTicker`` or stream ``bookTicker``."""
    symbol: str
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    update_id: Optional[int]
    time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "BookTicker":
        if d.get("e") == "bookTicker":
            return cls(d["s"], Decimal(d["b"]), Decimal(d["B"]), Decimal(d["a"]), Decimal(d["A"]),
                       _i(d.get("u")), _i(d.get("T") or d.get("E")), d)
        return cls(d["symbol"], Decimal(d["bidPrice"]), Decimal(d["bidQty"]), Decimal(d["askPrice"]),
                   Decimal(d["askQty"]), _i(d.get("lastUpdateId")), _i(d.get("time")), d)


@dataclass(frozen=True, slots=True)
class OpenInterest:
    symbol: str
    open_interest: Decimal
    time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "OpenInterest":
        return cls(d["symbol"], Decimal(d["openInterest"]), _i(d.get("time")), d)


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    margin_asset: str
    contract_type: str
    price_precision: int
    quantity_precision: int
    tick_size: Optional[Decimal]
    min_price: Optional[Decimal]
    max_price: Optional[Decimal]
    step_size: Optional[Decimal]
    min_qty: Optional[Decimal]
    max_qty: Optional[Decimal]
    market_max_qty: Optional[Decimal]
    min_notional: Optional[Decimal]
    max_num_orders: Optional[int]
    order_types: list[str] = field(default_factory=list)
    time_in_force: list[str] = field(default_factory=list)
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "SymbolInfo":
        f = {x.get("filterType"): x for x in d.get("filters", [])}
        pf, ls, ml = f.get("PRICE_FILTER", {}), f.get("LOT_SIZE", {}), f.get("MARKET_LOT_SIZE", {})
        return cls(d["symbol"], d.get("status", ""), d.get("baseAsset", ""), d.get("quoteAsset", ""),
                   d.get("marginAsset", ""), d.get("contractType", ""), int(d.get("pricePrecision", 0)),
                   int(d.get("quantityPrecision", 0)), D(pf.get("tickSize")), D(pf.get("minPrice")),
                   D(pf.get("maxPrice")), D(ls.get("stepSize")), D(ls.get("minQty")), D(ls.get("maxQty")),
                   D(ml.get("maxQty")), D(f.get("MIN_NOTIONAL", {}).get("notional")),
                   _i(f.get("MAX_NUM_ORDERS", {}).get("limit")), list(d.get("orderTypes", [])),
                   list(d.get("timeInForce", [])), d)

    def round_price(self, price: Decimal) -> Decimal:
        """Round down to the tick grid."""
        t = self.tick_size
        return price if not t else (price // t) * t

    def round_qty(self, qty: Decimal) -> Decimal:
        """Round down to the step grid."""
        s = self.step_size
        return qty if not s else (qty // s) * s


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    server_time: Optional[int]
    symbols: dict[str, SymbolInfo]
    rate_limits: list[dict]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "ExchangeInfo":
        syms = {s["symbol"]: SymbolInfo.from_json(s) for s in d.get("symbols", [])}
        return cls(_i(d.get("serverTime")), syms, list(d.get("rateLimits", [])), d)


# ---------------------------------------------------------------------------- account / trading

@dataclass(frozen=True, slots=True)
class Order:
    symbol: str
    order_id: int
    client_order_id: Optional[str]
    side: Optional[str]
    type: Optional[str]
    status: Optional[str]
    price: Optional[Decimal]
    orig_qty: Optional[Decimal]
    executed_qty: Optional[Decimal]
    avg_price: Optional[Decimal]
    cum_quote: Optional[Decimal]
    time_in_force: Optional[str]
    reduce_only: Optional[bool]
    close_position: Optional[bool]
    position_side: Optional[str]
    stop_price: Optional[Decimal]
    orig_type: Optional[str]
    time: Optional[int]
    update_time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Order":
        return cls(d.get("symbol", ""), int(d["orderId"]), d.get("clientOrderId"), d.get("side"), d.get("type"),
                   d.get("status"), D(d.get("price")), D(d.get("origQty")), D(d.get("executedQty")),
                   D(d.get("avgPrice")), D(d.get("cumQuote")), d.get("timeInForce"), _b(d.get("reduceOnly")),
                   _b(d.get("closePosition")), d.get("positionSide"), D(d.get("stopPrice")), d.get("origType"),
                   _i(d.get("time")), _i(d.get("updateTime")), d)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass(frozen=True, slots=True)
class AlgoOrder:
    algo_id: int
    client_algo_id: Optional[str]
    algo_type: Optional[str]
    order_type: Optional[str]
    symbol: str
    side: Optional[str]
    position_side: Optional[str]
    algo_status: Optional[str]
    quantity: Optional[Decimal]
    price: Optional[Decimal]
    trigger_price: Optional[Decimal]
    working_type: Optional[str]
    reduce_only: Optional[bool]
    close_position: Optional[bool]
    actual_order_id: Optional[str]
    create_time: Optional[int]
    update_time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "AlgoOrder":
        return cls(int(d["algoId"]), d.get("clientAlgoId"), d.get("algoType"), d.get("orderType"),
                   d.get("symbol", ""), d.get("side"), d.get("positionSide"), d.get("algoStatus"),
                   D(d.get("quantity")), D(d.get("price")), D(d.get("triggerPrice")), d.get("workingType"),
                   _b(d.get("reduceOnly")), _b(d.get("closePosition")), d.get("actualOrderId"),
                   _i(d.get("createTime")), _i(d.get("updateTime")), d)


@dataclass(frozen=True, slots=True)
class UserTrade:
    symbol: str
    id: int
    order_id: int
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Optional[Decimal]
    realized_pnl: Optional[Decimal]
    commission: Optional[Decimal]
    commission_asset: Optional[str]
    maker: bool
    buyer: bool
    position_side: Optional[str]
    time: int
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "UserTrade":
        return cls(d["symbol"], int(d["id"]), int(d["orderId"]), d["side"], Decimal(d["price"]), Decimal(d["qty"]),
                   D(d.get("quoteQty")), D(d.get("realizedPnl")), D(d.get("commission")),
                   d.get("commissionAsset"), bool(d.get("maker")), bool(d.get("buyer")), d.get("positionSide"),
                   int(d["time"]), d)


@dataclass(frozen=True, slots=True)
class Position:
    """A row of ``positionRisk`` (v2/v3) or of ``account.positions``."""
    symbol: str
    position_side: str
    position_amt: Decimal                 # signed: negative = short
    entry_price: Optional[Decimal]
    break_even_price: Optional[Decimal]
    mark_price: Optional[Decimal]
    unrealized_profit: Optional[Decimal]
    liquidation_price: Optional[Decimal]
    notional: Optional[Decimal]
    isolated_margin: Optional[Decimal]
    initial_margin: Optional[Decimal]
    maint_margin: Optional[Decimal]
    leverage: Optional[int]               # v2 only
    margin_type: Optional[str]            # v2 only
    update_time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Position":
        up = d.get("unRealizedProfit", d.get("unrealizedProfit"))
        return cls(d["symbol"], d.get("positionSide", "BOTH"), Decimal(d.get("positionAmt", "0")),
                   D(d.get("entryPrice")), D(d.get("breakEvenPrice")), D(d.get("markPrice")), D(up),
                   D(d.get("liquidationPrice")), D(d.get("notional")), D(d.get("isolatedMargin")),
                   D(d.get("initialMargin")), D(d.get("maintMargin")), _i(d.get("leverage")),
                   d.get("marginType"), _i(d.get("updateTime")), d)


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    balance: Decimal
    cross_wallet_balance: Optional[Decimal]
    cross_unpnl: Optional[Decimal]
    available_balance: Optional[Decimal]
    max_withdraw_amount: Optional[Decimal]
    update_time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Balance":
        return cls(d["asset"], Decimal(d["balance"]), D(d.get("crossWalletBalance")), D(d.get("crossUnPnl")),
                   D(d.get("availableBalance")), D(d.get("maxWithdrawAmount")), _i(d.get("updateTime")), d)


@dataclass(frozen=True, slots=True)
class AccountAsset:
    asset: str
    wallet_balance: Decimal
    unrealized_profit: Optional[Decimal]
    margin_balance: Optional[Decimal]
    maint_margin: Optional[Decimal]
    initial_margin: Optional[Decimal]
    available_balance: Optional[Decimal]
    max_withdraw_amount: Optional[Decimal]
    update_time: Optional[int]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "AccountAsset":
        return cls(d["asset"], Decimal(d["walletBalance"]), D(d.get("unrealizedProfit")), D(d.get("marginBalance")),
                   D(d.get("maintMargin")), D(d.get("initialMargin")), D(d.get("availableBalance")),
                   D(d.get("maxWithdrawAmount")), _i(d.get("updateTime")), d)


@dataclass(frozen=True, slots=True)
class Account:
    total_wallet_balance: Optional[Decimal]
    total_unrealized_profit: Optional[Decimal]
    total_margin_balance: Optional[Decimal]
    total_initial_margin: Optional[Decimal]
    total_maint_margin: Optional[Decimal]
    available_balance: Optional[Decimal]
    max_withdraw_amount: Optional[Decimal]
    assets: list[AccountAsset]
    positions: list[Position]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Account":
        return cls(D(d.get("totalWalletBalance")), D(d.get("totalUnrealizedProfit")), D(d.get("totalMarginBalance")),
                   D(d.get("totalInitialMargin")), D(d.get("totalMaintMargin")), D(d.get("availableBalance")),
                   D(d.get("maxWithdrawAmount")), [AccountAsset.from_json(a) for a in d.get("assets", [])],
                   [Position.from_json(p) for p in d.get("positions", [])], d)

    def asset(self, name: str) -> Optional[AccountAsset]:
        return next((a for a in self.assets if a.asset == name), None)


@dataclass(frozen=True, slots=True)
class Income:
    symbol: str
    income_type: str
    income: Decimal
    asset: str
    time: int
    tran_id: Optional[int]
    trade_id: Optional[str]
    info: Optional[str]
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "Income":
        return cls(d.get("symbol", ""), d["incomeType"], Decimal(d["income"]), d.get("asset", ""), int(d["time"]),
                   _i(d.get("tranId")), d.get("tradeId"), d.get("info"), d)


@dataclass(frozen=True, slots=True)
class CommissionRate:
    symbol: str
    maker: Decimal
    taker: Decimal
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "CommissionRate":
        return cls(d["symbol"], Decimal(d["makerCommissionRate"]), Decimal(d["takerCommissionRate"]), d)


# ---------------------------------------------------------------------------- user data events

@dataclass(frozen=True, slots=True)
class UserEvent:
    """Any user-data event without a dedicated class (ACCOUNT_CONFIG_UPDATE, MARGIN_CALL, TRADE_LITE,
    ALGO_UPDATE, listenKeyExpired, ...)."""
    event_type: str
    event_time: Optional[int]
    raw: dict = _raw()


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """``ORDER_TRADE_UPDATE`` (spec §10.2)."""
    symbol: str
    client_order_id: Optional[str]
    side: str
    type: str
    time_in_force: Optional[str]
    orig_qty: Decimal
    price: Decimal
    avg_price: Optional[Decimal]
    stop_price: Optional[Decimal]
    execution_type: str                   # x
    status: str                           # X
    order_id: int
    last_filled_qty: Decimal
    cum_filled_qty: Decimal
    last_filled_price: Decimal
    commission_asset: Optional[str]
    commission: Optional[Decimal]
    trade_time: Optional[int]
    trade_id: Optional[int]
    is_maker: Optional[bool]
    reduce_only: Optional[bool]
    position_side: Optional[str]
    realized_profit: Optional[Decimal]
    orig_type: Optional[str]
    event_time: Optional[int]
    transaction_time: Optional[int]
    event_type: str = "ORDER_TRADE_UPDATE"
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "OrderUpdate":
        o = d["o"]
        return cls(o["s"], o.get("c"), o["S"], o["o"], o.get("f"), Decimal(o["q"]), Decimal(o["p"]), D(o.get("ap")),
                   D(o.get("sp")), o["x"], o["X"], int(o["i"]), Decimal(o.get("l", "0")), Decimal(o.get("z", "0")),
                   Decimal(o.get("L", "0")), o.get("N"), D(o.get("n")), _i(o.get("T")), _i(o.get("t")),
                   _b(o.get("m")), _b(o.get("R")), o.get("ps"), D(o.get("rp")), o.get("ot"), _i(d.get("E")),
                   _i(d.get("T")), "ORDER_TRADE_UPDATE", d)


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    asset: str
    wallet_balance: Decimal
    cross_wallet_balance: Optional[Decimal]
    balance_change: Optional[Decimal]


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    symbol: str
    position_amt: Decimal
    entry_price: Optional[Decimal]
    break_even_price: Optional[Decimal]
    accumulated_realized: Optional[Decimal]
    unrealized_pnl: Optional[Decimal]
    margin_type: Optional[str]
    isolated_wallet: Optional[Decimal]
    position_side: Optional[str]


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """``ACCOUNT_UPDATE`` (spec §10.2)."""
    reason: str
    balances: list[BalanceUpdate]
    positions: list[PositionUpdate]
    event_time: Optional[int]
    transaction_time: Optional[int]
    event_type: str = "ACCOUNT_UPDATE"
    raw: dict = _raw()

    @classmethod
    def from_json(cls, d: dict) -> "AccountUpdate":
        a = d.get("a", {})
        bs = [BalanceUpdate(b["a"], Decimal(b["wb"]), D(b.get("cw")), D(b.get("bc"))) for b in a.get("B", [])]
        ps = [PositionUpdate(p["s"], Decimal(p["pa"]), D(p.get("ep")), D(p.get("bep")), D(p.get("cr")),
                             D(p.get("up")), p.get("mt"), D(p.get("iw")), p.get("ps")) for p in a.get("P", [])]
        return cls(a.get("m", ""), bs, ps, _i(d.get("E")), _i(d.get("T")), "ACCOUNT_UPDATE", d)


def parse_user_event(d: dict):
    """Typed object for a user-data event (unknown kinds -> :class:`UserEvent`)."""
    e = d.get("e", "")
    if e == "ORDER_TRADE_UPDATE":
        return OrderUpdate.from_json(d)
    if e == "ACCOUNT_UPDATE":
        return AccountUpdate.from_json(d)
    return UserEvent(e, _i(d.get("E")), d)


# ---------------------------------------------------------------------------- market stream messages

@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One combined-stream message: ``stream`` name and the raw ``data`` event."""
    stream: Optional[str]
    data: Any

    def parsed(self):
        """The event as a typed object where one exists (else the raw data)."""
        return parse_market_event(self.data)


_MARKET = {
    "depthUpdate": DepthUpdate.from_json,
    "aggTrade": AggTrade.from_json,
    "trade": Trade.from_json,
    "markPriceUpdate": MarkPrice.from_json,
    "kline": Kline.from_json,
    "bookTicker": BookTicker.from_json,
    "24hrTicker": Ticker24h.from_json,
}


def parse_market_event(d: Any):
    if isinstance(d, list):
        return [parse_market_event(x) for x in d]
    if isinstance(d, dict):
        f = _MARKET.get(d.get("e"))
        if f is not None:
            return f(d)
    return d
