"""The calibration's metric code on small hand-made runs, and the tape rebuilt from a journal."""
import math

import pytest

from exchange.flow.calibration import CascadeTape, bands_for, compute, within
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.units import MONEY_SCALE, RATE_SCALE
from exchange.contract import codes as C
from exchange.contract.events import (ForceOrder, IndexPriceChanged, InsuranceFundChanged, MarkPriceChanged,
                                   OrderAccepted, OrderCanceled, OrderFilled, OrderModified, PositionChanged,
                                   PositionClosedOut)

T0 = 1_717_200_000_000
MIN = 60_000
H = 3_600_000
BTC = DEFAULT_INSTRUMENTS["BTCUSDT"]          # tick 0.1, lot 0.001: 1 tick x 1 lot = 0.0001 USDT


def ticks(usdt: float) -> int:
    return int(round(usdt * 10))


def accepted(oid, side, price_usdt, lots, tif=C.GTX, sym="BTCUSDT"):
    return OrderAccepted(oid, 1, sym, f"c{oid}", side, C.LIMIT, tif, ticks(price_usdt), lots, 0, C.BOTH, 0, 0, 0, 0, 0, 0, 0)


def position(acct, lots, sym="BTCUSDT"):
    return PositionChanged(acct, sym, C.BOTH, lots, 0, 0, 0, C.CROSSED)


def index(price_usdt, sym="BTCUSDT"):
    return IndexPriceChanged(sym, ticks(price_usdt))


def mark(price_usdt, rate, sym="BTCUSDT"):
    return MarkPriceChanged(sym, ticks(price_usdt), ticks(price_usdt), int(rate * RATE_SCALE), 0, 0, 0)


def money(usdt):
    return int(usdt * MONEY_SCALE)


def _feeder(tape):
    """``feed(ts, *events)``: one committed command (seq counting from 1) with those events, into ``tape``."""
    seq = 0

    def feed(ts, *evs):
        nonlocal seq
        seq += 1
        tape(seq, ts, None, list(evs))
    return feed


