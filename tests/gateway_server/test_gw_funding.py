"""Funding and prices through the real server on a virtual clock: premiumIndex, fundingRate
history, fundingInfo, mark/index price klines, the markPrice stream, and a funding settlement
fired by POST /paperex/v1/clock/advance (FUNDING_FEE income and ACCOUNT_UPDATE, zero-sum)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gwhelpers import Api, ccxt_usdm, recv_until
from live_server import serving

SYM = "BTCUSDT"
START_MS = 1_700_000_000_000          # 2023-11-14 22:13:20 UTC; next funding boundary 00:00 UTC


@pytest.fixture
async def vserver(tmp_path):
    async with serving(tmp_path, clock="virtual", start_ms=START_MS) as srv:
        yield srv


async def test_funding_settlement_zero_sum(vserver, session):
    api = Api(session, vserver.rest_url)
    st, _ = await api.control("POST", "/index", {"symbol": SYM, "price": "50000"})
    assert st == 200
    short = await api.new_account()
    long_ = await api.new_account()
    st, _ = await short.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "SELL", "type": "LIMIT",
                                                          "timeInForce": "GTC", "quantity": "0.100",
                                                          "price": "50000"})
    assert st == 200
    st, _ = await long_.signed("POST", "/fapi/v1/order", {"symbol": SYM, "side": "BUY", "type": "MARKET",
                                                          "quantity": "0.100"})
    assert st == 200

    st, pi = await api.public("/fapi/v1/premiumIndex", symbol=SYM)
    assert st == 200 and pi["interestRate"] == "0.00010000" and pi["lastFundingRate"] == "0.00010000"
    assert pi["nextFundingTime"] == START_MS - START_MS % 28_800_000 + 28_800_000
    assert pi["markPrice"] == "50000.00000000" and pi["indexPrice"] == "50000.00000000"
    assert set(pi) == {"symbol", "markPrice", "indexPrice", "estimatedSettlePrice", "lastFundingRate",
                       "interestRate", "nextFundingTime", "time"}

    keys = []
    for acct in (short, long_):
        st, lk = await acct.keyed("POST", "/fapi/v1/listenKey")
        keys.append(lk["listenKey"])
    async with session.ws_connect(vserver.ws_url + "/ws/" + keys[0]) as ws_short, \
            session.ws_connect(vserver.ws_url + "/ws/" + keys[1]) as ws_long, \
            session.ws_connect(vserver.ws_url + "/market/ws/btcusdt@markPrice@1s") as ws_mark:
        st, adv = await api.control("POST", "/clock/advance", {"seconds": 28800})
        assert st == 200 and adv["time"] == START_MS + 28_800_000 and adv["commands"] > 28800
        upd_s, _ = await recv_until(ws_short, lambda m: m.get("e") == "ACCOUNT_UPDATE"
                                    and m["a"]["m"] == "FUNDING_FEE")
        upd_l, _ = await recv_until(ws_long, lambda m: m.get("e") == "ACCOUNT_UPDATE"
                                    and m["a"]["m"] == "FUNDING_FEE")
        bc_s = Decimal(upd_s["a"]["B"][0]["bc"])
        bc_l = Decimal(upd_l["a"]["B"][0]["bc"])
        assert bc_s > 0 > bc_l and upd_s["a"]["P"] == [] and upd_l["a"]["P"] == []
        mark, _ = await recv_until(ws_mark, lambda m: m.get("e") == "markPriceUpdate", timeout=5)
        assert set(mark) >= {"e", "E", "s", "p", "i", "P", "r", "T"} and mark["r"] == "0.00010000"
        assert mark["T"] == START_MS - START_MS % 28_800_000 + 2 * 28_800_000

    incomes = []
    for acct in (short, long_):
        st, rows = await acct.signed("GET", "/fapi/v1/income", {"incomeType": "FUNDING_FEE"})
        assert st == 200 and len(rows) == 1 and rows[0]["symbol"] == SYM and rows[0]["asset"] == "USDT", rows
        incomes.append(Decimal(rows[0]["income"]))
    assert incomes[0] > 0 > incomes[1]
    assert incomes[0] == bc_s and incomes[1] == bc_l
    assert abs(incomes[0] + incomes[1]) <= Decimal("0.00000001")      # payer rounds up, receiver down
    assert incomes[0] == Decimal("0.5")                                 # 0.1 BTC x 50000 x 0.01 %

    st, hist = await api.public("/fapi/v1/fundingRate", symbol=SYM)
    boundary = START_MS - START_MS % 28_800_000 + 28_800_000
    assert st == 200 and [(h["fundingTime"], h["fundingRate"]) for h in hist] == [(boundary, "0.00010000")]
    assert hist[0]["symbol"] == SYM and hist[0]["markPrice"].startswith("50")
    st, all_hist = await api.public("/fapi/v1/fundingRate")
    assert st == 200 and len(all_hist) == 2
    st, info = await api.public("/fapi/v1/fundingInfo")
    assert st == 200 and info[0]["symbol"] == SYM and info[0]["fundingIntervalHours"] == 8

    st, mk = await api.public("/fapi/v1/markPriceKlines", symbol=SYM, interval="1h")
    assert st == 200 and len(mk) >= 8, mk
    k = mk[-1]
    assert len(k) == 12 and k[5] == "0" and k[8] > 0 and k[6] == k[0] + 3_599_999
    assert Decimal(k[3]) <= Decimal(k[4]) <= Decimal(k[2])
    st, ik = await api.public("/fapi/v1/indexPriceKlines", pair=SYM, interval="8h")
    assert st == 200 and ik and ik[-1][4] == "50000.00000000"
    st, ck = await api.public("/fapi/v1/continuousKlines", pair=SYM, contractType="PERPETUAL", interval="1m")
    assert st == 200 and ck[-1][4] == "50000.00"

    ex = ccxt_usdm(vserver.rest_url, long_.key, long_.secret)
    try:
        await ex.load_markets()
        fr = await ex.fetch_funding_rate("BTC/USDT:USDT")
        assert fr["fundingRate"] == 0.0001 and fr["interestRate"] == 0.0001
        h = await ex.fetch_funding_rate_history("BTC/USDT:USDT")
        assert [x["fundingRate"] for x in h] == [0.0001]
        paid = await ex.fetch_funding_history("BTC/USDT:USDT")
        assert [x["amount"] for x in paid] == [-0.5]
    finally:
        await ex.close()


async def test_clock_advance_refused_on_wall_clock(api):
    st, body = await api.control("POST", "/clock/advance", {"seconds": 10})
    assert st == 400 and body["code"] == -1020
