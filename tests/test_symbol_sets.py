"""--symbols takes Binance's own answers (a saved exchangeInfo, a saved leverageBracket),
paperex's compact config, and the bundled snapshot by name (binance, binance:topN, a list)."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from clients.errors import BinanceAPIError
from clients.pytest_plugin import PaperexServer
from exchange.contract.binance_info import (DEFAULT_BRACKETS_BY_TIER, brackets_from_leverage_bracket,
                                            read_binance_answer)
from exchange.contract.instruments import BTCUSDT_BRACKETS_2026, build_brackets
from exchange.contract.symbol_sets import SNAPSHOT_PATH, resolve_symbols, snapshot

ROOT = Path(__file__).resolve().parents[1]
RECORDED = "binance-usdm/BINANCE_FUTURES.0"


@pytest.fixture
def recorded_info():
    """The exchangeInfo Binance answered on 2021-07-22 (cryptofeed recording line)."""
    from shared_data import find
    return find(RECORDED)           # required in CI (PAPEREX_REQUIRE_DATA=1)


@pytest.fixture
def saved_info(tmp_path, recorded_info):
    """The same answer saved as a bot would save it: the JSON body in a file."""
    body = recorded_info.read_text().splitlines()[0]
    p = tmp_path / "exchangeInfo.json"
    p.write_text(body[body.index(": ") + 2:])
    return p


def _edit(path: Path, fn) -> Path:
    info = json.loads(path.read_text())
    fn(info)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(info))
    return out


def _sym(info: dict, name: str) -> dict:
    return next(s for s in info["symbols"] if s["symbol"] == name)


def test_recorded_exchange_info_as_it_is(recorded_info, saved_info):
    for path in (recorded_info, saved_info):
        got = resolve_symbols(path)
        # 122 symbols recorded: 117 USDT perpetuals TRADING; 2 quarterlies + 1 pending, 2 BUSD skipped
        assert len(got.instruments) == 117
        assert {k: len(v) for k, v in got.skipped.items()} == {"not PERPETUAL": 3, "not USDT-margined": 2}
        assert "skipped 5" in got.summary() and "117 symbol(s)" in got.summary()
        assert "BTCUSDT_210924" in got.skipped["not PERPETUAL"] and "BTCBUSD" in got.skipped["not USDT-margined"]
    xrp = got.instruments["XRPUSDT"]
    assert (xrp.tick_size, xrp.step_size, xrp.min_notional) == (Decimal("0.0001"), Decimal("0.1"), Decimal("5"))
    assert (xrp.percent_price_up, xrp.percent_price_down) == (Decimal("1.1500"), Decimal("0.8500"))
    btc = got.instruments["BTCUSDT"]
    assert btc.time_in_force == ("GTC", "IOC", "FOK", "GTX")          # 2021: no GTD yet
    assert btc.max_num_algo_orders == 10 and btc.liquidation_fee == Decimal("0.012000")
    assert btc.market_take_bound == Decimal("0.30")
    # no leverageBracket answer: the documented default tables (BTC's own, else by the snapshot's tier)
    assert btc.brackets == build_brackets(BTCUSDT_BRACKETS_2026)
    tier = {n: p.tier for n, p in snapshot()[2].items()}
    sushi = got.instruments["SUSHIUSDT"]
    assert sushi.brackets == build_brackets(DEFAULT_BRACKETS_BY_TIER[tier["SUSHIUSDT"]])


def test_leverage_bracket_answer_sets_the_brackets(tmp_path, saved_info):
    answer = [{"symbol": "XRPUSDT", "brackets": [
        {"bracket": 1, "initialLeverage": 75, "notionalCap": 10000, "notionalFloor": 0,
         "maintMarginRatio": 0.0065, "cum": 0.0},
        {"bracket": 2, "initialLeverage": 50, "notionalCap": 50000, "notionalFloor": 10000,
         "maintMarginRatio": 0.01, "cum": 35.0}]}]
    bfile = tmp_path / "leverageBracket.json"
    bfile.write_text(json.dumps(answer))
    got = resolve_symbols(saved_info, bfile)
    xrp = got.instruments["XRPUSDT"]
    assert [(b.initial_leverage, b.notional_cap, b.cum) for b in xrp.brackets] == \
        [(75, 10_000 * 10**8, 0), (50, 50_000 * 10**8, 35 * 10**8)]
    assert got.instruments["ETHUSDT"].max_leverage == 150         # not in the answer: its default table
    # a cum that breaks continuity names the file, the symbol and the key
    answer[0]["brackets"][1]["cum"] = 36.0
    bfile.write_text(json.dumps(answer))
    with pytest.raises(ValueError) as e:
        resolve_symbols(saved_info, bfile)
    assert str(saved_info) in str(e.value) and "XRPUSDT" in str(e.value) and "cum" in str(e.value)
    answer[0]["brackets"][1]["maintRatio"] = 0.01
    bfile.write_text(json.dumps(answer))
    with pytest.raises(ValueError, match=r"leverageBracket.json: symbol XRPUSDT: key brackets\[2\].maintRatio"):
        brackets_from_leverage_bracket(read_binance_answer(bfile), str(bfile))


@pytest.mark.parametrize("edit, key", [
    (lambda i: _sym(i, "DOTUSDT").update(listingBonus=True), "key listingBonus"),
    (lambda i: _sym(i, "DOTUSDT").pop("filters"), "key filters"),
    (lambda i: _sym(i, "DOTUSDT")["filters"][0].pop("tickSize"), "key filters.PRICE_FILTER.tickSize"),
    (lambda i: _sym(i, "DOTUSDT")["filters"][1].update(stepSize="0.0000000001"), "stepSize"),
    (lambda i: _sym(i, "DOTUSDT").update(orderTypes=["LIMIT", "ICEBERG"]), "orderTypes"),
    (lambda i: i.update(brokerFilters=[]), "key brokerFilters"),
])
def test_every_problem_names_file_symbol_and_key(saved_info, edit, key):
    bad = _edit(saved_info, edit)
    with pytest.raises(ValueError) as e:
        resolve_symbols(bad)
    msg = str(e.value)
    assert msg.startswith(str(bad)) and key in msg, msg
    if "brokerFilters" not in key:
        assert "symbol DOTUSDT" in msg, msg


def test_compact_config_still_accepted(tmp_path):
    p = tmp_path / "compact.json"
    p.write_text(json.dumps({"symbols": [{
        "symbol": "SOLUSDT", "baseAsset": "SOL", "tickSize": "0.01", "stepSize": "1", "minPrice": "0.01",
        "maxPrice": "10000", "minQty": "1", "maxQty": "100000", "minNotional": "5",
        "brackets": [{"notionalFloor": "0", "notionalCap": "100000", "initialLeverage": 20,
                      "maintMarginRatio": "0.02"}]}]}))
    got = resolve_symbols(p)
    assert sorted(got.instruments) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    with pytest.raises(ValueError, match="--brackets"):
        resolve_symbols(p, p)


def test_bundled_snapshot_by_name():
    names, insts, profiles = snapshot()
    assert len(names) == 117 and names[:2] == ("BTCUSDT", "ETHUSDT")
    assert [profiles[n].rank for n in names] == list(range(1, 118))
    assert {profiles[n].tier for n in names[:2]} == {1} and {profiles[n].tier for n in names[2:20]} == {2}
    assert {profiles[n].tier for n in names[20:]} == {3}
    # the recorded books give the four recorded prices exactly (mid of the recorded best bid/ask)
    assert profiles["SUSHIUSDT"].price_source == "recorded"
    assert profiles["SUSHIUSDT"].reference_price == Decimal("7.612")       # (7.611 + 7.612) / 2 on the grid
    for n in names:      # every reference price on the grid and inside PRICE_FILTER
        i, p = insts[n], profiles[n].reference_price
        assert i.price_in_range(i.price_to_ticks(p)), n
    assert len(resolve_symbols("binance").instruments) == 117
    top = resolve_symbols("binance:top20")
    assert list(top.instruments) == list(names[:20])
    lst = resolve_symbols("BTCUSDT,SOLUSDT,DOGEUSDT")
    assert list(lst.instruments) == ["BTCUSDT", "SOLUSDT", "DOGEUSDT"] and lst.profiles["SOLUSDT"].tier in (2, 3)
    for bad, msg in (("BTCUSDT,NOPEUSDT", "symbol NOPEUSDT: not in the bundled snapshot"),
                     ("binance:top500", "has only 117"), ("BTCUSDT,BTCUSDT", "listed twice"),
                     ("nosuchfile.json", "no such file")):
        with pytest.raises(ValueError, match=msg):
            resolve_symbols(bad)


def test_snapshot_file_is_what_the_script_makes(tmp_path, recorded_info):
    """The committed data file is the script's output on the recorded data (nothing hand-edited)."""
    out = tmp_path / "snap.json"
    data = recorded_info.parents[1]
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_binance_snapshot.py"), "--data", str(data),
                        "--out", str(out), "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["symbols"] == 117
    assert out.read_text() == SNAPSHOT_PATH.read_text()


