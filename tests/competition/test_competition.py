"""Competition mode against a real server: accounts, keys file, the window, the ranking,
the final standings (journaled, exported) and the same standings from a replay."""
from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys

import aiohttp
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gateway_server"))
from gwhelpers import Api  # noqa: E402

from exchange.contract.competition import CompetitionError, load  # noqa: E402
from exchange.engine.export import export  # noqa: E402
from exchange.engine.leaderboard import Leaderboard  # noqa: E402
from exchange.engine.replay import replay  # noqa: E402
from exchange.serve import start  # noqa: E402

SYMS = ["BTCUSDT", "ETHUSDT"]


def comp_file(tmp_path, *, at_end="mark", fmt="json", **extra):
    data = {"name": "Test Cup", "starting_balance": "10000", "symbols": ["BTCUSDT"], "max_leverage": 10,
            "at_end": at_end, "window": {"start": "+10s", "end": "+60s", "clock": "venue"},
            "teams": [{"name": "alpha"}, {"name": "beta", "key_algorithm": "HMAC_SHA256"},
                      {"name": "gamma", "key_algorithm": "ED25519"}]}
    data.update(extra)
    if fmt == "json":
        p = tmp_path / "comp.json"
        p.write_text(json.dumps(data))
    else:
        p = tmp_path / "comp.toml"
        teams = "".join(f'\n[[teams]]\nname = "{t["name"]}"\n' for t in data["teams"])
        p.write_text(f'name = "{data["name"]}"\nstarting_balance = "{data["starting_balance"]}"\n'
                     f'symbols = ["BTCUSDT"]\nmax_leverage = {data["max_leverage"]}\nat_end = "{at_end}"\n'
                     f'[window]\nstart = "+10s"\nend = "+60s"\nclock = "venue"\n{teams}')
    return p


# ------------------------------------------------------------------ the file
@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_file_parses_json_and_toml(tmp_path, fmt):
    c = load(comp_file(tmp_path, fmt=fmt), now_venue_ms=1_000_000, now_wall_ms=5, symbols=SYMS, max_leverage=125)
    assert (c.name, c.starting_balance, c.start_ms, c.end_ms, c.window_clock) == \
        ("Test Cup", 10_000 * 10**8, 1_010_000, 1_060_000, "venue")
    assert [t.name for t in c.teams] == ["alpha", "beta", "gamma"] and c.max_leverage == 10
    if fmt == "json":
        assert [t.key_algorithm for t in c.teams] == ["HMAC_SHA256", "HMAC_SHA256", "ED25519"]


@pytest.mark.parametrize("patch,where", [
    ({"colour": "red"}, "colour"),
    ({"window": {"start": "+1s", "end": "+2s", "tz": "UTC"}}, "window.tz"),
    ({"teams": [{"name": "a", "members": 3}]}, "teams[0].members"),
    ({"teams": [{"name": "a", "key_algorithm": "DSA"}]}, "teams[0].key_algorithm"),
    ({"teams": [{"name": "a"}, {"name": "A"}]}, "teams[1].name"),
    ({"symbols": ["DOGEUSDT"]}, "symbols"),
    ({"window": {"start": "+5s", "end": "+1s"}}, "window.end"),
    ({"starting_balance": "-5"}, "starting_balance"),
    ({"max_leverage": 500}, "max_leverage"),
    ({"at_end": "liquidate"}, "at_end"),
])
def test_file_is_parsed_strictly(tmp_path, patch, where):
    p = comp_file(tmp_path, **patch)
    with pytest.raises(CompetitionError) as e:
        load(p, now_venue_ms=0, now_wall_ms=0, symbols=SYMS, max_leverage=125)
    assert str(e.value).startswith(f"{p}: {where}: "), str(e.value)


def test_toml_unknown_key_is_named(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('name = "x"\nstarting_balance = 100\nbogus = 1\n[window]\nstart = 0\nend = 5\n'
                 '[[teams]]\nname = "a"\n')
    with pytest.raises(CompetitionError, match=r"c\.toml: bogus: unknown key"):
        load(p, now_venue_ms=0, now_wall_ms=0, symbols=SYMS)


# ------------------------------------------------------------------ the server
async def _start(tmp_path, comp, **kw):
    return await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False,
                       clock="virtual", competition=comp, **kw)


