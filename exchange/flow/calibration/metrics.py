"""The calibration figures of one run, computed from a :class:`CascadeTape`.

Every figure is a plain float (or None when the run has nothing to measure it
on); :data:`METRICS` names them, with their unit and how they are measured.
Times are venue milliseconds; the event's start comes from the scenario (it is
the one thing the tape cannot know), the bottom is found on the index.

A run may go on past the event's window (``end_ms``: warm-up, event, rebound and
aftermath): ``paperex calibrate`` runs a named cascade until 8 h after its bottom
to read the funding then.  Every figure but ``funding_8h_after`` is measured on
the window only, so the longer run changes none of them.
"""
from __future__ import annotations

import statistics
from typing import Optional

from exchange.flow.calibration.tape import SAMPLE_MS, CascadeTape, SymbolTape

H = 3_600_000
BEFORE_MS = 20 * 60_000          # "before": the last 20 minutes before the event (holders have entered)
FUNDING_AFTER_MS = 8 * H         # "funding 8 h after": the 30 minutes ending this long after the extreme

#: name -> (unit, how it is measured)
METRICS: dict[str, tuple[str, str]] = {
    "drawdown": ("fraction", "main symbol's index: 1 - extreme / index at the event's start (a rise for a squeeze)"),
    "time_to_bottom_h": ("hours", "from the event's start to the index extreme"),
    "max_1m_move": ("fraction", "largest |change| of the index between consecutive 1-minute closes"),
    "rebound": ("fraction of the fall", "(last index - extreme) / (start index - extreme)"),
    "liquidated_over_oi": ("fraction", "liquidated notional (all symbols, from the start) / open interest at the start"),
    "oi_drop": ("fraction", "1 - lowest open interest after the start / open interest at the start (USDT at mark)"),
    "oi_drop_contracts": ("fraction", "the same in contracts (each symbol's lots valued at its mark at the start): "
                                      "the price move taken out"),
    "liq_share_market": ("fraction", "share of the liquidated notional executed in the order book: by the "
                                     "liquidation order or by the insurance fund's takeover order (not ADL)"),
    "liq_share_book": ("fraction", "share filled in the book by the liquidation order itself (at or above "
                                   "the bankruptcy price)"),
    "liq_share_insurance": ("fraction", "share taken over by the insurance fund"),
    "liq_share_adl": ("fraction", "share auto-deleveraged"),
    "insurance_change": ("fraction", "insurance fund balance at the end / at the start - 1"),
    "funding_before": ("% per 8 h", "mean funding estimate in the 20 minutes before the start"),
    "funding_during": ("% per 8 h", "mean funding estimate from the start to the extreme (to the end of a "
                                    "scripted event with no extreme: a funding spike's hold)"),
    "funding_after": ("% per 8 h", "mean funding estimate over the last 30 minutes of the event's window"),
    "funding_8h_after": ("% per 8 h", "mean funding estimate over the 30 minutes ending 8 h after the index "
                                      "extreme (the run must go on that long)"),
    "spread_bps": ("bps", "median resting spread in the 20 minutes before the start (1-minute samples)"),
    "depth_02_over_oi": ("fraction", "median resting depth within +-0.2 % of the mid before the start / open interest (same samples)"),
    "depth_1_over_oi": ("fraction", "the same within +-1 %"),
    "depth_drain": ("fraction", "1 - lowest depth within +-1 % (start to 30 min after the extreme) / median before"),
    "volume_surge": ("x", "busiest 60 minutes after the start / the 20 minutes before it, per hour"),
    "eth_btc_beta": ("x", "ETH's drawdown / BTC's drawdown"),
}


def _at(series: list, ts: int, default: Optional[float] = None) -> Optional[float]:
    """Last value at or before ``ts`` in a (ts, value, ...) series."""
    v = default
    for row in series:
        if row[0] > ts:
            break
        v = row[1]
    return v


def _mean(xs: list) -> Optional[float]:
    return sum(xs) / len(xs) if xs else None


def index_extreme(st: SymbolTape, start_ms: int, direction: int,
                  end_ms: Optional[int] = None) -> tuple[Optional[float], Optional[float], int]:
    """(index at start, extreme after it up to ``end_ms``, time of the extreme)."""
    p0 = _at(st.index, start_ms)
    after = [(t, p) for t, p in st.index if t >= start_ms and (end_ms is None or t <= end_ms)]
    if p0 is None or not after:
        return p0, None, start_ms
    if direction > 0:
        t, p = max(after, key=lambda tp: (tp[1], -tp[0]))
    else:
        t, p = min(after, key=lambda tp: (tp[1], tp[0]))
    return p0, p, t


def _move(p0: Optional[float], ext: Optional[float], direction: int) -> Optional[float]:
    if not p0 or ext is None:
        return None
    return (ext / p0 - 1.0) if direction > 0 else (1.0 - ext / p0)