async def _orders_on_narrowed_symbol(srv: PaperexServer) -> None:
    key, secret, _ = await srv.create_account("10000")
    async with srv.client(key, secret) as c:
        info = await c.request("GET", "/fapi/v1/exchangeInfo")
        dot = next(s for s in info["symbols"] if s["symbol"] == "DOTUSDT")
        assert dot["orderTypes"] == ["LIMIT", "MARKET"] and dot["timeInForce"] == ["GTC", "IOC"]
        assert dot["filters"][0]["tickSize"] == "0.001"
        with pytest.raises(BinanceAPIError) as e:
            await c.new_order("DOTUSDT", "BUY", "STOP_MARKET", quantity="1", stopPrice="20")
        assert e.value.code == -1116
        with pytest.raises(BinanceAPIError) as e:
            await c.new_order("DOTUSDT", "BUY", "LIMIT", quantity="1", price="15", time_in_force="GTX")
        assert e.value.code == -1115
        o = await c.new_order("DOTUSDT", "BUY", "LIMIT", quantity="1", price="15", time_in_force="GTC")
        assert o.status == "NEW"


def test_server_serves_a_saved_exchange_info(tmp_path, saved_info):
    def narrow(i):
        s = _sym(i, "DOTUSDT")
        s["orderTypes"], s["timeInForce"] = ["LIMIT", "MARKET"], ["GTC", "IOC"]
    path = _edit(saved_info, narrow)
    srv = PaperexServer(tmp_path / "data", symbols=str(path)).start()
    try:
        assert len(srv.server.runtime.instruments) == 117
        srv.call(_orders_on_narrowed_symbol(srv))
    finally:
        srv.stop()
