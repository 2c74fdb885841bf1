"""Crash test: SIGKILL a journaling process at random points, many times; every
acknowledged command must be in the rebuilt state and the journal must open cleanly."""
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from exchange.engine.replay import replay
from exchange.engine.runtime import Runtime

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(data_dir, fsync, seed, acked, rng):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(CHILD), str(data_dir), fsync, str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ready = threading.Event()

    def read():
        for line in proc.stdout:
            if line.startswith("READY"):
                ready.set()
            elif line.startswith("ACK "):
                acked.update(int(x) for x in line.split()[1:])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert ready.wait(30), proc.stderr.read() if proc.poll() is not None else "child never got ready"
    time.sleep(rng.uniform(0.01, 0.25))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    reader.join(10)


@pytest.mark.parametrize("fsync", ["batch", "never"])
def test_every_acknowledged_command_survives_sigkill(tmp_path, fsync):
    rng = random.Random(42)
    acked: set[int] = set()
    for round_no in range(8):
        run_and_kill(tmp_path, fsync, round_no, acked, rng)
    assert len(acked) > 100  # the child really got work done between kills
    rt = Runtime(data_dir=tmp_path)
    missing = acked - set(rt.venue.accounts)
    assert not missing, f"acknowledged but lost: {sorted(missing)[:10]}"
    assert rt.venue.money_identity()["balanced"]
    rt.close()
    result = replay(tmp_path / "journal", verify=True)
    assert result.divergence is None
    # and the full check (every CRC of every segment, snapshots against the journal) agrees
    check = subprocess.run([sys.executable, "-m", "exchange.cli", "journal", "check", str(tmp_path)],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout


def test_a_group_cut_short_by_a_crash_is_dropped_on_open(tmp_path):
    from exchange.contract.commands import CreateAccount, Deposit
    rt = Runtime(data_dir=tmp_path)
    rt.sequencer.execute([CreateAccount(1), Deposit(1, 10 * 100_000_000)])
    segment = sorted((tmp_path / "journal").glob("*.journal"))[-1]
    size_before = segment.stat().st_size
    rt.sequencer.execute([Deposit(1, 5 * 100_000_000)])  # one command, several event records
    rt.close(snapshot=False)  # a crash: no clean-shutdown snapshot
    # a crash tore the group: its last record lost three bytes
    with open(segment, "r+b") as f:
        f.truncate(segment.stat().st_size - 3)
    again = Runtime(data_dir=tmp_path)
    assert again.sequencer.seq == 2                     # the torn group's command is gone
    assert again.venue.account(1)["wallet_balance"] == 10 * 100_000_000
    assert segment.stat().st_size == size_before        # cut back to the group boundary
    again.sequencer.execute([Deposit(1, 1)])            # and appending goes on cleanly
    again.close()
    assert replay(tmp_path / "journal", verify=True).divergence is None
