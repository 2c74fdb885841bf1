"""The dashboard's websocket and REST answers against a real server (no browser)."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from exchange.gateway.dashboard.offline import make_view_app
from exchange.serve import start, start_flow


async def _messages(ws, seconds: float) -> list:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    out = []
    while True:
        left = end - loop.time()
        if left <= 0:
            return out
        try:
            msg = await ws.receive(timeout=left)
        except asyncio.TimeoutError:
            return out
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        out.append(json.loads(msg.data))


def _merged(msgs: list, state: "dict | None" = None) -> dict:
    """What a page holds after ``msgs``: each message carries only the sections that changed."""
    state = dict(state or {})
    for m in msgs:
        assert m["type"] == "update"
        state.update({k: v for k, v in m.items() if k not in ("type", "full")})
    return state


async def test_updates_coalesce_ladder_is_the_book_and_scenarios_start(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", clock="virtual")
    stop = asyncio.Event()
    task = start_flow(srv, "synthetic", seed=2, speed=20.0, stop=stop)    # 20x real time: a busy market
    try:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(srv.ws_url + "/paperex/v1/dashboard/ws") as ws:
                first = await _messages(ws, 1.0)    # the first message and whatever came since
                assert first[0]["full"] is True and {"run", "market", "chart", "leaderboard", "insurance"} <= set(first[0])
                page = _merged(first)
                msgs = await _messages(ws, 3.0)
                # the run panel (like the chart and the leaderboard) changes once a second
                seqs = [m["run"]["lastSeq"] for m in msgs if "run" in m]
                # two updates a second (0.5 s apart), while the venue ran thousands of commands
                assert 4 <= len(msgs) <= 7, len(msgs)
                assert 2 <= len(seqs) <= 4, seqs
                assert seqs[-1] - seqs[0] > 10 * len(msgs), seqs
                assert all("market" in m for m in msgs), msgs      # the book moved every tick
                # the ladder the page shows is the book REST depth shows
                async with s.post(srv.rest_url + "/paperex/v1/flow/pause") as r:
                    assert r.status == 200
                # the ticks that carried the pause (the chart's last change waits for the slow tick,
                # one a second)
                page = _merged(msgs + await _messages(ws, 1.6), page)
                # a still market: nothing but the run panel's heartbeat (at most one in 2 s) -
                # no market, board or feed resent
                quiet = await _messages(ws, 2.6)
                assert len(quiet) <= 2, quiet
                assert not any(set(q) - {"type", "full", "run"} for q in quiet), quiet
                page = _merged(quiet, page)
                await ws.send_str(json.dumps({"symbol": "ETHUSDT"}))
                m = _merged(await _messages(ws, 0.2), page)
                async with s.get(srv.rest_url + "/fapi/v1/depth", params={"symbol": "ETHUSDT", "limit": "20"}) as r:
                    depth = await r.json()
                assert m["market"]["symbol"] == "ETHUSDT"
                assert m["market"]["bids"] == depth["bids"][:12] and m["market"]["asks"] == depth["asks"][:12]
                assert m["market"]["bids"] and m["chart"]["symbol"] == "ETHUSDT" and m["chart"]["candles"] and m["chart"]["mark"]
                assert m["flow"] == {"kind": "SyntheticFlow", "paused": True, "scenario": "calm"}
                # start a scenario from the page's control
                async with s.post(srv.rest_url + "/paperex/v1/flow/scenario", json={"scenario": "crash"}) as r:
                    assert r.status == 200, await r.text()
                async with s.post(srv.rest_url + "/paperex/v1/flow/scenario", json={"scenario": "meteor"}) as r:
                    body = await r.json()
                    assert (r.status, body["code"]) == (400, -1130), body
                await ws.send_str(json.dumps({"symbol": "BTCUSDT"}))
                m = _merged(await _messages(ws, 0.2), m)
                assert m["flow"]["scenario"] == "crash" and m["leaderboard"]["standings"]
    finally:
        stop.set()
        await task
        await srv.stop()


async def test_a_bad_focus_message_is_answered_with_an_error_and_changes_nothing(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", clock="virtual")
    try:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(srv.ws_url + "/paperex/v1/dashboard/ws") as ws:
                await _messages(ws, 0.3)
                await ws.send_str(json.dumps({"symbol": "ETHUSDT"}))
                assert _merged(await _messages(ws, 0.3))["market"]["symbol"] == "ETHUSDT"
                for sent, code in (({"symbol": "BTCUSDT", "depth": 5}, -1103), ("not json", -1102),
                                   ([1, 2], -1102), ({"symbol": "BTCUSDT", "pace": "fast"}, -1130)):
                    await ws.send_str(sent if isinstance(sent, str) else json.dumps(sent))
                    answer = await _messages(ws, 0.3)
                    errors = [m for m in answer if m.get("type") == "error"]
                    assert [m["code"] for m in errors] == [code], answer
                    if code == -1103:
                        assert "'depth'" in errors[0]["msg"], errors
                    # a focus that took would be answered by a whole page for BTCUSDT at once
                    assert not any(m.get("full") or "market" in m for m in answer if m.get("type") == "update"), answer
                # a good one still takes
                await ws.send_str(json.dumps({"symbol": "BTCUSDT"}))
                assert _merged(await _messages(ws, 0.3))["market"]["symbol"] == "BTCUSDT"
    finally:
        await srv.stop()


async def test_a_slow_page_gets_one_message_a_second_with_everything_since_its_last(tmp_path):
    """A page whose market panels are out of its window says ``"pace": "slow"``: it is sent one
    message a second (in the tick where the run panel, the chart and the leaderboard change),
    holding every section that changed since its previous one; a page at the normal pace on
    the same server gets two a second; back at the normal pace it gets everything at once."""
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", clock="virtual")
    stop = asyncio.Event()
    task = start_flow(srv, "synthetic", seed=2, speed=20.0, stop=stop)
    try:
        async with aiohttp.ClientSession() as s:
            url = srv.ws_url + "/paperex/v1/dashboard/ws"
            async with s.ws_connect(url) as fast, s.ws_connect(url) as slow:
                await slow.send_str(json.dumps({"pace": "slow"}))
                # both read at once: a socket not read meanwhile would hold a backlog
                first_fast, first_slow = await asyncio.gather(_messages(fast, 1.0), _messages(slow, 1.0))
                first_fast = _merged(first_fast)
                assert any(m["full"] for m in first_slow)
                slow_state = _merged(first_slow)
                fast_msgs, slow_msgs = await asyncio.gather(_messages(fast, 4.0), _messages(slow, 4.0))
                assert 7 <= len(fast_msgs) <= 9, len(fast_msgs)
                assert 3 <= len(slow_msgs) <= 5, len(slow_msgs)
                # each slow message carries the run panel and the market: nothing in between is lost
                assert all("run" in m and "market" in m for m in slow_msgs), slow_msgs
                seqs = [m["run"]["lastSeq"] for m in slow_msgs]
                assert seqs == sorted(seqs) and seqs[-1] - seqs[0] > 100, seqs
                fast_state = _merged(fast_msgs, first_fast)
                slow_state = _merged(slow_msgs, slow_state)
                assert set(slow_state) == set(fast_state)
                # back to the normal pace: a whole message at once, then two a second
                await slow.send_str(json.dumps({}))
                back = await _messages(slow, 2.2)
                assert back[0]["full"] is True and {"run", "market", "chart", "leaderboard"} <= set(back[0])
                assert 4 <= len(back) <= 6, len(back)
    finally:
        stop.set()
        await task
        await srv.stop()


async def test_account_view_needs_the_admin_token_when_one_is_set(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", admin_token="sesame")
    try:
        aid = srv.demo["accountId"]
        url = srv.rest_url + "/paperex/v1/dashboard/account"
        async with aiohttp.ClientSession() as s:
            async with s.get(url, params={"accountId": str(aid)}) as r:
                assert (r.status, (await r.json())["code"]) == (401, -2015)
            async with s.get(srv.rest_url + "/paperex/v1/dashboard/info") as r:
                info = await r.json()
                assert info["tokenRequired"] and not info["tokenValid"]
            h = {"X-PAPEREX-TOKEN": "sesame"}
            async with s.get(url, params={"accountId": str(aid)}, headers=h) as r:
                body = await r.json()
                assert r.status == 200 and body["walletBalance"] == "100000.00000000" and body["positions"] == []
            async with s.get(url, headers=h) as r:
                assert (r.status, (await r.json())["code"]) == (400, -1102)
            async with s.get(url, params={"accountId": "424242"}, headers=h) as r:
                assert (r.status, (await r.json())["code"]) == (400, -1109)
            async with s.get(srv.rest_url + "/dashboard/../../etc/passwd") as r:
                assert r.status == 404
            async with s.get(srv.rest_url + "/dashboard/secrets.txt") as r:
                assert (r.status, (await r.json())["code"]) == (404, -5000)
    finally:
        await srv.stop()


async def test_view_answers_errors_as_binance_json(tmp_path):
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never")
    await srv.stop()
    runner = web.AppRunner(make_view_app(tmp_path / "data" / "journal"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as s:
            base = f"http://127.0.0.1:{port}"
            async with s.get(base + "/paperex/v1/dashboard/at", params={"time": "soon"}) as r:
                assert (r.status, (await r.json())["code"]) == (400, -1102)
            async with s.get(base + "/paperex/v1/dashboard/info") as r:
                info = await r.json()
            async with s.get(base + "/paperex/v1/dashboard/at", params={"time": str(info["lastTime"]),
                                                                        "accountId": "1"}) as r:
                body = await r.json()
                assert r.status == 200 and body["account"]["walletBalance"] == "100000.00000000"
                assert body["seq"] == info["lastSeq"]
            async with s.get(base + "/") as r:
                assert r.status == 200 and 'data-mode="view"' in await r.text()
    finally:
        await runner.cleanup()


async def test_faults_injected_for_an_account_are_in_its_view(tmp_path):
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gateway_server"))
    from gwhelpers import Api
    faults = {"seed": 1, "rules": [{"id": "flaky", "path": "/fapi/*", "account": 1, "kind": "-1001", "every": 1,
                                    "times": 1}]}
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", faults=faults)
    try:
        assert srv.demo["accountId"] == 1
        async with aiohttp.ClientSession() as s:
            api = Api(s, srv.rest_url, srv.demo["apiKey"], srv.demo["secretKey"])
            st, body = await api.signed("GET", "/fapi/v2/balance")
            assert (st, body["code"]) == (503, -1001), body
            async with s.get(srv.rest_url + "/paperex/v1/dashboard/account", params={"accountId": "1"}) as r:
                view = await r.json()
            assert [(f["kind"], f["rule"]) for f in view["faults"]] == [("-1001", "flaky")]
            assert "/fapi/v2/balance" in view["faults"][0]["detail"]
    finally:
        await srv.stop()


async def test_the_run_panel_shows_the_journal_directory_size_across_segments(tmp_path):
    """The run panel's journal size is the journal directory's, counted by the writer (the
    segments written before the current one are listed once per segment), through rolls to
    new segments."""
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", clock="virtual")
    live = srv.gateway.dashboard_live
    jdir = tmp_path / "data" / "journal"
    srv.runtime.journal.segment_bytes = 2_000        # a new segment every few commands
    try:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(srv.ws_url + "/paperex/v1/dashboard/ws") as ws:
                await _messages(ws, 0.3)
                for round_ in range(4):
                    for _ in range(5):
                        async with s.post(srv.rest_url + "/paperex/v1/accounts", json={"balance": "1000"}) as r:
                            assert r.status == 200, await r.text()
                    on_disk = sum(p.stat().st_size for p in jdir.iterdir() if p.is_file())
                    assert live.journal_bytes() == on_disk, round_
                    # the page is told it in the next slow tick (one a second)
                    shown = [m["run"]["journalBytes"] for m in await _messages(ws, 1.2) if "run" in m]
                    assert shown and shown[-1] == on_disk, (shown, on_disk)
        assert len([p for p in jdir.iterdir() if p.suffix == ".journal"]) >= 4      # it did roll
    finally:
        await srv.stop()


async def test_a_tick_reaches_every_page_and_never_follows_a_whole_message(tmp_path):
    """The publisher builds a tick once, then hands it to the pages one at a time (here spread
    over 0.4 s); a page that changes its focus meanwhile gets its whole message and never a
    stale part of the tick built before it; every other page gets the tick; the longest the
    publisher held the loop is in /metrics."""
    srv = await start(host="127.0.0.1", port=0, data_dir=tmp_path / "data", fsync="never", clock="virtual")
    stop = asyncio.Event()
    task = start_flow(srv, "synthetic", seed=2, speed=20.0, stop=stop)
    pub = srv.gateway.dashboard_live.publisher
    pub.spread_s = 0.4
    try:
        async with aiohttp.ClientSession() as s:
            url = srv.ws_url + "/paperex/v1/dashboard/ws"
            async with s.ws_connect(url) as a, s.ws_connect(url) as b, s.ws_connect(url) as c:
                await asyncio.gather(*(_messages(w, 1.0) for w in (a, b, c)))
                # every page keeps getting the ticks (two a second), spread over the interval
                got = await asyncio.gather(*(_messages(w, 2.0) for w in (a, b, c)))
                assert all(3 <= len(g) <= 5 for g in got), [len(g) for g in got]
                # change b's focus while a tick is being handed out: right after a (the first page)
                # got its message, b's of the same tick is still 0.13 s away; after b's whole
                # message every market section b gets is that of its new symbol
                for sym in ("ETHUSDT", "BTCUSDT", "ETHUSDT", "BTCUSDT"):
                    while (await a.receive_json(timeout=2.0))["full"]:
                        pass
                    await b.send_str(json.dumps({"symbol": sym}))
                    msgs = await _messages(b, 0.7)
                    fulls = [i for i, m in enumerate(msgs) if m["full"]]
                    assert fulls, msgs
                    after = msgs[fulls[-1]:]
                    assert all(m["market"]["symbol"] == sym for m in after if "market" in m), (sym, after)
                    assert all(m["chart"]["symbol"] == sym for m in after if "chart" in m), (sym, after)
                await asyncio.gather(*(_messages(w, 0.1) for w in (a, c)))      # drained
        async with aiohttp.ClientSession() as s:
            async with s.get(srv.rest_url + "/metrics") as r:
                metrics = dict(line.split(" ", 1) for line in (await r.text()).splitlines()
                               if line and not line.startswith("#"))
        assert 0 < float(metrics["paperex_dashboard_longest_hold_seconds"]) == pytest.approx(pub.longest_hold_s, abs=1e-6)
    finally:
        stop.set()
        await task
        await srv.stop()
