"""Market views that the REST answers and the market streams both show: the premium index
(mark, index, funding estimate), the 24-hour ticker, and 8-decimal prices."""
from __future__ import annotations

from exchange.gateway.format import fixed


def price8(f, ticks: int) -> str:
    """A price in ticks with 8 decimals (mark/index prices)."""
    return fixed(ticks * f.tick_units * 10 ** (8 - f.pp), 8) if f.pp <= 8 else f.price(ticks)


def premium_index(gw, sym: str, now: int) -> dict:
    """GET /fapi/v1/premiumIndex (also the markPrice streams' ``p``/``i``/``P``/``r``/``T``):
    the venue's mark, index, current funding-rate estimate and interest rate.  While the
    mark is pinned by the control API the object also carries ``"markPricePinned": true``
    (a key Binance never sends, so an unpinned venue looks exactly like Binance)."""
    f = gw.formats[sym]
    pi = gw.venue.premium_index(sym)
    iv = pi["funding_interval_ms"]
    out = {"symbol": sym, "markPrice": price8(f, pi["mark_price"]), "indexPrice": price8(f, pi["index_price"]),
           "estimatedSettlePrice": price8(f, pi["estimated_settle_price"]),
           "lastFundingRate": fixed(pi["last_funding_rate"], 8),
           "interestRate": fixed(pi["interest_rate"], 8),
           "nextFundingTime": now - now % iv + iv, "time": now}
    if pi["mark_pinned"]:
        out["markPricePinned"] = True
    return out


def mark_price_update(gw, sym: str, now: int) -> dict:
    """A markPriceUpdate payload from the projection (committed events only): the last mark,
    index and funding estimate.  REST premiumIndex asks the venue for the same values now; the
    stream shows them as of the last committed mark refresh."""
    f = gw.formats[sym]
    m = gw.projection.markets[sym]
    iv = gw.instruments[sym].funding_interval_ms
    return {"e": "markPriceUpdate", "E": now, "s": sym, "p": price8(f, m.mark_price),
            "i": price8(f, m.index_price), "P": price8(f, m.index_price), "r": fixed(m.funding_rate, 8),
            "T": now - now % iv + iv}


def ticker24(gw, sym: str, now: int) -> dict:
    f = gw.formats[sym]
    t = gw.projection.ticker24(sym, now)
    o, last = t["open"], t["last"]
    change = last - o if t["count"] else 0
    pct = "0.000"
    if t["count"] and o:
        pct = fixed((change * 100_000) // o if change >= 0 else -((-change * 100_000) // o), 3)
    wavg = f.avg(t["quote"], t["volume"], f.pp) if t["volume"] else f.price(0)
    return {"symbol": sym, "priceChange": f.price(change), "priceChangePercent": pct,
            "weightedAvgPrice": wavg, "lastPrice": f.price(last), "lastQty": f.qty(t["last_qty"]),
            "openPrice": f.price(o), "highPrice": f.price(t["high"]), "lowPrice": f.price(t["low"]),
            "volume": f.qty(t["volume"]), "quoteVolume": fixed(t["quote"] // 10**6, 2),
            "openTime": t["open_time"], "closeTime": t["close_time"],
            "firstId": t["first_id"] if t["count"] else -1, "lastId": t["last_id"] if t["count"] else -1,
            "count": t["count"]}
