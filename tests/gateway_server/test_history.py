"""A market with a past (#15): `paperex serve --history`, the SeedHistory command and its readers.

Real servers on 127.0.0.1 (the `paperex serve` command line and `exchange.serve.start`), real
HTTP clients, real journals replayed (`paperex replay --verify`) and exported (`paperex export`).
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from exchange.cli import main as paperex
from exchange.engine.history import parse_anchors, parse_span
from exchange.engine.replay import replay
from exchange.journal import JournalReader
from exchange.contract.commands import command_from_record
from exchange.serve import start
from serve_cli import start_serve, stop_process

START = 1_767_225_600_000          # 2026-01-01T00:00Z, a funding time
ROOT = Path(__file__).resolve().parents[2]


async def _get(s: aiohttp.ClientSession, url: str, **params):
    async with s.get(url, params=params) as r:
        return r.status, await r.json()


async def _history_answers(srv) -> dict:
    """What a bot reads of the past over REST (the same requests on every server)."""
    out = {}
    async with aiohttp.ClientSession() as s:
        u = srv.rest_url
        for sym in ("BTCUSDT", "ETHUSDT"):
            for iv in ("1m", "1h", "1d"):
                out[f"{sym} klines {iv}"] = await _get(s, u + "/fapi/v1/klines", symbol=sym, interval=iv, limit=1500)
            for path in ("markPriceKlines", "indexPriceKlines", "premiumIndexKlines"):
                out[f"{sym} {path}"] = await _get(s, u + f"/fapi/v1/{path}", symbol=sym, interval="5m",
                                                  limit=1500)
            out[f"{sym} funding"] = await _get(s, u + "/fapi/v1/fundingRate", symbol=sym, limit=1000)
            out[f"{sym} aggTrades"] = await _get(s, u + "/fapi/v1/aggTrades", symbol=sym, limit=1000)
            out[f"{sym} trades"] = await _get(s, u + "/fapi/v1/trades", symbol=sym, limit=1000)
            out[f"{sym} oi"] = await _get(s, u + "/futures/data/openInterestHist", symbol=sym, period="5m",
                                          limit=500)
    for key, (status, _) in out.items():
        assert status == 200, key
    return {k: body for k, (_, body) in out.items()}


async def _serve(tmp_path: Path, name: str, **kw):
    return await start(host="127.0.0.1", port=0, data_dir=tmp_path / name, clock="virtual", start_ms=START,
                       fsync="never", demo=False, **kw)


def test_freqtrade_finds_500_candles_a_moment_after_paperex_serve_starts(tmp_path):
    """The freqtrade check: the command line server (default history, synthetic flow) answers
    its first klines request with 500 closed-or-current 1m candles, 60 s apart, ending now,
    and the funding history has a row at every funding time of the past."""
    proc, banner, _ = start_serve(tmp_path / "data")     # the banner is printed once the server listens
    try:
        url = banner["url"]

        async def check():
            async with aiohttp.ClientSession() as s:
                status, rows = await _get(s, url + "/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit=500)
                assert status == 200 and len(rows) == 500
                opens = [r[0] for r in rows]
                assert all(b - a == 60_000 for a, b in zip(opens, opens[1:]))
                status, now = await _get(s, url + "/fapi/v1/time")
                assert opens[-1] <= now["serverTime"] < opens[-1] + 120_000
                for r in rows:        # open/high/low/close make a candle
                    o, h, lo, c = (float(x) for x in r[1:5])
                    assert lo <= min(o, c) <= max(o, c) <= h and float(r[5]) > 0 and r[8] > 0
                status, funding = await _get(s, url + "/fapi/v1/fundingRate", symbol="BTCUSDT", limit=1000)
                times = [f["fundingTime"] for f in funding]
                assert status == 200 and len(times) >= 9      # 3 days of 8-hourly funding
                assert all(b - a == 8 * 3_600_000 for a, b in zip(times, times[1:]))
                # the past ends where the live market starts: the last candle's close is near the mark
                status, pi = await _get(s, url + "/fapi/v1/premiumIndex", symbol="BTCUSDT")
                mark = float(pi["markPrice"]) or float(pi["indexPrice"])
                if mark:
                    assert abs(float(rows[-1][4]) / mark - 1) < 0.01
        asyncio.run(check())
    finally:
        out = stop_process(proc, timeout=30)
    assert proc.returncode == 0, out


async def test_history_is_the_seeds_own(tmp_path):
    """Two starts with the same seed serve the same past, byte for byte; another seed another."""
    answers = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        srv = await _serve(tmp_path, name, history="1d", history_seed=seed)
        try:
            answers.append(await _history_answers(srv))
        finally:
            await srv.stop()
    a, b, c = answers
    assert len(a["BTCUSDT klines 1m"]) == 1440 + 1 or len(a["BTCUSDT klines 1m"]) == 1440
    assert a == b
    for key in a:
        if key.endswith("oi") and not a[key]:
            continue
        assert a[key] != c[key], key
    # candles of every interval fold the same 1m candles: one day's volume is the sum
    day = a["BTCUSDT klines 1d"]
    vol_1m = sum(float(k[5]) for k in a["BTCUSDT klines 1m"] if k[0] >= day[-1][0])
    assert abs(float(day[-1][5]) - vol_1m) < 1e-6
    # the last hour's trades are the last hour's candles
    trades = a["BTCUSDT trades"]
    assert trades[-1]["id"] == 0 and trades[-1]["time"] < START
    last_minute = [t for t in trades if t["time"] >= START - 60_000]
    k = a["BTCUSDT klines 1m"][-1]
    assert k[0] == START - 60_000 and k[8] == len(last_minute)
    # ... and it closes at the synthetic market's start price (flow.index_process: 60000, 3000)
    assert k[4] == "60000.00" and a["ETHUSDT klines 1m"][-1][4] == "3000.00"
    assert a["BTCUSDT markPriceKlines"][-1][4] == a["BTCUSDT indexPriceKlines"][-1][4] == "60000.00000000"
    assert float(k[4]) == float(last_minute[-1]["price"])
    assert abs(float(k[5]) - sum(float(t["qty"]) for t in last_minute)) < 1e-9
    aggs = a["BTCUSDT aggTrades"]
    assert [x["f"] for x in aggs] == [t["id"] for t in trades[-len(aggs):]]


async def test_no_history_and_bad_spans(tmp_path):
    srv = await _serve(tmp_path, "none", history=0)
    try:
        ans = await _history_answers(srv)
        assert ans["BTCUSDT klines 1m"] == [] and ans["BTCUSDT funding"] == []
        assert srv.gateway.projection.history is None
    finally:
        await srv.stop()
    for bad in ("3x", "-1d", "31d", "1.5d", "d"):
        with pytest.raises(ValueError):
            await start(host="127.0.0.1", port=0, data_dir=tmp_path / "bad", history=bad, demo=False)
    assert parse_span("7d") == 7 * 86_400_000 and parse_span("90m") == 5_400_000 and parse_span("0") == 0
    with pytest.raises(ValueError):
        parse_anchors("BTCUSDT:1.5")


def test_serve_refuses_a_bad_history_span(tmp_path, capsys):
    assert paperex(["serve", "--port", "0", "--data-dir", str(tmp_path), "--history", "2w"]) == 2
    assert "--history '2w'" in capsys.readouterr().err


async def test_open_interest_history_answers_as_binance(tmp_path):
    srv = await _serve(tmp_path, "oi", history="2d")
    try:
        async with aiohttp.ClientSession() as s:
            u = srv.rest_url + "/futures/data/openInterestHist"
            status, rows = await _get(s, u, symbol="BTCUSDT", period="1h")
            assert status == 200 and len(rows) == 30                  # Binance's default limit
            assert set(rows[0]) == {"symbol", "sumOpenInterest", "sumOpenInterestValue", "CMCCirculatingSupply",
                                    "timestamp"}
            assert all(r["timestamp"] % 3_600_000 == 0 for r in rows)
            status, rows = await _get(s, u, symbol="BTCUSDT", period="1d", startTime=START - 2 * 86_400_000)
            # the past's samples from its first 5 minutes on, then the live sample at the start
            assert status == 200 and [r["timestamp"] for r in rows] == [START - 2 * 86_400_000, START - 86_400_000,
                                                                       START]
            assert float(rows[0]["sumOpenInterest"]) > 0 and rows[-1]["sumOpenInterest"] == "0.000"
            status, err = await _get(s, u, symbol="BTCUSDT", period="7m")
            assert status == 400 and err["code"] == -1130
            status, err = await _get(s, u, symbol="BTCUSDT")
            assert status == 400 and err["code"] == -1102
            status, err = await _get(s, u, symbol="NOPE", period="5m")
            assert status == 400 and err["code"] == -1121
    finally:
        await srv.stop()


async def test_history_is_journaled_as_one_command_and_replayed_and_exported(tmp_path, capsys):
    """One SeedHistory command with integer fields; replay --verify re-executes it; a restart on
    the same journal and the SQLite export show the very same past."""
    srv = await _serve(tmp_path, "j", history="1d", history_seed=3)
    try:
        async with aiohttp.ClientSession() as s:      # a live command on top of the past
            async with s.post(srv.rest_url + "/paperex/v1/index", json={"symbol": "BTCUSDT", "price": "60010"}) as r:
                assert r.status == 200, await r.text()
        before = await _history_answers(srv)
        served_digest = srv.gateway.projection.history_digest()
    finally:
        await srv.stop()
    assert len(served_digest) == 64
    journal = tmp_path / "j" / "journal"
    seeds = []
    for rec in JournalReader(journal).records(commands=True, events=False):
        cmd = command_from_record([rec.kind, rec.payload])
        if type(cmd).__name__ == "SeedHistory":
            seeds.append((rec.ts, cmd))
    assert len(seeds) == 1
    ts, cmd = seeds[0]
    assert ts == START and cmd.seed == 3 and cmd.span_ms == 86_400_000
    assert all(type(v) in (int, str) for v in cmd) and parse_anchors(cmd.anchors)["BTCUSDT"] == 600_000

    result = replay(journal, verify=True)
    assert result.divergence is None
    capsys.readouterr()
    assert paperex(["replay", str(journal), "--verify", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["verified"] is True
    assert summary["history"]["digest"] == served_digest          # replay expands the same past
    assert summary["history"]["seed"] == 3 and summary["history"]["span_ms"] == 86_400_000

    # a restart rebuilds the projection from the journal: the same past, no second SeedHistory
    srv = await _serve(tmp_path, "j", history="1d", history_seed=99)
    try:
        after = await _history_answers(srv)
        assert srv.gateway.projection.history == cmd
        assert srv.gateway.projection.history_digest() == served_digest
    finally:
        await srv.stop()
    for key in before:
        if key.endswith(" oi"):       # live samples may follow the past after the restart
            assert after[key][:len(before[key])] == before[key]
        else:
            assert after[key] == before[key], key

    db = tmp_path / "export.db"
    assert paperex(["export", str(journal), str(db)]) == 0
    con = sqlite3.connect(db)
    assert con.execute("select seed, span_ms, digest from history").fetchall() == [(3, 86_400_000, served_digest)]
    rows = con.execute("select open_time, open, high, low, close, trades from history_kline "
                       "where symbol='BTCUSDT' order by open_time").fetchall()
    rest = before["BTCUSDT klines 1m"]
    assert len(rows) == 1440
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows[-len(rest):]] == \
        [(k[0], float(k[1]), float(k[2]), float(k[3]), float(k[4]), k[8]) for k in rest]
    funding = con.execute("select funding_time, funding_rate from history_funding where symbol='BTCUSDT' "
                          "order by funding_time").fetchall()
    assert [(f, round(r, 8)) for f, r in funding] == \
        [(f["fundingTime"], float(f["fundingRate"])) for f in before["BTCUSDT funding"]]
    n_trades = con.execute("select count(*) from history_trade where symbol='BTCUSDT'").fetchone()[0]
    assert n_trades == len(before["BTCUSDT trades"]) or n_trades > 1000
    for table in ("history_mark_kline", "history_index_kline", "history_premium_kline", "history_open_interest"):
        assert con.execute(f"select count(*) from {table}").fetchone()[0] > 0, table


@pytest.mark.paperex(history="2h", history_seed=5, flow="synthetic", speed=20)
def test_fixture_history_under_a_running_flow_replays(paperex_server):
    """The pytest fixture takes the same option; the live market continues the past and the
    whole journal (history + flow) passes replay --verify."""
    import urllib.request
    import json
    with urllib.request.urlopen(paperex_server.base_url + "/fapi/v1/klines?symbol=ETHUSDT&interval=1m&limit=200") as r:
        rows = json.loads(r.read())
    assert len(rows) >= 120 and rows[0][0] == START - 120 * 60_000
    paperex_server.verify_replay()


def test_replay_flow_gets_a_past_ending_at_the_recordings_first_price(tmp_path):
    """`--flow replay`: the recording holds nothing before its first record, so the seeded past
    ends at the recording's first price (BTCUSDT's first trade / quote) and the replay continues
    it; a symbol the recording does not trade gets no past."""
    from shared_data import find
    sample = find("binance-usdm/btcusdt_20240808.gz")       # required in CI (PAPEREX_REQUIRE_DATA=1)
    from exchange.serve import recording_anchors
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    anchors = recording_anchors(sample, dict(DEFAULT_INSTRUMENTS))
    assert set(anchors) == {"BTCUSDT"}
    proc, banner, _ = start_serve(tmp_path / "data", "--flow", "replay", "--data", str(sample),
                                  "--history", "1d", "--speed", "1")
    try:
        url = banner["url"]

        async def check():
            async with aiohttp.ClientSession() as s:
                status, rows = await _get(s, url + "/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit=1500)
                assert status == 200 and len(rows) >= 1440
                first_ts = rows[1439][0] + 60_000          # the minute the recording starts in
                assert rows[1439][4] == f"{anchors['BTCUSDT'] / 10:.2f}"      # ends at the recorded price
                status, mark = await _get(s, url + "/fapi/v1/markPriceKlines", symbol="BTCUSDT", interval="1m",
                                          limit=1500)
                assert float(mark[1439][4]) == anchors["BTCUSDT"] / 10
                assert rows[0][0] == first_ts - 86_400_000
                status, eth = await _get(s, url + "/fapi/v1/klines", symbol="ETHUSDT", interval="1m")
                assert status == 200 and eth == []
        asyncio.run(check())
    finally:
        out = stop_process(proc, timeout=30)
    assert proc.returncode == 0, out
