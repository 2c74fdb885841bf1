"""Readers of the raw Binance USD-M websocket tapes (shared/data/binance-usdm)."""
from collections import Counter
from decimal import Decimal

import pytest
from sortedcontainers import SortedDict

from exchange.flow import (BookTicker, DepthDiff, DepthSnapshot, Kline, Trade, open_recording,
                           open_recordings)
from exchange.flow.readers import BinanceTapeReader, CryptofeedReader

TAPE_COUNTS = {
    # README 1.1: trade / bookTicker / depthUpdate events, 1 REST snapshot
    "btcusdt_20240808.gz": {"Trade": 21_313, "BookTicker": 66_089, "DepthDiff": 6_551, "DepthSnapshot": 1},
    "ethusdt_20240808.gz": {"Trade": 14_076, "BookTicker": 53_992, "DepthDiff": 6_586, "DepthSnapshot": 1},
}
TAPE_LINES = {"btcusdt_20240808.gz": 93_954, "ethusdt_20240808.gz": 74_655}


@pytest.fixture(scope="module")
def btc_tape(sample):
    path = sample("binance-usdm/btcusdt_20240808.gz")
    reader = open_recording(path)
    records = list(reader)
    return path, reader, records


def test_btc_tape_counts_span_and_order(btc_tape):
    path, reader, recs = btc_tape
    assert isinstance(reader, BinanceTapeReader)
    assert dict(Counter(type(r).__name__ for r in recs)) == TAPE_COUNTS[path.name]
    assert reader.stats.lines == TAPE_LINES[path.name]
    assert reader.stats.records == len(recs) == TAPE_LINES[path.name]
    assert reader.stats.skipped == reader.stats.ignored == reader.stats.late == 0
    # span in exchange time E: 2024-08-08 23:54:16.299 -> 2024-08-09 00:00:01.105 UTC
    assert recs[0].ts_ms == 1723161256299
    assert recs[-1].ts_ms == 1723161601105
    ts = [r.ts_ms for r in recs]
    assert ts == sorted(ts)
    assert {r.symbol for r in recs} == {"BTCUSDT"}
    assert reader.bytes_read == reader.total_bytes == path.stat().st_size
    assert reader.progress == 1.0


def test_btc_tape_first_rows_exact(btc_tape):
    _, _, recs = btc_tape
    trades = [r for r in recs if type(r) is Trade]
    assert trades[0] == Trade(1723161256322, "BTCUSDT", "61800.30", "0.006", "BUY", 5266583935,
                              tx_ms=1723161256322, kind="trade", trade_type="MARKET")
    assert trades[-1].trade_id == 5266605247 and trades[-1].price == "61659.80"
    # trade ids are contiguous: the tape holds every print of those 345 s
    ids = [t.trade_id for t in trades]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert Counter(t.taker_side for t in trades) == {"SELL": 11_697, "BUY": 9_616}

    bt = next(r for r in recs if type(r) is BookTicker)
    assert bt == BookTicker(1723161256313, "BTCUSDT", "61800.20", "2.507", "61800.30", "2.510",
                            update_id=5123107839020, tx_ms=1723161256313)

    diff = recs[0]
    assert type(diff) is DepthDiff
    assert (diff.first_id, diff.last_id, diff.prev_last_id) == (5123107832006, 5123107837557, 5123107831937)
    assert diff.bids[:3] == (("58710.20", "0.014"), ("61496.50", "0.010"), ("61510.90", "0"))  # "0.000" -> "0"
    assert (len(diff.bids), len(diff.asks)) == (53, 29)
    assert diff.asks[0] == ("61800.30", "3.330")

    snap = next(r for r in recs if type(r) is DepthSnapshot)
    assert snap.symbol == "BTCUSDT"          # from the file name: the snapshot line has no symbol
    assert (snap.ts_ms, snap.tx_ms, snap.last_update_id) == (1723161256501, 1723161256493, 5123107852948)
    assert (len(snap.bids), len(snap.asks)) == (1000, 1000)
    assert snap.bids[0] == ("61800.20", "2.909") and snap.asks[0] == ("61800.30", "1.072")


