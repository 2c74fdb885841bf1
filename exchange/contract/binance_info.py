"""Instruments from Binance's own answers: a saved ``GET /fapi/v1/exchangeInfo``
and, optionally, a saved ``GET /fapi/v1/leverageBracket``.

A bot developer saves what Binance answers and points ``paperex serve
--symbols`` at it; nothing is flattened by hand:

    paperex serve --symbols exchangeInfo.json --brackets leverageBracket.json

* Every symbol's ``filters``, ``orderTypes``, ``timeInForce``, precisions,
  ``triggerProtect``, ``liquidationFee`` and ``marketTakeBound`` are taken as
  they are.  Symbols that are not ``contractType`` PERPETUAL, not ``status``
  TRADING or not quoted in USDT are skipped and counted (``skipped``).
* exchangeInfo carries no leverage brackets.  With a leverageBracket answer
  they come from there; without one, from :data:`DEFAULT_BRACKETS_BY_TIER`
  (tier 1: BTC/ETH, tier 2: large caps, tier 3: the rest), the tier being the
  bundled snapshot's (``exchange.contract.snapshot``) or 3 for a symbol it
  does not know.
* A key Binance does not send is an error (so is a missing one), and every
  problem names the file, the symbol and the key.

The file may be the JSON answer itself or a cryptofeed recording line
(``https://fapi.binance.com/fapi/v1/exchangeInfo -> <epoch>: <json>``), as in
``shared/data/binance-usdm/BINANCE_FUTURES.0``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from exchange.contract.instruments import (BTCUSDT_BRACKETS_2026, ETHUSDT_BRACKETS_2026, Instrument,
                                           instrument_from_config)

__all__ = ["DEFAULT_BRACKETS_BY_TIER", "TIER1_BRACKETS", "TIER2_BRACKETS", "TIER3_BRACKETS",
           "KNOWN_BRACKETS", "ExchangeInfoLoad", "read_binance_answer", "is_exchange_info",
           "instrument_config_from_symbol", "instruments_from_exchange_info",
           "brackets_from_leverage_bracket", "load_exchange_info"]

BracketRows = Sequence[tuple[Any, Any, int, Any]]

#: tier 1 (BTCUSDT, ETHUSDT and anything as deep): Binance's BTCUSDT table of early 2026
TIER1_BRACKETS: BracketRows = BTCUSDT_BRACKETS_2026
#: tier 2 (large caps: XRP, BNB, SOL, DOGE, ...): the shape of Binance's large-cap tables
TIER2_BRACKETS: BracketRows = (
    ("0", "50000", 75, "0.01"),
    ("50000", "250000", 50, "0.02"),
    ("250000", "1000000", 25, "0.05"),
    ("1000000", "5000000", 10, "0.1"),
    ("5000000", "20000000", 5, "0.125"),
    ("20000000", "50000000", 4, "0.15"),
    ("50000000", "100000000", 2, "0.25"),
    ("100000000", "200000000", 1, "0.5"),
)
#: tier 3 (every other perpetual): a small-cap table, deep enough that a liquidity
#: provider at leverage 2 can mirror a whole recorded book
TIER3_BRACKETS: BracketRows = (
    ("0", "5000", 50, "0.01"),
    ("5000", "25000", 25, "0.025"),
    ("25000", "100000", 20, "0.05"),
    ("100000", "250000", 10, "0.1"),
    ("250000", "1000000", 5, "0.125"),
    ("1000000", "10000000", 4, "0.15"),
    ("10000000", "100000000", 2, "0.25"),
    ("100000000", "1000000000", 1, "0.5"),
)
#: the default table of each tier, used when no leverageBracket answer is given
DEFAULT_BRACKETS_BY_TIER: dict[int, BracketRows] = {1: TIER1_BRACKETS, 2: TIER2_BRACKETS, 3: TIER3_BRACKETS}
#: symbols whose own table the project carries (they win over their tier's)
KNOWN_BRACKETS: dict[str, BracketRows] = {"BTCUSDT": BTCUSDT_BRACKETS_2026, "ETHUSDT": ETHUSDT_BRACKETS_2026}

#: top-level keys of an exchangeInfo answer (Binance, 2021 .. 2026)
_INFO_KEYS = {"timezone", "serverTime", "futuresType", "rateLimits", "exchangeFilters", "assets", "symbols"}
#: keys of one symbol of exchangeInfo.symbols (Binance, 2021 .. 2026)
_SYMBOL_KEYS = {"symbol", "pair", "contractType", "deliveryDate", "onboardDate", "status", "maintMarginPercent",
                "requiredMarginPercent", "baseAsset", "quoteAsset", "marginAsset", "pricePrecision",
                "quantityPrecision", "baseAssetPrecision", "quotePrecision", "underlyingType",
                "underlyingSubType", "settlePlan", "triggerProtect", "liquidationFee", "marketTakeBound",
                "maxMoveOrderLimit", "filters", "orderTypes", "timeInForce", "permissionSets"}
_SYMBOL_REQUIRED = ("symbol", "contractType", "status", "baseAsset", "quoteAsset", "filters")
#: filter types and their keys; the first three are required
_FILTER_KEYS = {
    "PRICE_FILTER": {"minPrice", "maxPrice", "tickSize"},
    "LOT_SIZE": {"minQty", "maxQty", "stepSize"},
    "MIN_NOTIONAL": {"notional"},
    "MARKET_LOT_SIZE": {"minQty", "maxQty", "stepSize"},
    "MAX_NUM_ORDERS": {"limit"},
    "MAX_NUM_ALGO_ORDERS": {"limit"},
    "PERCENT_PRICE": {"multiplierUp", "multiplierDown", "multiplierDecimal"},
    "POSITION_RISK_CONTROL": {"positionControlSide"},
}
_BRACKET_ANSWER_KEYS = {"bracket", "initialLeverage", "notionalCap", "notionalFloor", "maintMarginRatio", "cum"}


@dataclass
class ExchangeInfoLoad:
    """What a saved exchangeInfo gave: the instruments and what was skipped, by reason."""
    instruments: dict[str, Instrument]
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def skipped_count(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def summary(self) -> str:
        """One line for the operator: how many were taken and why the others were not."""
        line = f"{len(self.instruments)} symbol(s)"
        if self.skipped:
            why = ", ".join(f"{len(v)} {k}" for k, v in sorted(self.skipped.items()))
            line += f", skipped {self.skipped_count()} ({why})"
        return line


def read_binance_answer(path: "str | Path") -> Any:
    """The JSON answer saved in ``path``: the answer itself (numbers as Decimal, never
    float) or the first cryptofeed recording line ``<url> -> <epoch>: <json>``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{p}: cannot read: {e.strerror or e}") from None
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as e:
            raise ValueError(f"{p}: not valid JSON: {e}") from None
    for line in stripped.splitlines():
        head, sep, _ = line.partition(" -> ")
        if sep and head.startswith("http"):
            body = line[line.index(": ", len(head)) + 2:]
            try:
                return json.loads(body, parse_float=Decimal)
            except json.JSONDecodeError as e:
                raise ValueError(f"{p}: recording line for {head}: not valid JSON: {e}") from None
    raise ValueError(f"{p}: neither JSON nor a recorded REST answer (<url> -> <time>: <json>)")


