"""Binance public-data CSV, freqtrade JSON and generic OHLCV readers."""
import zipfile

from exchange.flow import (BookDepthBand, BookTicker, DepthDiff, DepthSnapshot, FundingRate, Kline, Trade,
                           open_recording)
from exchange.flow.readers import BinanceCsvReader, FreqtradeJsonReader


# ---------------------------------------------------------------------------
# real samples

def test_binance_depth_snap_csv(recording):
    reader = recording("binance-usdm/btcusdt-depth-snap.csv", "binance_csv", BinanceCsvReader)
    (snap,) = list(reader)
    assert reader.layout == "depth"
    assert type(snap) is DepthSnapshot
    assert (snap.ts_ms, snap.symbol, snap.last_update_id) == (1667346579146, "BTCUSDT", 2098021528332)
    assert (len(snap.bids), len(snap.asks)) == (100, 0)          # 100 rows, all bids
    assert snap.bids[:2] == (("20377.00", "1.770"), ("20376.90", "0.001"))
    assert reader.stats.lines == 101 and reader.stats.ignored == 1     # the header


def test_binance_depth_update_csv(sample):
    (diff,) = list(open_recording(sample("binance-usdm/btcusdt-depth-update.csv")))
    assert type(diff) is DepthDiff
    assert (diff.ts_ms, diff.first_id, diff.last_id, diff.prev_last_id) == (
        1667347199939, 2098041693435, 2098041696700, 2098041693400)
    assert (len(diff.asks), len(diff.bids)) == (77, 23)
    assert diff.asks[0] == ("20472.80", "0")                     # "0.000" deletes
    assert diff.bids[0] == ("2047.30", "0.009")


def test_spot_klines_headerless(sample):
    path = sample("binance-spot/ADABTC-1m-2021-11-27.csv")
    reader = open_recording(path)
    ks = list(reader)
    assert reader.layout == "klines" and len(ks) == 10
    k = ks[0]
    assert k == Kline(1637971259999, "ADABTC", "1m", 1637971200000, 1637971259999, "0.00002853",
                      "0.00002854", "0.00002851", "0.00002854", "36304.20000000", True, "trade", 79,
                      "1.03547608", "19523.00000000", "0.55694227")
    assert ks[-1].open_ms == 1637971740000          # 00:09 UTC
    assert all(k.ts_ms == k.close_ms for k in ks)   # stamped at close: no look-ahead


def test_freqtrade_futures_candles(recording):
    reader = recording("binance-usdm/XRP_USDT_USDT-5m-futures.json", "freqtrade_json", FreqtradeJsonReader)
    ks = list(reader)
    assert len(ks) == 1999
    assert ks[0].open_ms == 1636934400000 and ks[-1].open_ms == 1637533800000   # 11-15 00:00 -> 11-21 22:30
    assert all(b.open_ms - a.open_ms == 300_000 for a, b in zip(ks, ks[1:]))      # no gaps
    assert (ks[0].symbol, ks[0].interval, ks[0].kind) == ("XRPUSDT", "5m", "trade")
    assert (ks[0].open, ks[0].high, ks[0].low, ks[0].close, ks[0].volume) == (
        "1.1893", "1.1954", "1.1891", "1.1941", "9289043.5")
    assert ks[1].volume == "7267451.9"           # float 7267451.9000000004 -> shortest text


def test_freqtrade_mark_candles(sample):
    ks = list(open_recording(sample("binance-usdm/XRP_USDT_USDT-1h-mark.json")))
    assert len(ks) == 100 and {k.kind for k in ks} == {"mark"}
    assert ks[0].open_ms == 1636956000000 and ks[-1].open_ms == 1637312400000
    assert ks[0].volume is None and ks[0].open == "1.20932"


def test_freqtrade_funding_rate(sample):
    rates = list(open_recording(sample("binance-usdm/XRP_USDT_USDT-8h-funding_rate.json")))
    assert len(rates) == 91 and all(type(r) is FundingRate and r.settled for r in rates)
    assert rates[0] == FundingRate(1637193600017, "XRPUSDT", "0.0001", 1637193600017, True, 8)
    assert rates[-1].ts_ms == 1639785600014
    assert sum(r.value == "0.0001" for r in rates) == 70
    # the README says the others "run up to 0.00033523"; the file's maximum is
    # in fact 0.00058316 (0.00033523 is the third largest)
    top = sorted((r.value for r in rates), key=float)[-3:]
    assert top == ["0.00033523", "0.00034381", "0.00058316"]


