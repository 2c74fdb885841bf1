"""Replay of recorded markets: the venue's book and prints follow the recording."""
import asyncio

from exchange.flow import open_recording
from exchange.flow.records import BookTicker
from exchange.flow.replay_driver import ReplayDriver
from exchange.engine.replay import replay
from exchange.contract.events import OrderFilled

BTC_TAPE = "binance-usdm/btcusdt_20240808.gz"
ETH_TAPE = "binance-usdm/ethusdt_20240808.gz"


class Tap:
    """Records pass through; remembers the last two (to know a group's last record)."""

    def __init__(self, path):
        self.reader = open_recording(path)
        self.last = [None, None]

    def __iter__(self):
        for rec in self.reader:
            self.last = [self.last[1], rec]
            yield rec

    @property
    def progress(self):
        return self.reader.progress


def check_tape(make_runtime, path, seconds, every=20):
    t0 = ReplayDriver.first_timestamp(path)
    rt = make_runtime("replay", start_ms=t0)
    inst = None
    tap = Tap(path)
    checked = {"quotes": 0, "prints": 0, "groups": 0}
    bad = []

    def on_group(drv, ts):
        checked["groups"] += 1
        prev, cur = tap.last
        rec = cur if cur is not None and cur.ts_ms == ts else prev
        if not isinstance(rec, BookTicker) or checked["groups"] % every:
            return
        inst = rt.instruments[rec.symbol]
        bids, asks = rt.venue.depth(rec.symbol, 1)
        want_b, want_a = inst.price_to_ticks(rec.bid_px), inst.price_to_ticks(rec.ask_px)
        checked["quotes"] += 1
        if abs(bids[0][0] - want_b) > 1 or abs(asks[0][0] - want_a) > 1:
            bad.append((ts, (bids[0][0], asks[0][0]), (want_b, want_a)))

    def on_trade(drv, trades, fills):
        inst = rt.instruments[trades[0].symbol]
        want = inst.price_to_ticks(trades[0].price)
        checked["prints"] += len(trades)
        assert fills, f"print at {trades[0].ts_ms} produced no fill"
        for price, _ in fills:
            if abs(price - want) > 1:
                bad.append((trades[0].ts_ms, price, want))

    drv = ReplayDriver(rt, tap, on_group=on_group, on_trade=on_trade)
    st = drv.run(until_ms=t0 + seconds * 1000)
    assert not bad, bad[:5]
    return rt, drv, st, checked


def test_btc_tape_reproduces_best_bid_ask_and_prints(make_runtime, shared_sample):
    rt, drv, st, checked = check_tape(make_runtime, shared_sample(BTC_TAPE), 150)
    assert checked["quotes"] > 500 and checked["prints"] > 5_000
    assert st.trades == checked["prints"] and st.trades_unfilled == 0 and st.trade_max_dev_ticks == 0
    assert st.lp_rejected == 0 and st.off_grid == 0
    # the LP mirrors the recorded depth: a deep two-sided book
    bids, asks = rt.venue.depth("BTCUSDT", 100)
    assert len(bids) >= 50 and len(asks) >= 50
    # recorded time drives the clock; an index (mid) is published once a second
    assert rt.clock.now_ms() == st.last_ts
    mid = (bids[0][0] + asks[0][0]) // 2
    assert abs(rt.venue.index_price("BTCUSDT") - mid) < mid // 1000
    assert 0 < st.progress <= 1


def test_eth_tape_small_sizes_are_raised_to_min_notional(make_runtime, shared_sample):
    rt, drv, st, checked = check_tape(make_runtime, shared_sample(ETH_TAPE), 60)
    assert checked["quotes"] > 100 and checked["prints"] > 500
    assert st.qty_raised > 0 and st.trades_unfilled == 0


