"""Faults and latency through the ``paperex_server`` fixture (clients.pytest_plugin): a bot
sees the injected answers, nothing it was acknowledged is lost, and the journal replays.

The fixture's clock is virtual and nothing moves it but the test: with a request latency
the delayed requests move it themselves, so a run is the same on every machine."""
from __future__ import annotations

import pytest

from clients import UsdmClient
from clients.errors import BinanceAPIError
from clients.pytest_plugin import DEFAULT_START_MS, PaperexControlError, PaperexServer
from exchange.contract.commands import InjectFault
from faultbot import SYMBOL, FaultTolerantBot

# what the bot sees of each kind: "HTTP status/Binance code"
SEEN = {"-1001": "503/-1001", "-1007": "408/-1007", "503": "503/-1000"}


def _assert_replay_has_the_bots_orders(result, aid: int, bot: FaultTolerantBot) -> None:
    """Every order the bot was acknowledged (or reconciled) is in the replayed venue: the open
    ones open under the same orderId, the cancelled ones in the account's closed orders."""
    venue = result.venue
    replay_open = {o.client_order_id: oid for oid, o in venue.orders.items() if o.account_id == aid}
    assert replay_open == bot.open
    closed = venue.accounts[aid].closed_client
    assert bot.canceled and bot.canceled <= set(closed)


@pytest.mark.parametrize("kind", sorted(SEEN))
async def test_bot_survives_faults_set_through_the_fixture(paperex_server, kind):
    key, secret, aid = await paperex_server.create_account("100000")
    await paperex_server.set_index_price(SYMBOL, "50000")
    state = await paperex_server.set_faults(
        [{"id": "k", "path": "/fapi/v1/*", "kind": kind, "probability": 0.35, "account": aid}])
    assert state["enabled"] and [r["id"] for r in state["rules"]] == ["k"]
    async with UsdmClient(key, secret, base_url=paperex_server.base_url) as c:
        bot = FaultTolerantBot(c)
        await bot.run(n=12)
        await bot.check()                       # REST: what the bot believes is what the exchange has
    assert bot.errors.get(SEEN[kind], 0) > 0, bot.errors
    fired = (await paperex_server.faults())["rules"][0]["fired"]
    faults = paperex_server.injected_faults()
    assert len(faults) == fired and {f.kind for _, _, f in faults} == {kind}
    assert all(f.account_id == aid and f.rule_id == "k" for _, _, f in faults)
    if kind != "-1001":
        assert bot.reconciled > 0
        assert {f.detail[-1] for _, _, f in faults} == {"0", "1"}     # executed=0 and executed=1 both
    result = paperex_server.verify_replay()    # stops the exchange, `paperex replay --verify`
    _assert_replay_has_the_bots_orders(result, aid, bot)


@pytest.mark.paperex(faults=[{"id": "t", "method": "POST", "path": "/fapi/v1/order", "kind": "-1007",
                              "probability": 0.4}],
                     fault_seed=11, latency="uniform:1,40", ws_latency="fixed:3")
async def test_marker_options_are_on_from_the_first_request(paperex_server):
    cfg = await paperex_server.faults()
    assert cfg["seed"] == 11 and [r["id"] for r in cfg["rules"]] == ["t"]
    assert cfg["latency"] == {"request": {"dist": "uniform", "low_ms": 1, "high_ms": 40},
                              "ws": {"dist": "fixed", "ms": 3}}
    key, secret, aid = await paperex_server.create_account("100000")
    await paperex_server.set_index_price(SYMBOL, "50000")
    async with paperex_server.client(key, secret) as c:
        bot = FaultTolerantBot(c)
        await bot.run(n=8)
        await bot.check()
        t = await c.server_time()
    assert bot.errors.get("408/-1007")
    # venue time moved only by the requests' latency: at most 40 ms each
    assert DEFAULT_START_MS < t <= DEFAULT_START_MS + 40 * paperex_server.server.gateway.requests_total
    _assert_replay_has_the_bots_orders(paperex_server.verify_replay(), aid, bot)


