"""``paperex serve`` as a user runs it, for the tests that need the real command line: the stock
CLI (``python -m exchange.cli serve``) in a subprocess, its banner read for what a client needs,
and a stop that never leaves a server behind.

The tests that start the command line each used to carry their own copy of the banner loop and
of the signal-wait-kill stop; they share these now.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import pytest

ROOT = Path(__file__).resolve().parents[1]

# what the banner of ``paperex serve`` names, by the name a test asks for it
BANNER = {
    "url": r"REST base : (http://127\.0\.0\.1:\d+)",          # loopback only: the default --host
    "ws_api": r"WS API\s*: (ws://127\.0\.0\.1:\d+\S*)",
    "key": r"apiKey : (\S+)",
    "secret": r"secret : (\S+)",
    "pem": r"ED25519 private key file: (\S+)",
}


def tree_env() -> dict[str, str]:
    """The environment with this tree first on PYTHONPATH, so the subprocess runs the code under test."""
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def start_serve(data_dir: Path, *args: str, want: Iterable[str] = ("url",),
                timeout: float = 60.0) -> tuple[subprocess.Popen, dict[str, str], list[str]]:
    """``paperex serve --port 0 --data-dir DATA_DIR --fsync never ARGS``, read until the banner has
    named every field in ``want`` (keys of BANNER).  Returns the process, the fields found and the
    lines read; a server that does not get that far is killed and the test fails with its output."""
    proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", "0", "--data-dir",
                             str(data_dir), "--fsync", "never", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=tree_env())
    wanted = set(want)
    found: dict[str, str] = {}
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not wanted <= found.keys():
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        for name, pattern in BANNER.items():
            if name not in found and (m := re.search(pattern, line)):
                found[name] = m.group(1)
    if not wanted <= found.keys():
        stop_process(proc, timeout=5)
        pytest.fail(f"paperex serve did not name {sorted(wanted - found.keys())}:\n" + "".join(lines))
    return proc, found, lines


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 20.0) -> str:
    """Send ``sig`` and wait up to ``timeout`` s; one that has not stopped by then is killed (its
    return code then says so).  Returns what it still printed (empty when it prints to a file)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""