def test_replay_driver_journal_passes_verify(make_runtime, shared_sample, tmp_path):
    path = shared_sample(BTC_TAPE)
    t0 = ReplayDriver.first_timestamp(path)
    rt = make_runtime("rv", start_ms=t0)
    ReplayDriver(rt, path).run(until_ms=t0 + 30_000)
    digest = rt.venue.state_digest()
    rt.close()
    result = replay(tmp_path / "rv" / "journal", verify=True)
    assert result.divergence is None, str(result.divergence)
    assert result.venue.state_digest() == digest


def test_user_orders_fill_when_recorded_prints_cross_them(make_runtime, shared_sample):
    """A bot's bid joining the best bid and its ask 2 USDT above the best ask are
    filled by the recorded prints that later reach those prices (as makers, at
    their own prices)."""
    from exchange.contract import codes as C
    from exchange.contract.commands import CreateAccount, Deposit, NewOrder
    path = shared_sample(BTC_TAPE)
    t0 = ReplayDriver.first_timestamp(path)
    rt = make_runtime("user", start_ms=t0)
    drv = ReplayDriver(rt, path)
    drv.run(until_ms=t0 + 20_000)
    bids, asks = rt.venue.depth("BTCUSDT", 1)
    bid, ask = bids[0][0], asks[0][0] + 20
    user = 7
    res = rt.sequencer.execute([CreateAccount(user), Deposit(user, 10**6 * 10**8),
                                NewOrder(user, "BTCUSDT", C.BUY, C.LIMIT, C.GTC, 5, bid),
                                NewOrder(user, "BTCUSDT", C.SELL, C.LIMIT, C.GTC, 5, ask)])
    assert [r.events[0].KIND for r in res[-2:]] == [1010, 1010]
    fills = []
    rt.sequencer.subscribe(lambda s, ts, cmd, evs, book: fills.extend(
        e for e in evs if type(e) is OrderFilled and e.account_id == user))
    drv.run(until_ms=t0 + 200_000)
    assert sorted((f.side, f.price) for f in fills) == [(C.BUY, bid), (C.SELL, ask)]
    assert all(f.is_maker == 1 for f in fills)
    assert rt.venue.open_orders(user, "BTCUSDT") == []


def test_async_replay_paced(make_runtime, shared_sample):
    path = shared_sample(BTC_TAPE)
    t0 = ReplayDriver.first_timestamp(path)
    rt = make_runtime("paced", start_ms=t0)
    seen = []
    drv = ReplayDriver(rt, path, progress=seen.append, progress_every_s=0.0)

    async def main():
        return await drv.run_async(speed=None, until_ms=t0 + 5_000)

    st = asyncio.run(main())
    assert st.sim_ms <= 5_000 and st.trades > 0
    assert seen and 0 < seen[-1].fraction <= 1


def test_shared_commits_write_the_same_journal_as_one_commit_per_group(make_runtime, shared_sample,
                                                                       tmp_path):
    """run() shares a journal commit among many groups, run_async commits each
    group: same records, seq for seq, and far fewer writes."""
    from exchange.journal import JournalReader
    path = shared_sample(BTC_TAPE)
    t0 = ReplayDriver.first_timestamp(path)
    fast = make_runtime("shared", start_ms=t0)
    ReplayDriver(fast, path).run(until_ms=t0 + 10_000)
    paced = make_runtime("each", start_ms=t0)
    drv = ReplayDriver(paced, path)
    asyncio.run(drv.run_async(speed=None, until_ms=t0 + 10_000))
    groups = drv.stats.groups
    commits = (fast.journal.commits, paced.journal.commits)
    fast.close()
    paced.close()
    a = [(r.seq, r.ts, r.kind, r.payload) for r in JournalReader(tmp_path / "shared" / "journal")]
    b = [(r.seq, r.ts, r.kind, r.payload) for r in JournalReader(tmp_path / "each" / "journal")]
    assert len(a) > 1000 and a == b
    assert commits[1] >= groups > 100 and commits[0] * 10 < commits[1]
