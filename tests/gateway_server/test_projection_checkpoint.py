"""Issue #18: the gateway starts from a projection checkpoint plus the journal's
tail, and ends up with exactly the history a rebuild from the whole journal gives."""
from __future__ import annotations

import random

import msgpack

from exchange.gateway.app import Gateway, runtime_projection
from exchange.gateway.projection import Projection
from exchange.gateway.projection_checkpoint import list_checkpoints, projection_state, restore
from exchange.engine.runtime import Runtime
from exchange.contract import codes as C
from exchange.contract.commands import (
    CancelOrder, CreateAccount, Deposit, NewOrder, RefreshMarkPrice, SamplePremium, SetIndexPrice, SetMarkPrice,
    SetPositionMode,
)

USDT = 100_000_000
T0 = 1_700_000_000_000


def trade(rt, rng, n):
    for i in range(n):
        acct = rng.randint(1, 6)
        side = rng.choice((C.BUY, C.SELL))
        r = rng.random()
        if r < 0.25:
            cmd = NewOrder(acct, "BTCUSDT", side, C.MARKET, C.GTC, rng.randint(1, 20), 0)
        elif r < 0.35:
            cmd = CancelOrder(acct, "BTCUSDT", rng.randint(1, 50))
        elif r < 0.40:
            cmd = Deposit(acct, rng.randint(1, 100) * USDT)
        elif r < 0.42:
            cmd = SetMarkPrice("BTCUSDT", 600_000 + rng.randint(-200, 200))
        elif r < 0.47:      # a conditional order (Algo API or legacy) that the trading may trigger
            stop = 600_000 + (rng.randint(1, 20) if side == C.BUY else -rng.randint(1, 20))
            cmd = NewOrder(acct, "BTCUSDT", side, C.STOP_MARKET, C.GTC, rng.randint(1, 5), 0,
                           position_side=C.LONG if acct == 6 else 0, stop_price=stop,
                           algo=rng.randint(0, 1))
        elif r < 0.52:      # premium samples and mark refreshes: candles and the markPrice stream's view
            cmd = SamplePremium("BTCUSDT") if r < 0.50 else RefreshMarkPrice("BTCUSDT")
        else:
            price = 600_000 + (rng.randint(1, 30) if side == C.SELL else -rng.randint(0, 30))
            cmd = NewOrder(acct, "BTCUSDT", side, C.LIMIT, C.GTC, rng.randint(1, 20), price)
        rt.sequencer.execute([cmd])
        rt.clock.advance(rng.randint(0, 20_000))


def state_bytes(p: Projection) -> bytes:
    return msgpack.packb(projection_state(p), use_bin_type=True)


def gateway_projection(rt) -> Projection:
    """The gateway's projection with its companions (#16: the leaderboard and the dashboard
    feed share its checkpoints and journal tail)."""
    from exchange.engine.leaderboard import Leaderboard
    from exchange.gateway.dashboard.feed import DashboardFeed
    from exchange.gateway.projection_companions import LeaderboardCompanion
    p = runtime_projection(rt)
    p.companions["leaderboard"] = LeaderboardCompanion(Leaderboard.for_instruments(rt.instruments))
    p.companions["dashboard"] = DashboardFeed(p, sorted(rt.instruments))
    return p