@pytest.fixture
def hand_made():
    """BTC: 100 USDT for an hour, falls linearly to 80 over 2 h (start at 1 h), back to 90 at 4 h.
    Open interest 1,000,000 lots (100 BTC-lots of 0.001 ... = 1000 BTC x price), one book of
    bid 99.9 / ask 100.1 with 10,000 lots each; three liquidations: book, takeover, ADL."""
    tape = CascadeTape({"BTCUSDT": BTC})
    start = T0 + H
    feed = _feeder(tape)

    feed(T0, accepted(1, C.BUY, 99.9, 10_000), accepted(2, C.SELL, 100.1, 10_000),
         accepted(3, C.BUY, 95.0, 50_000), accepted(4, C.SELL, 1000.0, 7, tif=C.IOC),
         position(11, 1_000_000), position(12, -1_000_000),
         InsuranceFundChanged("BTCUSDT", money(1000), money(1000), C.F_CONTRIBUTION, 0))
    # an IOC is not resting; it expires at once in reality - here it is canceled
    feed(T0 + 1, OrderCanceled(4, 1, "BTCUSDT", 7, C.CANCEL_USER, side=C.SELL, position_side=C.BOTH,
                               filled_qty=0, cum_quote=0, client_order_id="c4", order_type=C.LIMIT,
                               time_in_force=C.IOC, order_price=ticks(1000.0), order_qty=7,
                               reduce_only=0, stp=0))
    # at 2 h: long 11 liquidated: 100,000 lots - 60,000 in the book at 90 (cum quote), 30,000 taken over,
    # 10,000 deleveraged against short 12 (whose own PositionClosedOut row must not count)
    def liquidate(t):
        feed(t, ForceOrder("BTCUSDT", 50, 11, C.SELL, C.BOTH, ticks(89.0), 100_000, 60_000,
                           60_000 * ticks(90.0) * BTC.notional_unit, C.EXPIRED),
             PositionClosedOut(11, "BTCUSDT", C.BOTH, C.SELL, ticks(89.0), 30_000, 0, C.CLOSE_TAKEOVER, 50, 0),
             PositionClosedOut(11, "BTCUSDT", C.BOTH, C.SELL, ticks(89.0), 10_000, 0, C.CLOSE_ADL, 50, 12),
             PositionClosedOut(12, "BTCUSDT", C.BOTH, C.BUY, ticks(89.0), 10_000, 0, C.CLOSE_ADL, 50, 11),
             position(11, 900_000), position(12, -990_000),
             InsuranceFundChanged("BTCUSDT", money(-100), money(900), C.F_TAKEOVER, 11))

    for m in range(0, 5 * 60 + 1):
        ts = T0 + m * MIN
        if ts < start:
            p = 100.0
        elif ts <= start + 2 * H:
            p = 100.0 - 20.0 * (ts - start) / (2 * H)
        else:
            p = 80.0 + 10.0 * min(1.0, (ts - start - 2 * H) / H)
        rate = 0.0001 if ts < start else (-0.0005 if ts <= start + 2 * H else -0.0001)
        feed(ts + 500, index(p), mark(p, rate))
        if ts == start + H:
            liquidate(ts + 600)
        if m % 2 == 0 and m >= 1:     # 10 lots traded every other minute; 100 a minute in the event
            lots = 100 if start <= ts < start + H else 10
            feed(ts + 700, OrderFilled(1, 1, "BTCUSDT", m, C.BUY, C.BOTH, ticks(99.9), lots, 1, 0, 0, 0, 0,
                                       C.PARTIALLY_FILLED, 0, client_order_id="c1", order_type=C.LIMIT,
                                       time_in_force=C.GTX, order_price=ticks(99.9), order_qty=10_000,
                                       reduce_only=0, stp=0))
            feed(ts + 701, OrderModified(1, 1, "BTCUSDT", ticks(99.9), 10_000, 0, side=C.BUY,
                                         position_side=C.BOTH, cum_quote=0, client_order_id="c1",
                                         order_type=C.LIMIT, time_in_force=C.GTX, reduce_only=0, stp=0))
    tape.finish()
    return tape, start


def test_price_path_figures(hand_made):
    tape, start = hand_made
    f = compute(tape, start)
    assert f["drawdown"] == pytest.approx(0.20, abs=1e-9)
    assert f["time_to_bottom_h"] == pytest.approx(2.0, abs=1 / 60)
    assert f["rebound"] == pytest.approx(0.5, abs=1e-9)
    # 1/6 USDT a minute, on a 0.1 tick grid: the largest 1-minute change is 80.0 -> 80.2
    assert f["max_1m_move"] == pytest.approx(0.2 / 80, rel=1e-6)
    assert f["eth_btc_beta"] is None          # no ETH in this run


def test_liquidation_routing_open_interest_and_fund(hand_made):
    tape, start = hand_made
    f = compute(tape, start)
    unit = BTC.notional_unit / MONEY_SCALE / 0.1        # USDT per (price USDT x lot)
    book = 60_000 * 90.0 * unit
    takeover = 30_000 * 89.0 * unit
    adl = 10_000 * 89.0 * unit
    total = book + takeover + adl
    assert f["liq_share_book"] == pytest.approx(book / total)
    assert f["liq_share_market"] == pytest.approx((book + takeover) / total)   # both executed in the book
    assert f["liq_share_insurance"] == pytest.approx(takeover / total)
    assert f["liq_share_adl"] == pytest.approx(adl / total)        # the counterparty's row is not counted
    oi0 = 1_000_000 * 100.0 * unit                                  # longs at the mark at the start
    assert f["liquidated_over_oi"] == pytest.approx(total / oi0)
    # lowest open interest: 900,000 lots at the lowest mark after the liquidation (80)
    assert f["oi_drop"] == pytest.approx(1 - 900_000 * 80.0 / (1_000_000 * 100.0), abs=3e-3)
    assert f["insurance_change"] == pytest.approx(-0.1)


