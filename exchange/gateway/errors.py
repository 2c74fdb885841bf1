"""Binance errors on the wire: ``BinanceError`` and the HTTP status of each code.

A Binance error is an HTTP status plus a body ``{"code": -NNNN, "msg": "..."}``
(both keys always present; binance-futures-connector does ``err["code"]`` and
``err["msg"]`` on every 4xx).  ``BinanceError`` is that answer as an exception,
so any layer of the gateway can ``raise`` it and the aiohttp handler turns it
into a response with ``err.http_status``, ``err.to_body()`` and ``err.headers``.

The codes, names and messages live in one place, ``exchange.contract.errors``
(the venue's refusals use the same entries).  This module adds only the wire:
each catalog family appears here with the same attribute names, every entry an
``ErrorSpec`` that knows its HTTP status; call it (``spec(*args)``) to get the
``BinanceError`` to raise.  The module-level helpers (``mandatory_param``,
``illegal_chars``...) are the spelled-out forms the rest of the gateway uses.
"""
from __future__ import annotations

from typing import Mapping

from exchange.contract import errors as catalog

__all__ = [
    "BinanceError", "ErrorSpec", "CATALOG", "by_code", "http_status", "rejection", "HTTP_STATUS",
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



class ErrorSpec:
    """A catalog entry on the wire: call it (``spec(*args)``) for the ``BinanceError`` to raise."""

    __slots__ = ("entry", "http_status")

    def __init__(self, entry: catalog.ErrorCode, http_status: int) -> None:
        self.entry = entry
        self.http_status = http_status

    code = property(lambda self: self.entry.code)
    name = property(lambda self: self.entry.name)
    template = property(lambda self: self.entry.template)
    arity = property(lambda self: self.entry.arity)

    def msg(self, *args: object) -> str:
        return self.entry.msg(*args)

    def __call__(self, *args: object, headers: Mapping[str, str] | None = None) -> BinanceError:
        return BinanceError(self.entry.code, self.entry.msg(*args), self.http_status, headers)

    def matches(self, err: BinanceError) -> bool:
        return err.code == self.code and err.http_status == self.http_status

    def __repr__(self) -> str:
        return f"ErrorSpec({self.entry.attr}, {self.code}, http {self.http_status})"


# The HTTP status of each answer that is not 400 (Binance: 4xx for the client's mistakes,
# 401 for keys, 429/418 for limits, 5xx when the outcome is unknown or the server busy).
HTTP_STATUS: dict[catalog.ErrorCode, int] = {
    catalog.General.DISCONNECTED: 503,
    catalog.General.UNAUTHORIZED: 401,
    catalog.General.TOO_MANY_REQUESTS: 429,
    catalog.General.IP_BANNED: 418,
    catalog.General.UNEXPECTED_RESP: 503,
    catalog.General.TIMEOUT: 408,
    catalog.General.SERVER_BUSY: 503,
    catalog.General.THROTTLED: 503,
    catalog.General.SERVICE_UNAVAILABLE: 503,
    catalog.General.UNKNOWN_TRY_LATER: 503,
    catalog.General.TOO_MANY_ORDERS: 429,
    catalog.Processing.BAD_API_KEY_FMT: 401,
    catalog.Processing.REJECTED_MBX_KEY: 401,
    catalog.Processing.INVALID_ADMIN_TOKEN: 401,
    catalog.Execution.UNKNOWN_PATH: 404,
    catalog.Execution.NOT_FOUND: 404,
    catalog.Request.NO_FAULT_RULE: 404,
}
# a code's status when only the code is known (a venue rejection event)
_STATUS_OF_CODE = {e.code: s for e, s in HTTP_STATUS.items() if e.entry is e}


def http_status(code: int) -> int:
    """The HTTP status of an answer with this code (a wording may differ, e.g. the 418 ban)."""
    return _STATUS_OF_CODE.get(code, 400)


def _wire(family: type) -> type:
    """The catalog family with each entry as an ``ErrorSpec`` of the same attribute name."""
    attrs = {attr: ErrorSpec(e, HTTP_STATUS.get(e, 400)) for attr, e in family.items()}
    attrs["__doc__"] = family.__doc__
    return type(family.__name__, (), attrs)


General = _wire(catalog.General)
Request = _wire(catalog.Request)
Processing = _wire(catalog.Processing)
Filters = _wire(catalog.Filters)
Orders41 = _wire(catalog.Orders41)
Execution = _wire(catalog.Execution)
FAMILIES = (General, Request, Processing, Filters, Orders41, Execution)


def _collect() -> dict[str, ErrorSpec]:
    out: dict[str, ErrorSpec] = {}
    for fam in FAMILIES:
        for attr, val in vars(fam).items():
            if isinstance(val, ErrorSpec):
                out[f"{fam.__name__}.{attr}"] = val
    return out


#: every catalog entry on the wire, keyed "Family.ATTR"
CATALOG: dict[str, ErrorSpec] = _collect()

_BY_CODE: dict[int, list[ErrorSpec]] = {}
for _spec in CATALOG.values():
    _BY_CODE.setdefault(_spec.code, []).append(_spec)


def by_code(code: int) -> list[ErrorSpec]:
    """All catalog entries with this code (some codes have several messages)."""
    return list(_BY_CODE.get(code, ()))


def rejection(code: int, msg: str) -> BinanceError:
    """A venue refusal (its event's code and message) as the wire answer."""
    return BinanceError(code, msg, http_status(code))


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
