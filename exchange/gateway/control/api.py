"""The paperex control API (``/paperex/v1/...``, not part of Binance) and ``/metrics``.

JSON in and out, decimals as strings; errors are ``{"code", "msg"}`` like the
Binance API.  Every state change is a command through the sequencer (so it is
journaled and replayed like any other).  When ``Gateway.admin_token`` is set
(the server is bound to a non-loopback address) every control call needs the
``X-PAPEREX-TOKEN`` header.

* ``POST /paperex/v1/accounts`` ``{"balance": "10000", "label": "..."}`` ->
  ``{"accountId", "apiKey", "secretKey"}``; with ``"publicKey": "<PEM>"`` (Ed25519 or RSA,
  optional ``"keyType"`` that must agree) the key is that public key and the answer is
  ``{"accountId", "apiKey", "keyType"}``: no secret exists.  ``GET /paperex/v1/accounts``.
* ``POST /paperex/v1/accounts/{id}/keys`` ``{}`` (a new HMAC key: ``secretKey`` in the
  answer) or ``{"publicKey": "<PEM>", "keyType": ...}``: another key for the account.
  Keys persist in ``keys.json`` (``keys.py``).  An unknown field is ``-1103``, a bad key
  ``-1130`` with the reason; nothing is created then.
* ``POST /paperex/v1/accounts/{id}/deposit`` / ``/withdraw`` ``{"amount": "..."}``.
* ``POST /paperex/v1/index`` ``{"symbol", "price"}`` (the venue moves the mark with it).
* ``POST /paperex/v1/mark`` ``{"symbol", "price"}`` pins the mark price (journaled
  SetMarkPrice; premiumIndex shows ``markPricePinned``) until ``"price": null``
  releases it (SetMarkPrice(symbol, 0); the mark rule applies again from the next
  refresh).
* ``POST /paperex/v1/clock/advance`` ``{"seconds": N}`` (virtual clock only).
* ``POST /paperex/v1/flow/pause`` / ``resume``; ``POST /paperex/v1/flow/scenario``
  ``{"scenario": "crash"}`` starts a scenario of the synthetic flow now.
* ``GET /paperex/v1/state``, ``GET /paperex/v1/health``, ``GET /metrics``.
* ``GET /paperex/v1/faults``; ``POST /paperex/v1/faults`` ``{"seed", "latency", "rules"}``
  (or one rule object; adds rules, ``"replace": true`` starts over, ``"replace": "rules"``
  replaces the rules and keeps the latency model);
  ``DELETE /paperex/v1/faults`` (all off) and ``/paperex/v1/faults/{id}`` (one rule).
  See ``faults.py``; the injected faults themselves are journaled InjectFault commands.
"""
from __future__ import annotations

import hmac
from decimal import Decimal

import orjson
from aiohttp import web

from exchange.units import MONEY_SCALE
from exchange.contract.commands import CreateAccount, Deposit, SetIndexPrice, SetMarkPrice, Withdraw

from exchange.gateway.control import fields as P
from exchange.gateway.common import INT_CAP, accepted, to_ticks
from exchange.gateway.errors import BinanceError, ErrorSpec, General, Processing, Request
from exchange.gateway.format import money
from exchange.gateway.keytypes import HMAC, KeyFormatError, load_public_key

JSON = "application/json"


def _err(spec: ErrorSpec, *args: object, status: int = 0) -> BinanceError:
    """The catalog answer; ``status`` where the control API answers other than the REST API (404)."""
    err = spec(*args)
    if status:
        err.http_status = status
    return err


def _resp(obj, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(obj), status=status, content_type=JSON)


def _key_request(data: dict) -> "tuple[str, object, str] | None":
    """(key type, loaded key, PEM) of a ``publicKey`` / ``keyType`` pair, None for an HMAC
    key; raises -1130 with the reason for a malformed or mismatched key."""
    pem, declared = data.get("publicKey"), data.get("keyType")
    if declared is not None and not isinstance(declared, str):
        raise _err(Request.INVALID_PARAMETER_BECAUSE, "keyType", "use ED25519, RSA or HMAC.")
    if pem is None:
        if declared is not None and declared.upper() != HMAC:
            raise _err(Request.MANDATORY_PARAM, "publicKey")
        return None
    if declared is not None and declared.upper() == HMAC:
        raise _err(Request.INVALID_PARAMETER_BECAUSE, "keyType", "an HMAC key takes no publicKey.")
    try:
        kind, key = load_public_key(pem, declared)
    except KeyFormatError as e:
        raise _err(Request.INVALID_PARAMETER_BECAUSE, "publicKey", e) from None
    return kind, key, pem


