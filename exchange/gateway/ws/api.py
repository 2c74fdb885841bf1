"""The WebSocket API (``/ws-fapi/v1``): Binance USD-M's request/response face over a websocket.

The third face of the same gateway (REST, streams, this): every method is its REST
twin's handler (``Gateway.routes``), so order placement, answers, field types and
errors have one home.  What this module adds is the frame protocol (see
``docs/ws-api.md``):

* request: one JSON text frame ``{"id": ..., "method": "order.place", "params": {...}}``;
  ``id`` a string (<= 36 chars), an integer or null, echoed as sent;
* answer: ``{"id", "status", "result" | "error": {"code", "msg"}, "rateLimits": [...]}``;
  ``status`` is the HTTP status REST would answer; ``rateLimits`` (the IP's request weight,
  and the account's order counts on order methods) is on every answer unless the request
  (or the connection URL) says ``returnRateLimits=false``;
* auth: signed methods carry ``apiKey``, ``timestamp`` and ``signature`` over the
  alphabetically sorted ``key=value&...`` of the other parameters (HMAC hex, or base64
  Ed25519 / RSA), or nothing but ``timestamp`` after an Ed25519 ``session.logon``;
* limits: the REST weights of the twin endpoint, on the same per-IP and per-account
  counters as REST (one budget for both faces);
* faults: the fault injector sees ``method "WSAPI"`` and the method name as the path
  (``{"method": "WSAPI", "path": "order.*", ...}``); the commands go through the
  sequencer like REST's, so the journal (and ``replay --verify``) covers a session.

A frame that is not a well-formed request (not JSON, too large, wrong types, unknown
method or parameter) gets a Binance error answer and changes nothing; the connection
stays open.  Requests on one connection are answered in order, one at a time.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlencode

import orjson
from aiohttp import WSMsgType, web

from exchange.gateway import errors
from exchange.gateway.auth import SecurityType, check_signed, known_key, security_type
from exchange.gateway.common import Req, wall_ms
from exchange.gateway.errors import BinanceError
from exchange.gateway.keytypes import ED25519
from exchange.gateway.params import Params
from exchange.gateway.ratelimit import _DEFAULT_COST, ENDPOINT_WEIGHTS, EndpointCost

log = logging.getLogger("paperex.gateway.wsapi")

__all__ = ["WS_API_PATH", "METHODS", "WsApi", "add_routes", "MAX_REQUEST_BYTES", "signature_payloads"]

WS_API_PATH = "/ws-fapi/v1"
#: a request frame larger than this is answered with an error (no request is that big);
#: aiohttp closes the connection on a frame above ``MAX_FRAME_BYTES`` (close code 1009)
MAX_REQUEST_BYTES = 64 * 1024
MAX_FRAME_BYTES = 1 << 20
MAX_ID_CHARS = 36
MAX_PARAMS = 64
INT64 = (-(1 << 63), (1 << 63) - 1)

#: parameters every keyed method takes besides its own
_AUTH = ("apiKey", "signature", "timestamp", "recvWindow", "returnRateLimits")
_ORDER = ("symbol", "side", "positionSide", "type", "timeInForce", "quantity", "reduceOnly", "price",
          "newClientOrderId", "stopPrice", "closePosition", "activationPrice", "callbackRate", "workingType",
          "priceProtect", "newOrderRespType", "priceMatch", "selfTradePreventionMode", "goodTillDate")
_ALGO = ("algoType", "symbol", "side", "positionSide", "type", "timeInForce", "quantity", "price", "triggerPrice",
         "workingType", "priceMatch", "closePosition", "priceProtect", "reduceOnly", "activatePrice",
         "callbackRate", "clientAlgoId", "newOrderRespType", "selfTradePreventionMode", "goodTillDate")
_REF = ("symbol", "orderId", "origClientOrderId")


@dataclass(frozen=True)
class Method:
    """One WebSocket API method: its REST twin (HTTP method, path) and the parameters it
    accepts (anything else is -1103: the WebSocket API names every parameter)."""
    name: str
    http: str
    path: str
    params: frozenset
    security: SecurityType


def _m(name: str, http: str, path: str, own: tuple = (), keyed: bool = True) -> Method:
    return Method(name, http, path, frozenset(own + (_AUTH if keyed else ("returnRateLimits",))),
                  security_type(http, path) or SecurityType.NONE)


#: method name -> Method (names exactly as Binance's, ``v2/`` forms included)
METHODS: dict[str, Method] = {m.name: m for m in (
    _m("order.place", "POST", "/fapi/v1/order", _ORDER),
    _m("order.modify", "PUT", "/fapi/v1/order", _REF + ("side", "quantity", "price", "priceMatch", "origType",
                                                          "modifyId", "reduceOnly")),
    _m("order.cancel", "DELETE", "/fapi/v1/order", _REF),
    _m("order.status", "GET", "/fapi/v1/order", _REF),
    _m("algoOrder.place", "POST", "/fapi/v1/algoOrder", _ALGO),
    _m("algoOrder.cancel", "DELETE", "/fapi/v1/algoOrder", ("algoId", "clientAlgoId")),
    _m("account.status", "GET", "/fapi/v2/account"),
    _m("v2/account.status", "GET", "/fapi/v3/account"),
    _m("account.balance", "GET", "/fapi/v2/balance"),
    _m("v2/account.balance", "GET", "/fapi/v3/balance"),
    _m("account.position", "GET", "/fapi/v2/positionRisk", ("symbol",)),
    _m("v2/account.position", "GET", "/fapi/v3/positionRisk", ("symbol",)),
    _m("depth", "GET", "/fapi/v1/depth", ("symbol", "limit"), keyed=False),
    _m("ticker.price", "GET", "/fapi/v1/ticker/price", ("symbol",), keyed=False),
    _m("ticker.book", "GET", "/fapi/v1/ticker/bookTicker", ("symbol",), keyed=False),
    _m("userDataStream.start", "POST", "/fapi/v1/listenKey", ("apiKey", "returnRateLimits")),
    _m("userDataStream.ping", "PUT", "/fapi/v1/listenKey", ("apiKey", "listenKey", "returnRateLimits")),
    _m("userDataStream.stop", "DELETE", "/fapi/v1/listenKey", ("apiKey", "listenKey", "returnRateLimits")),
)}
#: the session methods (answered here, no REST twin)
SESSION_METHODS = {"session.logon": frozenset(_AUTH), "session.status": frozenset(("returnRateLimits",)),
                   "session.logout": frozenset(("returnRateLimits",))}
_SESSION_COST = EndpointCost(2)


def _json_error(msg: str) -> BinanceError:
    # Binance's code for a request the WebSocket API cannot read as JSON
    return errors.Request.INVALID_JSON_DETAIL(msg)


def unknown_method(name: str) -> BinanceError:
    shown = name if name[:3] in ("v1/", "v2/", "v3/") else "v1/" + name
    return errors.Execution.UNKNOWN_METHOD(shown[:64])


def unknown_parameter(name: str) -> BinanceError:
    return errors.Request.UNKNOWN_PARAM_NAMED(name[:64])


def _text(name: str, v: Any) -> Optional[str]:
    """A JSON parameter value as the string REST would have received (None: not sent).
    Objects and arrays are refused: no method here takes one."""
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else "nan"
    if v is None:
        return None
    raise errors.invalid_parameter(name)


class Session:
    """One WebSocket API connection: its peer, the key it logged on with, its options."""
    __slots__ = ("ip", "connected_since", "key", "authorized_since", "return_rate_limits", "ws")

    def __init__(self, ip: str, connected_since: int, return_rate_limits: bool, ws) -> None:
        self.ip = ip
        self.connected_since = connected_since
        self.key = None                 # ApiKey after session.logon
        self.authorized_since: Optional[int] = None
        self.return_rate_limits = return_rate_limits
        self.ws = ws


class WsApi:
    """The WebSocket API of one gateway: frame in, answer out."""

    def __init__(self, gw) -> None:
        self.gw = gw
        self.sessions: set[Session] = set()
        self.requests_total = 0

    # ------------------------------------------------------------- answers
    def _rate_limits(self, sess: Session, wall: int, account_id: Optional[int], orders: bool) -> list:
        lim = self.gw.limiter
        cfg = lim.config
        out = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                "limit": cfg.request_weight_1m, "count": lim.used_weight(sess.ip, wall)}]
        if orders and account_id is not None:
            n10, n1m = lim.order_counts(account_id, wall)
            out.append({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                        "limit": cfg.orders_10s, "count": n10})
            out.append({"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1,
                        "limit": cfg.orders_1m, "count": n1m})
        return out

    async def answer(self, sess: Session, data: "str | bytes") -> bytes:
        """The answer frame to one request frame (never raises)."""
        self.requests_total += 1
        gw = self.gw
        gw.requests_total += 1
        wall = wall_ms()
        rid: Any = None
        account_id: Optional[int] = None
        orders = False
        show_limits = sess.return_rate_limits
        try:
            try:
                if len(data) > MAX_REQUEST_BYTES:
                    gw.limiter.check_request(sess.ip, 1, wall)
                    raise errors.General.REQUEST_TOO_LARGE(MAX_REQUEST_BYTES)
                try:
                    req = orjson.loads(data)
                except orjson.JSONDecodeError:
                    gw.limiter.check_request(sess.ip, 1, wall)
                    raise _json_error("Invalid JSON request: the frame is not JSON.") from None
                if type(req) is not dict:
                    gw.limiter.check_request(sess.ip, 1, wall)
                    raise _json_error("Invalid JSON request; expected an object.")
                rid = req.get("id")
                t = type(rid)
                if not (rid is None or (t is str and len(rid) <= MAX_ID_CHARS)
                        or (t is int and INT64[0] <= rid <= INT64[1])):
                    rid = None
                    gw.limiter.check_request(sess.ip, 1, wall)
                    raise _json_error("Invalid 'id' in JSON request; expected a string of at most "
                                      f"{MAX_ID_CHARS} characters, an integer or null.")
                params = req.get("params")
                if type(params) is dict:        # honoured on errors too (validated in _dispatch)
                    flag = params.get("returnRateLimits")
                    if flag is not None and str(flag).lower() in ("true", "false"):
                        show_limits = str(flag).lower() == "true"
                result, account_id, orders = await self._dispatch(sess, req, wall)
            except BinanceError as e:
                gw.errors_total += 1
                out = {"id": rid, "status": e.http_status, "error": {"code": e.code, "msg": e.msg}}
                retry = e.headers.get("Retry-After") if e.headers else None
                if retry is not None:
                    out["error"]["data"] = {"retryAfter": int(retry)}
            except Exception:           # never a traceback, never a closed connection
                gw.errors_total += 1
                log.exception("unexpected error on a WebSocket API request")
                e = errors.unknown_error()
                out = {"id": rid, "status": e.http_status, "error": {"code": e.code, "msg": e.msg}}
            else:
                out = {"id": rid, "status": 200, "result": result}
            if show_limits:
                out["rateLimits"] = self._rate_limits(sess, wall, account_id, orders)
            return orjson.dumps(out)
        except Exception:               # e.g. a result orjson cannot encode: still an answer
            log.exception("could not answer a WebSocket API request")
            e = errors.unknown_error()
            return orjson.dumps({"id": rid if isinstance(rid, (str, int)) else None, "status": 400,
                                 "error": {"code": e.code, "msg": e.msg}})

    async def _dispatch(self, sess: Session, req: dict, wall: int):
        """(result, account id, is an order method)."""
        gw = self.gw
        for k in req:
            if k not in ("id", "method", "params"):
                gw.limiter.check_request(sess.ip, 1, wall)
                raise _json_error(f"Invalid JSON request; unknown field '{str(k)[:32]}'.")
        name = req.get("method")
        if type(name) is not str or not name:
            gw.limiter.check_request(sess.ip, 1, wall)
            raise _json_error("Invalid 'method' in JSON request; expected a string.")
        raw = req.get("params")
        if raw is None:
            raw = {}
        elif type(raw) is not dict:
            gw.limiter.check_request(sess.ip, 1, wall)
            raise _json_error("Invalid 'params' in JSON request; expected an object.")
        spec = METHODS.get(name)
        allowed = spec.params if spec is not None else SESSION_METHODS.get(name)
        if allowed is None:
            gw.limiter.check_request(sess.ip, 1, wall)
            raise unknown_method(name)
        values: dict[str, str] = {}
        try:
            if len(raw) > MAX_PARAMS:
                raise errors.too_many_parameters()
            for k, v in raw.items():
                if k not in allowed:
                    raise unknown_parameter(k)
                s = _text(k, v)
                if s is not None:
                    values[k] = s
            rrl = values.get("returnRateLimits")
            if rrl is not None and rrl.lower() not in ("true", "false"):
                raise errors.invalid_parameter("returnRateLimits")
        except BinanceError:
            gw.limiter.check_request(sess.ip, 1, wall)
            raise
        params = Params._of(values)
        params._read.add("returnRateLimits")
        if spec is None:
            return await self._session(sess, name, raw, params, wall)
        cost_fn = ENDPOINT_WEIGHTS.get((spec.http, spec.path))
        cost = _DEFAULT_COST if cost_fn is None else cost_fn(params)
        gw.limiter.check_request(sess.ip, cost, wall)
        security = spec.security
        venue_now = gw.clock.now_ms()
        account_id = api_key = None
        if security is not SecurityType.NONE:
            rec = self._authenticate(sess, security, raw, params, wall, venue_now)
            account_id, api_key = rec.account_id, rec.api_key
            params._read.add("apiKey")
            if cost.is_order:
                gw.limiter.check_orders(account_id, cost, wall)
        r = Req(params, account_id, api_key, venue_now, sess.ip, "WSAPI", name, None)
        handler = gw.routes[(spec.http, spec.path)][0]
        if gw.faults is None:
            result = await handler(gw, r)
        else:
            result = await gw.faults.around(gw, r, handler)
        return result, account_id, cost.is_order

    def _authenticate(self, sess: Session, security: SecurityType, raw: dict, params: Params,
                      wall: int, venue_now: int):
        """The key of a keyed request: per request (``apiKey`` + ``signature``), or the
        session's after ``session.logon`` (then only ``timestamp`` on signed methods)."""
        values = params._values
        given = values.get("apiKey")
        signed = security.signed
        if sess.key is not None and "signature" not in values and (not given or given == sess.key.api_key):
            rec = sess.key
            if signed:
                check_signed(rec, params, security, (), None, False, wall,
                             venue_now if venue_now != wall else None)
            return rec
        if not given:
            raise errors.api_key_format_invalid()
        rec = known_key(given, self.gw.keys)
        if signed:
            signed_checks(rec, params, security, values, wall, venue_now)
        return rec

    # ------------------------------------------------------------- session.*
    def _status(self, sess: Session) -> dict:
        return {"apiKey": sess.key.api_key if sess.key is not None else None,
                "authorizedSince": sess.authorized_since, "connectedSince": sess.connected_since,
                "returnRateLimits": sess.return_rate_limits, "serverTime": self.gw.now(),
                "userDataStream": False}

    async def _session(self, sess: Session, name: str, raw: dict, params: Params, wall: int):
        gw = self.gw
        gw.limiter.check_request(sess.ip, _SESSION_COST, wall)
        if name == "session.logon":
            values = params._values
            given = values.get("apiKey")
            if not given:
                raise errors.mandatory_param("apiKey")
            rec = known_key(given, gw.keys)
            if rec.key_type != ED25519:
                # Binance: session.logon takes Ed25519 keys only
                raise errors.Filters.INVALID_API_KEY_TYPE()
            signed_checks(rec, params, SecurityType.USER_DATA, values, wall, gw.clock.now_ms())
            sess.key = rec
            sess.authorized_since = wall
            return self._status(sess), rec.account_id, False
        if name == "session.logout":
            sess.key = None
            sess.authorized_since = None
            return self._status(sess), None, False
        return self._status(sess), None, False

    # ------------------------------------------------------------- connections
    async def serve(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, autoping=True)
        rrl = request.query.get("returnRateLimits", "true").lower() != "false"
        await ws.prepare(request)
        sess = Session(request.remote or "", wall_ms(), rrl, ws)
        self.sessions.add(sess)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT or msg.type == WSMsgType.BINARY:
                    if msg.type == WSMsgType.BINARY:
                        out = orjson.dumps({"id": None, "status": 400, "error": errors.Request.INVALID_JSON_DETAIL(
                            "Invalid JSON request: send requests as JSON text frames.").to_body()})
                    else:
                        out = await self.answer(sess, msg.data)
                    if ws.closed:
                        break
                    await ws.send_frame(out, WSMsgType.TEXT)
                elif msg.type == WSMsgType.ERROR:
                    break
        except (ConnectionResetError, RuntimeError):     # the peer went away mid-answer
            pass
        finally:
            self.sessions.discard(sess)
        return ws

    async def close_all(self) -> None:
        for sess in list(self.sessions):
            try:
                await sess.ws.close(code=1001, message=b"server shutdown")
            except Exception:
                pass


