"""Integer codes of the venue's vocabulary and the Binance errors it answers with.

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

# ------------------------------------------------------------------ Binance errors
# (code, message); messages with %s are formatted by the venue.
INVALID_ACCOUNT = (-1109, "Invalid account.")
ACCOUNT_EXISTS = (-1109, "Account already exists.")
PARAM_NOT_VALID = (-1130, "Data sent for parameter '%s' is not valid.")
PARAM_NOT_REQUIRED = (-1106, "Parameter '%s' sent when not required.")
INVALID_TIF = (-1115, "Invalid timeInForce.")
INVALID_ORDER_TYPE = (-1116, "Invalid orderType.")
INVALID_SIDE = (-1117, "Invalid side.")
INVALID_SYMBOL = (-1121, "Invalid symbol.")
BALANCE_INSUFFICIENT = (-2018, "Balance is insufficient.")
MARGIN_INSUFFICIENT = (-2019, "Margin is insufficient.")
UNKNOWN_ORDER = (-2011, "Unknown order sent.")
ORDER_DOES_NOT_EXIST = (-2013, "Order does not exist.")
REDUCE_ONLY_REJECTED = (-2022, "ReduceOnly Order is rejected.")
MAX_OPEN_ORDERS = (-2025, "Reach max open order limit.")
MAX_POSITION = (-2027, "Exceeded the maximum allowable position at current leverage.")
LEVERAGE_TOO_SMALL = (-2028, "Leverage is smaller than permitted: insufficient margin balance.")
PRICE_LESS_THAN_ZERO = (-4001, "Price less than 0.")
PRICE_ABOVE_MAX = (-4002, "Price greater than max price.")
QTY_NOT_POSITIVE = (-4003, "Quantity less than or equal to zero.")
QTY_BELOW_MIN = (-4004, "Quantity less than min quantity.")
QTY_ABOVE_MAX = (-4005, "Quantity greater than max quantity.")
PRICE_BELOW_MIN = (-4013, "Price less than min price.")
CLIENT_ID_INVALID = (-4015, "Client order id is not valid.")
PRICE_ABOVE_MULTIPLIER = (-4016, "Limit price can't be higher than %s.")
PRICE_BELOW_MULTIPLIER = (-4024, "Limit price can't be lower than %s.")
INVALID_LEVERAGE = (-4028, "Leverage %s is not valid")
NO_NEED_MARGIN_TYPE = (-4046, "No need to change margin type.")
MARGIN_TYPE_OPEN_ORDERS = (-4047, "Margin type cannot be changed if there exists open orders.")
MARGIN_TYPE_POSITION = (-4048, "Margin type cannot be changed if there exists position.")
AMOUNT_NOT_POSITIVE = (-4055, "Amount must be positive.")
NO_NEED_POSITION_SIDE = (-4059, "No need to change position side.")
INVALID_POSITION_SIDE = (-4060, "Invalid position side.")
POSITION_SIDE_MISMATCH = (-4061, "Order's position side does not match user's setting.")
POSITION_MODE_OPEN_ORDERS = (-4067, "Position side cannot be changed if there exists open orders.")
POSITION_MODE_POSITION = (-4068, "Position side cannot be changed if there exists position.")
CLIENT_ID_DUPLICATED = (-4116, "clientOrderId is duplicated")
MARKET_TAKE_BOUND = (-4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit")
ISOLATED_LEVERAGE_REDUCTION = (-4161, "Leverage reduction is not supported in Isolated Margin Mode with open positions.")
MIN_NOTIONAL = (-4164, "Order's notional must be no smaller than %s (unless you choose reduce only).")
FOK_REJECTED = (-5021, "Due to the order could not be filled immediately, the FOK order has been rejected.")
GTX_REJECTED = (-5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.")
NO_NEED_MODIFY = (-5027, "No need to modify the order.")
WOULD_TRIGGER = (-2021, "Order would immediately trigger.")
IN_LIQUIDATION = (-2023, "User in liquidation mode now.")
MAX_ALGO_ORDERS = (-4045, "Reach max stop order limit.")
CLOSE_POSITION_QTY = (-4137, "Quantity must be zero with closePosition equals true")
CLOSE_POSITION_REDUCE = (-4138, "Reduce only must be true with closePosition equals true")
INVALID_ACTIVATION_PRICE = (-4135, "Invalid activation price")
INVALID_CALLBACK_RATE = (-4136, "Invalid callBackRate")
STOP_PRICE_INVALID = (-4006, "Stop price less than zero.")
MARGIN_NOT_ISOLATED = (-4049, "Add margin only support for isolated position.")
CROSS_BALANCE_INSUFFICIENT = (-4050, "Cross balance insufficient.")
ISOLATED_BALANCE_INSUFFICIENT = (-4051, "Isolated balance insufficient.")
NO_POSITION_FOR_MARGIN = (-4054, "Cannot add position margin: position is 0.")
INVALID_MARGIN_CHANGE_TYPE = (-1130, "Data sent for parameter 'type' is not valid.")
