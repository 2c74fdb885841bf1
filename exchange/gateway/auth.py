"""API keys, HMAC-SHA256 signatures and the timestamp window (spec §2).

* Security types (§2.1): NONE, MARKET_DATA and USER_STREAM (API key header
  only), TRADE and USER_DATA (= SIGNED: key header + ``timestamp`` +
  ``signature``).  ``ENDPOINT_SECURITY`` maps (method, path) to its type.
* Signature (§2.2): ``hex(HMAC_SHA256(secret, totalParams))`` where
  ``totalParams`` = raw query string (bytes after ``?``, not decoded) followed
  directly by the raw body (no ``&`` between them), with the ``signature=...``
  pair removed.  ``signature`` must be the last pair of the part that carries
  it.  The hex digest is compared case-insensitively.  If the raw bytes do not
  verify, the percent-decoded (``unquote_plus``) form of the same string is
  tried once (python-binance signs un-encoded values, e.g. batchOrders JSON).
* Timestamp (§2.3): ``recvWindow`` defaults to 5000 and may not exceed 60000
  (``-1130``).  A timestamp is accepted iff for the wall clock **or** the venue
  clock ``timestamp < now + 1000`` and ``now - timestamp <= recvWindow``.
  Both clocks are passed in (ms ints); nothing here reads a clock.
* Errors (§2.4): missing key -> 401 -2014; unknown key / no permission -> 401
  -2015; missing ``signature``/``timestamp`` -> 400 -1102; bad signature ->
  400 -1022; stale or future timestamp -> 400 -1021.

Check order for a SIGNED request: key header (-2014), key known (-2015),
signature present (-1102), timestamp present/well-formed (-1102/-1100),
recvWindow (-1100/-1130), key permission (-2015), signature (-1022),
timestamp window (-1021).
"""
from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Mapping, Protocol
from urllib.parse import unquote_plus

from exchange.gateway import errors
from exchange.gateway.keytypes import HMAC, decode_signature, verify_public
from exchange.gateway.params import _INT_RE, LONG_MAX, Params, RawRequest, _header

_INT_FULL = _INT_RE.fullmatch

__all__ = [
    "SecurityType", "ENDPOINT_SECURITY", "security_type", "ApiKey", "KeyStore", "DictKeyStore",
    "AuthContext", "sign", "split_signature", "verify_signature", "check_timestamp",
    "authenticate", "authenticate_parts", "check_signed", "known_key", "verify_key_signature", "API_KEY_HEADER", "DEFAULT_RECV_WINDOW", "MAX_RECV_WINDOW", "MAX_AHEAD_MS",
]

API_KEY_HEADER = "X-MBX-APIKEY"
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
MAX_AHEAD_MS = 1000


class SecurityType(enum.Enum):
    NONE = "NONE"
    MARKET_DATA = "MARKET_DATA"
    USER_STREAM = "USER_STREAM"
    TRADE = "TRADE"
    USER_DATA = "USER_DATA"

    @property
    def needs_api_key(self) -> bool:
        return self is not SecurityType.NONE

    @property
    def signed(self) -> bool:
        return self in (SecurityType.TRADE, SecurityType.USER_DATA)


_N, _MD, _US, _T, _U = (SecurityType.NONE, SecurityType.MARKET_DATA, SecurityType.USER_STREAM,
                        SecurityType.TRADE, SecurityType.USER_DATA)


def _table() -> dict[tuple[str, str], SecurityType]:
    t: dict[tuple[str, str], SecurityType] = {}
    for p in ("/fapi/v1/ping", "/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/depth",
              "/fapi/v1/trades", "/fapi/v1/aggTrades", "/fapi/v1/klines", "/fapi/v1/markPriceKlines",
              "/fapi/v1/indexPriceKlines", "/fapi/v1/premiumIndexKlines", "/fapi/v1/continuousKlines",
              "/fapi/v1/premiumIndex", "/fapi/v1/fundingRate", "/fapi/v1/fundingInfo",
              "/fapi/v1/ticker/24hr", "/fapi/v1/ticker/price", "/fapi/v2/ticker/price",
              "/fapi/v1/ticker/bookTicker", "/fapi/v1/openInterest", "/api/v3/ping", "/api/v3/time",
              "/futures/data/openInterestHist"):
        t[("GET", p)] = _N
    t[("GET", "/fapi/v1/historicalTrades")] = _MD
    for m in ("POST", "PUT", "DELETE"):
        t[(m, "/fapi/v1/listenKey")] = _US
    for v in ("v2", "v3"):
        for p in ("account", "balance", "positionRisk"):
            t[("GET", f"/fapi/{v}/{p}")] = _U
    for p in ("order", "openOrder", "openOrders", "allOrders", "userTrades", "income",
              "leverageBracket", "commissionRate", "accountConfig", "symbolConfig",
              "positionSide/dual", "multiAssetsMargin", "algoOrder", "openAlgoOrders",
              "allAlgoOrders", "adlQuantile", "forceOrders", "positionMargin/history",
              "apiTradingStatus", "rateLimit/order"):
        t[("GET", f"/fapi/v1/{p}")] = _U
    for mp in (("POST", "order"), ("PUT", "order"), ("DELETE", "order"), ("POST", "order/test"),
               ("POST", "batchOrders"), ("PUT", "batchOrders"), ("DELETE", "batchOrders"),
               ("DELETE", "allOpenOrders"), ("POST", "countdownCancelAll"),
               ("POST", "leverage"), ("POST", "marginType"), ("POST", "positionSide/dual"),
               ("POST", "multiAssetsMargin"), ("POST", "positionMargin"),
               ("POST", "algoOrder"), ("DELETE", "algoOrder"), ("DELETE", "algoOpenOrders")):
        t[(mp[0], f"/fapi/v1/{mp[1]}")] = _T
    return t


