"""Recorded funding feeds the venue: a replay settles funding at the recorded
funding times with the recorded rates, and the venue's own funding timer does
not settle those times a second time (it still settles the others)."""
from decimal import Decimal
from pathlib import Path

import pytest

from exchange.flow import open_recording
from exchange.contract.binance_info import instruments_from_exchange_info, read_binance_answer
from exchange.flow.records import BookTicker, FundingRate
from exchange.flow.replay_driver import ReplayDriver
from exchange.engine.replay import replay
from exchange.contract import codes as C
from exchange.contract.events import FundingSettled, Income

H8 = 8 * 3_600_000
MIDNIGHT = 1_723_161_600_000            # 2024-08-09 00:00 UTC: a funding time inside the BTC tape


def settlements(rt):
    """Every FundingSettled the venue publishes, as (symbol, funding_time, rate)."""
    out = []
    rt.sequencer.subscribe(lambda seq, ts, cmd, evs, book: out.extend(
        (e.symbol, e.funding_time, e.funding_rate) for e in evs if type(e) is FundingSettled))
    return out


def rate_units(text) -> int:
    return int(Decimal(str(text)) * 100_000_000)


def test_freqtrade_funding_history_is_settled_at_recorded_times(make_runtime, shared_sample):
    """XRPUSDT's 8-hourly funding history (91 rows, 2021-11-18 .. 12-18, funding
    times with a few ms of jitter): one settlement per row, at the row's funding
    time on the 8 h grid, at the row's rate; the journal replays."""
    import orjson
    path = shared_sample("binance-usdm/XRP_USDT_USDT-8h-funding_rate.json")
    info = read_binance_answer(shared_sample("binance-usdm/BINANCE_FUTURES.0"))
    rows = orjson.loads(Path(path).read_bytes())
    assert len(rows) == 91
    t0 = ReplayDriver.first_timestamp(path)
    # no venue timers: 30 days of per-second mark refreshes between the rows would
    # only slow the test down (the timer interplay is tested on the BTC tape below)
    rt = make_runtime("xrp", start_ms=t0, instruments=instruments_from_exchange_info(info, ["XRPUSDT"]).instruments,
                      timers=False)
    got = settlements(rt)
    st = ReplayDriver(rt, path).run()
    assert got == [("XRPUSDT", r[0] - r[0] % H8, rate_units(r[1])) for r in rows]
    assert st.funding_settled == 91 and st.funding_late == 0 and st.ignored == 0
    assert {r for _, _, r in got} >= {10_000, 13_046}          # 0.0001 and 0.00013046 among them
    digest = rt.venue.state_digest()
    journal = rt.data_dir / "journal"
    rt.close()
    result = replay(journal, verify=True)
    assert result.divergence is None, str(result.divergence)
    assert result.venue.state_digest() == digest


class WithFunding:
    """The records of ``path`` with extra records merged in by time (ties: extra last)."""

    def __init__(self, path, extra):
        self.reader = open_recording(path)
        self.extra = sorted(extra, key=lambda r: r.ts_ms)

    def __iter__(self):
        extra = list(self.extra)
        for rec in self.reader:
            while extra and extra[0].ts_ms < rec.ts_ms:
                yield extra.pop(0)
            yield rec
        yield from extra

    @property
    def progress(self):
        return self.reader.progress


