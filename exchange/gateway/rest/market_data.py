"""Public market-data REST (spec §5, §6): security NONE (historicalTrades: MARKET_DATA)."""
from __future__ import annotations

from decimal import Decimal

from exchange.units import MONEY_SCALE, RATE_SCALE

from exchange.gateway import errors
from exchange.gateway.common import Req, limit_of, symbol_of, time_range
from exchange.gateway.format import fixed, money
from exchange.gateway.params import Params
from exchange.gateway.projection import INTERVAL_MS
from exchange.gateway.ratelimit import rate_limits_json
from exchange.gateway.market_views import premium_index, price8, ticker24  # noqa: F401 - REST answers

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def _s(d) -> str:
    return str(d)


def symbol_info(inst) -> dict:
    up = Decimal(inst.percent_price_up).quantize(Decimal("0.0001"))
    down = Decimal(inst.percent_price_down).quantize(Decimal("0.0001"))
    mmr = Decimal(inst.brackets[0].maint_margin_rate) / RATE_SCALE * 100 if inst.brackets else Decimal("2.5")
    return {
        "symbol": inst.symbol, "pair": inst.symbol, "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000, "onboardDate": 1569398400000, "status": "TRADING",
        "maintMarginPercent": str(Decimal(mmr).quantize(Decimal("0.0001"))),
        "requiredMarginPercent": str((Decimal(100) / inst.max_leverage).quantize(Decimal("0.0001"))),
        "baseAsset": inst.base_asset, "quoteAsset": inst.quote_asset, "marginAsset": inst.quote_asset,
        "pricePrecision": inst.price_precision, "quantityPrecision": inst.quantity_precision,
        "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "underlyingSubType": [],
        "triggerProtect": str(Decimal(inst.trigger_protect).quantize(Decimal("0.0001"))),
        "liquidationFee": str(Decimal(inst.liquidation_fee).quantize(Decimal("0.000001"))),
        "marketTakeBound": _s(inst.market_take_bound),
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": _s(inst.min_price), "maxPrice": _s(inst.max_price),
             "tickSize": _s(inst.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": _s(inst.min_qty), "maxQty": _s(inst.max_qty),
             "stepSize": _s(inst.step_size)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": _s(inst.market_min_qty),
             "maxQty": _s(inst.market_max_qty), "stepSize": _s(inst.step_size)},
            {"filterType": "MAX_NUM_ORDERS", "limit": inst.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": inst.max_num_algo_orders},
            {"filterType": "MIN_NOTIONAL", "notional": _s(inst.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": str(up), "multiplierDown": str(down),
             "multiplierDecimal": "4"},
            {"filterType": "POSITION_RISK_CONTROL", "positionControlSide": "NONE"},
        ],
        "orderTypes": list(inst.order_types), "timeInForce": list(inst.time_in_force),
        "permissionSets": ["GRID", "COPY", "DCA", "PSB"],
    }


def exchange_info_static(gw) -> dict:
    quotes = sorted({i.quote_asset for i in gw.instruments.values()})
    return {
        "timezone": "UTC", "serverTime": 0, "futuresType": "U_MARGINED",
        "rateLimits": rate_limits_json(gw.limiter.config), "exchangeFilters": [],
        "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "0"} for a in quotes],
        "symbols": [symbol_info(gw.instruments[s]) for s in sorted(gw.instruments)],
    }


def next_funding_time(inst, now: int) -> int:
    iv = inst.funding_interval_hours * 3_600_000
    return now - now % iv + iv


def book_ticker(gw, sym: str, now: int) -> dict:
    f = gw.formats[sym]
    book = gw.venue.book(sym)
    b = book.depth(0, 1)
    a = book.depth(1, 1)
    bp, bq = b[0] if b else (0, 0)
    ap, aq = a[0] if a else (0, 0)
    return {"symbol": sym, "bidPrice": f.price(bp), "bidQty": f.qty(bq), "askPrice": f.price(ap),
            "askQty": f.qty(aq), "time": now, "lastUpdateId": gw.projection.markets[sym].update_id}


def depth_json(gw, sym: str, limit: int, now: int) -> dict:
    f = gw.formats[sym]
    book = gw.venue.book(sym)
    price, qty = f.price, f.qty
    return {"lastUpdateId": gw.projection.markets[sym].update_id, "E": now, "T": now,
            "bids": [[price(p), qty(q)] for p, q in book.depth(0, limit)],
            "asks": [[price(p), qty(q)] for p, q in book.depth(1, limit)]}


# ----------------------------------------------------------------- handlers
async def ping(gw, r: Req):
    return {}


async def server_time(gw, r: Req):
    return {"serverTime": r.now}


async def exchange_info(gw, r: Req):
    info = gw._exchange_info
    info["serverTime"] = r.now
    return info


async def depth(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    limit = p.get_int("limit", default=500)
    if limit > 1000:
        raise errors.invalid_parameter("limit")
    if limit not in DEPTH_LIMITS:
        raise errors.invalid_depth_limit(limit)
    return depth_json(gw, sym, limit, r.now)


def _trades_json(f, rows) -> list:
    return [{"id": t[0], "price": f.price(t[1]), "qty": f.qty(t[2]), "quoteQty": money(t[3]),
             "time": t[4], "isBuyerMaker": t[5], "isRPITrade": False} for t in rows]


async def trades(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    limit = limit_of(p, 500, 1000)
    rows = list(gw.projection.markets[sym].trades)[-limit:]
    return _trades_json(f, rows)


async def historical_trades(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    limit = limit_of(p, 500, 1000)
    from_id = p.get_int("fromId")
    rows = list(gw.projection.markets[sym].trades)
    if from_id is not None:
        rows = [t for t in rows if t[0] >= from_id][:limit]
    else:
        rows = rows[-limit:]
    return _trades_json(f, rows)


async def agg_trades(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    limit = limit_of(p, 500, 1000)
    from_id = p.get_int("fromId")
    start, end = time_range(p)
    if start is not None and end is not None and end - start > 3_600_000:
        raise errors.invalid_parameter("startTime")
    rows = list(gw.projection.markets[sym].aggs)
    if from_id is not None:
        rows = [a for a in rows if a[0] >= from_id]
    if start is not None:
        rows = [a for a in rows if a[6] >= start]
    if end is not None:
        rows = [a for a in rows if a[6] <= end]
    rows = rows[:limit] if (from_id is not None or start is not None) else rows[-limit:]
    return [{"a": a[0], "p": f.price(a[1]), "q": f.qty(a[2]), "nq": f.qty(a[2]), "f": a[4], "l": a[5],
             "T": a[6], "m": a[7]} for a in rows]


async def klines(gw, r: Req):
    p = r.params
    sym, f = symbol_of(gw, p)
    interval = p.interval()
    start, end = time_range(p)
    limit = limit_of(p, 500, 1500)
    rows = gw.projection.klines(sym, INTERVAL_MS[interval], start, end, limit, month=interval == "1M")
    return [[k[0], f.price(k[1]), f.price(k[2]), f.price(k[3]), f.price(k[4]), f.qty(k[5]), k[6],
             money(k[7]), k[8], f.qty(k[9]), money(k[10]), "0"] for k in rows]


def _pair_symbol(gw, p: Params) -> str:
    if "pair" in p and "symbol" not in p:
        s = p.get_str("pair", required=True)
        if s not in gw.formats:
            raise errors.invalid_symbol()
        return s
    return symbol_of(gw, p)[0]


def _price_klines(gw, r: Req, which: str):
    p = r.params
    sym = _pair_symbol(gw, p)
    f = gw.formats[sym]
    interval = p.interval()
    start, end = time_range(p)
    limit = limit_of(p, 500, 1500)
    rows = gw.projection.price_klines(sym, which, INTERVAL_MS[interval], start, end, limit,
                                      month=interval == "1M")
    return [[k[0], price8(f, k[1]), price8(f, k[2]), price8(f, k[3]), price8(f, k[4]), "0", k[5], "0",
             k[6], "0", "0", "0"] for k in rows]


async def mark_price_klines(gw, r: Req):
    """Candles of the mark price (every MarkPriceChanged: one per second of venue time)."""
    return _price_klines(gw, r, "mark")


async def index_price_klines(gw, r: Req):
    """Candles of the index price (IndexPriceChanged and the index carried by mark refreshes)."""
    return _price_klines(gw, r, "index")


async def continuous_klines(gw, r: Req):
    """Perpetual continuous contract klines: the symbol's own trade candles."""
    p = r.params
    sym = _pair_symbol(gw, p)
    ct = p.get_str("contractType", required=True)
    if ct not in ("PERPETUAL", "CURRENT_QUARTER", "NEXT_QUARTER"):
        raise errors.invalid_parameter("contractType")
    f = gw.formats[sym]
    interval = p.interval()
    start, end = time_range(p)
    limit = limit_of(p, 500, 1500)
    if ct != "PERPETUAL":
        return []
    rows = gw.projection.klines(sym, INTERVAL_MS[interval], start, end, limit, month=interval == "1M")
    return [[k[0], f.price(k[1]), f.price(k[2]), f.price(k[3]), f.price(k[4]), f.qty(k[5]), k[6],
             money(k[7]), k[8], f.qty(k[9]), money(k[10]), "0"] for k in rows]


_RATE_PLACES = len(str(RATE_SCALE)) - 1


async def premium_index_klines(gw, r: Req) -> list:
    """Candles of the premium index the venue samples (every 5 s): values as rates with
    8 decimals, the sample count in the 9th field, Binance's layout otherwise."""
    p = r.params
    sym = _pair_symbol(gw, p)
    interval = p.interval()
    start, end = time_range(p)
    limit = limit_of(p, 500, 1500)
    rows = gw.projection.price_klines(sym, "premium", INTERVAL_MS[interval], start, end, limit,
                                      month=interval == "1M")
    d = _RATE_PLACES
    return [[k[0], fixed(k[1], d), fixed(k[2], d), fixed(k[3], d), fixed(k[4], d), "0", k[5], "0",
             k[6], "0", "0", "0"] for k in rows]


async def premium(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    if sym is not None:
        return premium_index(gw, sym, r.now)
    return [premium_index(gw, s, r.now) for s in gw.formats]


async def funding_rate(gw, r: Req):
    """Settled funding rates, ascending; without startTime/endTime the most recent ``limit``."""
    p = r.params
    sym, _ = symbol_of(gw, p, required=False)
    start, end = time_range(p)
    limit = limit_of(p, 100, 1000)
    rows = []
    for s in ([sym] if sym else gw.formats):
        f = gw.formats[s]
        for ft, rate, mark in gw.projection.funding_history(s, gw.venue.funding_history(s)):
            if (start is not None and ft < start) or (end is not None and ft > end):
                continue
            rows.append((ft, s, rate, mark, f))
    rows.sort(key=lambda x: (x[0], x[1]))
    rows = rows[:limit] if start is not None else rows[-limit:]
    return [{"symbol": s, "fundingTime": ft, "fundingRate": fixed(rate, 8), "markPrice": price8(f, mark)}
            for ft, s, rate, mark, f in rows]


async def funding_info(gw, r: Req):
    """Every symbol with its funding cap / floor and interval (Binance lists only the
    symbols whose values were adjusted; a paper venue's values are all configured)."""
    out = []
    for s in gw.formats:
        spec = gw.venue.symbols[s].spec
        out.append({"symbol": s, "adjustedFundingRateCap": fixed(spec.funding_cap, 8),
                    "adjustedFundingRateFloor": fixed(spec.funding_floor, 8),
                    "fundingIntervalHours": spec.funding_interval_ms // 3_600_000, "disclaimer": False,
                    "updateTime": 0})
    return out


async def ticker_24hr(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    if sym is not None:
        return ticker24(gw, sym, r.now)
    return [ticker24(gw, s, r.now) for s in gw.formats]


def _price_ticker(gw, sym, now):
    f = gw.formats[sym]
    return {"symbol": sym, "price": f.price(gw.projection.markets[sym].last_price), "time": now}


async def ticker_price(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    if sym is not None:
        return _price_ticker(gw, sym, r.now)
    return [_price_ticker(gw, s, r.now) for s in gw.formats]


async def ticker_book(gw, r: Req):
    sym, f = symbol_of(gw, r.params, required=False)
    if sym is not None:
        return book_ticker(gw, sym, r.now)
    return [book_ticker(gw, s, r.now) for s in gw.formats]


async def open_interest(gw, r: Req):
    sym, f = symbol_of(gw, r.params)
    return {"symbol": sym, "openInterest": f.qty(gw.projection.markets[sym].oi.lots), "time": r.now}


OI_PERIODS = {"5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000,
              "4h": 14_400_000, "6h": 21_600_000, "12h": 43_200_000, "1d": 86_400_000}


async def open_interest_hist(gw, r: Req) -> list:
    """``/futures/data/openInterestHist``: open interest at each period boundary (the 5-minute
    samples of the projection - seeded history, then live - taken every ``period``); without
    startTime / endTime the most recent ``limit`` (default 30, at most 500)."""
    p = r.params
    sym, f = symbol_of(gw, p)
    period = p.get_enum("period", tuple(OI_PERIODS), required=True)
    limit = limit_of(p, 30, 500)
    start, end = time_range(p)
    ms = OI_PERIODS[period]
    rows = [row for row in gw.projection.markets[sym].open_interest
            if row[0] % ms == 0 and (start is None or row[0] >= start) and (end is None or row[0] <= end)]
    rows = rows[:limit] if start is not None and end is None else rows[-limit:]
    return [{"symbol": sym, "sumOpenInterest": f.qty(lots), "sumOpenInterestValue": money(value),
             "CMCCirculatingSupply": "0", "timestamp": t} for t, lots, value in rows]


def register(gw) -> None:
    gw._exchange_info = exchange_info_static(gw)
    g = lambda path, h: gw.route("GET", path, h)  # noqa: E731
    g("/fapi/v1/ping", ping)
    g("/api/v3/ping", ping)
    g("/fapi/v1/time", server_time)
    g("/api/v3/time", server_time)
    g("/fapi/v1/exchangeInfo", exchange_info)
    g("/fapi/v1/depth", depth)
    g("/fapi/v1/trades", trades)
    g("/fapi/v1/historicalTrades", historical_trades)
    g("/fapi/v1/aggTrades", agg_trades)
    g("/fapi/v1/klines", klines)
    g("/fapi/v1/continuousKlines", continuous_klines)
    g("/fapi/v1/markPriceKlines", mark_price_klines)
    g("/fapi/v1/indexPriceKlines", index_price_klines)
    g("/fapi/v1/premiumIndexKlines", premium_index_klines)
    g("/fapi/v1/premiumIndex", premium)
    g("/fapi/v1/fundingRate", funding_rate)
    g("/fapi/v1/fundingInfo", funding_info)
    g("/fapi/v1/ticker/24hr", ticker_24hr)
    g("/fapi/v1/ticker/price", ticker_price)
    g("/fapi/v2/ticker/price", ticker_price)
    g("/fapi/v1/ticker/bookTicker", ticker_book)
    g("/fapi/v1/openInterest", open_interest)
    g("/futures/data/openInterestHist", open_interest_hist)


__all__ = ["register", "premium_index", "book_ticker", "depth_json", "ticker24", "price8",
           "MONEY_SCALE", "Params"]
