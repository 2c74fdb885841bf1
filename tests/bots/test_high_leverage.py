"""The high-leverage trader in the crash scenario: it gets liquidated, and sees it on the wire."""
import asyncio
import sqlite3
import subprocess
import sys
from decimal import Decimal

import pytest

from clients.bots.high_leverage import EXPORT_SQL, HighLeverageTrader


@pytest.mark.paperex(flow="synthetic", scenario="crash", seed=3, speed=20,
                     scenario_overrides={"start_s": 60, "fall_s": 120, "entry_window": 0.5})
async def test_high_leverage_long_is_liquidated_in_the_crash(paperex_server, tmp_path):
    key, secret, account_id = await paperex_server.create_account("1000")
    async with paperex_server.client(key, secret) as c:
        bot = HighLeverageTrader(c, "BTCUSDT", leverage=125, interval=0.25)
        report = await asyncio.wait_for(bot.run(duration=25), 60)
        print(report)
        assert report["entry"] is not None and Decimal(report["entry"]["qty"]) > 0
        assert report["leverage"] >= 100
        venue_liqs = paperex_server.venue_events("ForceOrder", "PositionClosedOut", account_id=account_id)
        # the crash must liquidate a 125x long: a scenario that does not fails the test
        assert venue_liqs, f"the venue liquidated nothing in the crash: {report}"
        assert bot.liquidated, report
        # REST: the position is gone and the wallet lost (about) the margin
        assert "rest_position_risk" in report["detected_by"]
        assert all(p.position_amt == 0 for p in await c.position_risk("BTCUSDT"))
        assert Decimal(report["wallet_after"]) < Decimal(report["wallet_before"]) * Decimal("0.5")
        assert bot.open_orders == {} and await c.open_orders("BTCUSDT") == []
        # what the gateway shows of it (projections of the venue's liquidation events are being added)
        stream_seen = [k for k in report["detected_by"] if k.startswith("user_stream")]
        print("liquidation seen by:", report["detected_by"], "stream:", stream_seen,
              "forceOrders:", report["force_orders"])

        # ... and in the SQLite export, with the queries the bot prints
        paperex_server.stop()
        db = tmp_path / "run.db"
        proc = subprocess.run([sys.executable, "-m", "exchange.cli", "export", str(paperex_server.data_dir),
                               str(db)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        con = sqlite3.connect(db)
        try:
            sql = "\n".join(ln for ln in EXPORT_SQL.format(account=account_id).splitlines()
                            if not ln.startswith("--"))
            out = [con.execute(s).fetchall() for s in sql.split(";") if s.strip()]
        finally:
            con.close()
        force, positions, income = out
        assert len(force) >= 1, out
        assert positions and Decimal(str(positions[-1][3])) == 0, positions
