"""Request parameters, parsed and typed the way Binance USD-M parses them.

Rules (``shared/spec/binance-usdm.md`` §1.1):

* GET/HEAD: parameters come from the query string only.
* POST/PUT/DELETE: the query string and the body are merged; the body is parsed
  as ``application/x-www-form-urlencoded`` *whatever* Content-Type was declared
  (binance-futures-connector declares JSON and sends an empty body;
  python-binance sends DELETE with a form body).  If a key is in both parts,
  the **query** value wins.
* A key repeated inside one part answers ``-1101 Duplicate values for a
  parameter detected.``
* Unknown parameters are ignored (``Params.unread()`` / ``check_all_read()``
  exist for an optional strict mode answering ``-1104``).
* A parameter sent empty (``symbol=``) counts as not sent.

Typed getters raise ``BinanceError`` with Binance's exact code and text and
nothing else, whatever the input (a hypothesis test holds them to that):

* int:     ``^[0-9]{1,20}$`` else ``-1100 ... legal range is '^[0-9]{1,20}$'.``;
           a value that matches but does not fit a signed 64-bit long -> ``-1130``.
* decimal: ``^([0-9]{1,20})(\\.[0-9]{1,20})?$`` else ``-1100`` with that range
           (so ``1e-05``, ``.5``, ``1.``, ``-1``, ``+1``, `` 1`` are all refused).
* bool:    ``true``/``false`` in any letter case, else ``-1130``.
* enums:   the dedicated Binance error (``-1117 Invalid side.``,
           ``-1116 Invalid orderType.``, ``-1115 Invalid timeInForce.``,
           ``-4060 Invalid position side.`` ...), else ``-1130``.
* missing / empty required parameter: ``-1102 Mandatory parameter '<name>' was
  not sent, was empty/null, or malformed.``

Everything here works on plain bytes/str and lists of pairs; ``RawRequest.
from_aiohttp`` is the only bridge to aiohttp and is duck-typed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Iterator, Mapping
from urllib.parse import parse_qsl

from exchange.gateway import errors
from exchange.gateway.errors import ErrorSpec, Filters, Execution, Request

__all__ = [
    "RawRequest", "Params", "parse_form", "MAX_PARAMS", "LONG_MAX",
    "SIDES", "ORDER_TYPES", "TIME_IN_FORCE", "POSITION_SIDES", "WORKING_TYPES",
    "NEW_ORDER_RESP_TYPES", "STP_MODES", "PRICE_MATCH", "MARGIN_TYPES", "KLINE_INTERVALS",
    "ALGO_TYPES", "ENUMS", "BODY_METHODS",
]

#: methods whose body carries parameters
BODY_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
#: more fields than this in one part -> -1101 (protects the parser, Binance has its own cap)
MAX_PARAMS = 1000
LONG_MAX = 2**63 - 1

_INT_RE = re.compile(r"[0-9]{1,20}", re.ASCII)
_DECIMAL_RE = re.compile(r"([0-9]{1,20})(\.[0-9]{1,20})?", re.ASCII)
_CLIENT_ID_CHARS_RE = re.compile(r"[.A-Z:/a-z0-9_-]+", re.ASCII)

# --- enumerations (values exactly as Binance spells them; case-sensitive) ---
SIDES = ("BUY", "SELL")
ORDER_TYPES = ("LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
               "TRAILING_STOP_MARKET")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "GTX", "GTD", "RPI")
POSITION_SIDES = ("BOTH", "LONG", "SHORT")
WORKING_TYPES = ("MARK_PRICE", "CONTRACT_PRICE")
NEW_ORDER_RESP_TYPES = ("ACK", "RESULT")
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
PRICE_MATCH = ("NONE", "OPPONENT", "OPPONENT_5", "OPPONENT_10", "OPPONENT_20",
               "QUEUE", "QUEUE_5", "QUEUE_10", "QUEUE_20")
MARGIN_TYPES = ("ISOLATED", "CROSSED")
ALGO_TYPES = ("CONDITIONAL",)
KLINE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                   "1d", "3d", "1w", "1M")
CONTRACT_TYPES = ("PERPETUAL", "CURRENT_QUARTER", "NEXT_QUARTER")

#: parameter name -> (allowed values, error for a bad value; None = -1130 for that name)
ENUMS: dict[str, tuple[tuple[str, ...], ErrorSpec | None]] = {
    "side": (SIDES, Request.INVALID_SIDE),
    "type": (ORDER_TYPES, Request.INVALID_ORDER_TYPE),
    "timeInForce": (TIME_IN_FORCE, Request.INVALID_TIF),
    "positionSide": (POSITION_SIDES, Filters.INVALID_POSITION_SIDE),
    "workingType": (WORKING_TYPES, Filters.INVALID_WORKING_TYPE),
    "newOrderRespType": (NEW_ORDER_RESP_TYPES, Request.INVALID_NEW_ORDER_RESP_TYPE),
    "selfTradePreventionMode": (STP_MODES, Execution.INVALID_SELF_TRADE_PREVENTION_MODE),
    "priceMatch": (PRICE_MATCH, Execution.INVALID_PRICE_MATCH),
    "marginType": (MARGIN_TYPES, None),
    "algoType": (ALGO_TYPES, None),
    "interval": (KLINE_INTERVALS, Request.BAD_INTERVAL),
    "contractType": (CONTRACT_TYPES, None),
}

_MISSING = object()


def _to_bytes(data: "bytes | bytearray | memoryview | str | None") -> bytes:
    if data is None:
        return b""
    if isinstance(data, str):
        try:
            return data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return data.encode("utf-8", "surrogatepass")
    return bytes(data)


def parse_form(data: "bytes | str | None") -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` -> ordered (key, value) pairs.

    ``+`` is a space, ``%XX`` is decoded as UTF-8 (bad bytes -> U+FFFD), a pair
    without ``=`` has an empty value, empty segments (``&&``) are skipped.
    More than ``MAX_PARAMS`` fields -> ``-1101``.
    """
    raw = _to_bytes(data)
    if not raw:
        return []
    text = raw.decode("utf-8", "replace")
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace",
                         max_num_fields=MAX_PARAMS)
    except ValueError:
        raise errors.too_many_parameters() from None


