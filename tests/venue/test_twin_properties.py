"""The compiled venue and its pure-Python twin on random command sequences.

The venue of this process (compiled, or pure under ``PAPEREX_PURE=1``) runs the
random perp sequences of ``perp_commands`` (orders, conditional orders, mark
crashes, funding across intervals, liquidations, ADL); a child process running
the other build (``venue_twin_child.py``) replays each sequence on a fresh venue.
Every command's events and the state digest after every command must be equal.
The same for the order-path sequences of test_properties.py (modify, cancel-all,
client order ids, refusals).  The examples must exercise what each generator is
for (floors: funding, liquidations, ADL; fills, modifications, refusals).
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from exchange._accelerated import compiled
from exchange.contract.instruments import DEFAULT_INSTRUMENTS
from exchange.venue import Venue
import test_properties as order_commands
from hypothesis_profiles import examples
from perp_commands import EPILOGUE, SETUP, STEP_MS, assert_floors, cases, draw_sequence_command, next_ts

ROOT = Path(__file__).resolve().parents[2]
FLOORS = {"funding paid": 0.5, "liquidation": 0.25, "partial fill": 0.5, "adl": 0.1}


class OtherBuild:
    """The child process holding the other build of the venue."""

    def __init__(self, pure: bool):
        env = dict(os.environ, PAPEREX_PURE="1" if pure else "0",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("venue_twin_child.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT)

    def run(self, stamped: list) -> dict:
        body = msgpack.packb([[ts, c.to_record()] for ts, c in stamped])
        self.proc.stdin.write(struct.pack(">I", len(body)) + body)
        self.proc.stdin.flush()
        head = self.proc.stdout.read(4)
        assert len(head) == 4, "the twin process died"
        return msgpack.unpackb(self.proc.stdout.read(struct.unpack(">I", head)[0]), raw=False)

    def close(self) -> None:
        self.proc.stdin.write(struct.pack(">I", 0))
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture
def other_build():
    here_compiled = compiled()
    twin = OtherBuild(pure=here_compiled)       # a compiled process checks the pure one, and vice versa
    yield here_compiled, twin
    twin.close()


def perp_sequence(data, v, n):
    """The perp sequences: (ts, command) pairs drawn against the venue ``v``."""
    ts = (len(SETUP) - 1) * STEP_MS
    for i in range(n):
        c = draw_sequence_command(data.draw, v, i, n)
        ts = next_ts(ts, c, data.draw, settle=i >= n - EPILOGUE)
        yield ts, c


def order_sequence(data, v, n):
    """The order-path sequences of test_properties.py: modify, cancel-all, client
    order ids, withdrawals, bad accounts and parameters."""
    for i in range(n):
        yield (len(order_commands.SETUP) + i) * STEP_MS, order_commands.draw_command(data.draw, v)


GENERATORS = {
    "perp": (SETUP, perp_sequence, FLOORS),
    "orders": (order_commands.SETUP, order_sequence, order_commands.FLOORS),
}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_compiled_and_pure_venues_agree_on_random_sequences(other_build, kind):
    here_compiled, twin = other_build
    probe = twin.run([(0, SETUP[0])])
    if probe["compiled"] == here_compiled:
        pytest.skip("only one build of the venue is available (extensions not built)")
    setup, sequence, floors = GENERATORS[kind]
    seen, done = Counter(), Counter()

    @settings(max_examples=examples(50), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data(), st.integers(30, 160))
    def prop(data, n):
        v = Venue(DEFAULT_INSTRUMENTS, history_limit=40)
        stamped, log, digests = [], [], []
        case_set = set()

        def apply(ts, c):
            ev = v.apply(ts, c)
            stamped.append((ts, c))
            log.append([e.to_record() for e in ev])
            digests.append(v.state_digest())
            return ev

        for i, c in enumerate(setup):
            apply(i * STEP_MS, c)
        for ts, c in sequence(data, v, n):
            ev = apply(ts, c)
            case_set |= cases(ev) | order_commands.cases(ev)
        other = twin.run(stamped)
        mine = msgpack.unpackb(msgpack.packb(log), raw=False)
        for k, (ts, c) in enumerate(stamped):       # the first divergence, with its command
            assert other["log"][k] == mine[k], (k, ts, c)
            assert other["digests"][k] == digests[k], (k, ts, c)
        done["n"] += 1
        seen.update(case_set)

    prop()
    assert_floors(seen, done["n"], floors)
