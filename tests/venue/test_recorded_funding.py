"""SettleFunding with a recorded rate (replay of recorded funding): the rate is
charged as given, and the command's record keeps its old form when unset."""
import msgpack

from exchange.engine.replay import replay
from exchange.engine.runtime import Runtime
from exchange.contract.commands import command_from_record
from exchange.contract import codes as C
from exchange.contract.commands import CreateAccount, Deposit, SetIndexPrice, SettleFunding
from exchange.contract.events import CommandRejected, FundingSettled, Income

from conftest import BTC, USDT, funded_venue, limit, lots, market, only, px

H = 3_600_000


def fresh():
    v = funded_venue(60000)
    v.apply(0, limit(2, C.SELL, lots(6), px(60000)))
    v.apply(0, market(1, C.BUY, lots(6)))            # 1 long 6 BTC, 2 short, at 60,000
    return v


def test_recorded_rate_is_charged_as_given_not_clamped():
    v = fresh()
    st = v.symbols[BTC]
    st.premium_sum, st.premium_count = 10**6, 1        # the premiums alone would give the 0.3 % cap
    # 2 % (far beyond the cap), stamped 17 ms after the funding time, as history rows are
    ev = v.apply(8 * H + 17, SettleFunding(BTC, rate=2_000_000))
    # 6 BTC x 60,000 x 2 % = 7,200 USDT, from the long to the short
    assert ev[0] == FundingSettled(BTC, 8 * H, 2_000_000, px(60000), 2, 7_200 * USDT, 7_200 * USDT)
    assert [(i.account_id, i.amount) for i in only(ev, Income)] == [(1, -7_200 * USDT), (2, 7_200 * USDT)]
    assert v.funding_history(BTC) == [(8 * H, 2_000_000, px(60000))]
    assert (st.premium_sum, st.premium_count) == (0, 0)  # the interval's samples are spent all the same
    assert v.money_identity()["balanced"]
    # one settlement per funding time, recorded or not
    assert isinstance(v.apply(8 * H + 20, SettleFunding(BTC, rate=1))[0], CommandRejected)
    assert isinstance(v.apply(8 * H + 20, SettleFunding(BTC))[0], CommandRejected)
    # a recorded zero or negative rate is a rate too
    assert v.apply(16 * H, SettleFunding(BTC, rate=0))[0].funding_rate == 0
    ev = v.apply(24 * H, SettleFunding(BTC, rate=-5_000))
    assert ev[0].funding_rate == -5_000 and [i.amount for i in only(ev, Income)] == [18 * USDT, -18 * USDT]


def test_timer_settlement_unchanged():
    v = fresh()
    assert v.apply(8 * H, SettleFunding(BTC))[0] == \
        FundingSettled(BTC, 8 * H, 10_000, px(60000), 2, 36 * USDT, 36 * USDT)


def test_record_form_and_old_records():
    # unset: the record is the one written before the field existed
    assert SettleFunding(BTC).to_record() == [24, [BTC]]
    assert command_from_record([24, [BTC]]) == SettleFunding(BTC)
    assert command_from_record([24, [BTC]]).rate == SettleFunding.NO_RATE
    for rate in (12_345, 0, -7, 300_000_000):
        c = SettleFunding(BTC, rate=rate)
        rec = msgpack.unpackb(msgpack.packb(c.to_record()), raw=False)
        assert rec == [24, [BTC, rate]] and command_from_record(rec) == c


def test_recorded_settlement_journals_and_replays(tmp_path):
    rt = Runtime.virtual(8 * H - 1_000, data_dir=tmp_path / "rf", fsync="never", timers=False)
    rt.sequencer.execute([CreateAccount(1), Deposit(1, 100_000 * USDT), CreateAccount(2),
                          Deposit(2, 100_000 * USDT), SetIndexPrice(BTC, px(60000)),
                          limit(2, C.SELL, lots(1), px(60000)), market(1, C.BUY, lots(1))])
    rt.clock.advance_to(8 * H + 5)
    rt.sequencer.execute([SettleFunding(BTC, rate=123_456)])
    rt.clock.advance_to(16 * H)
    rt.sequencer.execute([SettleFunding(BTC)])
    digest = rt.venue.state_digest()
    rt.close()
    result = replay(tmp_path / "rf" / "journal", verify=True)
    assert result.divergence is None, str(result.divergence)
    assert result.venue.state_digest() == digest
    assert [r[:2] for r in result.venue.funding_history(BTC)] == [(8 * H, 123_456), (16 * H, 10_000)]