def test_book_funding_and_volume_figures(hand_made):
    tape, start = hand_made
    f = compute(tape, start)
    assert f["spread_bps"] == pytest.approx((100.1 - 99.9) / 100.0 * 1e4)
    oi = 1_000_000 * 100.0 * 0.001
    assert f["depth_02_over_oi"] == pytest.approx((99.9 + 100.1) * 10_000 * 0.001 / oi)
    assert f["depth_1_over_oi"] == pytest.approx((99.9 + 100.1) * 10_000 * 0.001 / oi)   # 95.0 is 5 % away
    assert f["depth_drain"] == pytest.approx(0.0)        # nobody pulled anything
    assert f["funding_before"] == pytest.approx(0.01)
    assert f["funding_during"] == pytest.approx(-0.05, abs=0.002)
    assert f["funding_after"] == pytest.approx(-0.01)
    # 10 lots every other minute before, 100 every other minute in the first hour of the event
    assert f["volume_surge"] == pytest.approx(10.0, rel=0.05)


def test_bands_judge_values():
    b = bands_for("cascade-2024-08-05")
    assert within(0.15, b["drawdown"]) and not within(0.30, b["drawdown"]) and not within(None, b["drawdown"])
    assert "spread_bps" in bands_for("calm") and "drawdown" not in bands_for("calm")
    assert bands_for("squeeze")["funding_during"][1] > 0


def test_tape_from_journal_equals_the_live_tape(make_runtime):
    """The figures come from committed results: a journal read back gives the same ones."""
    from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow
    rt = make_runtime("cal")
    flow = SyntheticFlow(rt, SyntheticConfig(seed=5, scenario="crash", n_holders=40, scenario_overrides={
        "start_s": 600, "gap_s": 30, "fall_s": 120, "rebound_s": 60, "after_s": 60}))
    live = CascadeTape(rt.instruments)
    rt.sequencer.subscribe(live)
    from exchange.gateway.projection import Projection
    projection = Projection(rt.instruments)
    rt.sequencer.subscribe(projection.on_executed)
    flow.run(flow.scenario.p.duration_s())
    start = flow.scenario.event_start_ms()
    rt.close()
    # the tape and the gateway's projection fold open interest the same way (one rule:
    # exchange.engine.open_interest), and it is the venue's: the long positions' lots
    for sym, st in live.symbols.items():
        venue_lots = sum(p.qty for a in rt.venue.accounts.values() for (s, _), p in a.positions.items()
                         if s == sym and p.qty > 0)
        assert st.open_interest.lots == projection.markets[sym].oi.lots == venue_lots > 0, sym
    a = compute(live.finish(), start)
    b = compute(CascadeTape.from_journal(rt.data_dir / "journal"), start)
    assert a["drawdown"] > 0.05 and a["liquidated_over_oi"] > 0
    for k in a:
        if a[k] is None:
            assert b[k] is None, k
        else:
            assert math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12), (k, a[k], b[k])


