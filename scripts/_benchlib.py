"""What several benchmark scripts need alike (imported as ``_benchlib``: a script's own folder
is first on sys.path when it runs).  Not a benchmark itself (.ci/run smokes scripts/bench_*.py).

* ``parser(doc, smoke)``: the command line with the two options every benchmark has;
* ``cpu_seconds(pid)``: a process's CPU time so far, for "CPU per request" and "% of a core";
* ``stop_process(proc)``: a server started by the benchmark stopped, never left behind;
* ``order_mix_accounts(...)``, ``order_mix(n, ...)``: bench_journal's sequencer/replay setup and commands;
* ``finish(result, lines, as_json)``: the human summary, and with --json the one JSON object
  as the last line that .ci/run and BENCHMARKS.md read.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
from typing import Iterable, Optional


def parser(doc: str, smoke: str) -> argparse.ArgumentParser:
    """The benchmark's ArgumentParser, described by the first paragraph of its ``doc``, with
    ``--smoke`` (a small quick run, as .ci/run runs it; ``smoke`` says what it does) and ``--json``."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help=smoke)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return ap


def cpu_seconds(pid: int) -> Optional[float]:
    """utime + stime of ``pid`` in seconds (fields 14 and 15 of /proc/PID/stat); None where
    there is no /proc (not Linux) or the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> tuple:
    """Send ``sig`` and wait up to ``timeout`` s; one that has not stopped by then is killed.
    Returns what ``communicate()`` read of its pipes (None for what was not a pipe)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def finish(result: dict, lines: Iterable[str], as_json: bool) -> int:
    """Print the human summary ``lines``; with ``as_json`` the result as one JSON object on the
    last line.  Returns the exit code (0)."""
    for line in lines:
        print(line)
    if as_json:
        print(json.dumps(result))
    return 0


def order_mix_accounts(SetIndexPrice, CreateAccount, Deposit) -> list:
    """The commands before ``order_mix``: BTCUSDT's index at 600,000 ticks, 20 funded accounts
    (the classes passed in, as for ``order_mix``)."""
    setup = [SetIndexPrice("BTCUSDT", 600_000)]
    for a in range(1, 21):
        setup += [CreateAccount(a), Deposit(a, 10_000_000 * 100_000_000)]
    return setup


def order_mix(n: int, C, NewOrder, CancelOrder, seed: int = 11) -> list:
    """``bench_journal.bench_replay``'s order mix: ``n`` commands of 20 accounts on BTCUSDT around
    600,000 ticks (the command classes and codes passed in, so ``icount_sections.py`` can build
    the same commands for a checkout whose modules live elsewhere, such as bb39c7b)."""
    rng = random.Random(seed)
    cmds, placed = [], 0
    for _ in range(n):
        r = rng.random()
        acct = rng.randint(1, 20)
        side = rng.choice((C.BUY, C.SELL))
        if r < 0.55 or placed == 0:
            dist = 1 + int(rng.expovariate(1 / 8))
            price = 600_000 - dist if side == C.BUY else 600_000 + dist
            cmds.append(NewOrder(acct, "BTCUSDT", side, C.LIMIT, C.GTC, rng.randint(1, 10), price))
            placed += 1
        elif r < 0.9:
            cmds.append(CancelOrder(acct, "BTCUSDT", rng.randint(1, placed)))
        else:
            cmds.append(NewOrder(acct, "BTCUSDT", side, C.MARKET, C.GTC, rng.randint(1, 6), 0))
    return cmds
