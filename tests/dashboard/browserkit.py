"""Helpers of the browser tests: headless Chromium (selenium) against a real ``paperex serve`` / ``paperex view`` subprocess.

The browser tests skip, with the reason, only where Chromium or its driver is
absent - and never when ``CI=true`` (``.ci/run`` installs them and sets it).
Screenshots go to ``test-output/dashboard/`` (or ``$PAPEREX_TEST_OUTPUT``).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("PAPEREX_TEST_OUTPUT", ROOT / "test-output")) / "dashboard"
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1400,1800"]


def _binaries():
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return chrome, driver


def need_browser():
    chrome, driver = _binaries()
    try:
        import selenium  # noqa: F401
        have_selenium = True
    except ImportError:
        have_selenium = False
    missing = [name for name, ok in (("chromium", chrome), ("chromedriver", driver), ("selenium", have_selenium))
               if not ok]
    if missing:
        why = f"browser tests need {', '.join(missing)} (apt-get install -y chromium chromium-driver; " \
              f"pip install selenium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {why}")
        pytest.skip(why)
    return chrome, driver


README_SHOT = ROOT / "docs" / "dashboard.png"


def screenshot(drv, name: str, readme: bool = False) -> Path:
    """Save the page as ``OUTPUT/name.png``; ``readme``: this is the README's picture, which
    ``PAPEREX_README_SCREENSHOT=1`` also writes to docs/dashboard.png."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    drv.save_screenshot(str(path))
    if readme and os.environ.get("PAPEREX_README_SCREENSHOT") == "1":
        shutil.copyfile(path, README_SHOT)
    return path


def console_errors(drv) -> list:
    return [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]


class Proc:
    """A ``paperex`` subprocess on an ephemeral port (read from its banner)."""

    def __init__(self, args: list[str], pattern: str, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log = log
        self.fh = open(log, "w+")
        self.p = subprocess.Popen([sys.executable, "-m", "exchange.cli", *args], cwd=ROOT, env=env,
                                  stdout=self.fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        self.url = None
        while time.monotonic() < deadline:
            text = log.read_text()
            m = re.search(pattern, text)
            if m:
                self.url = m.group(1)
                break
            if self.p.poll() is not None:
                raise RuntimeError(f"paperex exited early:\n{text}")
            time.sleep(0.1)
        if self.url is None:
            self.stop()
            raise RuntimeError(f"paperex did not start:\n{log.read_text()}")
        self.text = log.read_text()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.fh.close()


def serve(tmp: Path, *extra: str) -> Proc:
    return Proc(["serve", "--port", "0", "--data-dir", str(tmp / "data"), "--fsync", "never", *extra],
                r"paperex serving Binance USD-M Futures on (http://127\.0\.0\.1:\d+)", tmp / "serve.log")


def view(journal: Path, tmp: Path) -> Proc:
    return Proc(["view", str(journal), "--port", "0"], r"on (http://127\.0\.0\.1:\d+)/", tmp / "view.log")
