"""Bad rows, compression sniffing, progress and the decimal-string rules."""
import gzip
import shutil
import zipfile

import pytest

from exchange.flow import RecordingError, Trade, open_recording, sniff_format
from exchange.flow.readers import UnknownFormatError
from exchange.flow.records import dec, dec_qty, is_zero, levels

TAPE_OK = ('1723161255088176367 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256322,'
           '"T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","X":"MARKET","m":false}}\n')
TAPE_BAD_JSON = '1723161255088181667 {"stream":"btcusdt@bookTicker","data":{"e":"bookTi\n'
TAPE_BAD_PRICE = ('1723161255088230567 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256344,'
                  '"T":1723161256344,"s":"BTCUSDT","t":5266583936,"p":"abc","q":"0.199","X":"MARKET","m":false}}\n')
TAPE_NO_FIELD = ('1723161255088230568 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161256345,'
                 '"s":"BTCUSDT","p":"61800.30","q":"0.199","m":false}}\n')
TAPE_OK2 = TAPE_OK.replace("5266583935", "5266583937").replace("1723161256322", "1723161256400")


def _bad_tape(tmp_path, name="bad_tape.gz", compress=True):
    text = TAPE_OK + TAPE_BAD_JSON + TAPE_BAD_PRICE + "garbage line\n" + TAPE_NO_FIELD + TAPE_OK2
    p = tmp_path / name
    if compress:
        p.write_bytes(gzip.compress(text.encode()))
    else:
        p.write_text(text)
    return p


def test_bad_row_raises_with_file_and_line(tmp_path):
    p = _bad_tape(tmp_path)
    reader = open_recording(p)                       # on_error='raise' is the default
    with pytest.raises(RecordingError) as ei:
        list(reader)
    err = ei.value
    assert err.line == 2 and err.path == str(p)
    assert f"{p}:2: bad JSON" in str(err)


def test_bad_rows_skipped_and_counted(tmp_path):
    p = _bad_tape(tmp_path)
    reader = open_recording(p, on_error="skip")
    recs = list(reader)
    assert [r.trade_id for r in recs] == [5266583935, 5266583937]
    assert reader.stats.skipped == 4
    assert [e.line for e in reader.errors] == [2, 3, 4, 5]
    assert "not a decimal number: 'abc'" in str(reader.errors[1])
    assert "missing field 't'" in str(reader.errors[3])
    assert reader.stats.lines == 6


def test_bad_csv_rows(tmp_path):
    p = tmp_path / "BTCUSDT-aggTrades-2024-01-01.csv"
    p.write_text("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
                 "1,100.5,1,1,1,1704067200000,true\n"
                 "2,100.5,1,2,2,1704067200001,maybe\n"
                 "3,,1,3,3,1704067200002,true\n"
                 "4,100.5\n"
                 "5,100.6,2,5,6,1704067200003,false\n")
    with pytest.raises(RecordingError, match=r"BTCUSDT-aggTrades-2024-01-01.csv:3: bad aggTrades row"):
        list(open_recording(p))
    reader = open_recording(p, on_error="skip")
    assert [t.trade_id for t in reader] == [1, 5]
    assert reader.stats.skipped == 3 and [e.line for e in reader.errors] == [3, 4, 5]


def test_bad_tardis_rows(tmp_path):
    p = tmp_path / "binance-futures_trades_2020-02-22_BTCUSDT.csv"
    p.write_text("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
                 "binance-futures,BTCUSDT,1582329602111000,1582329602418379,42377944,buy,9682,0.132\n"
                 "binance-futures,BTCUSDT,1582329602116000,1582329602418420,42377945,up,9682,0.412\n"
                 "binance-futures,BTCUSDT,notatime,1582329602418420,42377946,buy,9682,0.412\n"
                 "binance-futures,BTCUSDT,1582329602118000,1582329602418420,42377947,sell,NaN,0.412\n")
    reader = open_recording(p, on_error="skip")
    assert [t.trade_id for t in reader] == [42377944]
    assert [e.line for e in reader.errors] == [3, 4, 5]