def signature_payloads(values: dict) -> tuple[bytes, bytes]:
    """What a WebSocket API signature signs: every parameter but ``signature``, sorted by
    name, as ``key=value`` joined by ``&``: the raw text (Binance's documentation, ccxt)
    and its URL-encoded form (the official SDK ``urlencode``s the values)."""
    items = sorted((k, v) for k, v in values.items() if k != "signature")
    return ("&".join(f"{k}={v}" for k, v in items).encode("utf-8", "surrogateescape"),
            urlencode(items).encode("ascii"))


def signed_checks(rec, params: Params, security: SecurityType, values: dict, wall: int, venue_now: int) -> None:
    """``auth.check_signed`` for a per-request WebSocket API signature: the raw payload
    first, the URL-encoded one only when that fails and differs (no ``urlencode`` on the
    common path: it costs more than the HMAC)."""
    items = sorted((k, v) for k, v in values.items() if k != "signature")
    raw = "&".join(f"{k}={v}" for k, v in items).encode("utf-8", "surrogateescape")
    venue = venue_now if venue_now != wall else None
    sig = values.get("signature")
    try:
        check_signed(rec, params, security, (raw,), sig, False, wall, venue)
    except BinanceError as e:
        if e.code != -1022:
            raise
        enc = urlencode(items).encode("ascii")
        if enc == raw:
            raise
        check_signed(rec, params, security, (enc,), sig, False, wall, venue)


def add_routes(app: web.Application, gw) -> None:
    from exchange.gateway.answers import guarded
    gw.wsapi = WsApi(gw)
    app.router.add_get(WS_API_PATH, guarded(gw.wsapi.serve))