def _long_run(hours: float):
    """BTC 100 for an hour, down to 80 at 2 h, back to 90 at 3 h; the event's window ends at
    3.5 h; after it the index falls again to 70 (at 6 h) and a second liquidation comes (5 h).
    Funding: 0.01 % before, -0.02 % in the window, -0.03 % after it, -0.006 % over the 30
    minutes ending 8 h after the extreme (2 h), 0.05 % after that.  Fed up to ``hours``."""
    tape = CascadeTape({"BTCUSDT": BTC})
    start, end, t_ext = T0 + H, T0 + 7 * H // 2, T0 + 2 * H
    feed = _feeder(tape)

    feed(T0, accepted(1, C.BUY, 99.9, 10_000), accepted(2, C.SELL, 100.1, 10_000),
         position(11, 1_000_000), position(12, -1_000_000),
         InsuranceFundChanged("BTCUSDT", money(1000), money(1000), C.F_CONTRIBUTION, 0))
    for m in range(0, int(hours * 60) + 1):
        ts = T0 + m * MIN
        if ts <= start:
            p = 100.0
        elif ts <= t_ext:
            p = 100.0 - 20.0 * (ts - start) / H
        elif ts <= T0 + 3 * H:
            p = 80.0 + 10.0 * (ts - t_ext) / H
        elif ts <= end:
            p = 90.0
        else:
            p = max(70.0, 90.0 - 20.0 * (ts - end) / (5 * H // 2))
        if ts < start:
            rate = 0.0001
        elif ts < end:
            rate = -0.0002
        elif ts < t_ext + 15 * H // 2:
            rate = -0.0003
        elif ts <= t_ext + 8 * H:
            rate = -0.00006
        else:
            rate = 0.0005
        feed(ts + 500, index(p), mark(p, rate))
        if ts in (T0 + 3 * H // 2, T0 + 5 * H):      # one liquidation in the window, one after it
            feed(ts + 600, ForceOrder("BTCUSDT", 50 + m, 11, C.SELL, C.BOTH, ticks(85.0), 10_000, 10_000,
                                      10_000 * ticks(90.0) * BTC.notional_unit, C.FILLED),
                 InsuranceFundChanged("BTCUSDT", money(100), money(1100 if ts < end else 1200),
                                      C.F_CLEARANCE_FEE, 11))
    tape.finish()
    return tape, start, end


def test_funding_8h_after_and_the_event_window():
    """A run that goes on past its event's window: funding 8 h after the extreme is read off the
    longer run, every other figure off the window alone (a later, lower low, a later
    liquidation, the fund after the window change nothing)."""
    tape, start, end = _long_run(10.5)
    f = compute(tape, start, end_ms=end)
    assert f["drawdown"] == pytest.approx(0.20, abs=1e-9)          # not 0.30: the fall to 70 is after the window
    assert f["time_to_bottom_h"] == pytest.approx(1.0, abs=1 / 60)
    assert f["rebound"] == pytest.approx(0.5, abs=1e-9)            # the index at the window's end (90)
    assert f["funding_after"] == pytest.approx(-0.02)               # the window's last 30 minutes
    assert f["funding_8h_after"] == pytest.approx(-0.006)           # 9.5 h .. 10 h, 8 h after the 2 h extreme
    assert f["liquidated_over_oi"] == pytest.approx(10_000 * 90.0 / (1_000_000 * 100.0))   # the one in the window
    assert f["insurance_change"] == pytest.approx(0.1)              # 1000 -> 1100 by the window's end
    whole = compute(tape, start)                                     # no window: the whole run
    assert whole["drawdown"] == pytest.approx(0.30, abs=1e-9)
    assert whole["liquidated_over_oi"] == pytest.approx(2 * 10_000 * 90.0 / (1_000_000 * 100.0))
    # the 8 h are counted from the extreme found in the run (6 h here): the run ends before 14 h
    assert whole["funding_8h_after"] is None


def test_funding_8h_after_needs_a_run_that_long():
    """No partial window: a run that stops before 8 h after the extreme has no such figure."""
    tape, start, end = _long_run(9.75)            # ends 15 minutes short of 10 h
    f = compute(tape, start, end_ms=end)
    assert f["funding_8h_after"] is None
    assert f["drawdown"] == pytest.approx(0.20, abs=1e-9)


def test_named_bands_judge_funding_8h_after():
    for name in ("cascade-2021-05-19", "cascade-2024-08-05", "adl-2025-10-10"):
        b = bands_for(name)["funding_8h_after"]
        assert within(-0.006, b) and not within(0.01, b) and not within(None, b)
    assert "funding_8h_after" not in bands_for("crash")