async def test_set_faults_replaces_rules_and_keeps_latency(paperex_server):
    await paperex_server.set_latency(request="fixed:5")
    await paperex_server.set_faults({"kind": "-1001", "path": "/fapi/v1/order", "every": 2})
    st = await paperex_server.set_faults([{"id": "b", "kind": "-1008", "path": "/fapi/v1/order", "every": 3}])
    assert [r["id"] for r in st["rules"]] == ["b"]                  # replaced, not added
    assert st["latency"]["request"] == {"dist": "fixed", "ms": 5}   # kept
    st = await paperex_server.set_faults({"seed": 4, "rules": []})  # a whole configuration: starts over
    assert st["rules"] == [] and st["latency"]["request"] is None and not st["enabled"]
    await paperex_server.set_latency(ws="fixed:1")
    assert (await paperex_server.faults())["enabled"]
    assert not (await paperex_server.clear_faults())["enabled"]
    with pytest.raises(PaperexControlError) as e:
        await paperex_server.set_faults([{"kind": "-9999"}])
    assert e.value.code == -1130
    with pytest.raises(TypeError):
        await paperex_server.set_faults("-1001")


def test_sync_twins_and_faults_in_the_journal(paperex_server):
    """From a sync test (requests, ccxt): the ``_sync`` calls; the faults are journaled."""
    key, secret, aid = paperex_server.create_account_sync("1000")
    paperex_server.set_faults_sync([{"id": "x", "kind": "-1001", "path": "/fapi/v1/time", "every": 1, "times": 2}])
    paperex_server.set_latency_sync("fixed:7")
    import asyncio

    async def hit():
        async with paperex_server.client(key, secret) as c:
            seen = []
            for _ in range(3):
                try:
                    seen.append(await c.server_time())
                except BinanceAPIError as err:
                    seen.append(err.code)
            return seen

    assert asyncio.run(hit()) == [-1001, -1001, DEFAULT_START_MS + 7]
    assert [(f.kind, f.rule_id) for _, _, f in paperex_server.injected_faults()] == [("-1001", "x")] * 2
    assert paperex_server.faults_sync()["injected"] == 2
    assert not paperex_server.clear_faults_sync()["enabled"]
    paperex_server.verify_replay()


def _seeded_run(data_dir) -> tuple[list, str]:
    """One bot run under -1007 and a request latency on a fresh fixture server."""
    import asyncio
    from exchange.journal import JournalReader
    srv = PaperexServer(data_dir, faults={"seed": 5, "latency": {"request": "exponential:20"}, "rules": [
        {"id": "t", "path": "/fapi/v1/*", "kind": "-1007", "probability": 0.3}]}).start()
    try:
        key, secret, aid = srv.create_account_sync("100000")
        srv.set_index_price_sync(SYMBOL, "50000")

        async def run():
            async with srv.client(key, secret) as c:
                bot = FaultTolerantBot(c)
                await bot.run(n=10)
                await bot.check()

        asyncio.run(run())
        srv.advance_sync(5)
        result = srv.verify_replay()
    finally:
        srv.stop()
    records = [(r.seq, r.ts, r.kind, r.payload) for r in JournalReader(srv.journal_dir).records()]
    return records, result.venue.state_digest()


def test_same_seed_same_journal(tmp_path):
    """Faults and venue-time latency are seeded, and a still virtual clock is moved only by the
    requests in flight: two runs of the same bot write the same journal, record for record.
    The fault rules are not in the journal, and the replay does not need them (each fired
    fault is an InjectFault command): `paperex replay --verify` passes on the directory alone."""
    from exchange.cli import main as cli_main
    a, digest_a = _seeded_run(tmp_path / "a")
    b, digest_b = _seeded_run(tmp_path / "b")
    assert a == b and digest_a == digest_b
    assert sum(kind == InjectFault.KIND for _, _, kind, _ in a) > 0
    assert cli_main(["replay", str(tmp_path / "a"), "--verify"]) == 0