def is_exchange_info(data: Any) -> bool:
    """True for a Binance exchangeInfo answer (symbols carrying ``filters``), False
    for paperex's compact instrument config."""
    if not isinstance(data, Mapping) or not isinstance(data.get("symbols"), list):
        return False
    if set(data) - {"symbols"}:
        return True
    return any(isinstance(s, Mapping) and "filters" in s for s in data["symbols"])


def _filters(sym: Mapping[str, Any], where: str) -> dict[str, Mapping[str, Any]]:
    raw = sym["filters"]
    if not isinstance(raw, list):
        raise ValueError(f"{where}: key filters: expected a list")
    out: dict[str, Mapping[str, Any]] = {}
    for f in raw:
        if not isinstance(f, Mapping) or "filterType" not in f:
            raise ValueError(f"{where}: key filters: every filter needs a filterType")
        ft = f["filterType"]
        if ft not in _FILTER_KEYS:
            raise ValueError(f"{where}: key filters: unknown filterType {ft!r}")
        unknown = sorted(set(f) - _FILTER_KEYS[ft] - {"filterType"})
        if unknown:
            raise ValueError(f"{where}: key filters.{ft}.{unknown[0]}: not a key of Binance's {ft}")
        out[ft] = f
    for need in ("PRICE_FILTER", "LOT_SIZE"):
        if need not in out:
            raise ValueError(f"{where}: key filters.{need}: missing")
        missing = sorted(_FILTER_KEYS[need] - set(out[need]))
        if missing:
            raise ValueError(f"{where}: key filters.{need}.{missing[0]}: missing")
    return out


