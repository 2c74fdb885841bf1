"""Integer codes of the venue's vocabulary (its error codes: ``exchange.contract.errors``).

Every enumerated field of a command or an event is a small int (msgpack-ready);
the ``*_NAMES`` tables give the Binance spelling for the gateway and for humans.
Sides, time-in-force and STP modes use the same numbers as ``matching`` so the
per-order path needs no translation.
"""
from __future__ import annotations

from matching.constants import (  # noqa: F401 - re-exported as part of the vocabulary
    BUY, SELL, GTC, IOC, FOK, GTX,
    STP_NONE, STP_EXPIRE_TAKER, STP_EXPIRE_MAKER, STP_EXPIRE_BOTH,
)

SIDE_NAMES = {BUY: "BUY", SELL: "SELL"}
TIF_NAMES = {GTC: "GTC", IOC: "IOC", FOK: "FOK", GTX: "GTX"}
STP_NAMES = {STP_NONE: "NONE", STP_EXPIRE_TAKER: "EXPIRE_TAKER",
             STP_EXPIRE_MAKER: "EXPIRE_MAKER", STP_EXPIRE_BOTH: "EXPIRE_BOTH"}

# order types (STOP..TRAILING_STOP_MARKET are conditional: they wait in the trigger
# index; LIQUIDATION / ADL are venue-made orders of the liquidation engine)
LIMIT = 0
MARKET = 1
STOP = 2
STOP_MARKET = 3
TAKE_PROFIT = 4
TAKE_PROFIT_MARKET = 5
TRAILING_STOP_MARKET = 6
LIQUIDATION = 7
ADL = 8
ORDER_TYPE_NAMES = {LIMIT: "LIMIT", MARKET: "MARKET", STOP: "STOP", STOP_MARKET: "STOP_MARKET",
                    TAKE_PROFIT: "TAKE_PROFIT", TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET",
                    TRAILING_STOP_MARKET: "TRAILING_STOP_MARKET", LIQUIDATION: "LIQUIDATION", ADL: "ADL"}
CONDITIONAL_TYPES = (STOP, STOP_MARKET, TAKE_PROFIT, TAKE_PROFIT_MARKET, TRAILING_STOP_MARKET)

# workingType of conditional orders
CONTRACT_PRICE = 0
MARK_PRICE = 1
WORKING_TYPE_NAMES = {CONTRACT_PRICE: "CONTRACT_PRICE", MARK_PRICE: "MARK_PRICE"}

# position sides
BOTH = 0
LONG = 1
SHORT = 2
POSITION_SIDE_NAMES = {BOTH: "BOTH", LONG: "LONG", SHORT: "SHORT"}

# margin types
CROSSED = 0
ISOLATED = 1
MARGIN_TYPE_NAMES = {CROSSED: "CROSSED", ISOLATED: "ISOLATED"}

# order statuses (Binance X)
NEW = 0
PARTIALLY_FILLED = 1
FILLED = 2
CANCELED = 3
EXPIRED = 4
EXPIRED_IN_MATCH = 5
TRIGGERED = 6          # a conditional order that fired (its regular order is ``new_order_id``)
ORDER_STATUS_NAMES = {NEW: "NEW", PARTIALLY_FILLED: "PARTIALLY_FILLED", FILLED: "FILLED",
                      CANCELED: "CANCELED", EXPIRED: "EXPIRED", EXPIRED_IN_MATCH: "EXPIRED_IN_MATCH",
                      TRIGGERED: "TRIGGERED"}

# expiry reasons: Binance ORDER_TRADE_UPDATE ``er`` values
ER_NONE = 0
ER_STP = 1
ER_IOC = 2
ER_REDUCE_ONLY = 4
ER_MARKET_NOT_FILLED = 9
ER_FOK = 10
ER_GTX = 11
ER_TRIGGER_REJECTED = 12     # a conditional order fired but its order was refused (margin, filters)
ER_NO_POSITION = 13          # closePosition order fired with no position to close

# cancel reasons (venue-level, for OrderCanceled)
CANCEL_USER = 0
CANCEL_ALL = 1
CANCEL_MODIFY_FILLED = 2
CANCEL_LIQUIDATION = 3       # canceled by the liquidation engine before a liquidation / ADL

# ACCOUNT_UPDATE reasons (Binance ``m``)
R_DEPOSIT = 0
R_WITHDRAW = 1
R_ORDER = 2
R_FUNDING_FEE = 3
R_WITHDRAW_REJECT = 4
R_ADJUSTMENT = 5
R_INSURANCE_CLEAR = 6
R_MARGIN_TRANSFER = 7
R_MARGIN_TYPE_CHANGE = 8
R_ADL = 9
BALANCE_REASON_NAMES = {R_DEPOSIT: "DEPOSIT", R_WITHDRAW: "WITHDRAW", R_ORDER: "ORDER",
                        R_FUNDING_FEE: "FUNDING_FEE", R_WITHDRAW_REJECT: "WITHDRAW_REJECT",
                        R_ADJUSTMENT: "ADJUSTMENT", R_INSURANCE_CLEAR: "INSURANCE_CLEAR",
                        R_MARGIN_TRANSFER: "MARGIN_TRANSFER", R_MARGIN_TYPE_CHANGE: "MARGIN_TYPE_CHANGE",
                        R_ADL: "ADL"}

# income types (GET /fapi/v1/income ``incomeType``)
I_TRANSFER = 0
I_REALIZED_PNL = 1
I_FUNDING_FEE = 2
I_COMMISSION = 3
I_INSURANCE_CLEAR = 4
INCOME_TYPE_NAMES = {I_TRANSFER: "TRANSFER", I_REALIZED_PNL: "REALIZED_PNL", I_FUNDING_FEE: "FUNDING_FEE",
                     I_COMMISSION: "COMMISSION", I_INSURANCE_CLEAR: "INSURANCE_CLEAR"}

# liquidation close-out kinds (PositionClosedOut.kind)
CLOSE_TAKEOVER = 0     # taken over by the insurance fund at the bankruptcy price
CLOSE_ADL = 1          # auto-deleveraged against an opposite position at the bankruptcy price
CLOSE_HEDGE_NET = 2    # cross hedge legs of a liquidated account netted against each other at mark
CLOSE_KIND_NAMES = {CLOSE_TAKEOVER: "INSURANCE_TAKEOVER", CLOSE_ADL: "ADL", CLOSE_HEDGE_NET: "HEDGE_NET"}

# insurance fund movements (InsuranceFundChanged.reason)
F_CONTRIBUTION = 0     # FundInsurance command (counts as a deposit)
F_CLEARANCE_FEE = 1    # liquidation clearance fee received
F_TAKEOVER = 2         # gain/loss of disposing of a taken-over position in the book
F_DEFICIT = 3          # negative wallet of a liquidated account covered

# margin-call threshold: MARGIN_CALL when margin ratio >= 80 % (perp-mechanics 4.7, emulator parameter)
MARGIN_CALL_RATIO = 80_000_000
