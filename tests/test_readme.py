"""Every Python and SQL snippet of README.md runs as shown, against a real paperex.

Convention (stated in the README): ``KEY`` and ``SECRET`` are set to a fresh
account's API key and secret, and ``http://127.0.0.1:8800`` is replaced by the
test server's address.  Each fixture example ("Testing your bot in CI ...": one
complete test each) is written to a file and run by a separate ``python -m pytest``
in an empty directory: the ``paperex_server`` fixture must come from the installed
plugin alone.  The two fresh-machine ``sh`` commands are not run here.
"""
from __future__ import annotations

import ast
import asyncio
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
DEFAULT_URL = "http://127.0.0.1:8800"
FENCE = re.compile(r"^```(\w+)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(lang: str) -> list[str]:
    return [body for lg, body in FENCE.findall(README.read_text()) if lg == lang]


def python_snippet(marker: str) -> str:
    found = [b for b in blocks("python") if marker in b]
    assert len(found) == 1, f"expected one python snippet containing {marker!r} in README.md, found {len(found)}"
    return found[0]


# python-binance's snippet runs in its own virtual environment:
# tests/gateway_server/test_python_binance.py
KINDS = {"ccxt": "ccxt.binanceusdm", "connector": "UMFutures(", "usdm": "UsdmClient(KEY",
         "fixture": "paperex_server", "python-binance": "Client.FUTURES_URL"}


def test_every_python_snippet_is_covered():
    py = blocks("python")
    assert py, "README.md has no python snippets?"
    for b in py:
        kinds = [k for k, m in KINDS.items() if m in b]
        assert len(kinds) == 1, f"a README python snippet no test here runs (or runs twice):\n{b}"


def _at(srv, src: str) -> str:
    return src.replace(DEFAULT_URL, srv.base_url)


def test_readme_ccxt_snippet(paperex_server):
    ccxt = pytest.importorskip("ccxt")
    key, secret, _ = paperex_server.create_account_sync("10000")
    paperex_server.set_index_price_sync("BTCUSDT", "50000")
    ns = {"KEY": key, "SECRET": secret}
    exec(compile(_at(paperex_server, python_snippet(KINDS["ccxt"])), "README.md[ccxt]", "exec"), ns)
    ex = ns["ex"]
    bal = ex.fetch_balance()
    assert bal["USDT"]["total"] == 10000
    # the merged error map: a buy far beyond the margin is InsufficientFunds (-2019)
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT:USDT", "limit", "buy", 10, 50000)


def test_readme_binance_futures_connector_snippet(paperex_server):
    pytest.importorskip("binance.um_futures")
    key, secret, _ = paperex_server.create_account_sync("10000")
    ns = {"KEY": key, "SECRET": secret}
    exec(compile(_at(paperex_server, python_snippet(KINDS["connector"])), "README.md[connector]", "exec"), ns)
    client = ns["client"]
    assert Decimal(client.account()["totalWalletBalance"]) == 10000
    assert client.time()["serverTime"] > 0


async def test_readme_async_client_snippet(paperex_server):
    key, secret, _ = await paperex_server.create_account("10000")
    await paperex_server.set_index_price("BTCUSDT", "50000")
    mkey, msec, _ = await paperex_server.create_account("1000000")
    async with paperex_server.client(mkey, msec) as m:
        await m.new_order("BTCUSDT", "BUY", "LIMIT", quantity="0.05", price="49990")
        await m.new_order("BTCUSDT", "SELL", "LIMIT", quantity="0.05", price="50010")
    ns = {"KEY": key, "SECRET": secret}
    code = compile(_at(paperex_server, python_snippet(KINDS["usdm"])), "README.md[usdm]", "exec",
                   flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    res = eval(code, ns)
    if res is not None:
        await res
    assert ns["book"].bids[0][0] == Decimal("49990") and ns["book"].asks[0][0] == Decimal("50010")
    order = ns["order"]
    assert order.status == "FILLED" and order.executed_qty == Decimal("0.01")
    assert order.avg_price == Decimal("50010")


def fixture_snippets() -> list[str]:
    return [b for b in blocks("python") if KINDS["fixture"] in b]


def test_readme_has_the_fixture_examples():
    found = fixture_snippets()
    assert len(found) == 2, f"expected the fixture example and the faults example, found {len(found)}"
    assert "set_faults(" in found[1] and "verify_replay()" in found[1]


@pytest.mark.parametrize("index", range(len(fixture_snippets())))
def test_readme_fixture_example_runs_with_only_the_installed_plugin(tmp_path, index):
    src = fixture_snippets()[index]
    (tmp_path / "test_readme_example.py").write_text(src)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                           str(tmp_path), "test_readme_example.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "1 passed" in proc.stdout


# the README's questions are about account 1 around 2026-11-23T03:12 (UTC): start the virtual clock there
SQL_START_MS = int(datetime(2026, 11, 23, 3, 10, tzinfo=timezone.utc).timestamp() * 1000)


@pytest.mark.paperex(start_ms=SQL_START_MS, history="1d")     # the history_* queries need a past (with funding)
def test_readme_sql_snippets_run_on_an_export(paperex_server, tmp_path):
    """Account 1 trades at 100x, the index falls, it is liquidated; then every README query runs
    on ``paperex export`` of that journal, and the liquidation questions find their rows."""
    key, secret, aid = paperex_server.create_account_sync("1000")
    assert aid == 1
    mkey, msec, _ = paperex_server.create_account_sync("1000000")
    paperex_server.set_index_price_sync("BTCUSDT", "50000")

    async def trade():
        async with paperex_server.client(mkey, msec) as m, paperex_server.client(key, secret) as t:
            await m.new_order("BTCUSDT", "SELL", "LIMIT", quantity="2", price="50010")
            await m.new_order("BTCUSDT", "BUY", "LIMIT", quantity="2", price="48000")
            await t.change_leverage("BTCUSDT", 100)
            await t.new_order("BTCUSDT", "BUY", "MARKET", quantity="1.5")

    asyncio.run(trade())
    paperex_server.advance_sync(60)
    for price in ("49800", "49500", "49200", "49000"):       # a one-minute slide
        paperex_server.set_index_price_sync("BTCUSDT", price)
        paperex_server.advance_sync(15)
    liquidated = paperex_server.venue_events("ForceOrder", "PositionClosedOut", account_id=aid)
    paperex_server.stop()
    db = tmp_path / "run.db"
    proc = subprocess.run([sys.executable, "-m", "exchange.cli", "export", str(paperex_server.data_dir), str(db)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sql = blocks("sql")
    assert sql, "README.md has no sql snippets?"
    con = sqlite3.connect(db)
    # the slide must liquidate the 100x long: the README's liquidation query needs it
    assert liquidated, "the venue liquidated nothing in the one-minute slide"
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert "force_order" in tables, tables
    try:
        results = [(stmt, con.execute(stmt).fetchall()) for block in sql for stmt in _statements(block)]
    finally:
        con.close()
    for stmt, rows in results:
        if "from force_order" in stmt or "from position_changed" in stmt or "from income" in stmt \
                or "from mark_price_changed" in stmt or "from order_filled" in stmt:
            assert rows, f"README query found nothing:\n{stmt}"


def _statements(block: str) -> list[str]:
    lines = [ln for ln in block.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
