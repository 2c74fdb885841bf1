"""Instruments from a recorded Binance USD-M ``exchangeInfo``.

A recording of symbols the venue does not list (cryptofeed's
``BINANCE_FUTURES.0`` holds the full exchangeInfo of 2021, for SUSHIUSDT,
AKROUSDT, ...) can still be replayed: build the venue's instruments from the
recorded filters, so prices and sizes sit on the grid the recording used.

    info = read_exchange_info("BINANCE_FUTURES.0")
    insts = instruments_from_exchange_info(info, ["SUSHIUSDT", "AKROUSDT"])
    rt = Runtime.virtual(t0, instruments=insts)

exchangeInfo has no leverage brackets (that is ``/fapi/v1/leverageBracket``):
``brackets`` rows (``(notionalFloor, notionalCap, initialLeverage,
maintMarginRatio)``) default to the project's table for BTCUSDT / ETHUSDT and
to a generic small-cap table otherwise (deep enough that the replay
liquidity provider, at leverage 2, can mirror a whole book).  Fees, funding
interval and the rest take the defaults of :func:`instrument_from_config`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

try:
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    from json import loads as _loads

from exchange.contract.instruments import (BTCUSDT_BRACKETS_2026, ETHUSDT_BRACKETS_2026, Instrument,
                                  instrument_from_config)

__all__ = ["read_exchange_info", "instrument_config_from_exchange_info", "instruments_from_exchange_info",
           "GENERIC_BRACKETS", "KNOWN_BRACKETS"]

#: a small-cap perpetual's table (floor, cap, max leverage, MMR); cum is derived
GENERIC_BRACKETS: tuple[tuple[str, str, int, str], ...] = (
    ("0", "5000", 50, "0.01"),
    ("5000", "25000", 25, "0.025"),
    ("25000", "100000", 20, "0.05"),
    ("100000", "250000", 10, "0.1"),
    ("250000", "1000000", 5, "0.125"),
    ("1000000", "10000000", 4, "0.15"),
    ("10000000", "100000000", 2, "0.25"),
    ("100000000", "1000000000", 1, "0.5"),
)

#: symbols whose bracket tables the project already carries
KNOWN_BRACKETS = {"BTCUSDT": BTCUSDT_BRACKETS_2026, "ETHUSDT": ETHUSDT_BRACKETS_2026}


def read_exchange_info(path: Any) -> dict:
    """The exchangeInfo object of a file: plain JSON, or a cryptofeed recording
    line ``https://.../fapi/v1/exchangeInfo -> <epoch>: <json>``."""
    with open(Path(path), "rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line[:1] == b"{":
                obj = _loads(line)
            elif b"/exchangeInfo" in line.split(b" ", 1)[0]:
                obj = _loads(line[line.index(b": ") + 2:])
            else:
                continue
            if isinstance(obj, dict) and "symbols" in obj:
                return obj
    raise ValueError(f"{path}: no exchangeInfo found")


def instrument_config_from_exchange_info(sym: Mapping[str, Any],
                                         brackets: Sequence[tuple] = GENERIC_BRACKETS) -> dict:
    """The config object (``instrument_from_config``'s keys) of one exchangeInfo symbol."""
    f = {x["filterType"]: x for x in sym.get("filters", ())}
    price, lot = f["PRICE_FILTER"], f["LOT_SIZE"]
    cfg: dict = {
        "symbol": sym["symbol"], "baseAsset": sym["baseAsset"], "quoteAsset": sym.get("quoteAsset", "USDT"),
        "tickSize": price["tickSize"], "stepSize": lot["stepSize"],
        "minPrice": price["minPrice"], "maxPrice": price["maxPrice"],
        "minQty": lot["minQty"], "maxQty": lot["maxQty"],
        "minNotional": (f.get("MIN_NOTIONAL") or {}).get("notional", "5"),
        "brackets": [{"notionalFloor": a, "notionalCap": b, "initialLeverage": c, "maintMarginRatio": d}
                     for a, b, c, d in brackets],
    }
    mkt = f.get("MARKET_LOT_SIZE")
    if mkt:
        cfg["marketMinQty"], cfg["marketMaxQty"] = mkt["minQty"], mkt["maxQty"]
    if "MAX_NUM_ORDERS" in f:
        cfg["maxNumOrders"] = int(f["MAX_NUM_ORDERS"]["limit"])
    if "MAX_NUM_ALGO_ORDERS" in f:
        cfg["maxNumAlgoOrders"] = int(f["MAX_NUM_ALGO_ORDERS"]["limit"])
    pp = f.get("PERCENT_PRICE")
    if pp:
        cfg["multiplierUp"], cfg["multiplierDown"] = pp["multiplierUp"], pp["multiplierDown"]
    for src, dst in (("marketTakeBound", "marketTakeBound"), ("triggerProtect", "triggerProtect"),
                     ("liquidationFee", "liquidationFee")):
        if sym.get(src) is not None:
            cfg[dst] = sym[src]
    for key in ("pricePrecision", "quantityPrecision"):
        if isinstance(sym.get(key), int):
            cfg[key] = sym[key]
    return cfg


def instruments_from_exchange_info(info: Mapping[str, Any], symbols: Optional[Iterable[str]] = None,
                                   brackets: Optional[Sequence[tuple]] = None) -> dict[str, Instrument]:
    """``{symbol: Instrument}`` for ``symbols`` (default: every PERPETUAL USDT symbol).
    A named symbol missing from ``info`` raises KeyError."""
    by_name = {s["symbol"]: s for s in info["symbols"]}
    if symbols is None:
        names = [n for n, s in by_name.items()
                 if s.get("contractType", "PERPETUAL") == "PERPETUAL" and s.get("quoteAsset") == "USDT"]
    else:
        names = list(symbols)
    out = {}
    for n in names:
        if n not in by_name:
            raise KeyError(f"{n} is not in the exchangeInfo")
        rows = brackets if brackets is not None else KNOWN_BRACKETS.get(n, GENERIC_BRACKETS)
        out[n] = instrument_from_config(instrument_config_from_exchange_info(by_name[n], rows))
    return out