def test_btc_tape_depth_chain_unbroken(btc_tape):
    _, _, recs = btc_tape
    diffs = [r for r in recs if type(r) is DepthDiff]
    assert all(b.prev_last_id == a.last_id for a, b in zip(diffs, diffs[1:]))
    assert all(d.first_id <= d.last_id for d in diffs)


class LocalBook:
    """Binance's documented local order book procedure, USD-M flavour."""

    def __init__(self):
        self.bids = SortedDict()
        self.asks = SortedDict()
        self.buffer = []
        self.last_u = None
        self.snapshot_id = None
        self.applied = self.dropped = 0

    def _apply(self, d):
        for side, levels in ((self.bids, d.bids), (self.asks, d.asks)):
            for px, qty in levels:
                if qty == "0":
                    side.pop(Decimal(px), None)
                else:
                    side[Decimal(px)] = qty
        self.last_u = d.last_id
        self.applied += 1

    def on_diff(self, d):
        if self.snapshot_id is None:
            self.buffer.append(d)                    # 1. buffer until the snapshot
            return
        if self.last_u is None:
            if d.last_id < self.snapshot_id:         # 3. drop u < lastUpdateId
                self.dropped += 1
                return
            # 4. the first diff applied must straddle the snapshot
            assert d.first_id <= self.snapshot_id <= d.last_id, "no diff bridges the snapshot"
        else:
            assert d.prev_last_id == self.last_u, f"gap before u={d.last_id}"   # pu chain
        self._apply(d)

    def on_snapshot(self, s):
        assert self.snapshot_id is None
        for px, qty in s.bids:                       # 2. apply the snapshot
            self.bids[Decimal(px)] = qty
        for px, qty in s.asks:
            self.asks[Decimal(px)] = qty
        self.snapshot_id = s.last_update_id
        buffered, self.buffer = self.buffer, []
        for d in buffered:
            self.on_diff(d)

    def best(self):
        return self.bids.peekitem(-1), self.asks.peekitem(0)


@pytest.mark.parametrize("name,tick", [("btcusdt_20240808.gz", "0.10"), ("ethusdt_20240808.gz", "0.01")])
def test_tape_local_book_matches_book_ticker(sample, name, tick):
    path = sample("binance-usdm/" + name)
    book = LocalBook()
    last_bt = None          # last bookTicker in exchange-time order
    bt_by_u = []            # (u, bid_px, ask_px) of every bookTicker, u ascending
    checked = 0
    for r in open_recording(path):
        t = type(r)
        if t is BookTicker:
            bt_by_u.append(r)
        elif t is DepthSnapshot:
            book.on_snapshot(r)
        elif t is DepthDiff:
            book.on_diff(r)
            if book.last_u == r.last_id:
                (bb, _), (ba, _) = book.best()
                assert bb < ba, f"crossed book after u={r.last_id}"
                checked += 1
    assert book.snapshot_id is not None and not book.buffer
    assert book.applied + book.dropped == TAPE_COUNTS[name]["DepthDiff"]
    assert 0 < book.dropped < 10 and checked > 6_000

    # the bookTicker to compare with: the last one whose update id is at or
    # before the final depth update (update ids are one sequence per symbol)
    us = [b.update_id for b in bt_by_u]
    assert us == sorted(us)
    ref = max((b for b in bt_by_u if b.update_id <= book.last_u), key=lambda b: b.update_id)
    (bb, bq), (ba, aq) = book.best()
    one_tick = Decimal(tick)
    assert abs(bb - Decimal(ref.bid_px)) <= one_tick
    assert abs(ba - Decimal(ref.ask_px)) <= one_tick
    # On these tapes it holds exactly, prices and quantities (the stricter fact):
    assert (str(bb), bq, str(ba), aq) == (ref.bid_px, ref.bid_qty, ref.ask_px, ref.ask_qty)


