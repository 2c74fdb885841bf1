#!/usr/bin/env python
"""Load-independent instruction counts (callgrind) of the sections behind the journal, flow
and reference-book figures, for comparing two checkouts (issue #14's speed clause).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=F \\
        /root/.pyenv/versions/3.11.7/bin/python3.11 scripts/icount_sections.py SECTION N ROOT

ROOT is the checkout whose code runs (its ``exchange``, ``matching`` and ``scripts``; e.g.
the worktree of bb39c7b, whose module paths predate the restructure).  Only the section is
counted: the script switches callgrind's collection on and off around it (a client request
compiled once from ``valgrind/callgrind.h`` into the temp dir), so "Collected" in
valgrind's summary is the section's instructions.

SECTION:
* ``read`` - ``JournalReader`` over N records written as ``bench_journal.bench_append``
  writes them (read_records_per_s);
* ``sequencer`` - N commands of ``bench_journal.bench_replay``'s order mix (seed 11, 20
  accounts) through ``Sequencer.execute`` in groups of 100 (sequencer_cmds_per_s);
* ``verify`` - ``replay(..., verify=True)`` of the journal those N commands wrote
  (replay_verify_cmds_per_s);
* ``flow`` - the first N recorded seconds of ``bench_flow.py``'s replay (the largest
  supported sample, batch 1 ms; replay_sim_s_per_wall_s);
* ``reference`` - N operations of ``bench_matching.py``'s workload (seed 7) on the
  pure-Python ``ReferenceBook`` (reference_ops_per_s).
"""
from __future__ import annotations

import ctypes
import gc
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _benchlib import order_mix, order_mix_accounts   # (this script's own folder: works for any ROOT)


def collector():
    """A function that toggles callgrind's collection (a no-op outside valgrind)."""
    lib = Path(tempfile.gettempdir()) / "paperex_cg_toggle.so"
    if not lib.exists():
        src = lib.with_suffix(".c")
        src.write_text("#include <valgrind/callgrind.h>\nvoid toggle(void) { CALLGRIND_TOGGLE_COLLECT; }\n")
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return ctypes.CDLL(str(lib)).toggle


def counted(fn) -> None:
    toggle = collector()
    toggle()
    fn()
    toggle()


def journal_section(section: str, n: int, root: str, tmp: Path) -> None:
    if os.path.isdir(os.path.join(root, "exchange", "engine")):
        from exchange.contract import codes as C
        from exchange.contract.commands import (
            CancelOrder,
            CreateAccount,
            Deposit,
            NewOrder,
            SetIndexPrice,
        )
        from exchange.engine.clock import VirtualClock
        from exchange.engine.replay import replay
        from exchange.engine.runtime import Runtime
    else:       # before the restructure (bb39c7b)
        from exchange.clock import VirtualClock
        from exchange.replay import replay
        from exchange.runtime import Runtime
        from exchange.venue.commands import (
            CancelOrder,
            CreateAccount,
            Deposit,
            NewOrder,
            SetIndexPrice,
        )

        from exchange.venue import codes as C
    rt = Runtime(data_dir=tmp / "data", clock=VirtualClock(1_700_000_000_000), fsync="never")
    seq = rt.sequencer
    seq.execute(order_mix_accounts(SetIndexPrice, CreateAccount, Deposit))
    cmds = order_mix(n, C, NewOrder, CancelOrder)

    def build() -> None:
        for i in range(0, len(cmds), 100):
            seq.execute(cmds[i:i + 100])

    if section == "sequencer":
        counted(build)
        return
    build()
    rt.close()

    def verify() -> None:
        result = replay(tmp / "data" / "journal", verify=True)
        assert result.divergence is None, result.divergence

    counted(verify)


def main() -> None:
    section, n, root = sys.argv[1], int(float(sys.argv[2])), os.path.abspath(sys.argv[3])
    sys.path[:0] = [root, os.path.join(root, "scripts")]
    tmp = Path(tempfile.mkdtemp(prefix="paperex_icount_"))
    try:
        if section == "read":
            import bench_journal

            from exchange.journal import JournalReader
            path = tmp / "journal"
            bench_journal.bench_append(path, n, 100, "never", 8 << 20)

            def read() -> None:
                assert sum(1 for _ in JournalReader(path)) == n

            counted(read)
        elif section in ("sequencer", "verify"):
            journal_section(section, n, root, tmp)
        elif section == "flow":
            import bench_flow
            bench_flow.heap.configure()
            path = bench_flow.find_largest_sample()
            t0 = bench_flow.ReplayDriver.first_timestamp(path)
            rt = bench_flow.Runtime.virtual(t0, data_dir=tmp / "replay", fsync="never")
            driver = bench_flow.ReplayDriver(rt, path, batch_ms=1)
            bench_flow.heap.settle()
            counted(lambda: driver.run(until_ms=t0 + n * 1000))
        elif section == "reference":
            import bench_matching

            from matching.reference import ReferenceBook
            ops = bench_matching.make_workload(n, 7)
            book = ReferenceBook()
            gc.disable()        # as bench_matching.run_interleaved
            counted(lambda: bench_matching.run_single(book, ops))
        else:
            sys.exit("SECTION must be read, sequencer, verify, flow or reference")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)     # no interpreter tear-down (and no snapshot on close) after the section


if __name__ == "__main__":
    main()