def test_ftx_ohlcv_csv(sample):
    path = sample("ftx/btc-perp-20211231-20220201_1m.csv")
    reader = open_recording(path)
    ks = list(reader)
    assert reader.layout == "ohlcv" and len(ks) == 45_031
    assert ks[0] == Kline(1640991719999, "BTC-PERP", "1m", 1640991660000, 1640991719999, "46319.0",
                          "46385.0", "46319.0", "46377.0", "2300413.7295")
    assert all(b.open_ms - a.open_ms == 60_000 for a, b in zip(ks, ks[1:]))
    lo = min(float(k.low) for k in ks)
    hi = max(float(k.high) for k in ks)
    assert (lo, hi) == (32837.0, 48080.0)


# ---------------------------------------------------------------------------
# data.binance.vision layouts (no real sample exists, README "Gaps" 1): documented headers

def _read_written(path, text) -> list:
    """Write ``text`` to ``path`` (named as data.binance.vision names it) and read it back."""
    path.write_text(text)
    return list(open_recording(path))


def _write_zip(path, member, text):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, text)
    return path


def test_vision_trades_zip(tmp_path):
    p = _write_zip(tmp_path / "BTCUSDT-trades-2024-01-01.zip", "BTCUSDT-trades-2024-01-01.csv",
                   "id,price,qty,quote_qty,time,is_buyer_maker\n"
                   "4455000001,42283.20,0.010,422.83200,1704067200132,true\n"
                   "4455000002,42283.30,0.004,169.13320,1704067200140,false\n")
    recs = list(open_recording(p))
    assert recs == [
        Trade(1704067200132, "BTCUSDT", "42283.20", "0.010", "SELL", 4455000001, 1704067200132),
        Trade(1704067200140, "BTCUSDT", "42283.30", "0.004", "BUY", 4455000002, 1704067200140),
    ]


def test_vision_aggtrades_headerless(tmp_path):
    recs = _read_written(tmp_path / "ETHUSDT-aggTrades-2019-12-31.csv",
                         "1,130.10,2.5,10,12,1577750400000,true\n2,130.20,0.1,13,13,1577750400500,false\n")
    assert recs[0] == Trade(1577750400000, "ETHUSDT", "130.10", "2.5", "SELL", 1, 1577750400000,
                            "aggTrade", 10, 12)
    assert recs[1].taker_side == "BUY"


def test_vision_book_ticker(tmp_path):
    recs = _read_written(tmp_path / "BTCUSDT-bookTicker-2023-06-15.csv",
                         "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,"
                         "transaction_time,event_time\n"
                         "2948552298577,25115.90,13.097,25116.00,1.230,1686787200009,1686787200015\n"
                         "2948552298600,25115.90,13.000,25116.00,1.230,1686787200003,1686787200010\n")
    # ordered by event time: the second row happened first
    assert [r.update_id for r in recs] == [2948552298600, 2948552298577]
    assert recs[1] == BookTicker(1686787200015, "BTCUSDT", "25115.90", "13.097", "25116.00", "1.230",
                                 2948552298577, 1686787200009)


def test_vision_book_depth_bands(tmp_path):
    recs = _read_written(tmp_path / "BTCUSDT-bookDepth-2023-01-15.csv",
                         "timestamp,percentage,depth,notional\n"
                         "2023-01-15 23:57:03,-5,529798.00000000,11864400.15700000\n"
                         "2023-01-15 23:57:03,5,1234.5,99.5\n")
    assert recs[0] == BookDepthBand(1673827023000, "BTCUSDT", "-5", "529798.00000000", "11864400.15700000")
    assert recs[1].percentage == "5"


def test_vision_funding_rate(tmp_path):
    recs = _read_written(tmp_path / "BTCUSDT-fundingRate-2024-01.csv",
                         "calc_time,funding_interval_hours,last_funding_rate\n"
                         "1704067200000,8,0.00010000\n1704096000001,8,-0.00005703\n")
    assert recs == [FundingRate(1704067200000, "BTCUSDT", "0.00010000", 1704067200000, True, 8),
                    FundingRate(1704096000001, "BTCUSDT", "-0.00005703", 1704096000001, True, 8)]


def test_vision_mark_price_klines_kind_from_path(tmp_path):
    d = tmp_path / "markPriceKlines" / "BTCUSDT" / "1h"
    d.mkdir(parents=True)
    (k,) = _read_written(d / "BTCUSDT-1h-2024-01-01.csv",
                         "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
                         "taker_buy_quote_volume,ignore\n"
                         "1704067200000,42314.0,42600.1,42300.5,42500.0,0,1704070799999,0,60,0,0,0\n")
    assert (k.kind, k.interval, k.symbol, k.ts_ms, k.close) == ("mark", "1h", "BTCUSDT", 1704070799999, "42500.0")


def test_vision_spot_microsecond_timestamps(tmp_path):
    (t,) = _read_written(tmp_path / "BTCUSDT-trades-2025-01-02.csv",
                         "1,94000.01,0.001,94.00001,1735776000123456,true,true\n")
    assert t.ts_ms == 1735776000123 and t.taker_side == "SELL"