#: (METHOD, path) -> security type for every endpoint the spec lists
ENDPOINT_SECURITY: dict[tuple[str, str], SecurityType] = _table()


def security_type(method: str, path: str) -> SecurityType | None:
    """The endpoint's security type, or None for a route the table does not know."""
    return ENDPOINT_SECURITY.get((method.upper(), path))


@dataclass(frozen=True)
class ApiKey:
    """One API key.  HMAC keys have a ``secret``; Ed25519 / RSA keys (``key_type``) have
    no secret, only the loaded ``public_key`` (``keytypes.load_public_key``) and its PEM."""
    api_key: str
    secret: str
    account_id: int
    can_trade: bool = True   # False: USER_DATA/MARKET_DATA/USER_STREAM only (TRADE -> -2015)
    key_type: str = HMAC
    public_key: object = field(default=None, compare=False, repr=False)
    public_pem: str = field(default="", compare=False, repr=False)


class KeyStore(Protocol):
    def lookup(self, api_key: str) -> ApiKey | None: ...


class DictKeyStore:
    """In-memory key store: ``{apiKey: (secret, account_id)}`` or ``{apiKey: ApiKey}``."""

    def __init__(self, keys: Mapping[str, object] | None = None) -> None:
        self._keys: dict[str, ApiKey] = {}
        for k, v in (keys or {}).items():
            if isinstance(v, ApiKey):
                self._keys[k] = v
            else:
                secret, account_id = v  # type: ignore[misc]
                self.add(k, secret, account_id)

    def add(self, api_key: str, secret: str, account_id: int, *, can_trade: bool = True) -> ApiKey:
        rec = ApiKey(api_key, secret, int(account_id), can_trade)
        self._keys[api_key] = rec
        return rec

    def remove(self, api_key: str) -> None:
        self._keys.pop(api_key, None)

    def lookup(self, api_key: str) -> ApiKey | None:
        return self._keys.get(api_key)

    def __len__(self) -> int:
        return len(self._keys)


@dataclass(frozen=True)
class AuthContext:
    """Who is calling.  ``account_id``/``api_key`` are None on NONE endpoints
    (even if a key header was sent)."""
    security: SecurityType
    api_key: str | None = None
    account_id: int | None = None
    timestamp: int | None = None
    recv_window: int | None = None


#: secret -> an HMAC-SHA256 object keyed with it and fed nothing yet; ``.copy()`` of it
#: skips the key schedule (two SHA-256 blocks) that ``hmac.new`` does on every call
_PREPARED: dict = {}
_PREPARED_MAX = 4096


def _prepared(secret: "str | bytes"):
    if not isinstance(secret, (str, bytes)):
        secret = bytes(secret)
    mac = _PREPARED.get(secret)
    if mac is None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        mac = hmac.new(key, None, hashlib.sha256)
        mac = getattr(mac, "_hmac", None) or mac    # the OpenSSL object under hmac.HMAC, if any
        if len(_PREPARED) >= _PREPARED_MAX:
            _PREPARED.clear()
        _PREPARED[secret] = mac
    return mac