def compute(tape: CascadeTape, start_ms: Optional[int], *, end_ms: Optional[int] = None, main: str = "BTCUSDT",
            other: str = "ETHUSDT", direction: int = -1, during_end_ms: Optional[int] = None) -> dict:
    """The figures of :data:`METRICS` for a run whose event starts at ``start_ms``
    (None: no event - only the book, volume and funding figures) and whose event
    window ends at ``end_ms`` (None: at the end of the run).  ``during_end_ms``: the end
    of an event whose index has no extreme to wait for (a funding spike): "during" runs
    to it instead of to the extreme."""
    out: dict = {k: None for k in METRICS}
    st = tape.symbols.get(main)
    if st is None or tape.first_ts is None:
        return out
    first, last = tape.first_ts, tape.last_ts if end_ms is None else min(tape.last_ts, end_ms)
    ref = start_ms if start_ms is not None else last
    pre_lo = max(first, ref - BEFORE_MS)
    # ---- the book before the event
    pre_book = [b for b in st.book if pre_lo <= b[0] < ref and b[1] > 0]
    oi_pre = [o for o in st.oi if pre_lo <= o[0] < ref and o[1] > 0]
    if pre_book:
        out["spread_bps"] = statistics.median((b[2] - b[1]) / ((b[1] + b[2]) / 2) * 1e4 for b in pre_book)
        oi_ref = statistics.median(o[1] for o in oi_pre) if oi_pre else 0.0
        if oi_ref > 0:
            out["depth_02_over_oi"] = statistics.median(b[3] for b in pre_book) / oi_ref
            out["depth_1_over_oi"] = statistics.median(b[4] for b in pre_book) / oi_ref
    fb = [r for t, r in st.funding if pre_lo <= t < ref]
    out["funding_before"] = None if not fb else 100 * _mean(fb)
    fa = [r for t, r in st.funding if last - 30 * 60_000 <= t <= last]
    out["funding_after"] = None if not fa else 100 * _mean(fa)
    if start_ms is None:
        return out
    # ---- the price path
    p0, ext, t_ext = index_extreme(st, start_ms, direction, last)
    out["drawdown"] = _move(p0, ext, direction)
    if ext is not None:
        out["time_to_bottom_h"] = (t_ext - start_ms) / H
        lastp = _at(st.index, last)
        # 8 h after the extreme: only a run that went on that long has it (no partial window)
        t8 = t_ext + FUNDING_AFTER_MS
        if tape.last_ts >= t8:
            f8 = [r for t, r in st.funding if t8 - 30 * 60_000 <= t <= t8]
            out["funding_8h_after"] = None if not f8 else 100 * _mean(f8)
        if p0 != ext:
            out["rebound"] = (lastp - ext) / (p0 - ext)
    closes: dict[int, float] = {}
    for t, p in st.index:
        if t > last:
            break
        closes[t // 60_000] = p
    mins = sorted(closes)
    moves = [abs(closes[b] / closes[a] - 1.0) for a, b in zip(mins, mins[1:]) if b == a + 1]
    out["max_1m_move"] = max(moves) if moves else None
    ot = tape.symbols.get(other)
    if ot is not None and out["drawdown"]:
        q0, qext, _ = index_extreme(ot, start_ms, direction, last)
        om = _move(q0, qext, direction)
        if om is not None:
            out["eth_btc_beta"] = om / out["drawdown"]
    fd = [r for t, r in st.funding if start_ms <= t <= (t_ext if during_end_ms is None else during_end_ms)]
    out["funding_during"] = None if not fd else 100 * _mean(fd)
    # ---- open interest and liquidations (every symbol)
    oi_series: dict[int, float] = {}
    for s in tape.symbols.values():
        for t, v in s.oi:
            oi_series[t] = oi_series.get(t, 0.0) + v
    times = sorted(oi_series)
    before = [t for t in times if t <= start_ms]
    oi0 = oi_series[before[-1]] if before else None
    if oi0:
        after = [oi_series[t] for t in times if start_ms < t <= last]
        if after:
            out["oi_drop"] = 1.0 - min(after) / oi0
        # in contracts: each symbol's lots at its USDT-per-lot at the start (a squeeze's open
        # interest in USDT rises with the price even as its shorts are closed)
        lots: dict[int, float] = {}
        for s in tape.symbols.values():
            pairs = list(zip(s.oi, s.oi_lots))
            ref_rows = [(u, n) for (t, u), (_, n) in pairs if t <= start_ms and n > 0]
            if not ref_rows:
                continue
            per_lot = ref_rows[-1][0] / ref_rows[-1][1]
            for (t, _), (_, n) in pairs:
                lots[t] = lots.get(t, 0.0) + n * per_lot
        lt = sorted(lots)
        lb = [t for t in lt if t <= start_ms]
        la = [lots[t] for t in lt if t > start_ms]
        if lb and la and lots[lb[-1]] > 0:
            out["oi_drop_contracts"] = 1.0 - min(la) / lots[lb[-1]]
        via = {"book": 0.0, "insurance": 0.0, "adl": 0.0}
        for s in tape.symbols.values():
            for t, how, n in s.liquidated:
                if start_ms <= t <= last:
                    via[how] += n
        total = sum(via.values())
        out["liquidated_over_oi"] = total / oi0
        if total > 0:
            out["liq_share_market"] = (via["book"] + via["insurance"]) / total
            out["liq_share_book"] = via["book"] / total
            out["liq_share_insurance"] = via["insurance"] / total
            out["liq_share_adl"] = via["adl"] / total
    f0 = _at(tape.insurance, start_ms, tape.insurance[0][1] if tape.insurance else None)
    if f0:
        out["insurance_change"] = _at(tape.insurance, last, f0) / f0 - 1.0
    # ---- the book and volume in the event
    pre_d1 = [b[4] for b in pre_book]
    during = [b[4] for b in st.book if start_ms <= b[0] <= t_ext + 30 * 60_000]
    if pre_d1 and during:
        out["depth_drain"] = 1.0 - min(during) / statistics.median(pre_d1)
    vol = st.volume
    pre_m = [vol.get(m, 0.0) for m in range(pre_lo // SAMPLE_MS, start_ms // SAMPLE_MS)]
    if pre_m and sum(pre_m) > 0:
        hour = 60 * sum(pre_m) / len(pre_m)
        m0, m1 = start_ms // SAMPLE_MS, last // SAMPLE_MS
        window = [vol.get(m, 0.0) for m in range(m0, m1 + 1)]
        best = run = sum(window[:60])
        for i in range(60, len(window)):
            run += window[i] - window[i - 60]
            best = max(best, run)
        out["volume_surge"] = best / hour
    return out
