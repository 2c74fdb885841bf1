"""The paperex_server fixture (clients.pytest_plugin), from async and sync tests."""
import asyncio
import socket
import subprocess
import sys
from decimal import Decimal

import pytest

from clients.pytest_plugin import DEFAULT_START_MS, PaperexControlError, PaperexServer


async def test_fixture_from_a_plain_async_test(paperex_server):
    assert paperex_server.base_url.startswith("http://127.0.0.1:")
    assert paperex_server.ws_url == paperex_server.base_url.replace("http://", "ws://")
    key, secret, aid = await paperex_server.create_account("10000")
    mkey, msecret, maid = await paperex_server.create_account(Decimal("50000"))
    assert isinstance(aid, int) and maid != aid
    await paperex_server.set_index_price("BTCUSDT", "40000")
    async with paperex_server.client(mkey, msecret) as maker, paperex_server.client(key, secret) as bot:
        t0 = await bot.server_time()
        assert t0 == DEFAULT_START_MS                   # virtual clock, fixed start: deterministic
        rest = await maker.new_order("BTCUSDT", "SELL", "LIMIT", quantity="0.1", price="40000")
        o = await bot.new_order("BTCUSDT", "BUY", "MARKET", quantity="0.02")
        assert o.status == "FILLED" and o.avg_price == Decimal("40000")
        r = await paperex_server.advance(3600)
        assert r["time"] == t0 + 3_600_000
        assert await bot.server_time() == t0 + 3_600_000
        await paperex_server.set_mark_price("BTCUSDT", "39000")
        [pos] = await bot.position_risk("BTCUSDT")
        assert pos.position_amt == Decimal("0.020") and pos.mark_price == Decimal("39000")
        [left] = await maker.open_orders("BTCUSDT")
        assert left.order_id == rest.order_id
    st = await paperex_server.state()
    assert st["accounts"] == 2 and st["openOrders"] == 1 and st["lastSeq"] > 0
    assert paperex_server.venue_events("OrderFilled")


def test_fixture_from_a_sync_test(paperex_server):
    key, secret, aid = paperex_server.create_account_sync("1000")
    assert paperex_server.advance_sync(60)["time"] == DEFAULT_START_MS + 60_000
    assert paperex_server.state_sync()["accounts"] == 1
    with pytest.raises(PaperexControlError) as e:
        paperex_server.set_index_price_sync("NOPEUSDT", "1")
    assert e.value.code == -1121


@pytest.mark.paperex(clock="wall")
async def test_marker_wall_clock(paperex_server):
    assert paperex_server.clock == "wall"
    with pytest.raises(PaperexControlError) as e:
        await paperex_server.advance(10)
    assert e.value.code == -1020


@pytest.mark.parametrize("paperex_server", [{"start_ms": 1_600_000_000_000, "demo": True}], indirect=True)
async def test_indirect_parameters(paperex_server):
    assert paperex_server.demo and paperex_server.demo["apiKey"]
    async with paperex_server.client(paperex_server.demo["apiKey"], paperex_server.demo["secretKey"]) as c:
        assert await c.server_time() == 1_600_000_000_000
        assert (await c.account()).total_wallet_balance > 0


async def test_flow_started_later_moves_the_market_and_the_clock(paperex_server):
    t0 = (await paperex_server.state())["time"]
    flow = paperex_server.start_flow("calm", seed=2, speed=20)
    assert flow is paperex_server.flow
    async with paperex_server.client() as c:
        for _ in range(100):                                      # bounded: <= 10 s
            await asyncio.sleep(0.1)
            t = await c.book_ticker("BTCUSDT")
            if t.bid_price and t.ask_price and t.bid_price > 0:
                break
        assert 0 < t.bid_price < t.ask_price
    paperex_server.pause_flow()
    t1 = (await paperex_server.state())["time"]
    assert t1 > t0
    await asyncio.sleep(0.3)
    assert (await paperex_server.state())["time"] == t1          # paused: the virtual clock stands
    paperex_server.stop_flow()


def test_unknown_option_is_refused(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "@pytest.mark.paperex(colck='wall')\n"
        "def test_x(paperex_server):\n"
        "    pass\n")
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          "test_x.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "1 error" in res.stdout, res.stdout[-2000:]
    assert "unknown options" in res.stdout


def test_teardown_closes_the_journal_and_frees_the_port(tmp_path):
    srv = PaperexServer(tmp_path / "data").start()
    port = srv.port
    journal = srv.server.runtime.journal
    srv.create_account_sync("5")
    srv.stop()
    assert journal.closed
    assert list((tmp_path / "data" / "journal").glob("*.journal"))
    with pytest.raises(ConnectionRefusedError):                 # nobody listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    srv.stop()                                                    # idempotent
