"""GET /fapi/v1/premiumIndexKlines from the premium samples the venue takes every 5 s
(SamplePremium), on a virtual clock moved by POST /paperex/v1/clock/advance."""
from __future__ import annotations

import pytest

from gwhelpers import Api, ccxt_usdm
from live_server import serving

SYM = "BTCUSDT"
T0 = 1_700_000_040_000          # a minute boundary, 22:14 UTC (no funding boundary within the test)
M = 60_000


@pytest.fixture
async def vserver(tmp_path):
    async with serving(tmp_path, clock="virtual", start_ms=T0) as srv:
        yield srv


async def _advance(api: Api, seconds: int) -> None:
    st, body = await api.control("POST", "/clock/advance", {"seconds": seconds})
    assert st == 200, body


async def _quote(maker: Api, bid: str, ask: str) -> None:
    for side, price in (("BUY", bid), ("SELL", ask)):
        st, o = await maker.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": side, "type": "LIMIT",
                                                              "timeInForce": "GTC", "quantity": "2.000",
                                                              "price": price})
        assert st == 200, o


async def test_premium_index_klines_from_samples(vserver, session):
    api = Api(session, vserver.rest_url)
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    assert st == 200
    # an empty book gives no sample (impact notional not met): no candle
    await _advance(api, 60)
    st, rows = await api.public("/fapi/v1/premiumIndexKlines", symbol=SYM, interval="1m")
    assert st == 200 and rows == []

    maker = await api.new_account()
    # whole book above the index: premium = (impact bid - index) / index = 100 / 50000
    await _quote(maker, "50100", "50200")
    await _advance(api, 60)             # samples at T0+65 s .. T0+120 s
    st, _ = await maker.signed("DELETE", "/fapi/v1/allOpenOrders", {"symbol": SYM})
    assert st == 200
    # whole book below the index: premium = -(index - impact ask) / index = -50 / 50000
    await _quote(maker, "49900", "49950")
    await _advance(api, 60)             # samples at T0+125 s .. T0+180 s

    st, rows = await api.public("/fapi/v1/premiumIndexKlines", symbol=SYM, interval="1m")
    assert st == 200, rows
    pos, neg = "0.00200000", "-0.00100000"
    assert rows == [
        [T0 + M, pos, pos, pos, pos, "0", T0 + 2 * M - 1, "0", 11, "0", "0", "0"],
        [T0 + 2 * M, pos, pos, neg, neg, "0", T0 + 3 * M - 1, "0", 12, "0", "0", "0"],
        [T0 + 3 * M, neg, neg, neg, neg, "0", T0 + 4 * M - 1, "0", 1, "0", "0", "0"],
    ]
    # bigger intervals fold the minutes; startTime / endTime / limit as on the other klines
    hour = T0 - T0 % 3_600_000
    st, rows = await api.public("/fapi/v1/premiumIndexKlines", symbol=SYM, interval="1h")
    assert st == 200 and rows == [[hour, pos, pos, neg, neg, "0", hour + 3_599_999, "0", 24, "0", "0", "0"]]
    st, rows = await api.public("/fapi/v1/premiumIndexKlines", symbol=SYM, interval="1m",
                                startTime=T0 + 2 * M, limit=1)
    assert st == 200 and [r[0] for r in rows] == [T0 + 2 * M]
    st, rows = await api.public("/fapi/v1/premiumIndexKlines", symbol=SYM, interval="1m", endTime=T0 + M)
    assert st == 200 and [r[0] for r in rows] == [T0 + M]
    st, rows = await api.public("/fapi/v1/premiumIndexKlines", symbol="ETHUSDT", interval="1m")
    assert st == 200 and rows == []
    st, err = await api.public("/fapi/v1/premiumIndexKlines", symbol="NOPEUSDT", interval="1m")
    assert st == 400 and err["code"] == -1121

    ex = ccxt_usdm(vserver.rest_url, maker.key, maker.secret)
    try:
        await ex.load_markets()
        ohlcv = await ex.fetch_premium_index_ohlcv("BTC/USDT:USDT", "1m")
        assert [c[:5] for c in ohlcv] == [[T0 + M, 0.002, 0.002, 0.002, 0.002],
                                          [T0 + 2 * M, 0.002, 0.002, -0.001, -0.001],
                                          [T0 + 3 * M, -0.001, -0.001, -0.001, -0.001]]
    finally:
        await ex.close()
