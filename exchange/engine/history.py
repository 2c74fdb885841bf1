"""A market's past, generated from a seed: what one ``SeedHistory`` command stands for.

``generate(seed, span_ms, end_ms, anchors, instruments)`` is a pure function of its
arguments: integer arithmetic only and ``random.Random`` instances seeded with
strings (stable across runs, platforms and PYTHONHASHSEED), so the journal needs
one command - seed, span, each symbol's price at the start point - and every
reader (the gateway's projection on start and after a restart, ``paperex
export``) expands it to the same candles, funding rows and trades.

Per symbol, minute by minute over ``[end - span, end)`` (whole minutes):

* the **index** is a random walk run backwards from the anchor, so the last
  minute closes exactly at the price the live market starts from; per-minute
  volatility has three regimes (calm / normal / busy) that switch now and then;
* the **premium** index is a mean-reverting walk of a few basis points (0 in the
  last minute); the **last price** is index x (1 + premium) and the **mark** sits
  between the two ranges (a mark is smoother than trades), so the last minute's
  last price, mark and index all close at the anchor;
* **volume**, trade count and taker-buy share are drawn per minute;
* the **funding rate** at every funding time inside the span is the live
  formula (``perp.funding``: the time-weighted premium average of the interval,
  interest clamp, cap / floor) over the minute premiums;
* **trades** of the last ``TRADES_MINUTES`` are drawn inside their candles (the
  first trade at the open, the last at the close, the high and the low each
  printed once, quantities summing to the volume), so those candles are exactly
  the fold of their trades; trade ids are <= 0, ending at 0, so the venue's own
  trade ids (from 1) continue them in time order;
* **open interest** every 5 minutes: a slow walk around a notional level.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Mapping

from exchange.contract.instruments import Instrument
from exchange.perp.funding import average_premium, funding_rate
from exchange.units import MONEY_SCALE, RATE_SCALE

MINUTE = 60_000
FINE = 1_000_000                 # the index walk's resolution: millionths of a tick
OI_PERIOD = 300_000
TRADES_MINUTES = 60              # the last hour of candles comes with its trades
MAX_SPAN_MS = 30 * 86_400_000    # Binance keeps 30 days of open-interest history; more costs start-up time
SIGMA_PER_MINUTE = 60_000        # RATE_SCALE units: ~0.06 % per minute (BTC-like, ~45 % a year)
REGIMES = ((1, 2), (1, 1), (2, 1))   # volatility multiplier as a fraction (num, den): calm, normal, busy
REGIME_STAY_MIN = 240            # mean minutes in a regime
MINUTE_NOTIONAL = 400_000        # USDT traded per minute on average
OI_NOTIONAL = 40_000_000         # USDT of open interest on average
PREMIUM_SIGMA = 1_500            # RATE_SCALE units: 0.0015 % steps of the premium index


@dataclass
class SymbolHistory:
    """One symbol's generated past, integers only (ticks, lots, money units, RATE_SCALE).

    ``klines``: (open_time, open, high, low, close, volume, quote, count, taker_buy_volume,
    taker_buy_quote, first_trade_id, last_trade_id); ``mark`` / ``index`` / ``premium``:
    (open_time, open, high, low, close, samples); ``funding``: (funding_time, rate, mark);
    ``trades``: (id, price, qty, quote, time, is_buyer_maker, agg_id), one aggregate trade
    each, agg ids from 1; ``open_interest``:
    (time, lots, value)."""
    symbol: str
    klines: list = field(default_factory=list)
    mark: list = field(default_factory=list)
    index: list = field(default_factory=list)
    premium: list = field(default_factory=list)
    funding: list = field(default_factory=list)
    trades: list = field(default_factory=list)
    open_interest: list = field(default_factory=list)


def parse_anchors(text: str) -> dict[str, int]:
    """``"BTCUSDT:600000,ETHUSDT:300000"`` -> {symbol: ticks}; ValueError on anything else."""
    out: dict[str, int] = {}
    if not text:
        return out
    for part in text.split(","):
        sym, sep, ticks = part.partition(":")
        if not sep or not sym or not ticks.isdigit() or int(ticks) <= 0 or sym in out:
            raise ValueError(f"bad history anchor {part!r} (expected SYMBOL:TICKS)")
        out[sym] = int(ticks)
    return out


def format_anchors(anchors: Mapping[str, int]) -> str:
    return ",".join(f"{s}:{int(anchors[s])}" for s in sorted(anchors))


def parse_span(text: "str | int") -> int:
    """``"3d"``, ``"12h"``, ``"90m"``, ``"0"`` -> milliseconds (whole minutes, at most 30 days)."""
    if isinstance(text, int):
        ms = text
    else:
        t = str(text).strip().lower()
        units = {"d": 86_400_000, "h": 3_600_000, "m": MINUTE}
        if t in ("0", "none", "off", ""):
            return 0
        if len(t) < 2 or t[-1] not in units or not t[:-1].isdigit():
            raise ValueError(f"--history {text!r}: expected a span like 7d, 12h, 90m or 0")
        ms = int(t[:-1]) * units[t[-1]]
    if ms < 0 or ms % MINUTE or ms > MAX_SPAN_MS:
        raise ValueError(f"history span must be whole minutes between 0 and 30 days, not {ms} ms")
    return ms


def _normalish(rng: random.Random, scale: int) -> int:
    """An integer draw with mean 0 and standard deviation ~``scale``: the Irwin-Hall sum of four
    16-bit uniforms taken from one 64-bit draw (one call into the generator, not four)."""
    b = rng.getrandbits(64)
    total = (b & 0xFFFF) + (b >> 16 & 0xFFFF) + (b >> 32 & 0xFFFF) + (b >> 48) - 131_070
    return total * scale // 37_837      # 37_837 ~ the sum's standard deviation (65_536 / sqrt(3))


def expand(command, ts: int, instruments: Mapping[str, Instrument]) -> dict[str, SymbolHistory]:
    """The past a journaled ``SeedHistory`` (executed at ``ts``) stands for."""
    return generate(command.seed, command.span_ms, ts, parse_anchors(command.anchors), instruments)


def digest(histories: Mapping[str, SymbolHistory]) -> str:
    """sha256 of an expanded past (every integer of it, symbols in order): what the replay,
    the export and the gateway each report, so anyone can see they expanded the same past."""
    import hashlib
    h = hashlib.sha256()
    for sym in sorted(histories):
        x = histories[sym]
        for part in (x.klines, x.mark, x.index, x.premium, x.funding, x.trades, x.open_interest):
            h.update(repr((sym, part)).encode())
    return h.hexdigest()


def _below(rng: random.Random, n: int) -> int:
    """0 <= x < n from one 32-bit draw (a modulo bias below 1e-5 for the small n used here;
    ``randrange`` would cost three calls)."""
    return rng.getrandbits(32) % n


def generate(seed: int, span_ms: int, end_ms: int, anchors: Mapping[str, int],
             instruments: Mapping[str, Instrument]) -> dict[str, SymbolHistory]:
    """The history of every anchored symbol that is an instrument (its integer scales: the
    notional unit, the minimum quantity, the funding interval, interest, cap and floor)."""
    out: dict[str, SymbolHistory] = {}
    n = span_ms // MINUTE
    if n <= 0:
        return out
    end_minute = end_ms - end_ms % MINUTE
    start = end_minute - n * MINUTE
    for sym in sorted(anchors):
        inst = instruments.get(sym)
        if inst is None:
            continue
        out[sym] = _symbol(seed, sym, start, n, end_ms, anchors[sym], inst)
    return out


def _symbol(seed: int, sym: str, start: int, n: int, end_ms: int, anchor: int, inst: Instrument) -> SymbolHistory:
    rng = random.Random(f"paperex-history/{seed}/{sym}")
    h = SymbolHistory(sym)
    unit = inst.notional_unit
    min_lots = max(1, inst.min_qty_lots)
    # ---- index closes, backwards from the anchor; per-minute returns in RATE_SCALE units
    # the walk runs on millionths of a tick (rounded to ticks per close): a coarse instrument
    # (a price of 100 ticks) would otherwise drift one tick per minute on floor rounding alone
    closes = [0] * n
    fine = anchor * FINE
    regime = 1
    for i in range(n - 1, -1, -1):
        closes[i] = max(1, (fine + FINE // 2) // FINE)
        if _below(rng, REGIME_STAY_MIN) == 0:
            regime = (regime + 1 + _below(rng, len(REGIMES) - 1)) % len(REGIMES)
        num, den = REGIMES[regime]
        r = _normalish(rng, SIGMA_PER_MINUTE * num // den)
        fine = max(FINE, fine * RATE_SCALE // (RATE_SCALE + r))
    first_open = max(1, (fine + FINE // 2) // FINE)
    # ---- premium index per minute (a mean-reverting walk), forwards
    prem = [0] * n
    p = _below(rng, 6_001) - 3_000
    for i in range(n):
        p = p * 9 // 10 + 300 + _normalish(rng, PREMIUM_SIGMA)   # drifts to ~+0.003 %
        prem[i] = p
    prem[n - 1] = 0         # the last minute closes with last = mark = index = the anchor
    counts = [8 + _below(rng, 41) for _ in range(n)]
    total_trades = sum(counts)
    next_id = 1 - total_trades
    trade_from = n - min(n, TRADES_MINUTES)
    agg_id = 1
    prev_prem = prem[0]
    prev_lc = prev_mc = 0
    for i in range(n):
        t = start + i * MINUTE
        io = closes[i - 1] if i else first_open
        ic = closes[i]
        wig = max(io, ic) * SIGMA_PER_MINUTE // (2 * RATE_SCALE)
        ih = max(io, ic) + _below(rng, wig + 1)
        il = max(1, min(io, ic) - _below(rng, wig + 1))
        h.index.append((t, io, ih, il, ic, 60))
        pi = prem[i]
        po = prev_prem
        prev_prem = pi
        pw = _below(rng, PREMIUM_SIGMA + 1)
        h.premium.append((t, po, max(po, pi) + pw, min(po, pi) - pw, pi, 12))
        lp = [max(1, v * (RATE_SCALE + pi) // RATE_SCALE) for v in (io, ih, il, ic)]
        if i:               # a candle opens where the one before closed (its first trade)
            lp[0] = prev_lc
        lo, lh, ll, lc = lp[0], max(lp), max(1, min(lp)), lp[3]
        # the mark: between the index and the last price, its range half the trades'
        mo = prev_mc if i else (io + lo) // 2
        mc = (ic + lc) // 2
        prev_lc, prev_mc = lc, mc
        mh = max(mo, mc) + (lh - max(lo, lc)) // 2
        ml = max(1, min(mo, mc) - (min(lo, lc) - ll) // 2)
        h.mark.append((t, mo, mh, ml, mc, 60))
        cnt = counts[i]
        notional = MINUTE_NOTIONAL * MONEY_SCALE * (30 + _below(rng, 221)) // 100
        vol = max(cnt * min_lots, notional // (lc * unit))
        first_id = next_id
        next_id += cnt
        if i >= trade_from:
            trades = _trades(rng, t, first_id, cnt, vol, lo, lh, ll, lc, unit)
            quote = tb = tbq = 0
            for tr in trades:
                quote += tr[3]
                if not tr[5]:          # the buyer was the taker
                    tb += tr[2]
                    tbq += tr[3]
            for tr in trades:
                h.trades.append(tr + (agg_id,))
                agg_id += 1
        else:
            quote = vol * ((lo + lh + ll + lc) // 4) * unit
            share = 35 + _below(rng, 31)
            tb = vol * share // 100
            tbq = quote * share // 100
        h.klines.append((t, lo, lh, ll, lc, vol, quote, cnt, tb, tbq, first_id, next_id - 1))
    _funding(h, inst, start, n, end_ms)
    _open_interest(rng, h, start, n, unit)
    return h


def _trades(rng: random.Random, t: int, first_id: int, cnt: int, vol: int, o: int, hi: int, lo: int,
            c: int, unit: int) -> list:
    """``cnt`` trades inside the candle (o, hi, lo, c) whose quantities sum to ``vol``."""
    prices = [lo + rng.randrange(hi - lo + 1) for _ in range(cnt)]
    prices[0] = o
    prices[-1] = c
    a, b = rng.sample(range(1, cnt - 1), 2)    # cnt >= 8: two distinct inner trades
    prices[a] = hi
    prices[b] = lo
    cuts = sorted(rng.sample(range(1, vol), cnt - 1))
    qtys = [y - x for x, y in zip([0] + cuts, cuts + [vol])]
    times = sorted(rng.randrange(MINUTE) for _ in range(cnt))
    return [(first_id + k, prices[k], qtys[k], prices[k] * qtys[k] * unit, t + times[k],
             bool(rng.getrandbits(1))) for k in range(cnt)]


def _funding(h: SymbolHistory, inst: Instrument, start: int, n: int, end_ms: int) -> None:
    """A settled rate at every funding time inside the span, by the live formula."""
    iv = inst.funding_interval_ms
    per = iv // MINUTE
    ft = start - start % iv + iv
    while ft <= start + n * MINUTE and ft <= end_ms:
        i = (ft - start) // MINUTE           # the minute that opens at ft
        lo = max(0, i - per)
        samples = [row[4] for row in h.premium[lo:i]]
        if samples:
            rate = funding_rate(average_premium(samples), inst.interest_rate_rate, inst.funding_cap_rate,
                                inst.funding_floor_rate)
            h.funding.append((ft, rate, h.mark[i - 1][4]))
        ft += iv


def _open_interest(rng: random.Random, h: SymbolHistory, start: int, n: int, unit: int) -> None:
    """Open interest at every 5-minute boundary inside the span (a slow walk)."""
    t = start - start % OI_PERIOD + (OI_PERIOD if start % OI_PERIOD else 0)
    end = start + n * MINUTE
    level = RATE_SCALE + _normalish(rng, RATE_SCALE // 10)
    while t < end:
        i = (t - start) // MINUTE
        price = h.klines[i][1]
        level = max(RATE_SCALE // 4, level + _normalish(rng, RATE_SCALE // 200))
        lots = OI_NOTIONAL * MONEY_SCALE // (price * unit) * level // RATE_SCALE
        h.open_interest.append((t, lots, lots * price * unit))
        t += OI_PERIOD


__all__ = ["SymbolHistory", "generate", "expand", "digest", "parse_anchors", "format_anchors", "parse_span", "MAX_SPAN_MS",
           "TRADES_MINUTES"]
