"""Strict parsing of control-API requests (``/paperex/v1/...``).

The control API changes money and time, so it accepts exactly what it documents
and refuses everything else with a Binance-style 4xx: decimals are ASCII digit
strings (or JSON integers), ids ASCII integers, seeds integers, ``seconds``
finite and bounded, and a field the endpoint does not know is named in a -1103
answer rather than ignored.  ``str.isdigit`` / ``Decimal(str)`` are not used on
input: they accept full-width and superscript digits, spaces, ``Infinity``.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Iterable, Optional

import orjson
from aiohttp import web

from exchange.gateway.body import read_body
from exchange.gateway.errors import DECIMAL_LEGAL_RANGE, INT_LEGAL_RANGE, BinanceError, Request

_DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?")   # fullmatch only: ASCII, no sign, no space
_ID = re.compile(r"[0-9]{1,18}")

#: at most ten years of virtual time in one clock advance
MAX_ADVANCE_SECONDS = 10 * 365 * 86_400


def mandatory(name: str) -> BinanceError:
    return Request.MANDATORY_PARAM(name)


def invalid(name: str, why: str = "") -> BinanceError:
    return Request.INVALID_PARAMETER_HINT(name, why) if why else Request.INVALID_PARAMETER(name)


def illegal(name: str, legal: str) -> BinanceError:
    return Request.ILLEGAL_CHARS(name, legal)


def unknown_fields(names: Iterable[str], known: Iterable[str]) -> BinanceError:
    """-1103 naming every field the endpoint does not know (and the ones it does)."""
    quoted = ", ".join(f"'{str(n)[:64]}'" for n in sorted(names, key=str))
    return Request.UNKNOWN_PARAM_KNOWN(quoted, ", ".join(known) or "none")


async def read_json(request: web.Request, allowed: Optional[Iterable[str]]) -> dict:
    """The request's JSON object (``{}`` for an empty body); 400 for a body that
    cannot be decoded (bad Content-Encoding, not JSON, not an object) or that has
    a field outside ``allowed`` (None: the caller checks the fields itself)."""
    body = await read_body(request)
    if not body:
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Request.BODY_NOT_JSON() from None
    if not isinstance(data, dict):
        raise Request.BODY_NOT_OBJECT()
    unknown = set(data) - set(allowed) if allowed is not None else ()
    if unknown:
        raise unknown_fields(unknown, allowed)
    return data


def decimal(data: dict, name: str, *, required: bool = True, positive: bool = True) -> Optional[Decimal]:
    """A non-negative (``positive``: > 0) decimal given as an ASCII digit string
    ``"123.45"`` or a JSON integer; None when absent and not ``required``."""
    v = data.get(name)
    if v is None:
        if required:
            raise mandatory(name)
        return None
    d = _number(v, name, floats=False, hint="Use a decimal string like \"10.5\".")
    if d < 0 or positive and d == 0:
        raise invalid(name)
    return d


def _number(v: object, name: str, *, floats: bool, hint: str) -> Decimal:
    """``v`` as an exact Decimal: a JSON integer, an unsigned ASCII decimal string or (with
    ``floats``) a finite JSON number; anything else is refused with ``hint``."""
    if type(v) is int:
        return Decimal(v)
    if floats and type(v) is float:
        d = Decimal(repr(v))            # orjson never yields nan/inf; repr is the shortest exact text
        if not d.is_finite():
            raise invalid(name)
        return d
    if type(v) is str:
        if not _DECIMAL.fullmatch(v):
            raise illegal(name, DECIMAL_LEGAL_RANGE)
        return Decimal(v)
    raise invalid(name, hint)


def account_id(text: str) -> Optional[int]:
    """An account id from a URL path segment: ASCII digits only (None otherwise)."""
    return int(text) if _ID.fullmatch(text) else None


def seconds_to_ms(data: dict, name: str = "seconds") -> int:
    """A non-negative, finite duration in seconds (JSON integer, JSON number or
    ASCII decimal string, at most millisecond precision), bounded by
    :data:`MAX_ADVANCE_SECONDS`, as whole milliseconds."""
    v = data.get(name)
    if v is None:
        raise mandatory(name)
    d = _number(v, name, floats=True, hint="Use a number of seconds.")
    if d < 0 or d > MAX_ADVANCE_SECONDS:
        raise invalid(name, f"Seconds must be between 0 and {MAX_ADVANCE_SECONDS}.")
    ms = d * 1000
    if ms != ms.to_integral_value():
        raise invalid(name, "The clock moves in whole milliseconds.")
    return int(ms)


def text(data: dict, name: str, *, max_len: int, default: str = "") -> str:
    """An optional string field (absent or null: ``default``)."""
    v = data.get(name)
    if v is None:
        return default
    if type(v) is not str or len(v) > max_len:
        raise invalid(name, f"Use a string of at most {max_len} characters.")
    return v


__all__ = ["read_json", "decimal", "account_id", "seconds_to_ms", "text", "unknown_fields",
           "mandatory", "invalid", "illegal", "INT_LEGAL_RANGE"]