def test_checkpoint_plus_tail_equals_a_full_rebuild(tmp_path):
    rng = random.Random(7)
    rt = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    gw = Gateway(rt)
    rt.sequencer.execute([SetIndexPrice("BTCUSDT", 600_000)]
                         + [c for a in range(1, 7) for c in (CreateAccount(a), Deposit(a, 10_000 * USDT))]
                         + [SetPositionMode(6, 1)]             # one account in hedge mode
                         # a deep quote either side: the premium samples meet the impact notional
                         + [CreateAccount(7), Deposit(7, 10_000_000 * USDT),
                            NewOrder(7, "BTCUSDT", C.BUY, C.LIMIT, C.GTC, 5_000, 599_900),
                            NewOrder(7, "BTCUSDT", C.SELL, C.LIMIT, C.GTC, 5_000, 600_100)])
    trade(rt, rng, 300)
    rt.write_snapshot()                                     # venue snapshot + projection checkpoint
    (cp_seq, _), = list_checkpoints(tmp_path / "snapshots")
    assert cp_seq == rt.sequencer.seq
    trade(rt, rng, 200)                                     # the tail
    live = state_bytes(gw.projection)
    assert gw.projection.fills_total > 50                   # the session really traded
    # what the fan-out reads from the projection is in its state too
    assert gw.projection.dual == {6: 1} and gw.projection.conditionals and gw.projection.trigger_time
    m = gw.projection.markets["BTCUSDT"]
    assert m.mark_price and m.index_price == 600_000 and m.funding_rate
    assert len(m.premium_klines) > 5        # premium samples are events: a rebuild sees them too
    last = rt.sequencer.seq
    rt.close(snapshot=False)                                # a crash: the checkpoint stays behind

    again = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    restored = gateway_projection(again)
    tail_commands = restore(restored, tmp_path, again.sequencer.seq)
    assert 0 < tail_commands == last - cp_seq               # only the tail was read
    full = gateway_projection(again)
    assert full.rebuild(tmp_path / "journal") == last       # the whole journal
    assert state_bytes(restored) == state_bytes(full)
    board = restored.companions["leaderboard"].board
    assert board.last_seq == last and board.standings() == full.companions["leaderboard"].board.standings()
    assert sum(a.trades for a in board.accounts.values()) > 50
    assert restored.companions["dashboard"].candles["BTCUSDT"]            # the chart's candles too
    # and the gateway itself starts that way and keeps going
    gw2 = Gateway(again)
    assert state_bytes(gw2.projection) == state_bytes(full)
    trade(again, rng, 50)
    full_after = gateway_projection(again)
    full_after.rebuild(tmp_path / "journal")
    assert state_bytes(gw2.projection) == state_bytes(full_after)
    assert live                                             # (the live projection was serialisable)
    again.close()                                           # clean stop: checkpoint at the last seq
    assert list_checkpoints(tmp_path / "snapshots")[-1][0] == again.sequencer.seq
    third = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    p3 = gateway_projection(third)
    assert restore(p3, tmp_path, third.sequencer.seq) == 0   # nothing to read at all
    assert state_bytes(p3) == state_bytes(full_after)
    third.close(snapshot=False)


def test_damaged_or_ahead_checkpoint_costs_only_a_rebuild(tmp_path, caplog):
    rt = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    Gateway(rt)
    rt.sequencer.execute([SetIndexPrice("BTCUSDT", 600_000), CreateAccount(1), Deposit(1, USDT)])
    rt.close()
    (seq, path), = list_checkpoints(tmp_path / "snapshots")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    again = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    p = runtime_projection(again)
    assert restore(p, tmp_path, again.sequencer.seq) == seq  # a full rebuild
    assert "unusable" in caplog.text
    # a checkpoint ahead of the journal is set aside, never used later
    ahead = path.with_name(f"{seq + 5:020d}.projection")
    path.rename(ahead)
    p = runtime_projection(again)
    restore(p, tmp_path, again.sequencer.seq)
    assert not ahead.exists() and ahead.with_name(ahead.name + ".ahead-of-journal").exists()
    again.close(snapshot=False)


def test_an_older_format_checkpoint_is_refused_by_name_and_everything_rebuilt(tmp_path, caplog):
    """#16: format 5 holds the leaderboard and the dashboard feed; a format 4 checkpoint
    (without them) is refused with a log line naming its format, and the projection and its
    companions are rebuilt from the journal - the same as from a format 5 checkpoint."""
    import zlib
    from exchange.gateway import projection_checkpoint as PC
    rt = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    Gateway(rt)
    rt.sequencer.execute([SetIndexPrice("BTCUSDT", 600_000)]
                         + [c for a in (1, 2) for c in (CreateAccount(a), Deposit(a, 1_000 * USDT))])
    trade(rt, random.Random(3), 80)
    rt.close()
    (seq, path), = list_checkpoints(tmp_path / "snapshots")
    reader = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    current = gateway_projection(reader)
    assert PC.FORMAT == "paperex-projection/5"
    assert PC.load_checkpoint(tmp_path / "snapshots", current, seq) == seq       # format 5 is read
    reader.close(snapshot=False)
    # rewrite it as format 4 (same layout, older head format, no companions)
    data = path.read_bytes()
    magic, hlen, _hcrc, blen, bcrc = PC._HEADER.unpack_from(data, 0)
    head = msgpack.unpackb(data[PC._HEADER.size:PC._HEADER.size + hlen], raw=False, strict_map_key=False)
    head["format"] = "paperex-projection/4"
    del head["state"]["companions"]
    new_head = msgpack.packb(head, use_bin_type=True)
    path.write_bytes(PC._HEADER.pack(magic, len(new_head), zlib.crc32(new_head), blen, bcrc) + new_head
                     + data[PC._HEADER.size + hlen:])
    again = Runtime.virtual(T0, data_dir=tmp_path, timers=False)
    gw = Gateway(again)
    assert "'paperex-projection/4'" in caplog.text and "rebuilt from the journal" in caplog.text
    assert state_bytes(gw.projection) == state_bytes(current)
    assert gw.leaderboard.standings() == current.companions["leaderboard"].board.standings()
    assert gw.leaderboard.standings()["standings"][0]["trades"] > 0
    again.close(snapshot=False)
