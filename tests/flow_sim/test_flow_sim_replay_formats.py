"""Replay of every supplied recording format reproduces the recorded best bid/ask
and trade prices within one tick at the recorded times.

The BTCUSDT/ETHUSDT websocket tapes are covered in test_flow_sim_replay_driver.py;
here: tardis.dev CSV (quotes + trades, book_snapshot_5/25), Binance's
historical order-book CSV (depth snapshot + update) and cryptofeed's
BINANCE_FUTURES session (SUSHIUSDT, AKROUSDT, KEEPUSDT, CTKUSDT).

Instruments: the tardis files (2020) and the cryptofeed session (2021) quote on
the grid of their time (BTCUSDT tickSize 0.01, not today's 0.10), so they run
on instruments built from the exchangeInfo recorded in BINANCE_FUTURES.0; then
"within one tick" is one tick of the recording's own grid.  The 2022 Binance
CSV is on 0.10 and runs on the default BTCUSDT.
"""
from decimal import Decimal

import pytest

from exchange.flow import open_recording, open_recordings
from exchange.contract.binance_info import instruments_from_exchange_info, read_binance_answer
from exchange.flow.records import BookTicker, DepthDiff, DepthSnapshot
from exchange.flow.replay_driver import ReplayDriver

EXCHANGE_INFO = "binance-usdm/BINANCE_FUTURES.0"
CF_SYMBOLS = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]


class Tap:
    """Records pass through; ``take(ts)`` returns the records of the group that
    ended at ``ts`` (the driver reads one record ahead before ending a group)."""

    def __init__(self, reader):
        self.reader = reader
        self.buf = []

    def __iter__(self):
        for rec in self.reader:
            self.buf.append(rec)
            yield rec

    @property
    def progress(self):
        return self.reader.progress

    def take(self, ts):
        grp = [r for r in self.buf if r.ts_ms <= ts]
        self.buf = [r for r in self.buf if r.ts_ms > ts]
        return grp


def replay_checked(make_runtime, paths, instruments=None, until_ms=None, check_levels=False):
    """Replay ``paths`` (merged by exchange time); at the end of every group, for
    each symbol whose last record in it is a quote or a snapshot, compare the
    venue's best bid/ask with it; every print must fill at its price."""
    reader = open_recording(paths[0]) if len(paths) == 1 else open_recordings(paths)
    tap = Tap(reader)
    t0 = min(ReplayDriver.first_timestamp(p) for p in paths)
    kw = {} if instruments is None else {"instruments": instruments}
    rt = make_runtime("fmt", start_ms=t0, **kw)
    checked = {"quotes": 0, "prints": 0, "levels": 0}
    bad = []

    def on_group(drv, ts):
        last = {}
        for rec in tap.take(ts):
            last[rec.symbol] = rec
        for sym, rec in last.items():
            inst = rt.instruments.get(sym)
            if inst is None:
                continue
            if isinstance(rec, BookTicker):
                want = [[(rec.bid_px, rec.bid_qty)], [(rec.ask_px, rec.ask_qty)]]
            elif isinstance(rec, DepthSnapshot):
                want = [rec.bids, rec.asks]
            else:
                continue
            bids, asks = rt.venue.depth(sym, 1000)
            for side, got in ((0, bids), (1, asks)):
                rows = want[side]
                if not rows or rows[0][0] is None:
                    continue
                checked["quotes"] += side == 0
                best = inst.price_to_ticks(rows[0][0])
                if not got or abs(got[0][0] - best) > 1:
                    bad.append((ts, sym, side, got[:1], best))
                if check_levels:
                    # a top-N snapshot: every listed level is in the venue, at its price
                    prices = [inst.price_to_ticks(p) for p, _ in rows]
                    checked["levels"] += len(prices)
                    if [p for p, _ in got[:len(prices)]] != prices:
                        bad.append((ts, sym, side, got[:len(prices)], prices))

    def on_trade(drv, trades, fills):
        inst = rt.instruments[trades[0].symbol]
        want = inst.price_to_ticks(trades[0].price)
        checked["prints"] += len(trades)
        if not fills:
            bad.append((trades[0].ts_ms, "no fill", trades[0]))
        for price, _ in fills:
            if abs(price - want) > 1:
                bad.append((trades[0].ts_ms, price, want))

    drv = ReplayDriver(rt, tap, on_group=on_group, on_trade=on_trade)
    st = drv.run(until_ms=until_ms)
    assert not bad, bad[:5]
    assert st.trades_unfilled == 0 and st.trade_max_dev_ticks == 0 and st.lp_rejected == 0
    return rt, drv, st, checked


@pytest.fixture(scope="module")
def recorded_instruments():
    """Instruments built from the exchangeInfo recorded in BINANCE_FUTURES.0 (2021)."""
    from shared_data import find
    return instruments_from_exchange_info(read_binance_answer(find(EXCHANGE_INFO))).instruments