async def _teams(session, srv) -> dict:
    keys = json.loads(srv.competition_keys.read_text())
    assert keys["format"] == "paperex-competition-keys/1" and keys["competition"] == "Test Cup"
    out = {}
    for row in keys["teams"]:
        if row["keyAlgorithm"] == "HMAC_SHA256":
            api = Api(session, srv.rest_url, row["apiKey"], row["secretKey"])
        else:
            assert "secretKey" not in row and "PRIVATE KEY" in row["privateKey"]
            api = Ed25519Api(session, srv.rest_url, row["apiKey"], row["privateKey"])
        api.account_id = row["accountId"]
        out[row["team"]] = api
    return out


class Ed25519Api(Api):
    """A team holding an Ed25519 key: the same requests, signed with its private key."""

    def __init__(self, session, base, key, private_pem) -> None:
        super().__init__(session, base, key, "")
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
        self.private = load_pem_private_key(private_pem.encode(), None)

    async def signed(self, method, path, params=None, **kw):
        import base64
        import time
        from urllib.parse import quote, urlencode
        p = dict(params or {})
        p["timestamp"] = int(time.time() * 1000)
        qs = urlencode(p)
        sig = quote(base64.b64encode(self.private.sign(qs.encode())).decode(), safe="")
        from yarl import URL
        async with self.s.request(method, URL(f"{self.base}{path}?{qs}&signature={sig}", encoded=True),
                                  headers={"X-MBX-APIKEY": self.key}) as r:
            return r.status, await r.json(content_type=None)


async def _order(api, side, qty, price=None):
    p = {"symbol": "BTCUSDT", "side": side, "quantity": qty, "newOrderRespType": "RESULT"}
    p.update({"type": "LIMIT", "price": price, "timeInForce": "GTC"} if price else {"type": "MARKET"})
    return await api.signed("POST", "/fapi/v1/order", p)


async def _wait_final(api, timeout=5.0) -> dict:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        st, board = await api.public("/paperex/v1/leaderboard")
        assert st == 200
        if board["final"]:
            return board
        assert loop.time() < end, board
        await asyncio.sleep(0.05)


async def _trade_in_window(root: Api, t: dict) -> None:
    st, body = await root.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
    assert st == 200, body
    # before the window: refused with Binance's "pre-trading or closed" answer, nothing changes
    st, body = await _order(t["alpha"], "BUY", "0.010", "50000")
    assert (st, body["code"]) == (400, -4108), body
    assert body["msg"] == "Symbol is on delivering or delivered or settling or closed or pre-trading."
    st, body = await root.control("POST", "/clock/advance", {"seconds": 11})
    assert st == 200, body
    st, body = await _order(t["alpha"], "SELL", "0.100", "50000")
    assert st == 200, body
    st, body = await _order(t["beta"], "BUY", "0.100")
    assert st == 200 and body["status"] == "FILLED", body
    # the rules: a symbol outside the competition, a leverage above its maximum
    st, body = await t["gamma"].signed("POST", "/fapi/v1/order", {"symbol": "ETHUSDT", "side": "BUY",
                                                                 "type": "MARKET", "quantity": "0.1"})
    assert (st, body["code"]) == (400, -1121), body
    st, body = await t["gamma"].signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 11})
    assert (st, body["code"]) == (400, -4028), body
    st, body = await t["gamma"].signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 5})
    assert st == 200, body
    # a resting order inside the window (cancelled when the window ends)
    st, body = await _order(t["gamma"], "BUY", "0.010", "40000")
    assert st == 200 and body["status"] == "NEW", body
    # the mark moves: beta (long) gains, alpha (short) loses
    st, body = await root.control("POST", "/mark", {"symbol": "BTCUSDT", "price": "51000"})
    assert st == 200, body


