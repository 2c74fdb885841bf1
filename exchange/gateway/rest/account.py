"""Account endpoints (spec §7.1, §7.2): account/balance/positionRisk (v2, v3), settings,
income, leverageBracket, commissionRate, accountConfig, symbolConfig."""
from __future__ import annotations

from decimal import Decimal

from exchange.units import MONEY_SCALE, RATE_SCALE
from exchange.contract import codes as C
from exchange.contract.commands import AdjustIsolatedMargin, SetLeverage, SetMarginType, SetPositionMode
from exchange.contract.events import LeverageChanged

from exchange.gateway import errors
from exchange.gateway.common import INT_CAP, SUCCESS, Req, accepted, limit_of, symbol_of, time_range
from exchange.gateway.errors import Orders41
from exchange.gateway.format import fixed, money, plain
from exchange.gateway.market_views import price8

ACCOUNT_ALIAS = "SgsR"
INCOME_TYPES = ("TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION",
                "INSURANCE_CLEAR", "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE",
                "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER", "OPTIONS_PREMIUM_FEE",
                "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE", "DELIVERED_SETTELMENT",
                "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE")


def _account(gw, account_id: int) -> dict:
    a = gw.venue.account(account_id)
    if a is None:
        raise errors.invalid_api_key()
    return a


def _break_even(gw, sym: str, row: dict) -> str:
    q = row["qty"]
    if not q:
        return "0.0"
    inst = gw.instruments[sym]
    f = gw.formats[sym]
    num, den = row["entry_price"]
    entry = Decimal(num) / Decimal(den) * f.tick if den else Decimal(0)
    fee = Decimal(inst.taker_fee)
    be = entry * (1 + fee) / (1 - fee) if q > 0 else entry * (1 - fee) / (1 + fee)
    return str(be.quantize(Decimal("0.00000001")))


def _zero_row(gw, sym: str, pside: int, settings: dict) -> dict:
    spec = gw.venue.symbols[sym].spec
    s = settings.get(sym)
    lev = s["leverage"] if s else spec.default_leverage
    mt = s["margin_type"] if s else C.CROSSED
    return {"symbol": sym, "position_side": pside, "qty": 0, "entry_notional": 0, "entry_price": (0, 1),
            "mark_price": gw.venue.mark_price(sym), "notional": 0, "unrealized_pnl": 0, "leverage": lev,
            "margin_type": mt, "isolated_wallet": 0, "initial_margin": 0, "position_initial_margin": 0,
            "open_order_initial_margin": 0, "maint_margin": 0, "max_notional": spec.max_notional(lev),
            "realized_pnl": 0, "update_time": 0}


def _all_rows(gw, a: dict) -> list:
    """One row per symbol (per side in hedge mode), open positions first filled from the venue."""
    have = {(r["symbol"], r["position_side"]): r for r in a["positions"]}
    sides = (C.LONG, C.SHORT) if a["dual"] else (C.BOTH,)
    out = []
    for sym in gw.formats:
        for ps in sides:
            out.append(have.get((sym, ps)) or _zero_row(gw, sym, ps, a["settings"]))
    for key, r in have.items():       # slots of the other mode (should not exist) stay visible
        if key[1] not in sides:
            out.append(r)
    return out


def _iso_margin(r: dict) -> int:
    return r["isolated_wallet"] + r["unrealized_pnl"] if r["margin_type"] == C.ISOLATED else 0


def _totals(a: dict) -> dict:
    rows = a["positions"]
    upnl = sum(r["unrealized_pnl"] for r in rows)
    mm = sum(r["maint_margin"] for r in rows)
    pim = sum(r["position_initial_margin"] for r in rows)
    oim = sum(r["open_order_initial_margin"] for r in rows)
    wallet = a["wallet_balance"]
    return {"upnl": upnl, "mm": mm, "pim": pim, "oim": oim, "im": pim + oim, "wallet": wallet,
            "margin_balance": wallet + upnl}


def _update_time(a: dict) -> int:
    return a["update_time"] or 1