def test_unknown_format(tmp_path):
    p = tmp_path / "mystery.txt"
    p.write_text("hello world\n")
    with pytest.raises(UnknownFormatError, match="mystery.txt:1"):
        open_recording(p)
    with pytest.raises(ValueError):
        open_recording(p, on_error="ignore", format="binance_tape")


def test_gzip_sniffed_by_magic_not_extension(tmp_path, sample):
    # a gzip tape under a misleading name, and a plain tape named .gz
    src = sample("binance-usdm/btcusdt_20240808.gz")
    disguised = tmp_path / "btcusdt_tape.txt"
    shutil.copyfile(src, disguised)
    assert sniff_format(disguised) == "binance_tape"
    r = open_recording(disguised)
    first = next(iter(r))
    assert first.ts_ms == 1723161256299
    r.close()
    plain = _bad_tape(tmp_path, "plain_named.gz", compress=False)
    recs = list(open_recording(plain, on_error="skip"))
    assert len(recs) == 2


def test_truncated_gzip(tmp_path, sample):
    data = sample("binance-usdm/btcusdt_20240808.gz").read_bytes()
    p = tmp_path / "btcusdt_truncated.gz"
    p.write_bytes(data[:200_000])
    with pytest.raises(RecordingError, match="corrupt or truncated"):
        for _ in open_recording(p):
            pass
    reader = open_recording(p, on_error="skip")
    recs = list(reader)                     # everything before the cut, then stop
    assert 1_000 < len(recs) < 10_000 and reader.stats.skipped >= 1
    ts = [r.ts_ms for r in recs]
    assert ts == sorted(ts)


def test_zip_and_gzip_csv(tmp_path):
    text = "calc_time,funding_interval_hours,last_funding_rate\n1704067200000,8,0.0001\n"
    z = tmp_path / "BTCUSDT-fundingRate-2024-01.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr("BTCUSDT-fundingRate-2024-01.csv", text)
    g = tmp_path / "BTCUSDT-fundingRate-2024-01.csv.gz"
    g.write_bytes(gzip.compress(text.encode()))
    for p in (z, g):
        (r,) = list(open_recording(p))
        assert (r.symbol, r.value, r.ts_ms) == ("BTCUSDT", "0.0001", 1704067200000)


def test_progress_advances(sample):
    path = sample("binance-usdm/btcusdt_20240808.gz")
    reader = open_recording(path)
    assert reader.bytes_read == 0 and reader.total_bytes == 3_637_062
    seen = []
    for i, _ in enumerate(reader):
        if i % 20_000 == 0:
            seen.append(reader.progress)
    assert seen == sorted(seen) and 0 < seen[1] < seen[-1] < 1
    assert reader.progress == 1.0


def test_iterate_once(tmp_path):
    p = tmp_path / "BTCUSDT-fundingRate-2024-01.csv"
    p.write_text("calc_time,funding_interval_hours,last_funding_rate\n1704067200000,8,0.0001\n")
    r = open_recording(p)
    list(r)
    with pytest.raises(RuntimeError):
        list(r)


def test_late_records_counted_not_dropped(tmp_path):
    p = tmp_path / "btcusdt_late.log"
    t2 = TAPE_OK2.replace("1723161256400", "1723161266400")          # +10 s
    t3 = TAPE_OK.replace("5266583935", "5266583936").replace("1723161256322", "1723161256300")  # -22 ms
    p.write_text(TAPE_OK + t2 + t3)
    # 1 s window: the first trade is released when the +10 s one arrives, so the
    # -22 ms one comes too late to be put before it: yielded anyway, counted late
    r = open_recording(p, reorder_window_ms=1_000)
    assert [t.trade_id for t in r] == [5266583935, 5266583936, 5266583937]
    assert r.stats.late == 1 and r.stats.records == 3
    # a window wider than the disorder sorts it
    r = open_recording(p, reorder_window_ms=60_000)
    assert [t.trade_id for t in r] == [5266583936, 5266583935, 5266583937] and r.stats.late == 0
    # window 0: file order
    r = open_recording(p, reorder_window_ms=0)
    assert [t.trade_id for t in r] == [5266583935, 5266583937, 5266583936]


