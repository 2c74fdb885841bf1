#!/usr/bin/env python3
"""Regenerate exchange/contract/data/binance_usdm.json, the bundled snapshot of
Binance's USDⓈ-M perpetuals behind ``paperex serve --symbols binance``.

Source: the real exchangeInfo recorded by cryptofeed on 2021-07-22
(``shared/data/binance-usdm/BINANCE_FUTURES.0``, 122 symbols) and the REST depth
snapshots recorded in the same session (``BINANCE_FUTURES.http.0.0``).

    python3 scripts/make_binance_snapshot.py [--data ../shared/data] [--out FILE] [--json]

What the recording holds and what is derived (all written into the file):
* filters, orderTypes, timeInForce, precisions, liquidationFee, ... : as recorded,
  for every USDT-margined PERPETUAL symbol that is TRADING (the others are skipped
  and counted).
* referencePrice: the recorded mid price where the session recorded a book
  (SUSHI, AKRO, KEEP, CTK); for the others the recording has no price, so it is
  estimated as ``minPrice x K`` on the tick grid, K being the median of
  mid / minPrice over the recorded books (Binance set PRICE_FILTER.minPrice at a
  roughly constant fraction of the price; K ~ 46 on that day, the four books
  giving 36 .. 62, so an estimate is within a factor ~1.4).
* rank: the recording has no 24 h volume; symbols are ranked by the notional one
  MARKET order may take (MARKET_LOT_SIZE.maxQty x referencePrice), which Binance
  sizes by a symbol's liquidity; ties by listing date, then name.
* tier: 1 for ranks 1-2, 2 for ranks 3-20, 3 for the rest; it picks the default
  leverage-bracket table (exchange.contract.binance_info.DEFAULT_BRACKETS_BY_TIER)
  and the synthetic market's maker sizes and beta.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exchange.contract.binance_info import (_skip_reason, instrument_config_from_symbol,  # noqa: E402
                                            instruments_from_exchange_info, read_binance_answer)

OUT = ROOT / "exchange" / "contract" / "data" / "binance_usdm.json"


def recorded_mids(http_path: Path) -> dict[str, Decimal]:
    """symbol -> mid price of each recorded ``/fapi/v1/depth`` answer."""
    out = {}
    for line in http_path.read_text().splitlines():
        url, _, rest = line.partition(" -> ")
        if "/depth?" not in url:
            continue
        body = json.loads(rest[rest.index(": ") + 2:], parse_float=Decimal)
        sym = url.split("symbol=")[1].split("&")[0]
        out[sym] = (Decimal(body["bids"][0][0]) + Decimal(body["asks"][0][0])) / 2
    return out


def build(data: Path) -> dict:
    info_path = data / "binance-usdm" / "BINANCE_FUTURES.0"
    info = read_binance_answer(info_path)
    mids = recorded_mids(data / "binance-usdm" / "BINANCE_FUTURES.http.0.0")
    load = instruments_from_exchange_info(info, source=str(info_path))   # validates every symbol
    by_name = {s["symbol"]: s for s in info["symbols"]}

    def fl(sym: dict, ft: str) -> dict:
        return next(f for f in sym["filters"] if f["filterType"] == ft)

    ratios = sorted(m / Decimal(fl(by_name[s], "PRICE_FILTER")["minPrice"]) for s, m in mids.items())
    k = Decimal(statistics.median(ratios)).quantize(Decimal("0.01"))
    rows = []
    for name in load.instruments:
        sym = by_name[name]
        pf = fl(sym, "PRICE_FILTER")
        tick = Decimal(pf["tickSize"])
        if name in mids:
            price, how = mids[name], "recorded"
        else:
            price, how = Decimal(pf["minPrice"]) * k, "estimated"
        ticks = (price / tick).to_integral_value(ROUND_HALF_EVEN)
        ref = (ticks * tick).quantize(tick)
        mkt = next((f for f in sym["filters"] if f["filterType"] == "MARKET_LOT_SIZE"), fl(sym, "LOT_SIZE"))
        capacity = Decimal(mkt["maxQty"]) * ref
        rows.append((-capacity, sym.get("onboardDate", 0), name, ref, how))
    rows.sort()
    symbols = []
    for rank, (_, _, name, ref, how) in enumerate(rows, start=1):
        cfg = instrument_config_from_symbol(by_name[name], ())
        del cfg["brackets"]
        tier = 1 if rank <= 2 else 2 if rank <= 20 else 3
        cfg.update({"rank": rank, "tier": tier, "referencePrice": str(ref), "priceSource": how})
        symbols.append(cfg)
    return {
        "format": "paperex-binance-usdm-snapshot/1",
        "source": "bmoscon/cryptofeed sample_data/BINANCE_FUTURES.0 (exchangeInfo) and BINANCE_FUTURES.http.0.0 "
                  "(depth), recorded 2021-07-22 22:25 UTC",
        "serverTime": info["serverTime"],
        "priceFactor": str(k),
        "skipped": {why: sorted(names) for why, names in sorted(load.skipped.items())},
        "symbols": symbols,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    a = ap.parse_args(argv)
    if not (a.data / "binance-usdm" / "BINANCE_FUTURES.0").is_file():
        a.data = Path("/work/shared/data")
    snap = build(a.data)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    # one symbol a line: compact, yet a diff shows which symbol changed
    lines = ",\n".join("  " + json.dumps(s, separators=(",", ":")) for s in snap["symbols"])
    head = {k: v for k, v in snap.items() if k != "symbols"}
    a.out.write_text(json.dumps(head, separators=(",", ":"))[:-1] + ',"symbols":[\n' + lines + "\n]}\n")
    summary = {"out": str(a.out), "symbols": len(snap["symbols"]),
               "skipped": sum(len(v) for v in snap["skipped"].values()), "priceFactor": snap["priceFactor"],
               "top20": [s["symbol"] for s in snap["symbols"][:20]]}
    print(f"wrote {a.out}: {summary['symbols']} symbols, skipped {summary['skipped']}, K={snap['priceFactor']}")
    if a.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