async def test_competition_window_ranking_final_standings_and_replay(tmp_path):
    srv = await _start(tmp_path, comp_file(tmp_path))
    journal = srv.runtime.data_dir / "journal"
    try:
        async with aiohttp.ClientSession() as s:
            root = Api(s, srv.rest_url)
            t = await _teams(s, srv)
            assert [a.account_id for a in t.values()] == sorted(a.account_id for a in t.values())
            await _trade_in_window(root, t)
            st, live = await root.public("/paperex/v1/leaderboard")
            assert st == 200 and not live["final"] and live["competition"]["name"] == "Test Cup"
            rows = live["standings"]
            assert [r["team"] for r in rows] == ["beta", "gamma", "alpha"]     # gamma: no trade, ties at 0 %
            beta, gamma, alpha = rows
            assert [r["rank"] for r in rows] == [1, 2, 3]
            assert beta["trades"] == 1 and alpha["trades"] == 1 and gamma["trades"] == 0
            assert beta["volume"] == alpha["volume"] == "5000.00000000"
            assert float(beta["return"]) > 0 > float(alpha["return"]) and gamma["return"] == "0.0000"
            assert float(beta["fees"]) > float(alpha["fees"]) > 0        # taker pays more than maker
            # drawdowns from the peak (10000): beta's taker fee 2.5 before the mark rose;
            # alpha's maker fee 1 + 100 lost on 0.1 BTC short as the mark went 50000 -> 51000
            assert (beta["maxDrawdown"], alpha["maxDrawdown"]) == ("0.0250", "1.0100")
            # the window's end: final standings journaled; orders refused after it
            st, body = await root.control("POST", "/clock/advance", {"seconds": 60})
            assert st == 200, body
            final = await _wait_final(root)
            assert [r["team"] for r in final["standings"]] == ["beta", "gamma", "alpha"]
            assert final["standings"][0]["openPositions"] == 1          # "mark": positions stay open
            st, body = await _order(t["beta"], "SELL", "0.100")
            assert (st, body["code"]) == (400, -4108), body
            st, body = await t["gamma"].signed("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
            assert st == 200 and body == [], body
    finally:
        await srv.stop()
    # replay re-executes the journal; the board fed by it ranks exactly the same
    board = Leaderboard.for_instruments(srv.runtime.instruments)
    result = replay(journal, verify=True, on_command=board.on_executed)
    assert result.divergence is None
    assert board.standings() == final
    # and the standings table of the export
    db = tmp_path / "out.db"
    export(journal, db)
    con = sqlite3.connect(db)
    got = con.execute("SELECT rank, team, account_id, equity, trades FROM standings ORDER BY rank").fetchall()
    assert got == [(r["rank"], r["team"], r["accountId"], float(r["equity"]), r["trades"])
                   for r in final["standings"]]


async def test_close_at_end_closes_positions_and_restart_resumes(tmp_path):
    srv = await _start(tmp_path, comp_file(tmp_path, at_end="close"))
    try:
        async with aiohttp.ClientSession() as s:
            root = Api(s, srv.rest_url)
            t = await _teams(s, srv)
            await _trade_in_window(root, t)
            # liquidity for the closing market orders: a resting order outside the competition
            other = await root.new_account()
            for side, price in (("BUY", "50900"), ("SELL", "51100")):
                st, body = await other.signed("POST", "/fapi/v1/order", {
                    "symbol": "BTCUSDT", "side": side, "type": "LIMIT", "price": price,
                    "timeInForce": "GTC", "quantity": "1"})
                assert st == 200, body
            await root.control("POST", "/clock/advance", {"seconds": 60})
            final = await _wait_final(root)
            assert all(r["openPositions"] == 0 for r in final["standings"]), final
            for api in t.values():
                st, risk = await api.signed("GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"})
                assert st == 200 and all(float(p["positionAmt"]) == 0 for p in risk), risk
            keys = srv.competition_keys
    finally:
        await srv.stop()
    # the keys file is never overwritten: a new competition in a fresh data dir refuses to start
    with pytest.raises(ValueError, match="exists already"):
        await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data2", fsync="never", demo=False,
                    clock="virtual", competition=comp_file(tmp_path, at_end="close"), competition_keys=keys)
    # a restart on the same data dir picks the finished competition up from the journal
    srv = await _start(tmp_path, comp_file(tmp_path, at_end="close"), competition_keys=keys)
    try:
        async with aiohttp.ClientSession() as s:
            st, again = await Api(s, srv.rest_url).public("/paperex/v1/leaderboard")
            assert st == 200 and again["final"] and again["standings"] == final["standings"]
    finally:
        await srv.stop()


