"""The compiled venue and its pure-Python twin (the same ``.py`` sources, see
``exchange/_accelerated.py``) produce the same events, byte for byte.

A crash-scenario run with liquidations, insurance-fund moves and funding is
journaled by the venue of this process; a child process with ``PAPEREX_PURE=1``
replays it with ``--verify`` (every command must produce exactly its journaled
events) and reports the state digest, which must equal this process's.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exchange._accelerated import compiled
from exchange.flow.synthetic import SyntheticConfig, SyntheticFlow
from exchange.engine.runtime import Runtime
from exchange.contract import events as ev
ROOT = Path(__file__).resolve().parents[2]


def _replay_in_child(journal: Path, pure: bool) -> dict:
    env = dict(os.environ, PAPEREX_PURE="1" if pure else "0", PYTHONPATH=str(ROOT))
    probe = ("import json, sys\n"
             "from exchange._accelerated import compiled\n"
             "from exchange.engine.replay import replay\n"
             "r = replay(sys.argv[1], verify=True)\n"
             "print(json.dumps({'compiled': compiled(), 'ok': r.divergence is None, 'commands': r.commands,"
             " 'digest': r.venue.state_digest()}))\n")
    out = subprocess.run([sys.executable, "-c", probe, str(journal)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def crash_journal(tmp_path_factory):
    data = tmp_path_factory.mktemp("twin")
    rt = Runtime.virtual(1_717_200_000_000, data_dir=data, fsync="never")
    flow = SyntheticFlow(rt, SyntheticConfig(seed=5, scenario="crash",
                                             scenario_overrides={"start_s": 5, "fall_s": 60, "rebound_s": 20}))
    kinds: dict = {}
    rt.sequencer.subscribe(lambda seq, ts, cmd, evs, book: [kinds.__setitem__(e.KIND, kinds.get(e.KIND, 0) + 1)
                                                      for e in evs])
    flow.run(75)
    digest = rt.venue.state_digest()
    in_process_compiled = compiled()
    rt.close(snapshot=False)
    return data / "journal", digest, kinds, in_process_compiled


def test_the_run_exercises_liquidation_and_fills(crash_journal):
    _, _, kinds, _ = crash_journal
    assert kinds.get(ev.OrderFilled.KIND, 0) > 1000
    assert kinds.get(ev.ForceOrder.KIND, 0) > 0
    assert kinds.get(ev.InsuranceFundChanged.KIND, 0) > 0


def test_pure_twin_replays_the_journal_to_the_same_state(crash_journal):
    journal, digest, _, in_process_compiled = crash_journal
    pure = _replay_in_child(journal, pure=True)
    assert pure["compiled"] is False
    assert pure["ok"] and pure["commands"] > 1000
    assert pure["digest"] == digest


def test_compiled_venue_replays_the_journal_to_the_same_state(crash_journal):
    journal, digest, _, in_process_compiled = crash_journal
    if not in_process_compiled:
        pytest.skip("the venue's extension modules are not built (pure-Python install)")
    other = _replay_in_child(journal, pure=False)
    assert other["compiled"] is True
    assert other["ok"] and other["digest"] == digest