def _account_json(gw, a: dict, v2: bool) -> dict:
    t = _totals(a)
    ut = _update_time(a)
    asset = {"asset": "USDT", "walletBalance": money(t["wallet"]), "unrealizedProfit": money(t["upnl"]),
             "marginBalance": money(t["margin_balance"]), "maintMargin": money(t["mm"]),
             "initialMargin": money(t["im"]), "positionInitialMargin": money(t["pim"]),
             "openOrderInitialMargin": money(t["oim"]), "crossWalletBalance": money(a["cross_wallet"]),
             "crossUnPnl": money(a["cross_upnl"]), "availableBalance": money(a["available_balance"]),
             "maxWithdrawAmount": money(a["max_withdraw"]), "updateTime": ut}
    if v2:
        asset["marginAvailable"] = True
    out = {}
    if v2:
        out.update({"feeTier": 0, "feeBurn": False, "canTrade": True, "canDeposit": True,
                    "canWithdraw": True, "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1})
    out.update({
        "totalInitialMargin": money(t["im"]), "totalMaintMargin": money(t["mm"]),
        "totalWalletBalance": money(t["wallet"]), "totalUnrealizedProfit": money(t["upnl"]),
        "totalMarginBalance": money(t["margin_balance"]), "totalPositionInitialMargin": money(t["pim"]),
        "totalOpenOrderInitialMargin": money(t["oim"]), "totalCrossWalletBalance": money(a["cross_wallet"]),
        "totalCrossUnPnl": money(a["cross_upnl"]), "availableBalance": money(a["available_balance"]),
        "maxWithdrawAmount": money(a["max_withdraw"]), "assets": [asset]})
    positions = []
    fmts = gw.formats
    rows = _all_rows(gw, a) if v2 else a["positions"]
    for r in rows:
        f = fmts[r["symbol"]]
        p = {"symbol": r["symbol"], "positionSide": C.POSITION_SIDE_NAMES[r["position_side"]],
             "positionAmt": f.qty(r["qty"]), "unrealizedProfit": money(r["unrealized_pnl"]),
             "isolatedMargin": money(_iso_margin(r)), "notional": money(r["notional"]),
             "isolatedWallet": money(r["isolated_wallet"]), "initialMargin": money(r["initial_margin"]),
             "maintMargin": money(r["maint_margin"]), "updateTime": r["update_time"]}
        if v2:
            p.update({"positionInitialMargin": money(r["position_initial_margin"]),
                      "openOrderInitialMargin": money(r["open_order_initial_margin"]),
                      "leverage": str(r["leverage"]), "isolated": r["margin_type"] == C.ISOLATED,
                      "entryPrice": f.entry(r["entry_notional"], r["qty"]),
                      "breakEvenPrice": _break_even(gw, r["symbol"], r),
                      "maxNotional": plain(Decimal(r["max_notional"]) / MONEY_SCALE),
                      "bidNotional": "0", "askNotional": "0"})
        positions.append(p)
    out["positions"] = positions
    return out


async def account_v2(gw, r: Req):
    return _account_json(gw, _account(gw, r.account_id), True)


async def account_v3(gw, r: Req):
    return _account_json(gw, _account(gw, r.account_id), False)


async def balance(gw, r: Req):
    a = _account(gw, r.account_id)
    return [{"accountAlias": ACCOUNT_ALIAS, "asset": "USDT", "balance": money(a["wallet_balance"]),
             "crossWalletBalance": money(a["cross_wallet"]), "crossUnPnl": money(a["cross_upnl"]),
             "availableBalance": money(a["available_balance"]), "maxWithdrawAmount": money(a["max_withdraw"]),
             "marginAvailable": True, "updateTime": _update_time(a)}]


def _liq(f, r: dict) -> str:
    """liquidationPrice: 8 decimals as Binance prints it, "0" when there is none."""
    lp = r.get("liquidation_price", 0)
    return price8(f, lp) if lp > 0 else "0"


def _risk_v3(gw, r: dict) -> dict:
    f = gw.formats[r["symbol"]]
    return {"symbol": r["symbol"], "positionSide": C.POSITION_SIDE_NAMES[r["position_side"]],
            "positionAmt": f.qty(r["qty"]), "entryPrice": f.entry(r["entry_notional"], r["qty"]),
            "breakEvenPrice": _break_even(gw, r["symbol"], r), "markPrice": price8(f, r["mark_price"]),
            "unRealizedProfit": money(r["unrealized_pnl"]), "liquidationPrice": _liq(f, r),
            "isolatedMargin": money(_iso_margin(r)), "notional": money(r["notional"]),
            "marginAsset": "USDT", "isolatedWallet": money(r["isolated_wallet"]),
            "initialMargin": money(r["initial_margin"]), "maintMargin": money(r["maint_margin"]),
            "positionInitialMargin": money(r["position_initial_margin"]),
            "openOrderInitialMargin": money(r["open_order_initial_margin"]), "adl": r.get("adl", 0),
            "bidNotional": "0", "askNotional": "0", "updateTime": r["update_time"]}


def _risk_v2(gw, r: dict) -> dict:
    f = gw.formats[r["symbol"]]
    return {"symbol": r["symbol"], "positionAmt": f.qty(r["qty"]),
            "entryPrice": f.entry(r["entry_notional"], r["qty"]),
            "breakEvenPrice": _break_even(gw, r["symbol"], r), "markPrice": price8(f, r["mark_price"]),
            "unRealizedProfit": money(r["unrealized_pnl"]), "liquidationPrice": _liq(f, r),
            "leverage": str(r["leverage"]),
            "maxNotionalValue": plain(Decimal(r["max_notional"]) / MONEY_SCALE),
            "marginType": "isolated" if r["margin_type"] == C.ISOLATED else "cross",
            "isolatedMargin": money(_iso_margin(r)), "isAutoAddMargin": "false",
            "positionSide": C.POSITION_SIDE_NAMES[r["position_side"]], "notional": money(r["notional"]),
            "isolatedWallet": money(r["isolated_wallet"]), "updateTime": r["update_time"]}


async def position_risk_v3(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    _account(gw, r.account_id)
    return [_risk_v3(gw, row) for row in gw.venue.position_risk(r.account_id, sym)]


async def position_risk_v2(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    a = _account(gw, r.account_id)
    return [_risk_v2(gw, row) for row in _all_rows(gw, a) if sym is None or row["symbol"] == sym]


async def leverage(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    lev = p.get_int("leverage", required=True)
    if lev > INT_CAP:
        raise errors.invalid_leverage(lev)
    res = await gw.submit(SetLeverage(r.account_id, sym, lev))
    accepted(res)
    ev = next(e for e in res.events if type(e) is LeverageChanged)
    return {"leverage": ev.leverage, "maxNotionalValue": plain(Decimal(ev.max_notional) / MONEY_SCALE),
            "symbol": sym}


async def margin_type(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    mt = p.get_enum("marginType", required=True)
    res = await gw.submit(SetMarginType(r.account_id, sym, C.ISOLATED if mt == "ISOLATED" else C.CROSSED))
    accepted(res)
    return dict(SUCCESS)


async def get_dual(gw, r: Req):
    return {"dualSidePosition": bool(_account(gw, r.account_id)["dual"])}


async def set_dual(gw, r: Req):
    dual = r.params.get_bool("dualSidePosition", required=True)
    res = await gw.submit(SetPositionMode(r.account_id, 1 if dual else 0))
    accepted(res)
    return dict(SUCCESS)


async def get_multi_assets(gw, r: Req):
    return {"multiAssetsMargin": False}


async def set_multi_assets(gw, r: Req):
    on = r.params.get_bool("multiAssetsMargin", required=True)
    if not on:
        raise Orders41.NO_NEED_TO_CHANGE_MULTI_ASSETS()
    raise errors.General.MULTI_ASSETS_UNSUPPORTED()


async def income(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p, required=False)
    itype = p.get_str("incomeType")
    if itype is not None and itype not in INCOME_TYPES:
        raise errors.invalid_parameter("incomeType")
    start, end = time_range(p)
    page = p.get_int("page", default=1)
    if page < 1:
        raise errors.invalid_parameter("page")
    limit = limit_of(p, 100, 1000)
    if start is None and end is None:
        start = r.now - 7 * 86_400_000
    names = C.INCOME_TYPE_NAMES
    rows = []
    for (s, t, amount, tran, trade, ts) in gw.projection.income.get(r.account_id, ()):
        if sym is not None and s != sym:
            continue
        name = names.get(t, "TRANSFER")
        if itype is not None and name != itype:
            continue
        if start is not None and ts < start:
            continue
        if end is not None and ts > end:
            continue
        rows.append({"symbol": s, "incomeType": name, "income": money(amount), "asset": "USDT",
                     "info": name, "time": ts, "tranId": tran, "tradeId": str(trade) if trade else ""})
    lo = (page - 1) * limit
    return rows[lo:lo + limit]


def _brackets(gw, sym: str) -> dict:
    inst = gw.instruments[sym]
    out = []
    for b in inst.brackets:
        out.append({"bracket": b.bracket, "initialLeverage": b.initial_leverage,
                    "notionalCap": _num(b.notional_cap), "notionalFloor": _num(b.notional_floor),
                    "maintMarginRatio": b.maint_margin_rate / RATE_SCALE, "cum": b.cum / MONEY_SCALE})
    return {"symbol": sym, "notionalCoef": 1.0, "brackets": out}


def _num(money_units: int):
    q, rem = divmod(money_units, MONEY_SCALE)
    return q if rem == 0 else money_units / MONEY_SCALE


async def leverage_bracket(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    if sym is not None:
        return [_brackets(gw, sym)]
    return [_brackets(gw, s) for s in gw.formats]


async def commission_rate(gw, r: Req):
    sym, f = symbol_of(gw, r.params)
    inst = gw.instruments[sym]
    return {"symbol": sym, "makerCommissionRate": plain(Decimal(inst.maker_fee)),
            "takerCommissionRate": plain(Decimal(inst.taker_fee)), "rpiCommissionRate": "0"}


async def account_config(gw, r: Req):
    a = _account(gw, r.account_id)
    return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True,
            "dualSidePosition": bool(a["dual"]), "updateTime": 0, "multiAssetsMargin": False,
            "tradeGroupId": -1}


async def symbol_config(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    a = _account(gw, r.account_id)
    out = []
    for s in ([sym] if sym else gw.formats):
        spec = gw.venue.symbols[s].spec
        st = a["settings"].get(s)
        lev = st["leverage"] if st else spec.default_leverage
        mt = st["margin_type"] if st else C.CROSSED
        out.append({"symbol": s, "marginType": C.MARGIN_TYPE_NAMES[mt], "isAutoAddMargin": False,
                    "leverage": lev, "maxNotionalValue": plain(Decimal(spec.max_notional(lev)) / MONEY_SCALE)})
    return out


async def adl_quantile(gw, r: Req):
    """Per symbol with a position: the ADL quantile (0-4) of each position side.  One-way
    mode reports the position under BOTH and under its direction; hedge mode reports
    LONG and SHORT plus ``HEDGE`` (cross) / ``BOTH`` (isolated) as 0."""
    sym, f = symbol_of(gw, r.params, required=False)
    a = _account(gw, r.account_id)
    rows: dict = {}
    for row in a["positions"]:
        if (sym is not None and row["symbol"] != sym) or not row["qty"]:
            continue
        q = rows.get(row["symbol"])
        if q is None:
            q = rows[row["symbol"]] = {"LONG": 0, "SHORT": 0,
                                       ("HEDGE" if a["dual"] and row["margin_type"] == C.CROSSED else "BOTH"): 0}
        adl = row.get("adl", 0)
        if row["position_side"] == C.BOTH:
            q["BOTH"] = adl
            q["LONG" if row["qty"] > 0 else "SHORT"] = adl
        else:
            q[C.POSITION_SIDE_NAMES[row["position_side"]]] = adl
    return [{"symbol": s, "adlQuantile": q} for s, q in rows.items()]


def force_order_json(gw, rec: dict) -> dict:
    f = gw.formats[rec["symbol"]]
    done = rec["filled"] + rec["closed_out"]
    quote = rec["cum_quote"] + rec["closed_quote"]
    return {"orderId": rec["order_id"], "symbol": rec["symbol"],
            "status": C.ORDER_STATUS_NAMES.get(rec["status"], "FILLED"),
            "clientOrderId": rec["client_order_id"], "price": f.price(rec["price"]),
            "avgPrice": f.avg(quote, done), "origQty": f.qty(rec["qty"]), "executedQty": f.qty(done),
            "cumQuote": f.quote_short(quote), "timeInForce": "IOC", "type": "LIMIT",
            "reduceOnly": not rec["adl"], "closePosition": False, "side": C.SIDE_NAMES[rec["side"]],
            "positionSide": C.POSITION_SIDE_NAMES.get(rec["position_side"], "BOTH"), "stopPrice": "0",
            "workingType": "CONTRACT_PRICE", "origType": "LIMIT", "time": rec["time"],
            "updateTime": rec["update_time"]}


async def force_orders(gw, r: Req):
    """The account's liquidation orders (``autoCloseType=LIQUIDATION``) or ADL
    auto-close orders (``ADL``), newest first; without startTime/endTime the last 7 days."""
    p = r.params
    sym, f = symbol_of(gw, p, required=False)
    kind = p.get_str("autoCloseType")
    if kind is not None and kind not in ("LIQUIDATION", "ADL"):
        raise errors.invalid_parameter("autoCloseType")
    start, end = time_range(p)
    if start is not None and end is not None and end - start > 7 * 86_400_000:
        raise errors.invalid_parameter("endTime")
    limit = limit_of(p, 50, 100)
    if start is None and end is None:
        start = r.now - 7 * 86_400_000
    out = []
    for rec in reversed(list(gw.projection.force_orders.get(r.account_id, {}).values())):
        if sym is not None and rec["symbol"] != sym:
            continue
        if kind is not None and rec["adl"] != (kind == "ADL"):
            continue
        if (start is not None and rec["time"] < start) or (end is not None and rec["time"] > end):
            continue
        out.append(force_order_json(gw, rec))
        if len(out) >= limit:
            break
    return out


async def position_margin(gw, r: Req):
    """POST /fapi/v1/positionMargin: add (type 1) or reduce (type 2) an isolated position's margin."""
    p = r.params
    sym, f = symbol_of(gw, p)
    amount = p.get_decimal("amount", required=True)
    change = p.get_int("type", required=True)
    if change not in (1, 2):
        raise errors.invalid_parameter("type")
    pside = p.position_side()
    units = amount * MONEY_SCALE
    if units != units.to_integral_value():
        raise errors.Request.BAD_PRECISION()
    if units <= 0 or units > INT_CAP:
        raise errors.Filters.AMOUNT_MUST_BE_POSITIVE() if units <= 0 else errors.invalid_parameter("amount")
    res = await gw.submit(AdjustIsolatedMargin(r.account_id, sym, _PSIDE[pside], int(units), change))
    accepted(res)
    return {"amount": int(units) / MONEY_SCALE, "code": 200, "msg": "Successfully modify position margin.",
            "type": change}


async def position_margin_history(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    change = p.get_int("type")
    if change is not None and change not in (1, 2):
        raise errors.invalid_parameter("type")
    start, end = time_range(p)
    limit = limit_of(p, 500, 500)
    if start is None and end is None:
        start = r.now - 30 * 86_400_000
    out = []
    for (s, t, amount, ps, ts) in gw.projection.margin_history.get(r.account_id, ()):
        if s != sym or (change is not None and t != change):
            continue
        if (start is not None and ts < start) or (end is not None and ts > end):
            continue
        out.append({"symbol": s, "type": t, "deltaType": "USER_ADJUST", "amount": money(amount),
                    "asset": "USDT", "time": ts, "positionSide": C.POSITION_SIDE_NAMES.get(ps, "BOTH")})
    return out[-limit:]


_PSIDE = {"BOTH": C.BOTH, "LONG": C.LONG, "SHORT": C.SHORT}


def register(gw) -> None:
    gw.route("GET", "/fapi/v2/account", account_v2)
    gw.route("GET", "/fapi/v3/account", account_v3)
    gw.route("GET", "/fapi/v2/balance", balance)
    gw.route("GET", "/fapi/v3/balance", balance)
    gw.route("GET", "/fapi/v2/positionRisk", position_risk_v2)
    gw.route("GET", "/fapi/v3/positionRisk", position_risk_v3)
    gw.route("POST", "/fapi/v1/leverage", leverage)
    gw.route("POST", "/fapi/v1/marginType", margin_type)
    gw.route("GET", "/fapi/v1/positionSide/dual", get_dual)
    gw.route("POST", "/fapi/v1/positionSide/dual", set_dual)
    gw.route("GET", "/fapi/v1/multiAssetsMargin", get_multi_assets)
    gw.route("POST", "/fapi/v1/multiAssetsMargin", set_multi_assets)
    gw.route("GET", "/fapi/v1/income", income)
    gw.route("GET", "/fapi/v1/leverageBracket", leverage_bracket)
    gw.route("GET", "/fapi/v1/commissionRate", commission_rate)
    gw.route("GET", "/fapi/v1/accountConfig", account_config)
    gw.route("GET", "/fapi/v1/symbolConfig", symbol_config)
    gw.route("GET", "/fapi/v1/adlQuantile", adl_quantile)
    gw.route("GET", "/fapi/v1/forceOrders", force_orders)
    gw.route("POST", "/fapi/v1/positionMargin", position_margin)
    gw.route("GET", "/fapi/v1/positionMargin/history", position_margin_history)


__all__ = ["register", "fixed"]
