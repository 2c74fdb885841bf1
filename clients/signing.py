"""Request encoding and HMAC-SHA256 signing for the Binance USD-M wire API (spec §2.2).

The client sends **every** parameter in the query string, for every method (the way
binance-futures-connector does it): the signed payload is then exactly the bytes after
``?`` up to ``&signature=``, the body is always empty, and the same code path serves
GET, POST, PUT and DELETE.  Binance and paperex both accept this (spec §1.1).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any, Iterable, Mapping
from urllib.parse import quote, urlencode

__all__ = ["format_value", "encode_params", "sign", "signed_query"]


def format_value(value: Any) -> str:
    """Render one parameter value the way Binance expects it on the wire.

    * ``bool`` -> ``true``/``false``
    * ``Decimal``/``float`` -> plain positional notation (never ``1e-05``, which Binance
      rejects with -1100)
    * ``list``/``dict`` -> compact JSON (``batchOrders``, ``orderIdList``)
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, float):
        return _plain(Decimal(repr(value)))
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_jsonable(value), separators=(",", ":"))
    return str(value)


def _plain(d: Decimal) -> str:
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".") or "0"
    return s


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, int):
        return v
    return format_value(v)


def encode_params(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """Percent-encode ``params`` (insertion order kept, ``None`` values dropped)."""
    items = params.items() if isinstance(params, Mapping) else params
    pairs = [(k, format_value(v)) for k, v in items if v is not None]
    return urlencode(pairs, quote_via=quote)


def sign(secret: str, payload: str) -> str:
    """``hex(HMAC_SHA256(secret, payload))`` — payload is query string + body, no ``&`` between."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_query(secret: str, params: Mapping[str, Any], *, timestamp: int,
                 recv_window: int | None = None) -> str:
    """Encoded query with ``recvWindow`` and ``timestamp`` appended and ``signature`` last."""
    p = {k: v for k, v in params.items() if v is not None}
    if recv_window is not None and "recvWindow" not in p:
        p["recvWindow"] = recv_window
    p.pop("timestamp", None)
    p["timestamp"] = timestamp
    qs = encode_params(p)
    return f"{qs}&signature={sign(secret, qs)}"