@pytest.mark.parametrize("lookahead", [5_000, 0])
def test_recorded_rate_wins_over_the_venue_timer_on_the_btc_tape(make_runtime, shared_sample, lookahead):
    """The BTC tape runs through the 00:00 funding time; a settled BTCUSDT rate
    recorded for it is stamped 400 ms late (history rows carry jitter), after the
    tape's groups at 00:00:00.042 and .370, the first of which fires the venue's
    funding timer.  BTCUSDT is settled once, at 00:00, at the recorded rate, and
    the replay's own positions pay it; ETHUSDT, with nothing recorded, is settled
    by the venue's timer.  Without the look-ahead the timer would have settled
    BTCUSDT first (its own rate) and the recorded one would come too late."""
    path = shared_sample("binance-usdm/btcusdt_20240808.gz")
    recorded = FundingRate(MIDNIGHT + 400, "BTCUSDT", "0.00042", MIDNIGHT + 400, True, 8)
    t0 = ReplayDriver.first_timestamp(path)
    rt = make_runtime("btc", start_ms=t0)
    got = settlements(rt)
    fees = []
    rt.sequencer.subscribe(lambda seq, ts, cmd, evs, book: fees.extend(
        e for e in evs if type(e) is Income and e.income_type == C.I_FUNDING_FEE and e.symbol == "BTCUSDT"))
    drv = ReplayDriver(rt, WithFunding(path, [recorded]), funding_lookahead_ms=lookahead)
    groups = []
    drv.on_group = lambda d, ts: groups.append(ts)
    st = drv.run()
    assert [t - MIDNIGHT for t in groups if MIDNIGHT <= t <= MIDNIGHT + 400] == [42, 370, 400]
    if not lookahead:
        assert sorted(got) == [("BTCUSDT", MIDNIGHT, 10_000), ("ETHUSDT", MIDNIGHT, 10_000)]
        assert st.funding_settled == 0 and st.funding_late == 1
        return
    assert sorted(got) == [("BTCUSDT", MIDNIGHT, 42_000), ("ETHUSDT", MIDNIGHT, 10_000)]
    assert st.funding_settled == 1 and st.funding_late == 0
    # the taker and the LP hold positions by then: they pay and receive 0.042 %
    head = rt.venue.funding_history("BTCUSDT")[-1]
    assert head[:2] == (MIDNIGHT, 42_000)
    assert len(fees) >= 2 and sum(f.amount for f in fees) <= 0          # zero-sum up to rounding
    assert rt.venue.money_identity()["balanced"]


def tickers(start, end, step=200, sym="BTCUSDT"):
    return [BookTicker(t, sym, "60000.00", "1.000", "60000.10", "1.000", None) for t in range(start, end, step)]


def test_live_estimate_is_settled_at_its_funding_time(make_runtime):
    """markPriceUpdate's ``r`` (a live estimate naming the next funding time):
    the last estimate before the funding time is what gets settled, at that time."""
    recs = tickers(MIDNIGHT - 3_000, MIDNIGHT + 1_000)
    recs += [FundingRate(MIDNIGHT - 2_500, "BTCUSDT", "0.0001", MIDNIGHT, False),
             FundingRate(MIDNIGHT - 1_100, "BTCUSDT", "-0.00025", MIDNIGHT, False),
             FundingRate(MIDNIGHT + 500, "BTCUSDT", "0.0003", MIDNIGHT + H8, False)]   # the next one
    recs.sort(key=lambda r: r.ts_ms)
    rt = make_runtime("est", start_ms=recs[0].ts_ms)
    got = settlements(rt)
    st = ReplayDriver(rt, iter(recs)).run()
    assert sorted(got) == [("BTCUSDT", MIDNIGHT, -25_000), ("ETHUSDT", MIDNIGHT, 10_000)]
    assert st.funding_settled == 1


@pytest.mark.parametrize("funding", ["recorded", "venue"])
def test_late_row_and_venue_mode(make_runtime, funding):
    """A history row further behind its funding time than the look-ahead comes too
    late: the venue's timer has settled that time (counted in funding_late).  With
    ``funding="venue"`` recorded funding is ignored altogether."""
    recs = tickers(MIDNIGHT - 2_000, MIDNIGHT + 12_000, step=500)
    recs += [FundingRate(MIDNIGHT + 10_000, "BTCUSDT", "0.0005", MIDNIGHT + 10_000, True, 8)]
    recs.sort(key=lambda r: r.ts_ms)
    rt = make_runtime("late", start_ms=recs[0].ts_ms)
    got = settlements(rt)
    st = ReplayDriver(rt, iter(recs), funding=funding).run()
    assert sorted(got) == [("BTCUSDT", MIDNIGHT, 10_000), ("ETHUSDT", MIDNIGHT, 10_000)]
    assert st.funding_settled == 0
    assert (st.funding_late, st.ignored) == ((1, 0) if funding == "recorded" else (0, 1))
