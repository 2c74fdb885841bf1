"""Properties of the seeded past (exchange/engine/history.py), for any seed, span and start price."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.engine.history import MINUTE, TRADES_MINUTES, format_anchors, generate, parse_anchors
from exchange.perp.funding import average_premium, funding_rate

INSTRUMENTS = DEFAULT_INSTRUMENTS


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**40), minutes=st.integers(1, 12 * 60),
       end=st.integers(1_600_000_000_000, 1_900_000_000_000), btc=st.integers(1_000, 5_000_000),
       eth=st.integers(100, 500_000))
def test_the_past_is_well_formed_and_ends_at_the_anchor(seed, minutes, end, btc, eth):
    anchors = {"BTCUSDT": btc, "ETHUSDT": eth}
    assert parse_anchors(format_anchors(anchors)) == anchors
    out = generate(seed, minutes * MINUTE, end, anchors, INSTRUMENTS)
    assert out == generate(seed, minutes * MINUTE, end, anchors, INSTRUMENTS)      # a function of its inputs
    last_id = None
    for sym, h in out.items():
        inst = INSTRUMENTS[sym]
        start = end - end % MINUTE - minutes * MINUTE
        assert [k[0] for k in h.klines] == [start + i * MINUTE for i in range(minutes)]
        for rows in (h.klines, h.mark, h.index):
            for k in rows:
                assert 0 < k[3] <= min(k[1], k[4]) <= max(k[1], k[4]) <= k[2]
                assert all(type(v) is int for v in k)
        for rows in (h.klines, h.mark, h.index):          # each candle opens at the last close
            assert all(k[1] == prev[4] for prev, k in zip(rows, rows[1:]))
        assert h.klines[-1][4] == h.mark[-1][4] == h.index[-1][4] == anchors[sym]
        # trade ids: consecutive, candle by candle, ending at 0
        ids = [(k[10], k[11]) for k in h.klines]
        assert ids[-1][1] == 0 and all(b[0] == a[1] + 1 for a, b in zip(ids, ids[1:]))
        assert all(k[11] - k[10] + 1 == k[7] for k in h.klines)
        # the last hour's trades fold into exactly their candles
        n_traded = min(minutes, TRADES_MINUTES)
        by_minute: dict = {}
        for t in h.trades:
            by_minute.setdefault(t[4] - t[4] % MINUTE, []).append(t)
        assert sorted(by_minute) == [k[0] for k in h.klines[-n_traded:]]
        for k in h.klines[-n_traded:]:
            ts = by_minute[k[0]]
            prices = [t[1] for t in ts]
            assert (prices[0], max(prices), min(prices), prices[-1]) == (k[1], k[2], k[3], k[4])
            assert sum(t[2] for t in ts) == k[5] and len(ts) == k[7] and sum(t[3] for t in ts) == k[6]
            assert sum(t[2] for t in ts if not t[5]) == k[8]
            assert [t[0] for t in ts] == list(range(k[10], k[11] + 1))
        assert [t[6] for t in h.trades] == list(range(1, len(h.trades) + 1))
        # funding: at every funding time inside the span, by the live formula over the minute premiums
        iv = inst.funding_interval_ms
        times = [t for t in range(start - start % iv + iv, end + 1, iv) if t <= start + minutes * MINUTE]
        assert [f[0] for f in h.funding] == [t for t in times if t > start]
        for ft, rate, mark in h.funding:
            i = (ft - start) // MINUTE
            samples = [p[4] for p in h.premium[max(0, i - iv // MINUTE):i]]
            assert rate == funding_rate(average_premium(samples), inst.interest_rate_rate,
                                        inst.funding_cap_rate, inst.funding_floor_rate)
            assert mark == h.mark[i - 1][4]
        assert all(t % 300_000 == 0 and lots > 0 for t, lots, _ in h.open_interest)
        last_id = ids[-1][1]
    assert last_id == 0


def test_a_seed_is_its_own_past():
    a = generate(1, 600 * MINUTE, 1_767_225_600_000, {"BTCUSDT": 600_000}, INSTRUMENTS)
    b = generate(2, 600 * MINUTE, 1_767_225_600_000, {"BTCUSDT": 600_000}, INSTRUMENTS)
    assert a["BTCUSDT"].klines != b["BTCUSDT"].klines and a["BTCUSDT"].klines[-1][4] == b["BTCUSDT"].klines[-1][4]
    assert generate(1, 0, 1_767_225_600_000, {"BTCUSDT": 600_000}, INSTRUMENTS) == {}
    assert generate(1, 600 * MINUTE, 1_767_225_600_000, {"NOPEUSDT": 5}, INSTRUMENTS) == {}