def _money(d: Decimal, name: str) -> int:
    units = d * MONEY_SCALE
    if units != units.to_integral_value() or units > INT_CAP:
        raise _err(Request.INVALID_PARAMETER, name)
    return int(units)


def add_routes(app: web.Application, gw) -> None:
    from exchange.gateway.answers import guarded        # errors answered as Binance JSON

    def guard(handler):
        async def wrapped(request: web.Request):
            tok = gw.admin_token
            if tok:
                given = request.headers.get("X-PAPEREX-TOKEN", "")
                if not hmac.compare_digest(given.encode(), tok.encode()):
                    raise _err(Processing.INVALID_ADMIN_TOKEN)
            return await handler(request)
        return guarded(wrapped)

    def account_json(aid: int) -> dict:
        a = gw.venue.account(aid)
        keys = gw.keys.for_account(aid)
        return {"accountId": aid, "label": gw.keys.label(aid),
                "apiKey": keys[0].api_key if keys else None,
                "walletBalance": money(a["wallet_balance"]) if a else None,
                "availableBalance": money(a["available_balance"]) if a else None}

    def key_answer(aid: int, rec) -> dict:
        if rec.key_type == HMAC:
            return {"accountId": aid, "apiKey": rec.api_key, "secretKey": rec.secret}
        return {"accountId": aid, "apiKey": rec.api_key, "keyType": rec.key_type}

    async def create_account(request: web.Request):
        data = await P.read_json(request, ("balance", "label", "publicKey", "keyType"))
        bal = P.decimal(data, "balance", required=False, positive=False)
        label = P.text(data, "label", max_len=64)
        units = _money(bal, "balance") if bal is not None else 0
        public = _key_request(data)              # checked before anything is created
        aid = gw.next_account_id()
        res = await gw.submit(CreateAccount(aid))
        accepted(res)
        if public is None:
            rec = gw.keys.create(aid, label)
        else:
            rec = gw.keys.add_public(aid, public[2], public[0], label)
        if units > 0:
            accepted(await gw.submit(Deposit(aid, units)))
        return _resp(key_answer(aid, rec))

    async def add_key(request: web.Request):
        aid = _aid(request)
        data = await P.read_json(request, ("publicKey", "keyType"))
        public = _key_request(data)
        rec = gw.keys.create(aid) if public is None else gw.keys.add_public(aid, public[2], public[0])
        return _resp(key_answer(aid, rec))

    async def list_accounts(request: web.Request):
        return _resp([account_json(aid) for aid in sorted(gw.venue.accounts)])

    def _aid(request: web.Request) -> int:
        aid = P.account_id(request.match_info["aid"])
        if aid is None or aid not in gw.venue.accounts:
            raise _err(Request.BAD_ACCOUNT, status=404)
        return aid

    async def deposit(request: web.Request):
        aid = _aid(request)
        units = _money(P.decimal(await P.read_json(request, ("amount",)), "amount"), "amount")
        accepted(await gw.submit(Deposit(aid, units)))
        return _resp(account_json(aid))

    async def withdraw(request: web.Request):
        aid = _aid(request)
        units = _money(P.decimal(await P.read_json(request, ("amount",)), "amount"), "amount")
        accepted(await gw.submit(Withdraw(aid, units)))
        return _resp(account_json(aid))

    def _symbol(data: dict):
        sym = data.get("symbol")
        if not isinstance(sym, str) or sym not in gw.formats:
            raise _err(Request.BAD_SYMBOL)
        return sym, gw.formats[sym]

    def _price_ticks(data: dict, sym: str, f) -> int:
        """The body's ``price`` in ticks, within the symbol's price filter."""
        price = P.decimal(data, "price")
        try:
            return to_ticks(f, price, max_ticks=gw.instruments[sym].max_price_ticks)
        except BinanceError as e:
            raise e from None           # the answer, without the parsing context

    async def set_index(request: web.Request):
        data = await P.read_json(request, ("symbol", "price"))
        sym, f = _symbol(data)
        ticks = _price_ticks(data, sym, f)
        accepted(await gw.submit(SetIndexPrice(sym, ticks)))
        return _resp({"symbol": sym, "indexPrice": f.price(gw.venue.index_price(sym)),
                      "markPrice": f.price(gw.venue.mark_price(sym))})

    async def set_mark(request: web.Request):
        data = await P.read_json(request, ("symbol", "price"))
        sym, f = _symbol(data)
        if "price" in data and data["price"] is None:
            if not gw.venue.premium_index(sym)["mark_pinned"]:
                raise _err(Request.MARK_NOT_PINNED)
            accepted(await gw.submit(SetMarkPrice(sym, 0)))
            return _resp({"symbol": sym, "markPrice": f.price(gw.venue.mark_price(sym)), "pinned": False})
        ticks = _price_ticks(data, sym, f)
        accepted(await gw.submit(SetMarkPrice(sym, ticks)))
        return _resp({"symbol": sym, "markPrice": f.price(gw.venue.mark_price(sym)), "pinned": True})

    async def advance(request: web.Request):
        ms = P.seconds_to_ms(await P.read_json(request, ("seconds",)))
        if not gw.clock.virtual:
            raise _err(General.CLOCK_NOT_VIRTUAL)
        from exchange.gateway.faults import advance_clock
        results = await advance_clock(gw, ms)   # delayed requests run at their venue time on the way
        return _resp({"time": gw.now(), "commands": len(results), "lastSeq": gw.sequencer.seq})

    async def state(request: web.Request):
        venue = gw.venue
        oi = {s: gw.formats[s].qty(m.oi.lots) for s, m in gw.projection.markets.items()}
        return _resp({"lastSeq": gw.sequencer.seq, "time": gw.now(), "stateDigest": venue.state_digest(),
                      "insuranceFund": money(venue.insurance_fund), "openInterest": oi,
                      "accounts": len(venue.accounts), "openOrders": len(venue.orders),
                      "liquidations": gw.projection.liquidations_total, "adl": gw.projection.adl_total,
                      "moneyIdentity": venue.money_identity()["balanced"]})

    async def health(request: web.Request):
        failed = gw.sequencer.failed
        return _resp({"status": "failed" if failed else "ok", "lastSeq": gw.sequencer.seq,
                      "time": gw.now(), "clock": "virtual" if gw.clock.virtual else "wall",
                      **({"error": failed} if failed else {})}, 503 if failed else 200)

    async def metrics(request: web.Request):
        seq = gw.sequencer
        lines = [
            "# TYPE paperex_requests_total counter", f"paperex_requests_total {gw.requests_total}",
            "# TYPE paperex_request_errors_total counter", f"paperex_request_errors_total {gw.errors_total}",
            "# TYPE paperex_orders_total counter", f"paperex_orders_total {gw.projection.orders_total}",
            "# TYPE paperex_fills_total counter", f"paperex_fills_total {gw.projection.fills_total}",
            "# TYPE paperex_liquidations_total counter", f"paperex_liquidations_total {gw.projection.liquidations_total}",
            "# TYPE paperex_adl_total counter", f"paperex_adl_total {gw.projection.adl_total}",
            "# TYPE paperex_insurance_fund gauge",
            f"paperex_insurance_fund {money(gw.venue.insurance_balance())}",
            "# TYPE paperex_commands_total counter", f"paperex_commands_total {seq.commands_total}",
            "# TYPE paperex_events_total counter", f"paperex_events_total {seq.events_total}",
            "# TYPE paperex_last_seq gauge", f"paperex_last_seq {seq.seq}",
            "# TYPE paperex_journal_lag gauge", f"paperex_journal_lag {len(seq._queue)}",
            "# TYPE paperex_ws_clients gauge", f"paperex_ws_clients {len(gw.hub.conns)}",
            "# TYPE paperex_ws_messages_total counter", f"paperex_ws_messages_total {gw.hub.messages_sent}",
            "# TYPE paperex_ws_slow_disconnects_total counter",
            f"paperex_ws_slow_disconnects_total {gw.hub.slow_disconnects}",
            "# TYPE paperex_listen_keys gauge", f"paperex_listen_keys {len(gw.users.by_key)}",
            "# TYPE paperex_dashboard_clients gauge",
            f"paperex_dashboard_clients {len(gw.dashboard_live.publisher.clients)}",
            "# TYPE paperex_dashboard_messages_total counter",
            f"paperex_dashboard_messages_total {gw.dashboard_live.publisher.messages_sent}",
            "# TYPE paperex_dashboard_cpu_seconds_total counter",
            f"paperex_dashboard_cpu_seconds_total {gw.dashboard_live.publisher.cpu_s:.6f}",
            "# TYPE paperex_dashboard_longest_hold_seconds gauge",
            f"paperex_dashboard_longest_hold_seconds {gw.dashboard_live.publisher.longest_hold_s:.6f}",
            "# TYPE paperex_faults_injected_total counter",
            f"paperex_faults_injected_total {gw.fault_injector.injected if gw.fault_injector else 0}",
        ]
        stats = getattr(getattr(gw, "flow", None), "stats", None)
        if stats is not None and hasattr(stats, "steps"):
            # the live market keeps real time when its steps run at 1000 / step_ms a second
            lines += ["# TYPE paperex_flow_steps_total counter", f"paperex_flow_steps_total {stats.steps}",
                      "# TYPE paperex_flow_sim_ms_total counter", f"paperex_flow_sim_ms_total {stats.sim_ms}"]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    async def faults_get(request: web.Request):
        from exchange.gateway.faults import injector
        return _resp(injector(gw).to_json())

    async def faults_post(request: web.Request):
        from exchange.gateway.faults import FaultConfigError, injector
        # faults.configure knows the fields (a configuration, or one rule object) and
        # names an unknown one in its refusal
        data = await P.read_json(request, None)
        inj = injector(gw)
        try:
            added = inj.configure(data)
        except FaultConfigError as e:
            raise _err(Request.INVALID_FAULT_CONFIG, e) from None
        return _resp({**inj.to_json(), "added": [r.id for r in added]})

    async def faults_delete(request: web.Request):
        from exchange.gateway.faults import injector
        inj = injector(gw)
        rid = request.match_info.get("rid")
        if rid is None:
            inj.clear()
        elif not inj.remove(rid):
            raise _err(Request.NO_FAULT_RULE, repr(rid))
        return _resp(inj.to_json())

    def flow_switch(paused: bool):
        async def handler(request: web.Request):
            await P.read_json(request, ())
            flow = getattr(gw, "flow", None)
            if flow is None:
                raise _err(General.NO_FLOW)
            flow.paused = paused
            return _resp({"flow": type(flow).__name__, "paused": paused})
        return handler

    async def flow_scenario(request: web.Request):
        flow = getattr(gw, "flow", None)
        start = getattr(flow, "start_scenario", None)
        if start is None:
            raise _err(General.NO_SYNTHETIC_FLOW)
        data = await P.read_json(request, ("scenario",))
        name = data.get("scenario")
        if not isinstance(name, str):
            raise P.mandatory("scenario")
        try:
            start(name)
        except ValueError as e:
            raise _err(Request.INVALID_PARAMETER_BECAUSE, "scenario", e) from None
        return _resp({"flow": type(flow).__name__, "scenario": name, "time": gw.now()})

    r = app.router
    r.add_post("/paperex/v1/flow/scenario", guard(flow_scenario))
    r.add_post("/paperex/v1/flow/pause", guard(flow_switch(True)))
    r.add_post("/paperex/v1/flow/resume", guard(flow_switch(False)))
    r.add_post("/paperex/v1/accounts", guard(create_account))
    r.add_get("/paperex/v1/accounts", guard(list_accounts))
    r.add_post("/paperex/v1/accounts/{aid}/keys", guard(add_key))
    r.add_post("/paperex/v1/accounts/{aid}/deposit", guard(deposit))
    r.add_post("/paperex/v1/accounts/{aid}/withdraw", guard(withdraw))
    r.add_post("/paperex/v1/index", guard(set_index))
    r.add_post("/paperex/v1/mark", guard(set_mark))
    r.add_post("/paperex/v1/clock/advance", guard(advance))
    r.add_get("/paperex/v1/state", guard(state))
    r.add_get("/paperex/v1/faults", guard(faults_get))
    r.add_post("/paperex/v1/faults", guard(faults_post))
    r.add_delete("/paperex/v1/faults", guard(faults_delete))
    r.add_delete("/paperex/v1/faults/{rid}", guard(faults_delete))
    r.add_get("/paperex/v1/health", guarded(health))
    r.add_get("/metrics", guarded(metrics))


__all__ = ["add_routes"]