def _duplicate_keys(pairs: Iterable[tuple[str, str]]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for k, _ in pairs:
        if k in seen and k not in dups:
            dups.append(k)
        seen.add(k)
    return dups


def _header(headers: object, name: str) -> str | None:
    """Case-insensitive header lookup on a dict, CIMultiDict or list of pairs."""
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is not None:
        v = getter(name)
        if v is not None:
            return v
        items = headers.items()  # type: ignore[attr-defined]
    else:
        items = headers  # type: ignore[assignment]
    lname = name.lower()
    for k, v in items:  # type: ignore[misc]
        if isinstance(k, str) and k.lower() == lname:
            return v
    return None


@dataclass(frozen=True)
class RawRequest:
    """What arrived on the wire, before any interpretation.

    ``raw_query`` is the bytes after ``?`` exactly as received (not decoded) and
    ``body`` the raw body; both are what the HMAC signature covers.  For GET/HEAD
    the body is ignored (``signed_body`` is empty).
    """

    method: str
    path: str
    raw_query: bytes = b""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    remote: str = ""

    @property
    def body_carries_params(self) -> bool:
        return self.method.upper() in BODY_METHODS

    @property
    def signed_body(self) -> bytes:
        return self.body if self.body_carries_params else b""

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def params(self, *, reject_duplicates: bool = True) -> "Params":
        return Params.parse(self.raw_query, self.signed_body, reject_duplicates=reject_duplicates)

    @classmethod
    def from_parts(cls, method: str, target: "str | bytes", body: "bytes | str" = b"",
                   headers: Mapping[str, str] | None = None, remote: str = "") -> "RawRequest":
        """Build from a request target like ``/fapi/v1/order?symbol=BTCUSDT``."""
        t = _to_bytes(target)
        path, _, query = t.partition(b"?")
        return cls(method.upper(), path.decode("utf-8", "replace"), query, _to_bytes(body),
                   dict(headers or {}), remote)

    @classmethod
    async def from_aiohttp(cls, request) -> "RawRequest":  # pragma: no cover - exercised by the server tests
        """Read an ``aiohttp.web.Request`` (duck-typed; aiohttp is not imported here)."""
        raw_path = request.raw_path  # path + '?' + query, as received
        _, _, query = raw_path.partition("?")
        method = request.method.upper()
        from exchange.gateway.body import read_body
        body = await read_body(request) if method in BODY_METHODS and request.can_read_body else b""
        return cls(method, request.path, _to_bytes(query), body, request.headers, request.remote or "")


class Params:
    """Merged request parameters with Binance-typed getters.

    Construct with ``Params.parse(raw_query, raw_body)`` or
    ``Params(query_pairs, body_pairs)``; a plain ``dict`` also works
    (``Params.from_mapping``).  Every getter raises only ``BinanceError``.
    """

    __slots__ = ("_values", "_sent", "_read")

    def __init__(self, query_pairs: Iterable[tuple[str, str]] = (),
                 body_pairs: Iterable[tuple[str, str]] = (), *, reject_duplicates: bool = True) -> None:
        q = [(str(k), str(v)) for k, v in query_pairs]
        b = [(str(k), str(v)) for k, v in body_pairs]
        if reject_duplicates and (_duplicate_keys(q) or _duplicate_keys(b)):
            raise errors.duplicate_values()
        values: dict[str, str] = {}
        for k, v in b:                  # body first ...
            values.setdefault(k, v)
        for k, v in q:                  # ... then the query overrides (query wins)
            values[k] = v
        if not reject_duplicates:
            # first occurrence in the query wins, else first in the body
            first_q: dict[str, str] = {}
            for k, v in q:
                first_q.setdefault(k, v)
            values.update(first_q)
        self._values = values
        self._sent = len(values)
        self._read: set[str] = set()

    # -- construction ------------------------------------------------------
    @classmethod
    def parse(cls, raw_query: "bytes | str | None" = b"", raw_body: "bytes | str | None" = b"", *,
              reject_duplicates: bool = True) -> "Params":
        return cls(parse_form(raw_query), parse_form(raw_body), reject_duplicates=reject_duplicates)

    @classmethod
    def _of(cls, values: dict) -> "Params":
        """From an already merged, duplicate-free ``{str: str}`` (the gateway's fast path,
        ``common.parse_params``); the dict is taken, not copied."""
        self = cls.__new__(cls)
        self._values = values
        self._sent = len(values)
        self._read = set()
        return self

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> "Params":
        return cls(((k, "" if v is None else str(v)) for k, v in mapping.items()))

    # -- raw access ---------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __repr__(self) -> str:
        return f"Params({self._values!r})"

    def items(self):
        return self._values.items()

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def get(self, name: str, default: object = None):
        """Raw string value (``''`` when sent empty) or ``default``; marks it read."""
        self._read.add(name)
        return self._values.get(name, default)

    def present(self, name: str) -> bool:
        """Sent with a non-empty value."""
        return self._values.get(name, "") != ""

    def first_present(self, *names: str) -> str | None:
        """The first of ``names`` that was sent non-empty (aliases such as
        ``orderIdList``/``orderidlist``), or None."""
        for n in names:
            self._read.add(n)
            if self.present(n):
                return n
        return None

    def require_one_of(self, a: str, b: str) -> str:
        """Name of the first present of a/b, else ``-1102 Param 'a' or 'b' must be sent...``."""
        n = self.first_present(a, b)
        if n is None:
            raise errors.either_param(a, b)
        return n

    def unread(self) -> list[str]:
        return [k for k in self._values if k not in self._read]

    def check_all_read(self) -> None:
        """Strict mode: ``-1104`` if some sent parameter was never read."""
        unread = self.unread()
        if unread:
            raise errors.unread_parameters(self._sent - len(unread), self._sent)

    def _raw(self, name: str, required: bool) -> str | None:
        self._read.add(name)
        v = self._values.get(name)
        if v is None or v == "":
            if required:
                raise errors.mandatory_param(name)
            return None
        return v

    # -- typed getters -----------------------------------------------------
    def get_str(self, name: str, *, required: bool = False, default: str | None = None,
                max_len: int | None = None) -> str | None:
        v = self._raw(name, required)
        if v is None:
            return default
        if max_len is not None and len(v) > max_len:
            raise errors.invalid_parameter(name)
        return v

    def required_str(self, name: str) -> str:
        return self.get_str(name, required=True)  # type: ignore[return-value]

    def get_int(self, name: str, *, required: bool = False, default: int | None = None,
                min_value: int | None = None, max_value: int | None = None) -> int | None:
        """Binance long: ``^[0-9]{1,20}$`` (else -1100), fits a signed 64-bit long
        and ``min_value``/``max_value`` (else -1130)."""
        v = self._raw(name, required)
        if v is None:
            return default
        if _INT_RE.fullmatch(v) is None:
            raise errors.illegal_int(name)
        n = int(v)
        if n > LONG_MAX:
            raise errors.invalid_parameter(name)
        if (min_value is not None and n < min_value) or (max_value is not None and n > max_value):
            raise errors.invalid_parameter(name)
        return n

    def required_int(self, name: str, **kw) -> int:
        return self.get_int(name, required=True, **kw)  # type: ignore[return-value]

    def get_decimal(self, name: str, *, required: bool = False,
                    default: Decimal | None = None) -> Decimal | None:
        """Binance decimal ``^([0-9]{1,20})(\\.[0-9]{1,20})?$`` (else -1100).
        Returned as an exact ``Decimal``; converting to ticks/lots is the caller's job."""
        v = self._raw(name, required)
        if v is None:
            return default
        if _DECIMAL_RE.fullmatch(v) is None:
            raise errors.illegal_decimal(name)
        return Decimal(v)

    def get_decimal_str(self, name: str, *, required: bool = False) -> str | None:
        """``get_decimal`` without the Decimal: the validated string (same errors), for
        ``common.to_lots`` / ``to_ticks``, which convert it exactly with integers."""
        v = self._raw(name, required)
        if v is None:
            return None
        if _DECIMAL_RE.fullmatch(v) is None:
            raise errors.illegal_decimal(name)
        return v

    def required_decimal(self, name: str) -> Decimal:
        return self.get_decimal(name, required=True)  # type: ignore[return-value]

    def get_bool(self, name: str, *, required: bool = False, default: bool | None = None,
                 invalid: ErrorSpec | None = None) -> bool | None:
        """``true``/``false`` in any case (ccxt ``true``, python-binance ``True``,
        docs ``TRUE``); anything else -> ``invalid`` (default -1130 for ``name``)."""
        v = self._raw(name, required)
        if v is None:
            return default
        low = v.lower()
        if low == "true":
            return True
        if low == "false":
            return False
        if invalid is not None:
            raise invalid(*([name] if invalid.arity == 1 else []))
        raise errors.invalid_parameter(name)

    def get_enum(self, name: str, allowed: Iterable[str] | None = None, *, required: bool = False,
                 default: str | None = None, invalid: ErrorSpec | None = None) -> str | None:
        """A case-sensitive enumeration.  ``allowed``/``invalid`` default to the
        ``ENUMS`` entry for ``name`` (side -> -1117, type -> -1116, ...);
        otherwise a bad value answers -1130 for ``name``."""
        spec = ENUMS.get(name)
        if allowed is None:
            if spec is None:
                raise ValueError(f"no enumeration known for parameter {name!r}")
            allowed = spec[0]
        if invalid is None and spec is not None:
            invalid = spec[1]
        v = self._raw(name, required)
        if v is None:
            return default
        if v not in tuple(allowed):
            if invalid is not None:
                raise invalid(*([name] if invalid.arity == 1 else []))
            raise errors.invalid_parameter(name)
        return v

    # named conveniences for the common enums
    def side(self, *, required: bool = True) -> str | None:
        return self.get_enum("side", required=required)

    def order_type(self, *, required: bool = True) -> str | None:
        return self.get_enum("type", required=required)

    def time_in_force(self, *, required: bool = False, default: str | None = None) -> str | None:
        return self.get_enum("timeInForce", required=required, default=default)

    def position_side(self, *, default: str | None = "BOTH") -> str | None:
        return self.get_enum("positionSide", default=default)

    def working_type(self, *, default: str | None = "CONTRACT_PRICE") -> str | None:
        return self.get_enum("workingType", default=default)

    def new_order_resp_type(self, *, default: str | None = "ACK") -> str | None:
        return self.get_enum("newOrderRespType", default=default)

    def stp_mode(self, *, default: str | None = None) -> str | None:
        return self.get_enum("selfTradePreventionMode", default=default)

    def price_match(self, *, default: str | None = None) -> str | None:
        return self.get_enum("priceMatch", default=default)

    def interval(self, *, required: bool = True) -> str | None:
        return self.get_enum("interval", required=required)

    def symbol(self, *, required: bool = True) -> str | None:
        """The raw symbol; unknown symbols are the venue's -1121."""
        return self.get_str("symbol", required=required)

    def client_order_id(self, name: str = "newClientOrderId", *, required: bool = False) -> str | None:
        """``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``: a character outside the set -> -1100 with that
        range; too long -> ``-4015 Client order id is not valid.``"""
        v = self._raw(name, required)
        if v is None:
            return None
        if _CLIENT_ID_CHARS_RE.fullmatch(v) is None:
            raise errors.illegal_chars(name, errors.CLIENT_ORDER_ID_LEGAL_RANGE)
        if len(v) > 36:
            raise Filters.INVALID_CL_ORD_ID()
        return v
