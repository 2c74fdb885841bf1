"""tardis.dev CSV reader (shared/data/tardis)."""
from collections import Counter

from exchange.flow import (BookTicker, DepthDiff, DepthSnapshot, FundingRate, IndexPrice, MarkPrice, Trade,
                           open_recording)
from exchange.flow.readers import TardisCsvReader


def test_tardis_binance_trades(recording):
    reader = recording("tardis/binance-futures_trades_BTCUSDT.csv", "tardis_csv", TardisCsvReader)
    trades = list(reader)
    assert len(trades) == 9_999 and reader.stats.lines == 10_000
    assert trades[0] == Trade(1582329602111, "BTCUSDT", "9682", "0.132", "BUY", 42377944)
    assert trades[-1].ts_ms // 1000 == 1582337147                 # 02:05:47
    ids = sorted(t.trade_id for t in trades)
    assert ids == list(range(42377944, 42387943))                 # contiguous
    assert Counter(t.taker_side for t in trades) == {"BUY": 5_267, "SELL": 4_732}
    ts = [t.ts_ms for t in trades]
    assert ts == sorted(ts)


def test_tardis_quotes(sample):
    quotes = list(open_recording(sample("tardis/binance-futures_quotes_BTCUSDT.csv")))
    assert len(quotes) == 9_999
    assert quotes[0] == BookTicker(1582329601096, "BTCUSDT", "9681.92", "0.67", "9682", "0.84")
    assert quotes[-1].ts_ms // 1000 == 1582329827                 # 00:03:47


def test_tardis_book_snapshots(sample):
    for n in (5, 25):
        snaps = list(open_recording(sample(f"tardis/binance-futures_book_snapshot_{n}_BTCUSDT.csv")))
        assert len(snaps) == 10
        s = snaps[0]
        assert (s.ts_ms, s.top_n, len(s.bids), len(s.asks), s.last_update_id) == (1598918403696, n, n, n, None)
        assert s.asks[0] == ("11657.08", "1.714") and s.bids[0] == ("11657.07", "10.896")
        assert all(float(s.bids[0][0]) < float(s.asks[0][0]) for s in snaps)


def test_tardis_deribit_incremental_snapshot_rows(sample):
    (snap,) = list(open_recording(sample("tardis/deribit_incremental_book_L2_BTC-PERPETUAL.csv")))
    assert type(snap) is DepthSnapshot and snap.symbol == "BTC-PERPETUAL"
    assert len(snap.asks) + len(snap.bids) == 15
    assert snap.asks[0] == ("6421.5", "18640") and snap.ts_ms == 1585699200245


def test_tardis_bitmex_trades_uuid_ids(sample):
    trades = list(open_recording(sample("tardis/bitmex_trades_XBTUSD.csv")))
    assert len(trades) == 10
    assert trades[0].trade_id == "ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf"
    assert (trades[0].symbol, trades[0].price, trades[0].qty, trades[0].taker_side) == ("XBTUSD", "8531.5", "2152", "SELL")


# layouts without a real sample (README "Gaps" 2): the documented columns

def test_tardis_incremental_updates_grouped(tmp_path):
    p = tmp_path / "binance-futures_incremental_book_L2_2020-09-01_BTCUSDT.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
                 "binance-futures,BTCUSDT,1598918400000000,1598918400100000,true,ask,11657.08,1.7\n"
                 "binance-futures,BTCUSDT,1598918400000000,1598918400100000,true,bid,11657.07,2\n"
                 "binance-futures,BTCUSDT,1598918400200000,1598918400300000,false,ask,11657.08,0\n"
                 "binance-futures,BTCUSDT,1598918400200000,1598918400300000,false,bid,11657.00,1.5\n"
                 "binance-futures,BTCUSDT,1598918400400000,1598918400500000,false,bid,11657.07,0.0\n")
    recs = list(open_recording(p))
    assert recs == [
        DepthSnapshot(1598918400000, "BTCUSDT", None, (("11657.07", "2"),), (("11657.08", "1.7"),)),
        DepthDiff(1598918400200, "BTCUSDT", None, None, None, (("11657.00", "1.5"),), (("11657.08", "0"),)),
        DepthDiff(1598918400400, "BTCUSDT", None, None, None, (("11657.07", "0"),), ()),
    ]


def test_tardis_derivative_ticker(tmp_path):
    p = tmp_path / "binance-futures_derivative_ticker_2020-09-01_BTCUSDT.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,predicted_funding_rate,"
                 "open_interest,last_price,index_price,mark_price\n"
                 "binance-futures,BTCUSDT,1598918400000000,1598918400100000,1598947200000000,0.0001,,"
                 "1000.5,11657.1,11650.12,11655.5\n"
                 "binance-futures,BTCUSDT,1598918401000000,1598918401100000,,,,,11657.2,,11655.6\n")
    recs = list(open_recording(p))
    assert recs == [MarkPrice(1598918400000, "BTCUSDT", "11655.5"),
                    IndexPrice(1598918400000, "BTCUSDT", "11650.12"),
                    FundingRate(1598918400000, "BTCUSDT", "0.0001", 1598947200000, False),
                    MarkPrice(1598918401000, "BTCUSDT", "11655.6")]


def test_tardis_liquidations_by_name(tmp_path):
    p = tmp_path / "binance-futures_liquidations_2021-05-19_BTCUSDT.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                 "binance-futures,BTCUSDT,1621382400000000,1621382400100000,,sell,40000.5,0.5\n")
    (t,) = list(open_recording(p))
    assert (t.kind, t.taker_side, t.trade_id, t.price) == ("liquidation", "SELL", None, "40000.5")