@pytest.mark.parametrize("raw,out", [
    ("61800.30", "61800.30"), ("0.000", "0.000"), ("-0.0001", "-0.0001"), ("1e-05", "0.00001"),
    ("+1", "1"), (".5", "0.5"), (9682, "9682"), (9682.0, "9682"), (7267451.9000000004, "7267451.9"),
    (1e-05, "0.00001"), (0.00033523, "0.00033523"), (" 12.5 ", "12.5"),
])
def test_dec_normalization(raw, out):
    assert dec(raw) == out


@pytest.mark.parametrize("raw", ["", "abc", "NaN", "inf", None, True, float("nan"), [1]])
def test_dec_rejects(raw):
    with pytest.raises(ValueError):
        dec(raw)


def test_qty_and_levels():
    assert dec_qty("0.000") == "0" and dec_qty(0.0) == "0" and dec_qty("0.010") == "0.010"
    assert is_zero("0.000") and not is_zero("0.001")
    assert levels([["1.0", "0.000"], ["2", "3"]]) == (("1.0", "0"), ("2", "3"))
    assert levels([["1e-3", 0.0]]) == (("0.001", "0"),)
    for bad in ([["1"]], [[None, "1"]], [["x", "1"]], [1]):
        with pytest.raises(ValueError):
            levels(bad)


def test_records_are_frozen():
    t = Trade(1, "BTCUSDT", "1", "1", "BUY", 1)
    with pytest.raises(Exception):
        t.price = "2"
    assert not hasattr(t, "__dict__")


def test_levels_values_must_each_be_plain():
    # checked as one joined row; a comma inside a value must not pass as two values
    for bad in ([["1", "2,3"]], [["1.", "2"], ["3", ".5"]], [["1", ""]], [["1.2.3", "1"]], [["1", "2", "3"]]):
        try:
            out = levels(bad)
        except ValueError:
            continue
        assert all(p.count(".") <= 1 and "," not in p and "," not in q for p, q in out), out
    assert levels([["1.", "2"]]) == (("1", "2"),)          # normalized, as dec() does


DEPTH = ('1723161255088176367 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":%d,'
         '"T":1723161256299,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":%s,"a":[["61800.10","0.005"]]}}\n')


def test_depth_lines_parsed_when_released(tmp_path):
    """A tape's depth diffs wait in the reorder buffer as raw lines and are parsed
    when released: same records, same errors (file and line), same order."""
    p = tmp_path / "btcusdt_depth.log"
    p.write_text(DEPTH % (1723161256300, '[["61800.00","0.000"],["61799.90","1.5"]]')
                 + DEPTH % (1723161256301, '[["61800.00","x"]]')
                 + DEPTH % (1723161256290, '[["61800.00","2"]]')               # 10 ms behind: reordered
                 + DEPTH.replace('"s":', '"q":1,"s":') % (1723161256302, '[["1","1"]]')   # not the usual shape
                 + (DEPTH % (1723161256303, '[["1","1"]]'))[:-30] + "\n")        # cut short
    with pytest.raises(RecordingError) as ei:
        list(open_recording(p))
    assert ei.value.line == 2 and "not a decimal number: 'x'" in str(ei.value)
    r = open_recording(p, on_error="skip")
    recs = list(r)
    assert [(x.ts_ms, x.bids) for x in recs] == [
        (1723161256290, (("61800.00", "2"),)),
        (1723161256300, (("61800.00", "0"), ("61799.90", "1.5"))),
        (1723161256302, (("1", "1"),))]
    assert [e.line for e in r.errors] == [2, 5] and "bad JSON" in str(r.errors[1])
    assert r.stats.records == 3 and r.stats.skipped == 2 and r.stats.late == 0
