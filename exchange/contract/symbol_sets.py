"""What ``paperex serve --symbols SPEC`` (and the pytest fixture's ``symbols=``) serves.

SPEC is one of:

* a file: a saved Binance ``exchangeInfo`` answer (optionally with ``--brackets``,
  a saved ``leverageBracket`` answer; see ``exchange.contract.binance_info``), or
  paperex's compact instrument config (``exchange.contract.instruments``);
* ``binance``: every USDⓈ-M perpetual of the bundled snapshot
  (``exchange/contract/data/binance_usdm.json``, made by
  ``scripts/make_binance_snapshot.py`` from the exchangeInfo recorded in
  ``shared/data``);
* ``binance:topN``: the snapshot's N first symbols by its volume rank;
* ``BTCUSDT,SOLUSDT,DOGEUSDT``: those symbols of the snapshot.

The snapshot also carries, per symbol, a reference price, a rank and a tier
(:class:`SymbolProfile`) for the synthetic market.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Optional

from exchange.contract.binance_info import (default_brackets, is_exchange_info, load_exchange_info,
                                            read_binance_answer)
from exchange.contract.instruments import Instrument, instrument_from_config, load_instruments

__all__ = ["SNAPSHOT_PATH", "SymbolProfile", "SymbolSet", "snapshot", "resolve_symbols"]

SNAPSHOT_PATH = Path(__file__).resolve().parent / "data" / "binance_usdm.json"
_SNAPSHOT_EXTRA = ("rank", "tier", "referencePrice", "priceSource")
_TOP = re.compile(r"binance:top([1-9][0-9]*)")
_LIST = re.compile(r"[A-Z0-9]+(,[A-Z0-9]+)*")


@dataclass(frozen=True)
class SymbolProfile:
    """What the snapshot knows of a symbol's market beyond its exchangeInfo."""
    symbol: str
    rank: int                 # 1 = most liquid (see scripts/make_binance_snapshot.py)
    tier: int                 # 1 BTC/ETH, 2 large caps, 3 the rest
    reference_price: Decimal
    price_source: str         # "recorded" or "estimated"


@dataclass
class SymbolSet:
    """Instruments to serve, what was skipped (by reason) and the snapshot's profiles."""
    instruments: dict[str, Instrument]
    source: str
    skipped: dict[str, list[str]] = field(default_factory=dict)
    profiles: dict[str, SymbolProfile] = field(default_factory=dict)

    def summary(self) -> str:
        line = f"{len(self.instruments)} symbol(s) from {self.source}"
        if self.skipped:
            n = sum(len(v) for v in self.skipped.values())
            line += f", skipped {n} (" + ", ".join(f"{len(v)} {k}" for k, v in sorted(self.skipped.items())) + ")"
        return line


@lru_cache(maxsize=1)
def snapshot() -> tuple[tuple[str, ...], dict[str, Instrument], dict[str, SymbolProfile]]:
    """(names by rank, instruments, profiles) of the bundled snapshot; read once."""
    data = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"), parse_float=Decimal)
    insts: dict[str, Instrument] = {}
    profiles: dict[str, SymbolProfile] = {}
    for entry in data["symbols"]:
        cfg = {k: v for k, v in entry.items() if k not in _SNAPSHOT_EXTRA}
        name, tier = cfg["symbol"], entry["tier"]
        cfg["brackets"] = [{"notionalFloor": a, "notionalCap": b, "initialLeverage": c, "maintMarginRatio": d}
                           for a, b, c, d in default_brackets(name, tier)]
        try:
            insts[name] = instrument_from_config(cfg)
        except ValueError as e:     # a bad regeneration of the data file
            raise ValueError(f"{SNAPSHOT_PATH}: {e}") from None
        profiles[name] = SymbolProfile(name, entry["rank"], tier, Decimal(entry["referencePrice"]),
                                       entry["priceSource"])
    names = tuple(sorted(insts, key=lambda n: profiles[n].rank))
    return names, insts, profiles


def tiers() -> dict[str, int]:
    """symbol -> tier of the bundled snapshot (the default bracket table of a saved exchangeInfo)."""
    return {n: p.tier for n, p in snapshot()[2].items()}


def _from_snapshot(names: list[str], source: str) -> SymbolSet:
    _, insts, profiles = snapshot()
    missing = [n for n in names if n not in insts]
    if missing:
        raise ValueError(f"--symbols {source}: symbol {missing[0]}: not in the bundled snapshot "
                         f"({SNAPSHOT_PATH.name}, {len(insts)} USDⓈ-M perpetuals)")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"--symbols {source}: symbol {dup}: listed twice")
    return SymbolSet({n: insts[n] for n in names}, f"the bundled snapshot ({source})",
                     profiles={n: profiles[n] for n in names})


def resolve_symbols(spec: "str | Path", brackets: "str | Path | None" = None) -> SymbolSet:
    """The SymbolSet of a ``--symbols`` value (see the module doc); ValueError names the
    file, the symbol and the key of any problem."""
    text = str(spec)
    path = Path(text)
    if path.is_file():
        data = read_binance_answer(path)
        if is_exchange_info(data):
            load = load_exchange_info(path, brackets, tiers=tiers())
            _, _, profiles = snapshot()
            return SymbolSet(load.instruments, str(path), load.skipped,
                             {n: profiles[n] for n in load.instruments if n in profiles})
        if brackets is not None:
            raise ValueError(f"--brackets {brackets}: only with a saved exchangeInfo (the compact config "
                             f"{path} carries its own brackets)")
        return SymbolSet(load_instruments(path), str(path))
    if brackets is not None:
        raise ValueError(f"--brackets {brackets}: only with a saved exchangeInfo file")
    names = snapshot()[0]
    if text == "binance":
        return _from_snapshot(list(names), text)
    m = _TOP.fullmatch(text)
    if m:
        n = int(m.group(1))
        if n > len(names):
            raise ValueError(f"--symbols {text}: the bundled snapshot has only {len(names)} symbols")
        return _from_snapshot(list(names[:n]), text)
    if _LIST.fullmatch(text):
        return _from_snapshot(text.split(","), text)
    raise ValueError(f"--symbols {text}: no such file, and not binance, binance:topN or a list "
                     f"like BTCUSDT,SOLUSDT")


def served_instruments(spec: "str | Path | None", brackets: "str | Path | None" = None) -> Optional[SymbolSet]:
    """None for no ``--symbols`` (the defaults), else :func:`resolve_symbols`."""
    return None if spec is None else resolve_symbols(spec, brackets)