def test_eth_tape_counts(sample):
    path = sample("binance-usdm/ethusdt_20240808.gz")
    reader = open_recording(path)
    c = Counter(type(r).__name__ for r in reader)
    assert dict(c) == TAPE_COUNTS[path.name]
    assert reader.stats.lines == TAPE_LINES[path.name] and reader.stats.late == 0


# ---------------------------------------------------------------------------
# cryptofeed recordings (README 1.2)

def test_cryptofeed_ws_counts(recording):
    reader = recording("binance-usdm/BINANCE_FUTURES.ws.1.0", "cryptofeed", CryptofeedReader)
    recs = list(reader)
    c = Counter(type(r).__name__ for r in recs)
    # @aggTrade 91, @depth@100ms 764, @kline_1m 67, @bookTicker 613; line 1 is the connect record
    assert dict(c) == {"Trade": 91, "DepthDiff": 764, "Kline": 67, "BookTicker": 613}
    assert reader.stats.lines == 1536 and reader.stats.ignored == 1 and reader.stats.late == 0
    assert {r.symbol for r in recs} == {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"}
    ts = [r.ts_ms for r in recs]
    assert ts == sorted(ts)
    assert all(t.kind == "aggTrade" for t in recs if type(t) is Trade)
    agg = next(r for r in recs if type(r) is Trade)
    assert agg == Trade(1626992741575, "CTKUSDT", "1.01100", "10", "BUY", 16599292, tx_ms=1626992741421,
                        kind="aggTrade", first_trade_id=23961322, last_trade_id=23961322)
    k = next(r for r in recs if type(r) is Kline)
    assert (k.symbol, k.interval, k.open_ms, k.close_ms, k.open, k.close, k.volume, k.closed, k.trades) == (
        "CTKUSDT", "1m", 1626992700000, 1626992759999, "1.01000", "1.01100", "3917", False, 48)
    assert recs[0] == BookTicker(1626992741017, "SUSHIUSDT", "7.6110", "2", "7.6120", "297",
                                 update_id=600859600576, tx_ms=1626992741012)


def test_cryptofeed_http_snapshots_and_exchange_info(sample):
    http = sample("binance-usdm/BINANCE_FUTURES.http.0.0")
    snaps = list(open_recording(http))
    assert [type(s) for s in snaps] == [DepthSnapshot] * 4
    assert {s.symbol for s in snaps} == {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"}
    sushi = next(s for s in snaps if s.symbol == "SUSHIUSDT")
    assert (sushi.last_update_id, len(sushi.bids), len(sushi.asks)) == (600859605926, 1000, 1000)
    assert sushi.bids[0] == ("7.6110", "6")
    # exchangeInfo + configuration carry no market data
    info = open_recording(sample("binance-usdm/BINANCE_FUTURES.0"))
    assert list(info) == [] and info.stats.ignored == 2


def test_cryptofeed_ws_and_http_merged_sync_per_symbol(sample):
    """The .ws and .http halves merged in exchange time: the local-book
    procedure syncs every symbol without a gap."""
    merged = open_recordings([sample("binance-usdm/BINANCE_FUTURES.ws.1.0"),
                              sample("binance-usdm/BINANCE_FUTURES.http.0.0")])
    books = {}
    recs = list(merged)
    assert len(recs) == 1535 + 4
    ts = [r.ts_ms for r in recs]
    assert ts == sorted(ts)
    for r in recs:
        if type(r) in (DepthDiff, DepthSnapshot):
            book = books.setdefault(r.symbol, LocalBook())
            (book.on_diff if type(r) is DepthDiff else book.on_snapshot)(r)
    assert sorted(books) == ["AKROUSDT", "CTKUSDT", "KEEPUSDT", "SUSHIUSDT"]
    for sym, book in books.items():
        assert book.snapshot_id is not None and book.applied > 0, sym
        (bb, _), (ba, _) = book.best()
        assert bb < ba, sym
    assert merged.progress == 1.0 and merged.stats.skipped == 0
