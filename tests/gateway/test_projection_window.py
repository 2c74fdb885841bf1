"""Candles folded from the window of 1m candles an answer needs equal the fold of all of them
(the projection's ``_window`` against a straightforward reference), over a seeded past."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from exchange.contract.commands import SeedHistory
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.gateway.projection import INTERVAL_MS, Projection, _bucket_start, _closed_candles

END = 1_767_225_600_000
SPAN = 3 * 86_400_000

_projection = Projection(DEFAULT_INSTRUMENTS)
_projection.seed_history(SeedHistory(5, SPAN, "BTCUSDT:600000,ETHUSDT:300000"), END)


def _reference(src: dict, interval_ms: int, month: bool, start, end, limit: int, width: int) -> list:
    buckets: dict = {}
    for t0, k in src.items():
        b = _bucket_start(t0, interval_ms, month)
        if end is not None and b > end:
            continue
        cur = buckets.get(b)
        if cur is None:
            buckets[b] = [b, *k[:4]] + ([k[4], 0, *k[5:9]] if width == 11 else [0, k[4]])
        else:
            cur[2] = max(cur[2], k[1])
            cur[3] = min(cur[3], k[2])
            cur[4] = k[3]
            if width == 11:
                cur[5] += k[4]
                for j in range(4):
                    cur[7 + j] += k[5 + j]
            else:
                cur[6] += k[4]
    return _closed_candles(buckets, 6 if width == 11 else 5, interval_ms, month, start, limit)


times = st.one_of(st.none(), st.integers(END - SPAN - 86_400_000, END + 3_600_000))


@settings(max_examples=200, deadline=None)
@given(iv=st.sampled_from(sorted(INTERVAL_MS)), start=times, end=times, limit=st.integers(1, 1500),
       which=st.sampled_from(["trades", "mark", "index", "premium"]))
def test_windowed_candles_equal_the_fold_of_every_minute(iv, start, end, limit, which):
    if start is not None and end is not None and start > end:
        start, end = end, start
    month = iv == "1M"
    m = _projection.markets["BTCUSDT"]
    if which == "trades":
        got = _projection.klines("BTCUSDT", INTERVAL_MS[iv], start, end, limit, month=month)
        want = _reference(m.klines, INTERVAL_MS[iv], month, start, end, limit, 11)
    else:
        got = _projection.price_klines("BTCUSDT", which, INTERVAL_MS[iv], start, end, limit, month=month)
        src = {"mark": m.mark_klines, "index": m.index_klines, "premium": m.premium_klines}[which]
        want = _reference(src, INTERVAL_MS[iv], month, start, end, limit, 7)
    assert got == want