def instrument_config_from_symbol(sym: Mapping[str, Any], brackets: BracketRows, where: str = "") -> dict:
    """paperex's config object (``instrument_from_config``'s keys) of one exchangeInfo symbol."""
    name = sym.get("symbol", "?")
    where = f"{where}symbol {name}"
    unknown = sorted(set(sym) - _SYMBOL_KEYS)
    if unknown:
        raise ValueError(f"{where}: key {unknown[0]}: not a key of Binance's exchangeInfo symbols")
    missing = [k for k in _SYMBOL_REQUIRED if k not in sym]
    if missing:
        raise ValueError(f"{where}: key {missing[0]}: missing")
    f = _filters(sym, where)
    price, lot = f["PRICE_FILTER"], f["LOT_SIZE"]
    cfg: dict = {
        "symbol": name, "baseAsset": sym["baseAsset"], "quoteAsset": sym["quoteAsset"],
        "tickSize": price["tickSize"], "stepSize": lot["stepSize"],
        "minPrice": price["minPrice"], "maxPrice": price["maxPrice"],
        "minQty": lot["minQty"], "maxQty": lot["maxQty"],
        "minNotional": f["MIN_NOTIONAL"]["notional"] if "MIN_NOTIONAL" in f else "5",
        "brackets": [_bracket_row(r) for r in brackets],
    }
    if "MARKET_LOT_SIZE" in f:
        cfg["marketMinQty"], cfg["marketMaxQty"] = f["MARKET_LOT_SIZE"]["minQty"], f["MARKET_LOT_SIZE"]["maxQty"]
    if "MAX_NUM_ORDERS" in f:
        cfg["maxNumOrders"] = f["MAX_NUM_ORDERS"]["limit"]
    if "MAX_NUM_ALGO_ORDERS" in f:
        cfg["maxNumAlgoOrders"] = f["MAX_NUM_ALGO_ORDERS"]["limit"]
    if "PERCENT_PRICE" in f:
        cfg["multiplierUp"] = f["PERCENT_PRICE"]["multiplierUp"]
        cfg["multiplierDown"] = f["PERCENT_PRICE"]["multiplierDown"]
    for key in ("marketTakeBound", "triggerProtect", "liquidationFee", "pricePrecision", "quantityPrecision",
                "orderTypes", "timeInForce"):
        if sym.get(key) is not None:
            cfg[key] = sym[key]
    return cfg


def _bracket_row(r: tuple) -> dict:
    """A config bracket row of ``(floor, cap, leverage, MMR[, cum])``; a given cum is checked."""
    row = {"notionalFloor": r[0], "notionalCap": r[1], "initialLeverage": r[2], "maintMarginRatio": r[3]}
    if len(r) > 4:
        row["cum"] = r[4]
    return row


def _skip_reason(sym: Mapping[str, Any]) -> Optional[str]:
    if sym.get("contractType") != "PERPETUAL":
        return "not PERPETUAL"
    if sym.get("status") != "TRADING":
        return "not TRADING"
    if sym.get("quoteAsset") != "USDT" or sym.get("marginAsset", "USDT") != "USDT":
        return "not USDT-margined"
    return None


def default_brackets(symbol: str, tier: Optional[int]) -> BracketRows:
    """The documented default table: the symbol's own if the project carries it,
    else its tier's (unknown tier: 3)."""
    return KNOWN_BRACKETS.get(symbol) or DEFAULT_BRACKETS_BY_TIER[tier if tier in DEFAULT_BRACKETS_BY_TIER else 3]


def instruments_from_exchange_info(info: Mapping[str, Any], symbols: Optional[Iterable[str]] = None, *,
                                   brackets: "Mapping[str, BracketRows] | BracketRows | None" = None,
                                   tiers: Optional[Mapping[str, int]] = None,
                                   source: str = "") -> ExchangeInfoLoad:
    """Instruments of an exchangeInfo answer.

    ``symbols``: only these (a name missing from the answer raises KeyError; a named
    symbol is taken even if it would be skipped); default every USDT-margined
    PERPETUAL symbol that is TRADING, the others counted in ``skipped``.
    ``brackets``: per symbol (a leverageBracket answer, see
    :func:`brackets_from_leverage_bracket`) or one table for all; missing symbols
    get :func:`default_brackets` by ``tiers``.  ``source`` prefixes every error.
    """
    where = f"{source}: " if source else ""
    if not isinstance(info, Mapping) or not isinstance(info.get("symbols"), list):
        raise ValueError(f"{where}key symbols: an exchangeInfo answer needs a symbols list")
    unknown = sorted(set(info) - _INFO_KEYS)
    if unknown:
        raise ValueError(f"{where}key {unknown[0]}: not a key of Binance's exchangeInfo")
    by_name: dict[str, Mapping[str, Any]] = {}
    for s in info["symbols"]:
        if not isinstance(s, Mapping) or not isinstance(s.get("symbol"), str):
            raise ValueError(f"{where}key symbols: every entry needs a symbol name")
        if s["symbol"] in by_name:
            raise ValueError(f"{where}symbol {s['symbol']}: key symbol: listed twice")
        by_name[s["symbol"]] = s
    load = ExchangeInfoLoad({})
    if symbols is None:
        names = []
        for n, s in by_name.items():
            why = _skip_reason(s)
            if why:
                load.skipped.setdefault(why, []).append(n)
            else:
                names.append(n)
    else:
        names = list(symbols)
        for n in names:
            if n not in by_name:
                raise KeyError(f"{where}symbol {n}: not in the exchangeInfo")
    per_symbol = brackets if isinstance(brackets, Mapping) else None
    for n in names:
        if per_symbol is not None and n in per_symbol:
            rows = per_symbol[n]
        elif brackets is not None and per_symbol is None:
            rows = brackets
        else:
            rows = default_brackets(n, (tiers or {}).get(n))
        try:
            load.instruments[n] = instrument_from_config(instrument_config_from_symbol(by_name[n], rows))
        except ValueError as e:
            msg = str(e)
            if msg.startswith(f"instrument {n}: "):    # instrument_from_config's prefix
                msg = f"symbol {n}: key " + msg[len(f"instrument {n}: "):]
            elif msg.startswith(f"{n}: "):              # Instrument's own validation
                msg = f"symbol {n}: " + msg[len(n) + 2:]
            raise ValueError(f"{where}{msg}") from None
    return load