def test_tardis_quotes_and_trades(make_runtime, shared_sample, recorded_instruments):
    """2020 BTCUSDT top of book (4 min of quotes) and 2 h of trades (9,999 prints)
    on the 0.01 grid of the time."""
    quotes = shared_sample("tardis/binance-futures_quotes_BTCUSDT.csv")
    trades = shared_sample("tardis/binance-futures_trades_BTCUSDT.csv")
    inst = {"BTCUSDT": recorded_instruments["BTCUSDT"]}
    assert inst["BTCUSDT"].tick_size == Decimal("0.01")
    rt, drv, st, checked = replay_checked(make_runtime, [quotes, trades], inst)
    assert checked["quotes"] > 9_000 and checked["prints"] == 9_999 == st.trades
    assert st.off_grid == 0
    assert rt.clock.now_ms() == st.last_ts == 1582337147728


@pytest.mark.parametrize("n", [5, 25])
def test_tardis_book_snapshots(make_runtime, shared_sample, recorded_instruments, n):
    """Each top-N snapshot is mirrored level for level (prices exact)."""
    path = shared_sample(f"tardis/binance-futures_book_snapshot_{n}_BTCUSDT.csv")
    rt, drv, st, checked = replay_checked(make_runtime, [path], {"BTCUSDT": recorded_instruments["BTCUSDT"]},
                                          check_levels=True)
    assert checked["quotes"] == 10 and checked["levels"] == 10 * 2 * n
    assert st.off_grid == 0


def test_binance_csv_depth_snapshot_and_update(make_runtime, shared_sample):
    """The historical order-book CSV: a 100-level bid snapshot, then one diff
    (77 asks, 23 bids) 10 minutes later.  After each, the venue's book holds the
    levels the recording implies (snapshot, then diff applied), best first."""
    snap = shared_sample("binance-usdm/btcusdt-depth-snap.csv")
    upd = shared_sample("binance-usdm/btcusdt-depth-update.csv")
    recs = list(open_recordings([snap, upd]))
    assert [type(r) for r in recs] == [DepthSnapshot, DepthDiff]
    # the book the recording implies, in decimal
    book = ({Decimal(p): q for p, q in recs[0].bids}, {Decimal(p): q for p, q in recs[0].asks})
    expected = []
    for rec in recs:
        if isinstance(rec, DepthDiff):
            for side, rows in ((0, rec.bids), (1, rec.asks)):
                for p, q in rows:
                    if q == "0":
                        book[side].pop(Decimal(p), None)
                    else:
                        book[side][Decimal(p)] = q
        expected.append((sorted(book[0], reverse=True)[:20], sorted(book[1])[:20]))

    t0 = recs[0].ts_ms
    rt = make_runtime("csv", start_ms=t0)
    inst = rt.instruments["BTCUSDT"]
    seen = []

    def on_group(drv, ts):
        bids, asks = rt.venue.depth("BTCUSDT", 20)
        seen.append((ts, [p for p, _ in bids], [p for p, _ in asks]))

    st = ReplayDriver(rt, open_recordings([snap, upd]), on_group=on_group).run()
    assert [s[0] for s in seen] == [r.ts_ms for r in recs]
    for (ts, bids, asks), (want_b, want_a) in zip(seen, expected):
        assert bids == [inst.price_to_ticks(p) for p in want_b]
        assert asks == [inst.price_to_ticks(p) for p in want_a]
    assert seen[0][2] == [] and len(seen[1][2]) == 20       # the snapshot held bids only
    assert st.off_grid == 0 and st.stale_diffs == 0


def test_cryptofeed_session_with_recorded_exchange_info(make_runtime, shared_sample, recorded_instruments):
    """cryptofeed's BINANCE_FUTURES session (REST snapshots + depth@100ms diffs +
    bookTicker + aggTrade of four symbols the venue does not list by default),
    on instruments built from the exchangeInfo recorded with it."""
    ws = shared_sample("binance-usdm/BINANCE_FUTURES.ws.1.0")
    http = shared_sample("binance-usdm/BINANCE_FUTURES.http.0.0")
    insts = {s: recorded_instruments[s] for s in CF_SYMBOLS}
    rt, drv, st, checked = replay_checked(make_runtime, [ws, http], insts)
    assert checked["quotes"] > 500 and checked["prints"] == 91 == st.trades
    assert st.skipped_symbol == 0
    # CTKUSDT's REST snapshot lists 131 stale levels far from the market (0.5, 0.2, ...)
    # on a finer grid than the recorded tickSize 0.001; they are rounded onto it
    assert st.off_grid <= 131
    for sym in CF_SYMBOLS:
        bids, asks = rt.venue.depth(sym, 100)
        assert len(bids) >= 20 and len(asks) >= 20, sym
        assert bids[0][0] < asks[0][0]


def test_instruments_from_recorded_exchange_info(shared_sample):
    info = read_binance_answer(shared_sample(EXCHANGE_INFO))
    insts = instruments_from_exchange_info(info, CF_SYMBOLS + ["BTCUSDT", "XRPUSDT"]).instruments
    assert insts["BTCUSDT"].tick_size == Decimal("0.01") and insts["BTCUSDT"].step_size == Decimal("0.001")
    assert insts["BTCUSDT"].min_notional == Decimal("5")
    assert insts["XRPUSDT"].tick_size == Decimal("0.0001") and insts["XRPUSDT"].step_size == Decimal("0.1")
    assert insts["SUSHIUSDT"].price_to_ticks("7.123") == 7123
    assert insts["SUSHIUSDT"].max_num_orders == 200
    with pytest.raises(KeyError):
        instruments_from_exchange_info(info, ["NOPEUSDT"])
