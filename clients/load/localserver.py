"""``paperex serve`` started by the load test itself (``--paperex-serve``).

A fresh journal in a temporary directory, a free loopback port, the stock CLI
(``python -m exchange.cli serve``; its banner ``paperex serving ... on http://HOST:PORT`` says
it is ready). At the end: SIGTERM, the server must say ``stopped cleanly``, and the journal is
re-executed with ``paperex replay --verify --json``.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Optional

import gevent

__all__ = ["LocalServer"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    def __init__(self, *, flow: str = "synthetic", seed: int = 1, data_dir: Optional[str] = None,
                 keep: bool = False) -> None:
        self.flow, self.seed, self.keep = flow, seed, keep
        self._tmp = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="paperex-locust-")
        self.port = _free_port()
        self.url = ""
        self.lines: list[str] = []
        self.proc: Optional[subprocess.Popen] = None
        self.stopped_seq: Optional[int] = None

    def start(self, timeout: float = 60.0) -> str:
        cmd = [sys.executable, "-m", "exchange.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", self.data_dir, "--flow", self.flow, "--seed", str(self.seed),
               "--history", "0"]        # the load is trading now: a seeded past would only slow the start
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        end = time.time() + timeout
        while time.time() < end:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith("paperex serving") and " on http://" in line:
                self.url = line.strip().rsplit(" on ", 1)[1]
                gevent.spawn(self._drain)
                return self.url
        self.kill()
        raise RuntimeError("paperex serve did not start:\n" + "\n".join(self.lines[-30:]))

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM and wait; True when the server said it stopped cleanly."""
        if self.proc is None:
            return False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return False
        gevent.sleep(0.1)       # the drain greenlet reads the last lines
        for line in self.lines:
            if line.startswith("paperex: stopped cleanly at seq"):
                self.stopped_seq = int(line.rsplit(" ", 1)[1])
        return self.proc.returncode == 0 and self.stopped_seq is not None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def replay_verify(self, timeout: float = 600.0) -> dict:
        """``paperex replay --verify --json`` on the journal: its JSON summary."""
        p = subprocess.run([sys.executable, "-m", "exchange.cli", "replay", "--verify", "--json", self.data_dir],
                           capture_output=True, text=True, timeout=timeout)
        try:
            out = json.loads(p.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            out = {"verified": False, "error": (p.stdout + p.stderr)[-2000:]}
        out["exit_code"] = p.returncode
        return out

    def cleanup(self) -> None:
        self.kill()
        if self._tmp and not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __del__(self) -> None:  # never leave a server behind
        try:
            self.kill()
        except Exception:  # noqa: BLE001
            pass

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None
