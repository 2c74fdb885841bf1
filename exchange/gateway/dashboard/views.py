"""The dashboard's JSON, built from projections (and, for an account's current risk,
the venue's query methods - what REST answers use too).

The same functions serve the live page (``paperex serve``) and the read-only
post-mortem (``paperex view``), where the projections were fed by a replay up
to the slider's time.  Prices, quantities and money are decimal strings, as on
the Binance wire; times are ms.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Optional

from exchange.contract import codes as C
from exchange.gateway.dashboard.feed import CANDLE_MS
from exchange.gateway.format import money
from exchange.perp.liquidation import bankruptcy_price
from exchange.perp.margin import margin_ratio
from exchange.units import RATE_SCALE

CANDLES = 180         # 5-second candles on the chart (feed.CANDLE_MS): 15 minutes
TRADES = 30           # rows of the trade tape
LEVELS = 12           # levels per side of the ladder
FILLS = 25
INCOME = 25
LEADERS = 25          # leaderboard rows on the page without a competition (GET /paperex/v1/leaderboard has all)


def rate(r: int) -> str:
    """A RATE_SCALE rate as a decimal string (funding rate, margin ratio)."""
    sign = "-" if r < 0 else ""
    q, rem = divmod(abs(r), RATE_SCALE)
    return f"{sign}{q}.{rem:08d}"


def chart_view(feed, formats: dict, sym: str) -> dict:
    """The chart of ``sym``: 5-second candles of the trades, the mark and the index lines
    (and the mark now, which the price axis must include)."""
    f = formats[sym]
    price, qty = f.price, f.qty

    def tail(q):
        return islice(q, max(0, len(q) - CANDLES), None)
    mk = feed.marks.get(sym)
    return {
        "symbol": sym, "candleMs": CANDLE_MS,
        "candles": [[k[0], price(k[1]), price(k[2]), price(k[3]), price(k[4]), qty(k[5])]
                    for k in tail(feed.candles[sym])],
        "mark": [[t, price(p)] for t, p in tail(feed.mark_line[sym])],
        "index": [[t, price(p)] for t, p in tail(feed.index_line[sym])],
        "markPrice": price(mk.price) if mk else None,
    }


def market_view(proj, feed, formats: dict, sym: str) -> dict:
    """Ladder, trades, mark, index, funding, open interest of ``sym`` (the chart: ``chart_view``)."""
    m = proj.markets[sym]
    f = formats[sym]
    price, qty = f.price, f.qty
    trades = [[t[4], price(t[1]), qty(t[2]), bool(t[5])] for t in islice(reversed(m.trades), TRADES)]
    bids, asks = feed.ladder(sym, LEVELS)
    mk = feed.marks.get(sym)
    return {
        "symbol": sym, "trades": trades,
        "bids": [[price(p), qty(q)] for p, q in bids], "asks": [[price(p), qty(q)] for p, q in asks],
        "markPrice": price(mk.price) if mk else None,
        "indexPrice": price(feed.index[sym]) if sym in feed.index else None,
        "fundingRate": rate(mk.funding_rate) if mk else None,
        "nextFundingTime": mk.next_funding_time if mk else None,
        "markPinned": bool(mk.pinned) if mk else False,
        "lastPrice": price(m.last_price) if m.last_price else None,
        "openInterest": qty(m.oi.lots), "updateId": m.update_id,
    }


def liquidations_view(feed, formats: dict) -> list:
    out = []
    for rec in reversed(feed.liquidations):
        f = formats[rec["symbol"]]
        done = rec["filled"] + rec["closed_out"]
        out.append({"time": rec["update_time"], "symbol": rec["symbol"], "accountId": rec["account_id"],
                    "side": C.SIDE_NAMES[rec["side"]], "qty": f.qty(rec["qty"]), "price": f.price(rec["price"]),
                    "avgPrice": f.avg(rec["cum_quote"] + rec["closed_quote"], done),
                    "status": C.ORDER_STATUS_NAMES.get(rec["status"], "FILLED"), "adl": rec["adl"]})
    return out


def leaderboard_view(board) -> dict:
    """The ranking the page shows: every team of a competition; otherwise the best ``LEADERS``
    accounts (a synthetic market has hundreds of agents: the page must not redraw them all
    a few times a second); ``count`` is how many are ranked."""
    out = board.standings()
    rows = out["standings"]
    out["count"] = len(rows)
    if out["competition"] is None and len(rows) > LEADERS:
        out["standings"] = rows[:LEADERS]
    return out


def insurance_view(feed) -> dict:
    series = [[t, money(b)] for t, b in (feed.insurance or ([feed.insurance_start] if feed.insurance_start else ()))]
    return {"balance": series[-1][1] if series else None, "series": series}


def _order_row(f, o: dict) -> dict:
    return {"orderId": o["order_id"], "symbol": o["symbol"], "side": C.SIDE_NAMES[o["side"]],
            "type": C.ORDER_TYPE_NAMES.get(o["order_type"], "?"), "price": f.price(o["price"]),
            "stopPrice": f.price(o["stop_price"]) if o.get("stop_price") else None,
            "qty": f.qty(o["qty"]), "filled": f.qty(o["filled_qty"]),
            "positionSide": C.POSITION_SIDE_NAMES.get(o["position_side"], "BOTH"),
            "reduceOnly": bool(o["reduce_only"]), "time": o["time"]}


def account_view(venue, proj, board, feed, formats: dict, aid: int) -> Optional[dict]:
    """One account now: balances, margin ratio, positions with liquidation and bankruptcy
    prices, open and algo orders, recent fills and income, faults injected for it."""
    a = venue.account(aid)
    if a is None:
        return None
    positions = []
    maint = 0
    upnl_cross = 0
    risk = a["positions"]
    for p in risk:
        if p["qty"] and p["margin_type"] == C.CROSSED:
            upnl_cross += p["unrealized_pnl"]
    for p in risk:
        if not p["qty"]:
            continue
        f = formats[p["symbol"]]
        unit = venue.symbols[p["symbol"]].spec.notional_unit
        if p["margin_type"] == C.ISOLATED:
            bp = bankruptcy_price([(p["qty"], p["entry_notional"])], p["isolated_wallet"], unit)
        else:
            maint += p["maint_margin"]
            bp = bankruptcy_price([(p["qty"], p["entry_notional"])], a["cross_wallet"], unit,
                                  other_upnl=upnl_cross - p["unrealized_pnl"])
        positions.append({
            "symbol": p["symbol"], "positionSide": C.POSITION_SIDE_NAMES[p["position_side"]],
            "qty": f.qty(p["qty"]) if p["qty"] > 0 else "-" + f.qty(-p["qty"]),
            "entryPrice": f.entry(p["entry_notional"], p["qty"]), "markPrice": f.price(p["mark_price"]),
            "unrealizedPnl": money(p["unrealized_pnl"]), "leverage": p["leverage"],
            "marginType": C.MARGIN_TYPE_NAMES[p["margin_type"]],
            "liquidationPrice": f.price(p["liquidation_price"]) if p["liquidation_price"] else None,
            "bankruptcyPrice": f.price(bp) if bp is not None and bp > 0 else None,
        })
    margin_balance = a["cross_wallet"] + upnl_cross
    orders, algos = [], []
    for o in a["open_orders"]:
        (algos if o["order_type"] in C.CONDITIONAL_TYPES else orders).append(_order_row(formats[o["symbol"]], o))
    fills = []
    for (tid, oid, sym, side, pside, px, q, quote, maker, fee, rpnl, ts) in islice(reversed(proj.fills.get(aid, ())),
                                                                                  FILLS):
        f = formats[sym]
        fills.append({"time": ts, "tradeId": tid, "orderId": oid, "symbol": sym, "side": C.SIDE_NAMES[side],
                      "price": f.price(px), "qty": f.qty(q), "maker": bool(maker), "fee": money(fee),
                      "realizedPnl": money(rpnl)})
    income = [{"time": ts, "symbol": sym, "type": C.INCOME_TYPE_NAMES.get(it, str(it)), "amount": money(amt)}
              for (sym, it, amt, _tran, _trade, ts) in islice(reversed(proj.income.get(aid, ())), INCOME)]
    stats = board.accounts.get(aid)
    return {
        "accountId": aid, "walletBalance": money(a["wallet_balance"]), "crossWallet": money(a["cross_wallet"]),
        "availableBalance": money(a["available_balance"]),
        "equity": money(board.equity(stats)) if stats is not None else money(a["wallet_balance"]),
        "marginRatio": rate(margin_ratio(maint, margin_balance)),
        "positions": positions, "openOrders": orders, "algoOrders": algos, "fills": fills, "income": income,
        "faults": list(reversed(feed.faults.get(aid, ()))),
    }


def accounts_list(venue, labels: Any = None) -> list:
    out = []
    for aid in sorted(venue.accounts):
        out.append({"accountId": aid, "label": labels(aid) if labels else ""})
    return out