async def test_without_competition_every_account_is_ranked(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", demo=False)
    try:
        async with aiohttp.ClientSession() as s:
            root = Api(s, srv.rest_url)
            a = await root.new_account("1000")
            b = await root.new_account("3000")
            await root.control("POST", "/index", {"symbol": "BTCUSDT", "price": "50000"})
            assert (await a.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                                              "price": "50000", "timeInForce": "GTC",
                                                              "quantity": "0.01"}))[0] == 200
            assert (await b.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY",
                                                              "type": "MARKET", "quantity": "0.01"}))[0] == 200
            st, board = await root.public("/paperex/v1/leaderboard")
            assert st == 200 and board["competition"] is None and not board["final"]
            rows = board["standings"]
            assert {r["accountId"] for r in rows} == {a.account_id, b.account_id}
            assert {r["startingBalance"] for r in rows} == {"1000.00000000", "3000.00000000"}
            # both paid fees and nothing else moved: the smaller loss in return ranks first
            assert all(float(r["return"]) < 0 for r in rows)
            assert rows[0]["accountId"] == b.account_id and rows[1]["rank"] == 2
            dd_b = rows[0]["maxDrawdown"]
            # a withdrawal is not a loss; a liquidation is counted
            st, body = await root.control("POST", f"/accounts/{b.account_id}/withdraw", {"amount": "500"})
            assert st == 200, body
            st, board = await root.public("/paperex/v1/leaderboard")
            row_b = next(r for r in board["standings"] if r["accountId"] == b.account_id)
            # the fee 0.25 was 0.0083 % of 3000; of the 2500 left it is 0.0100 % (the 500 withdrawn are
            # no drawdown: that would be 16.67 %)
            assert dd_b == "0.0083"
            assert (row_b["maxDrawdown"], row_b["startingBalance"]) == ("0.0100", "2500.00000000")
            c = await root.new_account("300")
            assert (await c.signed("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": 50}))[0] == 200
            assert (await a.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                                              "price": "50000", "timeInForce": "GTC",
                                                              "quantity": "0.1"}))[0] == 200
            assert (await c.signed("POST", "/fapi/v1/order", {"symbol": "BTCUSDT", "side": "BUY",
                                                              "type": "MARKET", "quantity": "0.1"}))[0] == 200
            st, body = await root.control("POST", "/mark", {"symbol": "BTCUSDT", "price": "45000"})
            assert st == 200, body
            st, board = await root.public("/paperex/v1/leaderboard")
            by_id = {r["accountId"]: r for r in board["standings"]}
            assert by_id[c.account_id]["liquidations"] == 1 and by_id[a.account_id]["liquidations"] == 0
            assert board["standings"][-1]["accountId"] == c.account_id      # lost (nearly) everything
    finally:
        await srv.stop()


def test_the_readme_example_file_parses(tmp_path):
    import re
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    toml = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert len(toml) == 1
    p = tmp_path / "cup.toml"
    p.write_text(toml[0])
    c = load(p, now_venue_ms=0, now_wall_ms=0, symbols=SYMS, max_leverage=125)
    assert [t.name for t in c.teams] == ["alpha", "beta"] and c.scenario == "crash" and c.end_ms - c.start_ms == 2 * 3_600_000


def test_ties_are_broken_the_same_way_every_time():
    """Equal return, equity, drawdown and fees: the team name decides, whatever the order of
    the accounts or of the events."""
    from exchange.contract.commands import OpenCompetition
    from exchange.contract.competition import Competition, Team
    from exchange.contract.events import BalanceChanged
    teams = (Team("zulu", 1), Team("alpha", 2), Team("mike", 3))
    comp = Competition("Tie Cup", 1000, 0, 10, "venue", ("BTCUSDT",), 20, "mark", teams)
    orders = []
    for order in ([1, 2, 3], [3, 2, 1], [2, 3, 1]):
        board = Leaderboard({"BTCUSDT": 1})
        board.on_executed(1, 0, OpenCompetition(comp.definition()), [])
        for seq, aid in enumerate(order, 2):
            board.on_executed(seq, 0, None, [BalanceChanged(aid, 0, 1000, 1000, 1000)])
        orders.append([r["team"] for r in board.standings()["standings"]])
    assert orders == [["alpha", "mike", "zulu"]] * 3