def sign(secret: "str | bytes", payload: "str | bytes") -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` under ``secret`` (what clients send)."""
    msg = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    mac = _prepared(secret).copy()
    mac.update(msg)
    return mac.hexdigest()


class _Misplaced(Exception):
    pass


def _strip_signature(part: bytes) -> tuple[bytes, bytes | None]:
    """Remove a trailing ``signature=`` pair from one raw part.

    Returns (part without it, raw signature value or None).  A signature pair
    that is not the last pair raises ``_Misplaced``.
    """
    if not part:
        return part, None
    if part.find(b"signature") < 0:
        return part, None
    i = part.rfind(b"&")
    last = part[i + 1:]
    if last.startswith(b"signature=") and part.find(b"signature", 0, max(i, 0)) < 0:
        # the common case: one signature pair, the last one (same answer as below)
        return (part[:i] if i >= 0 else b""), last[10:]
    pairs = part.split(b"&")
    hits = [i for i, p in enumerate(pairs) if p.partition(b"=")[0] == b"signature"]
    if not hits:
        return part, None
    if hits != [len(pairs) - 1]:
        raise _Misplaced()
    return b"&".join(pairs[:-1]), pairs[-1].partition(b"=")[2]


def split_signature(raw_query: bytes, raw_body: bytes = b"") -> tuple[bytes, bytes | None]:
    """(totalParams, signature) per §2.2.

    The query's ``signature`` is used if it has one (query wins), else the
    body's.  ``totalParams`` is query + body with only that pair removed.
    A misplaced signature yields ``(b"", b"")`` so it can never verify.
    """
    try:
        q, sig = _strip_signature(raw_query)
        if sig is not None:
            return q + raw_body, sig
        b, sig = _strip_signature(raw_body)
        return raw_query + b, sig
    except _Misplaced:
        return b"", b""


def verify_signature(secret: str, raw_query: bytes, raw_body: bytes = b"") -> bool:
    """True iff the request's signature is HMAC(secret, totalParams), trying the
    raw bytes first and then their ``unquote_plus`` form."""
    payload, sig = split_signature(raw_query, raw_body)
    return _verify_split(secret, payload, sig)


def _verify_split(secret: str, payload: bytes, sig: "bytes | None") -> bool:
    """``verify_signature`` on an already split (totalParams, signature)."""
    if not sig:
        return False
    try:
        given = sig.decode("ascii").lower().encode("ascii")
    except UnicodeDecodeError:
        return False
    if hmac.compare_digest(sign(secret, payload).encode("ascii"), given):
        return True
    text = payload.decode("utf-8", "surrogateescape")
    decoded = unquote_plus(text, encoding="utf-8", errors="surrogateescape")
    if decoded == text:
        return False
    try:
        alt = decoded.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sign(secret, alt).encode("ascii"), given)


def check_timestamp(timestamp: int, recv_window: int, wall_ms: int, venue_ms: int | None = None) -> None:
    """Accept iff, for the wall clock or the venue clock, ``timestamp < now + 1000``
    and ``now - timestamp <= recv_window``; else -1021 (the "ahead" text when the
    timestamp is >= 1000 ms ahead of every clock, the recvWindow text otherwise)."""
    clocks = (wall_ms,) if venue_ms is None else (wall_ms, venue_ms)
    for now in clocks:
        if timestamp < now + MAX_AHEAD_MS and now - timestamp <= recv_window:
            return
    if all(timestamp >= now + MAX_AHEAD_MS for now in clocks):
        raise errors.timestamp_ahead()
    raise errors.timestamp_outside_recv_window()


def _lookup_key(req_headers: object, keys: KeyStore) -> ApiKey:
    key = _header(req_headers, API_KEY_HEADER)
    if key is None or key == "" or not key.isprintable() or not key.isascii() or " " in key:
        raise errors.api_key_format_invalid()
    return known_key(key, keys)


def known_key(key: str, keys: KeyStore) -> ApiKey:
    """The key record of ``key`` (-2015 when unknown)."""
    rec = keys.lookup(key)
    if rec is None:
        raise errors.invalid_api_key()
    if rec.public_key is None and rec.secret and "PRIVATE KEY" in rec.secret:
        # an HMAC "secret" that is a PEM private key: a misconfigured key, never verifiable
        raise errors.Filters.INVALID_API_KEY_TYPE()
    return rec


def verify_key_signature(rec: ApiKey, payloads: "tuple[bytes, ...]", sig: "bytes | str | None",
                         url_encoded: bool) -> bool:
    """Whether ``sig`` signs one of ``payloads`` under the key: HMAC hex (``_verify_split``,
    which also tries the percent-decoded payload), or base64 Ed25519 / RSA (the payloads
    as given, then their ``unquote_plus`` forms).  ``url_encoded``: the signature value
    came percent-encoded (a query string or a form body)."""
    if not sig:
        return False
    if rec.public_key is None:
        if isinstance(sig, str):
            sig = sig.encode("ascii", "replace")
        return any(_verify_split(rec.secret, p, sig) for p in payloads)
    raw = decode_signature(sig, url_encoded)
    if raw is None:
        return False
    for p in payloads:
        if verify_public(rec.key_type, rec.public_key, p, raw):
            return True
    for p in payloads:
        text = p.decode("utf-8", "surrogateescape")
        decoded = unquote_plus(text, encoding="utf-8", errors="surrogateescape")
        if decoded != text:
            try:
                alt = decoded.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                continue
            if verify_public(rec.key_type, rec.public_key, alt, raw):
                return True
    return False


def authenticate(req: RawRequest, params: Params, security: SecurityType, keys: KeyStore, *,
                 wall_ms: int, venue_ms: int | None = None,
                 max_recv_window: int = MAX_RECV_WINDOW,
                 default_recv_window: int = DEFAULT_RECV_WINDOW) -> AuthContext:
    """Authenticate one request for an endpoint of type ``security``.

    ``params`` is ``req.params()`` (parsed once by the caller, who also uses it
    for the endpoint).  Raises ``BinanceError``; returns the caller's identity.
    """
    if not security.needs_api_key:
        return AuthContext(security)
    rec, timestamp, recv_window = authenticate_parts(
        req.headers, req.raw_query, req.signed_body, params, security, keys, wall_ms, venue_ms,
        max_recv_window, default_recv_window)
    if timestamp is None:
        return AuthContext(security, rec.api_key, rec.account_id)
    return AuthContext(security, rec.api_key, rec.account_id, timestamp, recv_window)


_SIGNED = frozenset({SecurityType.TRADE, SecurityType.USER_DATA})


def authenticate_parts(headers: object, raw_query: bytes, signed_body: bytes, params: Params,
                       security: SecurityType, keys: KeyStore, wall_ms: int, venue_ms: int | None = None,
                       max_recv_window: int = MAX_RECV_WINDOW,
                       default_recv_window: int = DEFAULT_RECV_WINDOW) -> tuple[ApiKey, int | None, int | None]:
    """``authenticate`` for a key-carrying ``security`` (not NONE) on the request's raw
    parts, without building a RawRequest or an AuthContext (the gateway's per-request
    path): returns (key record, timestamp, recvWindow), the last two None when the
    endpoint is not SIGNED.  Same checks, same order, same errors."""
    rec = _lookup_key(headers, keys)
    if security not in _SIGNED:
        return rec, None, None

    payload, sig = split_signature(raw_query, signed_body)
    timestamp, recv_window = check_signed(rec, params, security, (payload,), sig, True, wall_ms, venue_ms,
                                          max_recv_window, default_recv_window)
    return rec, timestamp, recv_window


def check_signed(rec: ApiKey, params: Params, security: SecurityType, payloads: "tuple[bytes, ...]",
                 sig: "bytes | str | None", url_encoded: bool, wall_ms: int, venue_ms: "int | None",
                 max_recv_window: int = MAX_RECV_WINDOW,
                 default_recv_window: int = DEFAULT_RECV_WINDOW) -> tuple[int, int]:
    """The SIGNED checks after the key is known (§2): signature present, timestamp and
    recvWindow well-formed, key permission, signature valid (``verify_key_signature``
    over ``payloads``), timestamp inside the window.  Returns (timestamp, recvWindow).
    ``sig`` None and ``payloads`` empty: no signature to check (a WebSocket API session
    logged on with its key)."""
    # params.get_str("signature"), get_int("timestamp", required=True) and
    # get_int("recvWindow", default=...) written out (same marks, checks and errors)
    values, read = params._values, params._read
    read.add("signature")
    if payloads and not values.get("signature") and not sig:
        raise errors.mandatory_param("signature")
    read.add("timestamp")
    v = values.get("timestamp")
    if not v:
        raise errors.mandatory_param("timestamp")
    if _INT_FULL(v) is None:
        raise errors.illegal_int("timestamp")
    timestamp = int(v)
    if timestamp > LONG_MAX:
        raise errors.invalid_parameter("timestamp")
    read.add("recvWindow")
    v = values.get("recvWindow")
    if not v:
        recv_window = default_recv_window
    else:
        if _INT_FULL(v) is None:
            raise errors.illegal_int("recvWindow")
        recv_window = int(v)
        if recv_window > LONG_MAX:
            raise errors.invalid_parameter("recvWindow")
    if recv_window > max_recv_window:  # type: ignore[operator]
        raise errors.invalid_parameter("recvWindow")
    if security is SecurityType.TRADE and not rec.can_trade:
        raise errors.invalid_api_key()
    if payloads:
        if rec.public_key is None and len(payloads) == 1 and not isinstance(sig, str):
            ok = _verify_split(rec.secret, payloads[0], sig)     # the REST HMAC path, unchanged
        else:
            ok = verify_key_signature(rec, payloads, sig, url_encoded)
        if not ok:
            raise errors.invalid_signature()
    check_timestamp(timestamp, recv_window, wall_ms, venue_ms)  # type: ignore[arg-type]
    return timestamp, recv_window
