"""Replay is the test of truth: a journal rebuilds the venue and re-produces its events."""
import random

import pytest

from exchange.journal import JournalReader, JournalWriter
from exchange.engine.replay import replay
from exchange.contract.venue_config import venue_config
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.engine.runtime import Runtime
from exchange.contract import codes as C
from exchange.contract.commands import CreateAccount, Deposit, NewOrder, SetIndexPrice, CancelOrder

USDT = 100_000_000
T0 = 1_700_000_000_000


def trading_session(runtime, n_orders=300, seed=1):
    rng = random.Random(seed)
    seq = runtime.sequencer
    cmds = [SetIndexPrice("BTCUSDT", 600_000)]
    for acct in (1, 2, 3, 4):
        cmds += [CreateAccount(acct), Deposit(acct, 100_000 * USDT)]
    seq.execute(cmds)
    for i in range(n_orders):
        acct = rng.randint(1, 4)
        side = rng.choice((C.BUY, C.SELL))
        if rng.random() < 0.2:
            cmd = NewOrder(acct, "BTCUSDT", side, C.MARKET, C.GTC, rng.randint(1, 20), 0)
        elif rng.random() < 0.15:
            cmd = CancelOrder(acct, "BTCUSDT", rng.randint(1, i + 1))
        else:
            price = 600_000 + (rng.randint(1, 30) if side == C.SELL else -rng.randint(0, 30))
            cmd = NewOrder(acct, "BTCUSDT", side, C.LIMIT, C.GTC, rng.randint(1, 20), price)
        seq.execute([cmd])
        runtime.clock.advance(rng.randint(0, 500))


def test_restart_continues_the_run(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path)
    trading_session(rt)
    digest, last_seq = rt.venue.state_digest(), rt.sequencer.seq
    rt.close()

    again = Runtime.virtual(T0, data_dir=tmp_path)
    assert again.venue.state_digest() == digest
    # the clean close wrote a snapshot: nothing is left to replay
    assert again.sequencer.seq == last_seq and again.restored_commands == 0
    # and it goes on journaling after the old tail
    again.sequencer.execute([Deposit(1, USDT)])
    again.close()
    assert list(JournalReader(tmp_path / "journal"))[-1].seq == last_seq + 1


def test_verify_passes_on_an_honest_journal(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path)
    trading_session(rt, seed=2)
    digest = rt.venue.state_digest()
    rt.close()
    result = replay(tmp_path / "journal", verify=True)
    assert result.divergence is None
    assert result.commands == rt.sequencer.seq
    assert result.events > result.commands
    assert result.venue.state_digest() == digest


def test_verify_names_the_first_divergent_seq(tmp_path):
    jdir = tmp_path / "journal"
    writer = JournalWriter(jdir, venue_config(DEFAULT_INSTRUMENTS), fsync="never")
    from exchange.venue import Venue
    venue = Venue(DEFAULT_INSTRUMENTS)
    for seq, cmd in enumerate([CreateAccount(7), Deposit(7, 5 * USDT), Deposit(7, 6 * USDT)], start=1):
        kind, payload = cmd.to_record()
        writer.append(seq, T0, kind, payload)
        events = venue.apply(T0, cmd)
        for i, ev in enumerate(events):
            kind, payload = ev.to_record()
            if seq == 3 and i == 0:
                payload = list(payload)
                payload[-1] = 123  # a tampered field
            writer.append(seq, T0, kind, payload)
    writer.close()
    result = replay(jdir, verify=True)
    assert result.divergence is not None and result.divergence.seq == 3
    assert "seq 3" in str(result.divergence)


def test_until_seq_stops_at_that_point(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path)
    trading_session(rt, n_orders=50, seed=3)
    rt.close()
    result = replay(tmp_path / "journal", until_seq=5)
    assert result.commands == 5 and result.stopped_early


def test_cli_replay_verify_and_export(tmp_path, capsys):
    from exchange.cli import main
    rt = Runtime.virtual(T0, data_dir=tmp_path / "data")
    trading_session(rt, n_orders=80, seed=9)
    digest = rt.venue.state_digest()
    rt.close()
    assert main(["replay", str(tmp_path / "data"), "--verify", "--json"]) == 0
    out = capsys.readouterr().out
    import json
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["verified"] is True and summary["state_digest"] == digest
    assert main(["replay", str(tmp_path / "data"), "--until-seq", "12"]) == 0
    out = capsys.readouterr().out
    assert "state after seq 12" in out and "wallet balance" in out
    assert main(["export", str(tmp_path / "data"), str(tmp_path / "x.db")]) == 0
    assert "exported" in capsys.readouterr().out
    assert main(["replay", str(tmp_path / "nope")]) == 2


def test_snapshot_plus_tail_equals_full_replay(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path, snapshot_every=150)
    trading_session(rt, n_orders=400, seed=21)
    digest, last_seq = rt.venue.state_digest(), rt.sequencer.seq
    assert 0 < rt.snapshot_seq < last_seq          # periodic snapshots were taken mid-run
    rt.close(snapshot=False)                        # like a crash: the tail is only in the journal
    again = Runtime.virtual(T0, data_dir=tmp_path)
    assert again.snapshot_seq > 0 and again.restored_commands == last_seq - again.snapshot_seq
    assert again.venue.state_digest() == digest
    from exchange.engine.snapshots import load_latest
    snap_venue, snap_seq, _ = load_latest(tmp_path / "snapshots", last_seq, verify=True)
    assert snap_seq == again.snapshot_seq
    assert snap_venue.state_digest() == replay(tmp_path / "journal", until_seq=snap_seq).venue.state_digest()
    full = replay(tmp_path / "journal", verify=True)
    assert full.divergence is None and full.venue.state_digest() == digest
    again.close(snapshot=False)


def test_a_broken_snapshot_falls_back_to_an_older_one_or_the_journal(tmp_path):
    rt = Runtime.virtual(T0, data_dir=tmp_path, snapshot_every=100)
    trading_session(rt, n_orders=250, seed=22)
    digest = rt.venue.state_digest()
    rt.close()
    from exchange.engine.snapshots import list_snapshots
    snaps = list_snapshots(tmp_path / "snapshots")
    assert len(snaps) >= 2
    snaps[-1][1].write_bytes(b"garbage")            # the newest one is unreadable
    again = Runtime.virtual(T0, data_dir=tmp_path)
    assert again.snapshot_seq == snaps[-2][0]
    assert again.venue.state_digest() == digest
    again.close(snapshot=False)


def test_serve_refuses_a_damaged_data_dir_with_a_message(tmp_path, capsys):
    from exchange.cli import main
    (tmp_path / "journal").mkdir()
    (tmp_path / "journal" / "00000000000000000001.journal").write_bytes(b"not a journal at all, sorry")
    assert main(["serve", "--data-dir", str(tmp_path), "--port", "0", "--flow", "none"]) == 2
    err = capsys.readouterr().err
    assert "00000000000000000001.journal" in err and "offset" in err and "Traceback" not in err