def brackets_from_leverage_bracket(answer: Any, source: str = "") -> dict[str, BracketRows]:
    """``{symbol: rows}`` of a ``GET /fapi/v1/leverageBracket`` answer (a list of
    ``{"symbol", "brackets": [{bracket, initialLeverage, notionalCap, notionalFloor,
    maintMarginRatio, cum}]}``, or one such object for a single symbol).  ``cum`` is
    checked against the continuity rule when the instrument is built."""
    where = f"{source}: " if source else ""
    entries = [answer] if isinstance(answer, Mapping) else answer
    if not isinstance(entries, list):
        raise ValueError(f"{where}a leverageBracket answer is a list of {{symbol, brackets}}")
    out: dict[str, BracketRows] = {}
    for e in entries:
        if not isinstance(e, Mapping) or not isinstance(e.get("symbol"), str):
            raise ValueError(f"{where}key symbol: every leverageBracket entry needs a symbol name")
        sym = e["symbol"]
        unknown = sorted(set(e) - {"symbol", "brackets", "notionalCoef"})
        if unknown:
            raise ValueError(f"{where}symbol {sym}: key {unknown[0]}: not a key of Binance's leverageBracket")
        rows_in = e.get("brackets")
        if not isinstance(rows_in, list) or not rows_in:
            raise ValueError(f"{where}symbol {sym}: key brackets: expected a non-empty list")
        rows = []
        for i, b in enumerate(sorted(rows_in, key=lambda b: b.get("bracket", 0) if isinstance(b, Mapping) else 0),
                              start=1):
            if not isinstance(b, Mapping):
                raise ValueError(f"{where}symbol {sym}: key brackets[{i}]: expected an object")
            bad = sorted(set(b) - _BRACKET_ANSWER_KEYS)
            if bad:
                raise ValueError(f"{where}symbol {sym}: key brackets[{i}].{bad[0]}: not a key of Binance's brackets")
            miss = sorted({"initialLeverage", "notionalCap", "notionalFloor", "maintMarginRatio"} - set(b))
            if miss:
                raise ValueError(f"{where}symbol {sym}: key brackets[{i}].{miss[0]}: missing")
            row = (b["notionalFloor"], b["notionalCap"], b["initialLeverage"], b["maintMarginRatio"])
            rows.append(row + (b["cum"],) if "cum" in b else row)
        if sym in out:
            raise ValueError(f"{where}symbol {sym}: key symbol: listed twice")
        out[sym] = tuple(rows)
    return out


def load_exchange_info(path: "str | Path", brackets_path: "str | Path | None" = None, *,
                       tiers: Optional[Mapping[str, int]] = None,
                       symbols: Optional[Iterable[str]] = None) -> ExchangeInfoLoad:
    """A saved exchangeInfo file (and a saved leverageBracket file) -> instruments."""
    info = read_binance_answer(path)
    if not is_exchange_info(info):
        raise ValueError(f"{path}: key symbols: not an exchangeInfo answer (no symbols with filters)")
    rows = None
    if brackets_path is not None:
        rows = brackets_from_leverage_bracket(read_binance_answer(brackets_path), str(brackets_path))
    return instruments_from_exchange_info(info, symbols, brackets=rows, tiers=tiers, source=str(path))
