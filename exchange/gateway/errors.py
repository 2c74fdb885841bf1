"""The Binance USD-M error catalog: every error answer the gateway can give.

A Binance error is an HTTP status plus a body ``{"code": -NNNN, "msg": "..."}``
(both keys always present; binance-futures-connector does ``err["code"]`` and
``err["msg"]`` on every 4xx).  ``BinanceError`` is that answer as an exception,
so any layer of the gateway can ``raise`` it and the aiohttp handler turns it
into a response with ``err.http_status``, ``err.to_body()`` and ``err.headers``.

Codes are grouped by family, as Binance's own error-code page groups them:

* ``General``   10xx  general server or network issues (rate limits, auth timing, signature)
* ``Request``   11xx  request issues (parameters, enums, symbol, listenKey)
* ``Processing`` 20xx processing issues (order rejects, api keys, margin)
* ``Filters``   40xx  filters and other issues (price/qty filters, settings)
* ``Orders41``  41xx  order-rule issues (client id, algo routing, notional, multi-assets)
* ``Execution`` 50xx  order execution issues (FOK/GTX, modify) and the unknown-route answer

Message texts come from ``shared/spec/binance-usdm.md`` (the contract); codes
the spec only names are completed from Binance's USD-M error-code page.  Where
the two disagree the spec wins (it records live wording), e.g. -4003, -1125,
-4021, -4016/-4024, -4164.

``ErrorSpec`` is one catalog entry; call it (``spec(*args)``) to get the
``BinanceError`` to raise.  Parameterized messages use ``%s`` exactly where
Binance's templates have them.  The module-level helpers (``mandatory_param``,
``illegal_chars``...) are the spelled-out forms the rest of the gateway uses.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

__all__ = [
    "BinanceError", "ErrorSpec", "CATALOG", "by_code",
    "General", "Request", "Processing", "Filters", "Orders41", "Execution",
    "DECIMAL_LEGAL_RANGE", "INT_LEGAL_RANGE", "CLIENT_ORDER_ID_LEGAL_RANGE",
    "mandatory_param", "either_param", "illegal_chars", "illegal_decimal", "illegal_int",
    "invalid_parameter", "param_not_required", "duplicate_values", "too_many_parameters",
    "unread_parameters", "too_many_requests", "ip_banned", "too_many_orders",
    "timestamp_outside_recv_window", "timestamp_ahead", "invalid_signature",
    "api_key_format_invalid", "invalid_api_key", "unknown_path", "invalid_depth_limit",
    "invalid_leverage", "min_notional", "limit_price_too_high", "limit_price_too_low",
    "invalid_symbol", "internal_error", "unknown_error",
]

# Legal ranges Binance quotes in -1100 answers.
DECIMAL_LEGAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
INT_LEGAL_RANGE = r"^[0-9]{1,20}$"
CLIENT_ORDER_ID_LEGAL_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"


class BinanceError(Exception):
    """An error answer: HTTP status, Binance code (negative int) and message.

    ``headers`` carries extra response headers that belong to this answer
    (``Retry-After`` and the rate-limit counters on 429/418).
    """

    __slots__ = ("http_status", "code", "msg", "headers")

    def __init__(self, code: int, msg: str, http_status: int = 400,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(code, msg)
        self.code = int(code)
        self.msg = str(msg)
        self.http_status = int(http_status)
        self.headers: dict[str, str] = dict(headers) if headers else {}

    def to_body(self) -> dict:
        return {"code": self.code, "msg": self.msg}

    def with_headers(self, headers: Mapping[str, str]) -> "BinanceError":
        """Add response headers (e.g. X-MBX-USED-WEIGHT-1M) and return self."""
        self.headers.update(headers)
        return self

    def __str__(self) -> str:
        return f"HTTP {self.http_status} {self.code}: {self.msg}"

    def __repr__(self) -> str:
        return f"BinanceError(code={self.code}, msg={self.msg!r}, http_status={self.http_status})"



@dataclass(frozen=True)
class ErrorSpec:
    """One catalog entry. ``template`` may contain ``%s`` placeholders."""

    code: int
    name: str
    template: str
    http_status: int = 400

    @property
    def arity(self) -> int:
        return self.template.count("%s")

    def msg(self, *args: object) -> str:
        if len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument(s), got {len(args)}")
        return self.template % tuple(str(a) for a in args) if args else self.template

    def __call__(self, *args: object, headers: Mapping[str, str] | None = None) -> BinanceError:
        return BinanceError(self.code, self.msg(*args), self.http_status, headers)

    def matches(self, err: BinanceError) -> bool:
        return err.code == self.code and err.http_status == self.http_status


def _e(code: int, name: str, template: str, http_status: int = 400) -> ErrorSpec:
    return ErrorSpec(code, name, template, http_status)


class General:
    """10xx - general server or network issues."""
    UNKNOWN = _e(-1000, "UNKNOWN", "An unknown error occured while processing the request.")
    DISCONNECTED = _e(-1001, "DISCONNECTED",
                      "Internal error; unable to process your request. Please try again.", 503)
    UNAUTHORIZED = _e(-1002, "UNAUTHORIZED", "You are not authorized to execute this request.", 401)
    TOO_MANY_REQUESTS = _e(-1003, "TOO_MANY_REQUESTS",
                           "Too many requests; current limit is %s requests per minute. "
                           "Please use the websocket for live updates to avoid polling the API.", 429)
    IP_BANNED = _e(-1003, "TOO_MANY_REQUESTS",
                   "Way too many requests; IP banned until %s. "
                   "Please use the websocket for live updates to avoid bans.", 418)
    UNEXPECTED_RESP = _e(-1006, "UNEXPECTED_RESP",
                         "An unexpected response was received from the message bus. Execution status unknown.", 503)
    TIMEOUT = _e(-1007, "TIMEOUT",
                 "Timeout waiting for response from backend server. Send status unknown; "
                 "execution status unknown.", 408)
    SERVER_BUSY = _e(-1008, "SERVER_BUSY",
                     "Server is currently overloaded with other requests. Please try again in a few minutes.", 503)
    THROTTLED = _e(-1008, "SERVER_BUSY",
                   "Request throttled by system-level protection. Reduce-only/close-position orders are exempt. "
                   "Please try again.", 503)
    UNSUPPORTED_ORDER_COMPOSITION = _e(-1014, "UNKNOWN_ORDER_COMPOSITION", "Unsupported order combination.")
    TOO_MANY_ORDERS = _e(-1015, "TOO_MANY_ORDERS", "Too many new orders; current limit is %s orders per %s.", 429)
    SERVICE_SHUTTING_DOWN = _e(-1016, "SERVICE_SHUTTING_DOWN", "This service is no longer available.")
    UNSUPPORTED_OPERATION = _e(-1020, "UNSUPPORTED_OPERATION", "This operation is not supported.")
    TIMESTAMP_OUTSIDE_RECV_WINDOW = _e(-1021, "INVALID_TIMESTAMP",
                                       "Timestamp for this request is outside of the recvWindow.")
    TIMESTAMP_AHEAD = _e(-1021, "INVALID_TIMESTAMP",
                         "Timestamp for this request was 1000ms ahead of the server's time.")
    INVALID_SIGNATURE = _e(-1022, "INVALID_SIGNATURE", "Signature for this request is not valid.")
    START_TIME_GREATER_THAN_END_TIME = _e(-1023, "START_TIME_GREATER_THAN_END_TIME",
                                          "Start time is greater than end time.")
    NOT_FOUND = _e(-1099, "NOT_FOUND", "Not found, unauthenticated, or unauthorized.")


class Request:
    """11xx - request issues."""
    ILLEGAL_CHARS = _e(-1100, "ILLEGAL_CHARS", "Illegal characters found in parameter '%s'; legal range is '%s'.")
    TOO_MANY_PARAMETERS = _e(-1101, "TOO_MANY_PARAMETERS", "Too many parameters; expected '%s' and received '%s'.")
    TOO_MANY_PARAMETERS_SENT = _e(-1101, "TOO_MANY_PARAMETERS", "Too many parameters sent for this endpoint.")
    DUPLICATE_VALUES = _e(-1101, "TOO_MANY_PARAMETERS", "Duplicate values for a parameter detected.")
    MANDATORY_PARAM = _e(-1102, "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
                         "Mandatory parameter '%s' was not sent, was empty/null, or malformed.")
    EITHER_PARAM = _e(-1102, "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
                      "Param '%s' or '%s' must be sent, but both were empty/null!")
    UNKNOWN_PARAM = _e(-1103, "UNKNOWN_PARAM", "An unknown parameter was sent.")
    UNREAD_PARAMETERS = _e(-1104, "UNREAD_PARAMETERS",
                           "Not all sent parameters were read; read '%s' parameter(s) but was sent '%s'.")
    PARAM_EMPTY = _e(-1105, "PARAM_EMPTY", "Parameter '%s' was empty.")
    PARAM_NOT_REQUIRED = _e(-1106, "PARAM_NOT_REQUIRED", "Parameter '%s' sent when not required.")
    BAD_ASSET = _e(-1108, "BAD_ASSET", "Invalid asset.")
    BAD_ACCOUNT = _e(-1109, "BAD_ACCOUNT", "Invalid account.")
    BAD_PRECISION = _e(-1111, "BAD_PRECISION", "Precision is over the maximum defined for this asset.")
    NO_DEPTH = _e(-1112, "NO_DEPTH", "No orders on book for symbol.")
    TIF_NOT_REQUIRED = _e(-1114, "TIF_NOT_REQUIRED", "TimeInForce parameter sent when not required.")
    INVALID_TIF = _e(-1115, "INVALID_TIF", "Invalid timeInForce.")
    INVALID_ORDER_TYPE = _e(-1116, "INVALID_ORDER_TYPE", "Invalid orderType.")
    INVALID_SIDE = _e(-1117, "INVALID_SIDE", "Invalid side.")
    EMPTY_NEW_CL_ORD_ID = _e(-1118, "EMPTY_NEW_CL_ORD_ID", "New client order ID was empty.")
    EMPTY_ORG_CL_ORD_ID = _e(-1119, "EMPTY_ORG_CL_ORD_ID", "Original client order ID was empty.")
    BAD_INTERVAL = _e(-1120, "BAD_INTERVAL", "Invalid interval.")
    BAD_SYMBOL = _e(-1121, "BAD_SYMBOL", "Invalid symbol.")
    INVALID_SYMBOL_STATUS = _e(-1122, "INVALID_SYMBOL_STATUS", "Invalid symbol status.")
    INVALID_LISTEN_KEY = _e(-1125, "INVALID_LISTEN_KEY", "This listenKey does not exist.")
    MORE_THAN_XX_HOURS = _e(-1127, "MORE_THAN_XX_HOURS", "More than %s hours between startTime and endTime.")
    OPTIONAL_PARAMS_BAD_COMBO = _e(-1128, "OPTIONAL_PARAMS_BAD_COMBO", "Combination of optional parameters invalid.")
    INVALID_PARAMETER = _e(-1130, "INVALID_PARAMETER", "Data sent for parameter '%s' is not valid.")
    INVALID_NEW_ORDER_RESP_TYPE = _e(-1136, "INVALID_NEW_ORDER_RESP_TYPE", "Invalid newOrderRespType.")


class Processing:
    """20xx - processing issues."""
    NEW_ORDER_REJECTED = _e(-2010, "NEW_ORDER_REJECTED", "NEW_ORDER_REJECTED")
    UNKNOWN_ORDER = _e(-2011, "CANCEL_REJECTED", "Unknown order sent.")
    CANCEL_ALL_FAIL = _e(-2012, "CANCEL_ALL_FAIL", "Batch cancel failure.")
    NO_SUCH_ORDER = _e(-2013, "NO_SUCH_ORDER", "Order does not exist.")
    BAD_API_KEY_FMT = _e(-2014, "BAD_API_KEY_FMT", "API-key format invalid.", 401)
    REJECTED_MBX_KEY = _e(-2015, "REJECTED_MBX_KEY", "Invalid API-key, IP, or permissions for action.", 401)
    API_KEYS_LOCKED = _e(-2017, "API_KEYS_LOCKED", "API Keys are locked on this account.")
    BALANCE_NOT_SUFFICIENT = _e(-2018, "BALANCE_NOT_SUFFICIENT", "Balance is insufficient.")
    MARGIN_NOT_SUFFICIENT = _e(-2019, "MARGIN_NOT_SUFFICIEN", "Margin is insufficient.")
    UNABLE_TO_FILL = _e(-2020, "UNABLE_TO_FILL", "Unable to fill.")
    ORDER_WOULD_IMMEDIATELY_TRIGGER = _e(-2021, "ORDER_WOULD_IMMEDIATELY_TRIGGER", "Order would immediately trigger.")
    REDUCE_ONLY_REJECT = _e(-2022, "REDUCE_ONLY_REJECT", "ReduceOnly Order is rejected.")
    USER_IN_LIQUIDATION = _e(-2023, "USER_IN_LIQUIDATION", "User in liquidation mode now.")
    POSITION_NOT_SUFFICIENT = _e(-2024, "POSITION_NOT_SUFFICIENT", "Position is not sufficient.")
    MAX_OPEN_ORDER_EXCEEDED = _e(-2025, "MAX_OPEN_ORDER_EXCEEDED", "Reach max open order limit.")
    REDUCE_ONLY_ORDER_TYPE_NOT_SUPPORTED = _e(-2026, "REDUCE_ONLY_ORDER_TYPE_NOT_SUPPORTED",
                                              "This OrderType is not supported when reduceOnly.")
    MAX_LEVERAGE_RATIO = _e(-2027, "MAX_LEVERAGE_RATIO", "Exceeded the maximum allowable position at current leverage.")
    MIN_LEVERAGE_RATIO = _e(-2028, "MIN_LEVERAGE_RATIO",
                            "Leverage is smaller than permitted: insufficient margin balance.")


class Filters:
    """40xx - filters and other issues (price/qty filters, account settings)."""
    INVALID_ORDER_STATUS = _e(-4000, "INVALID_ORDER_STATUS", "Invalid order status.")
    PRICE_LESS_THAN_ZERO = _e(-4001, "PRICE_LESS_THAN_ZERO", "Price less than 0.")
    PRICE_GREATER_THAN_MAX_PRICE = _e(-4002, "PRICE_GREATER_THAN_MAX_PRICE", "Price greater than max price.")
    QTY_LESS_THAN_ZERO = _e(-4003, "QTY_LESS_THAN_ZERO", "Quantity less than or equal to zero.")
    QTY_LESS_THAN_MIN_QTY = _e(-4004, "QTY_LESS_THAN_MIN_QTY", "Quantity less than min quantity.")
    QTY_GREATER_THAN_MAX_QTY = _e(-4005, "QTY_GREATER_THAN_MAX_QTY", "Quantity greater than max quantity.")
    STOP_PRICE_LESS_THAN_ZERO = _e(-4006, "STOP_PRICE_LESS_THAN_ZERO", "Stop price less than zero.")
    STOP_PRICE_GREATER_THAN_MAX_PRICE = _e(-4007, "STOP_PRICE_GREATER_THAN_MAX_PRICE",
                                           "Stop price greater than max price.")
    PRICE_LESS_THAN_MIN_PRICE = _e(-4013, "PRICE_LESS_THAN_MIN_PRICE", "Price less than min price.")
    PRICE_NOT_INCREASED_BY_TICK_SIZE = _e(-4014, "PRICE_NOT_INCREASED_BY_TICK_SIZE",
                                          "Price not increased by tick size.")
    INVALID_CL_ORD_ID = _e(-4015, "INVALID_CL_ORD_ID_LEN", "Client order id is not valid.")
    # live wording (spec §3.2 †); docs say "Price is higher than mark price multiplier cap."
    PRICE_HIGHER_THAN_MULTIPLIER_UP = _e(-4016, "PRICE_HIGHTER_THAN_MULTIPLIER_UP",
                                         "Limit price can't be higher than %s.")
    INVALID_DEPTH_LIMIT = _e(-4021, "INVALID_DEPTH_LIMIT", "%s is not valid depth limit")
    QTY_NOT_INCREASED_BY_STEP_SIZE = _e(-4023, "QTY_NOT_INCREASED_BY_STEP_SIZE", "Qty not increased by step size.")
    PRICE_LOWER_THAN_MULTIPLIER_DOWN = _e(-4024, "PRICE_LOWER_THAN_MULTIPLIER_DOWN",
                                          "Limit price can't be lower than %s.")
    INVALID_LEVERAGE = _e(-4028, "INVALID_LEVERAGE", "Leverage %s is not valid")
    INVALID_WORKING_TYPE = _e(-4031, "INVALID_WORKING_TYPE", "Invalid parameter working type")
    MAX_STOP_ORDER_EXCEEDED = _e(-4045, "MAX_STOP_ORDER_EXCEEDED", "Reach max stop order limit.")
    NO_NEED_TO_CHANGE_MARGIN_TYPE = _e(-4046, "NO_NEED_TO_CHANGE_MARGIN_TYPE", "No need to change margin type.")
    MARGIN_TYPE_OPEN_ORDERS = _e(-4047, "THERE_EXISTS_OPEN_ORDERS",
                                 "Margin type cannot be changed if there exists open orders.")
    MARGIN_TYPE_POSITION = _e(-4048, "THERE_EXISTS_QUANTITY",
                              "Margin type cannot be changed if there exists position.")
    ADD_ISOLATED_MARGIN_REJECT = _e(-4049, "ADD_ISOLATED_MARGIN_REJECT",
                                    "Add margin only support for isolated position.")
    CROSS_BALANCE_INSUFFICIENT = _e(-4050, "CROSS_BALANCE_INSUFFICIENT", "Cross balance insufficient.")
    ISOLATED_BALANCE_INSUFFICIENT = _e(-4051, "ISOLATED_BALANCE_INSUFFICIENT", "Isolated balance insufficient.")
    NO_NEED_TO_CHANGE_AUTO_ADD_MARGIN = _e(-4052, "NO_NEED_TO_CHANGE_AUTO_ADD_MARGIN",
                                           "No need to change auto add margin.")
    AUTO_ADD_CROSSED_MARGIN_REJECT = _e(-4053, "AUTO_ADD_CROSSED_MARGIN_REJECT",
                                        "Auto add margin only support for isolated position.")
    ADD_ISOLATED_MARGIN_NO_POSITION = _e(-4054, "ADD_ISOLATED_MARGIN_NO_POSITION_REJECT",
                                         "Cannot add position margin: position is 0.")
    AMOUNT_MUST_BE_POSITIVE = _e(-4055, "AMOUNT_MUST_BE_POSITIVE", "Amount must be positive.")
    INVALID_API_KEY_TYPE = _e(-4056, "INVALID_API_KEY_TYPE", "Invalid api key type.")
    NO_NEED_TO_CHANGE_POSITION_SIDE = _e(-4059, "NO_NEED_TO_CHANGE_POSITION_SIDE", "No need to change position side.")
    INVALID_POSITION_SIDE = _e(-4060, "INVALID_POSITION_SIDE", "Invalid position side.")
    POSITION_SIDE_NOT_MATCH = _e(-4061, "POSITION_SIDE_NOT_MATCH",
                                 "Order's position side does not match user's setting.")
    REDUCE_ONLY_CONFLICT = _e(-4062, "REDUCE_ONLY_CONFLICT", "Invalid or improper reduceOnly value.")
    POSITION_SIDE_CHANGE_OPEN_ORDERS = _e(-4067, "POSITION_SIDE_CHANGE_EXISTS_OPEN_ORDERS",
                                          "Position side cannot be changed if there exists open orders.")
    POSITION_SIDE_CHANGE_POSITION = _e(-4068, "POSITION_SIDE_CHANGE_EXISTS_QUANTITY",
                                       "Position side cannot be changed if there exists position.")
    INVALID_BATCH_PLACE_ORDER_SIZE = _e(-4082, "INVALID_BATCH_PLACE_ORDER_SIZE",
                                        "Invalid number of batch place orders: %s")


class Orders41:
    """41xx - order rules: client ids, algo routing, closePosition, notional, multi-assets mode."""
    # paperex answers it to a competition team's order outside the trading window (the
    # nearest Binance case: a symbol that is pre-trading or closed)
    SYMBOL_ON_DELIVERING = _e(-4108, "SYMBOL_ON_DELIVERING",
                              "Symbol is on delivering or delivered or settling or closed or pre-trading.")
    DUPLICATED_CLIENT_ORDER_ID = _e(-4116, "DUPLICATED_CLIENT_ORDER_ID", "clientOrderId is duplicated")
    STOP_ORDER_TRIGGERING = _e(-4117, "STOP_ORDER_TRIGGERING", "stop order is triggering")
    REDUCE_ONLY_MARGIN_CHECK_FAILED = _e(-4118, "REDUCE_ONLY_MARGIN_CHECK_FAILED",
                                         "ReduceOnly Order Failed. Please check your existing position and open orders")
    STOP_ORDER_SWITCH_ALGO = _e(-4120, "STOP_ORDER_SWITCH_ALGO",
                                "Order type not supported for this endpoint. "
                                "Please use the Algo Order API endpoints instead.")
    MARKET_ORDER_REJECT = _e(-4131, "MARKET_ORDER_REJECT",
                             "The counterparty's best price does not meet the PERCENT_PRICE filter limit")
    INVALID_ACTIVATION_PRICE = _e(-4135, "INVALID_ACTIVATION_PRICE", "Invalid activation price")
    QUANTITY_EXISTS_WITH_CLOSE_POSITION = _e(-4137, "QUANTITY_EXISTS_WITH_CLOSE_POSITION",
                                             "Quantity must be zero with closePosition equals true")
    REDUCE_ONLY_MUST_BE_TRUE = _e(-4138, "REDUCE_ONLY_MUST_BE_TRUE",
                                  "Reduce only must be true with closePosition equals true")
    ORDER_TYPE_CANNOT_BE_MKT = _e(-4139, "ORDER_TYPE_CANNOT_BE_MKT",
                                  "Order type can not be market if it's unable to cancel")
    STRATEGY_INVALID_TRIGGER_PRICE = _e(-4142, "STRATEGY_INVALID_TRIGGER_PRICE",
                                        "REJECT: take profit or stop order will be triggered immediately")
    # live wording (spec §3.2 †): "Order's notional must be no smaller than 50 (unless you choose reduce only)."
    MIN_NOTIONAL = _e(-4164, "MIN_NOTIONAL", "Order's notional must be no smaller than %s (unless you choose reduce only).")
    INVALID_TIME_INTERVAL = _e(-4165, "INVALID_TIME_INTERVAL", "Maximum time interval is %s days")
    MULTI_ASSETS_REJECT_ISOLATED = _e(-4167, "ISOLATED_REJECT_WITH_JOINT_MARGIN",
                                      "Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures "
                                      "under isolated-margin mode.")
    ISOLATED_REJECT_MULTI_ASSETS = _e(-4168, "JOINT_MARGIN_REJECT_WITH_ISOLATED",
                                      "Unable to adjust to isolated-margin mode under the Multi-Assets mode.")
    NO_NEED_TO_CHANGE_MULTI_ASSETS = _e(-4171, "NO_NEED_TO_CHANGE_JOINT_MARGIN",
                                        "Adjusted asset mode is currently set and does not need to be "
                                        "adjusted repeatedly.")


class Execution:
    """50xx - order execution issues, and the unknown-route answer."""
    UNKNOWN_PATH = _e(-5000, "UNKNOWN_PATH", "Path %s, Method %s is invalid", 404)
    FOK_ORDER_REJECT = _e(-5021, "FOK_ORDER_REJECT",
                          "Due to the order could not be filled immediately, the FOK order has been rejected.")
    GTX_ORDER_REJECT = _e(-5022, "GTX_ORDER_REJECT",
                          "Due to the order could not be executed as maker, the Post Only order will be rejected.")
    LIMIT_ORDER_ONLY = _e(-5025, "LIMIT_ORDER_ONLY", "Only limit order is supported.")
    EXCEED_MAX_MODIFY_ORDER_LIMIT = _e(-5026, "Exceed_Maximum_Modify_Order_Limit", "Exceed maximum modify order limit.")
    SAME_ORDER = _e(-5027, "SAME_ORDER", "No need to modify the order.")
    ME_RECVWINDOW_REJECT = _e(-5028, "ME_RECVWINDOW_REJECT",
                              "Timestamp for this request is outside of the ME recvWindow.")
    INVALID_PRICE_MATCH = _e(-5037, "INVALID_PRICE_MATCH", "Invalid price match")
    UNSUPPORTED_ORDER_TYPE_PRICE_MATCH = _e(-5038, "UNSUPPORTED_ORDER_TYPE_PRICE_MATCH",
                                            "Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT")
    INVALID_SELF_TRADE_PREVENTION_MODE = _e(-5039, "INVALID_SELF_TRADE_PREVENTION_MODE",
                                            "Invalid self trade prevention mode")
    FUTURE_GOOD_TILL_DATE = _e(-5040, "FUTURE_GOOD_TILL_DATE",
                               "The goodTillDate timestamp must be greater than the current time plus 600 seconds "
                               "and smaller than 253402300799000 (UTC 9999-12-31 23:59:59)")


FAMILIES = (General, Request, Processing, Filters, Orders41, Execution)


def _collect() -> dict[str, ErrorSpec]:
    out: dict[str, ErrorSpec] = {}
    for fam in FAMILIES:
        for attr, val in vars(fam).items():
            if isinstance(val, ErrorSpec):
                out[f"{fam.__name__}.{attr}"] = val
    return out


#: every catalog entry, keyed "Family.ATTR"
CATALOG: dict[str, ErrorSpec] = _collect()

_BY_CODE: dict[int, list[ErrorSpec]] = {}
for _spec in CATALOG.values():
    _BY_CODE.setdefault(_spec.code, []).append(_spec)


def by_code(code: int) -> list[ErrorSpec]:
    """All catalog entries with this code (some codes have several messages)."""
    return list(_BY_CODE.get(code, ()))


# ---------------------------------------------------------------------------
# spelled-out helpers
# ---------------------------------------------------------------------------

def mandatory_param(name: str) -> BinanceError:
    """-1102 Mandatory parameter '<name>' was not sent, was empty/null, or malformed."""
    return Request.MANDATORY_PARAM(name)


def either_param(a: str, b: str) -> BinanceError:
    """-1102 Param '<a>' or '<b>' must be sent, but both were empty/null!"""
    return Request.EITHER_PARAM(a, b)


def illegal_chars(name: str, legal_range: str) -> BinanceError:
    """-1100 Illegal characters found in parameter '<name>'; legal range is '<legal_range>'."""
    return Request.ILLEGAL_CHARS(name, legal_range)


def illegal_decimal(name: str) -> BinanceError:
    return Request.ILLEGAL_CHARS(name, DECIMAL_LEGAL_RANGE)


def illegal_int(name: str) -> BinanceError:
    return Request.ILLEGAL_CHARS(name, INT_LEGAL_RANGE)


def invalid_parameter(name: str) -> BinanceError:
    """-1130 Data sent for parameter '<name>' is not valid."""
    return Request.INVALID_PARAMETER(name)


def param_not_required(name: str) -> BinanceError:
    """-1106 Parameter '<name>' sent when not required.  Live Binance lower-cases the name."""
    return Request.PARAM_NOT_REQUIRED(name.lower())


def duplicate_values() -> BinanceError:
    return Request.DUPLICATE_VALUES()


def too_many_parameters(expected: object = None, received: object = None) -> BinanceError:
    if expected is None and received is None:
        return Request.TOO_MANY_PARAMETERS_SENT()
    return Request.TOO_MANY_PARAMETERS(expected, received)


def unread_parameters(read: int, sent: int) -> BinanceError:
    return Request.UNREAD_PARAMETERS(read, sent)


def too_many_requests(limit: int, retry_after_s: int | None = None) -> BinanceError:
    """429 -1003 (request weight)."""
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return General.TOO_MANY_REQUESTS(limit, headers=headers)


def ip_banned(until_ms: int, retry_after_s: int | None = None) -> BinanceError:
    """418 -1003 (IP auto-ban); ``until_ms`` is the ban end in ms since the epoch."""
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else None
    return General.IP_BANNED(until_ms, headers=headers)


def too_many_orders(limit: int, interval: str) -> BinanceError:
    """429 -1015, e.g. ``too_many_orders(300, "TEN_SECONDS")``."""
    return General.TOO_MANY_ORDERS(limit, interval)


def timestamp_outside_recv_window() -> BinanceError:
    return General.TIMESTAMP_OUTSIDE_RECV_WINDOW()


def timestamp_ahead() -> BinanceError:
    return General.TIMESTAMP_AHEAD()


def invalid_signature() -> BinanceError:
    return General.INVALID_SIGNATURE()


def api_key_format_invalid() -> BinanceError:
    return Processing.BAD_API_KEY_FMT()


def invalid_api_key() -> BinanceError:
    return Processing.REJECTED_MBX_KEY()


def unknown_path(path: str, method: str) -> BinanceError:
    """404 -5000 Path /fapi/v1/x, Method GET is invalid"""
    return Execution.UNKNOWN_PATH(path, method.upper())


def invalid_depth_limit(limit: object) -> BinanceError:
    return Filters.INVALID_DEPTH_LIMIT(limit)


def invalid_leverage(leverage: object) -> BinanceError:
    return Filters.INVALID_LEVERAGE(leverage)


def min_notional(notional: object) -> BinanceError:
    return Orders41.MIN_NOTIONAL(notional)


def limit_price_too_high(cap: object) -> BinanceError:
    return Filters.PRICE_HIGHER_THAN_MULTIPLIER_UP(cap)


def limit_price_too_low(floor: object) -> BinanceError:
    return Filters.PRICE_LOWER_THAN_MULTIPLIER_DOWN(floor)


def invalid_symbol() -> BinanceError:
    return Request.BAD_SYMBOL()


def internal_error() -> BinanceError:
    """-1001 (HTTP 503): failed, safe to retry."""
    return General.DISCONNECTED()


def unknown_error() -> BinanceError:
    """-1000 catch-all (HTTP 400)."""
    return General.UNKNOWN()
