"""python-binance, unmodified, against the server - from its own virtual environment
(it and binance-futures-connector both install a top-level ``binance`` package)."""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("pb_workflow.py")
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet() -> str:
    import re
    found = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
             if "Client.FUTURES_URL" in b]
    assert len(found) == 1
    return found[0]
# kept between runs on this machine so only the first run pays for the install
VENV = Path(tempfile.gettempdir()) / "paperex-test-venv-python-binance"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def pb_python():
    py = _python(VENV)
    probe = [str(py), "-c", "import binance.client"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True,
                       capture_output=True, timeout=120)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "python-binance"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot install python-binance in a virtual environment: {exc}")
    return py


async def test_python_binance_futures_workflow(api, server, pb_python):
    await api.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    maker = await api.new_account("100000")
    taker = await api.new_account("100000")
    proc = await asyncio.create_subprocess_exec(
        str(pb_python), str(SCRIPT), server.rest_url, maker.key, maker.secret, taker.key, taker.secret,
        readme_snippet(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    seen = json.loads(out.decode().strip().splitlines()[-1])
    assert seen["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert seen["leverage"] == 20
    assert seen["resting_status"] == "NEW" and seen["market_status"] == "FILLED"
    assert seen["position"] == ["0.010"]
    assert "USDT" in seen["balance_assets"] and float(seen["account_v2_wallet"]) > 0
    assert seen["trades"] == 1 and seen["depth_bids"] == [[40000.0, 0.01]]     # the maker's resting bid
    assert float(seen["ticker"]) == 50000
    assert seen["cancel_status"] == "CANCELED" and seen["cancel_again"] == -2011
    assert seen["float_qty"] == -1100  # str(0.00001) == '1e-05': Binance refuses it too
