"""The dashboard in a real headless Chromium against a real ``paperex serve`` / ``paperex view``."""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

import os
import sys as _sys

_sys.path.insert(0, os.path.dirname(__file__))
from browserkit import ROOT, console_errors, screenshot, serve, view  # noqa: E402


# ------------------------------------------------------------------ wire helpers
def call(base: str, method: str, path: str, payload=None, *, headers=None):
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def signed(base: str, key: str, secret: str, method: str, path: str, params: dict):
    qs = urlencode({**params, "timestamp": int(time.time() * 1000)})
    sig = hmac.new(secret.encode(), qs.encode(), hashlib.sha256).hexdigest()
    return call(base, method, f"{path}?{qs}&signature={sig}", headers={"X-MBX-APIKEY": key})


def wait_for(what: str, fn, timeout: float = 10.0, every: float = 0.1):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def open_page(drv, url: str) -> None:
    """Leave the last page (its websocket's reconnects are its own errors), forget its log."""
    drv.get("about:blank")
    drv.get_log("browser")
    drv.get(url)


def text_of(drv, css: str) -> str:
    return drv.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)


def select_account(drv, aid: int) -> None:
    drv.execute_script("""
        const s = document.getElementById('account');
        if (![...s.options].some(o => o.value === String(arguments[0]))) {
            const o = document.createElement('option'); o.value = String(arguments[0]); o.textContent = arguments[0];
            s.appendChild(o);
        }
        s.value = String(arguments[0]); s.dispatchEvent(new Event('change'));""", aid)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    proc = serve(tmp, "--flow", "synthetic", "--clock", "virtual", "--seed", "3")
    try:
        yield proc, tmp
    finally:
        proc.stop()


# ------------------------------------------------------------------ live page
def test_page_loads_without_console_errors_and_best_bid_equals_rest_depth(browser, live):
    proc, _ = live
    base = proc.url
    open_page(browser, base + "/")
    wait_for("the first websocket update", lambda: int(browser.execute_script(
        "return Number(document.body.dataset.updates || 0)")) > 0)
    wait_for("a book", lambda: text_of(browser, "#best-bid") not in (None, "-"))
    # a still book (flow paused): the page must show REST depth's best bid within a second
    st, _ = call(base, "POST", "/paperex/v1/flow/pause", {})
    assert st == 200
    try:
        st, depth = call(base, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
        assert st == 200 and depth["bids"], depth
        want = depth["bids"][0][0]
        t0 = time.monotonic()
        wait_for(f"best bid {want}", lambda: text_of(browser, "#best-bid") == want, timeout=1.0, every=0.05)
        assert time.monotonic() - t0 <= 1.0
        assert text_of(browser, "#best-ask") == depth["asks"][0][0]
    finally:
        call(base, "POST", "/paperex/v1/flow/resume", {})
    errors = console_errors(browser)
    assert errors == [], errors
    # the run panel is live: seq moves, commands per second shown
    seq1 = int(text_of(browser, "#run-seq"))
    wait_for("the seq to move", lambda: int(text_of(browser, "#run-seq")) > seq1, timeout=5)
    screenshot(browser, "live")
    # the market panels on screen: the page keeps the normal pace; scrolled out of the window
    # (the leaderboard at the bottom in view) it asks for the slow pace, and back at the top it
    # returns to the normal pace and shows the book as REST has it
    pace = "return window.paperexDashboard.focus.pace || 'normal'"
    assert browser.execute_script(pace) == "normal"
    size = browser.get_window_size()
    browser.set_window_size(size["width"], 600)         # a window the page does not fit in
    try:
        browser.execute_script("document.getElementById('leaderboard').scrollIntoView({block: 'end'})")
        wait_for("the slow pace", lambda: browser.execute_script(pace) == "slow", timeout=5)
    finally:
        browser.set_window_size(size["width"], size["height"])
    browser.execute_script("window.scrollTo(0, 0)")
    wait_for("the normal pace", lambda: browser.execute_script(pace) == "normal", timeout=5)
    st, _ = call(base, "POST", "/paperex/v1/flow/pause", {})
    try:
        st, depth = call(base, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
        wait_for("the book after the scroll", lambda: text_of(browser, "#best-bid") == depth["bids"][0][0]
                 and text_of(browser, "#best-ask") == depth["asks"][0][0], timeout=2.0, every=0.05)
    finally:
        call(base, "POST", "/paperex/v1/flow/resume", {})
    assert console_errors(browser) == []


def test_a_recorded_replay_shows_its_book_trades_and_candles(browser, tmp_path):
    """``--flow replay``: the page follows a recorded day as it follows the synthetic market -
    the replay named in the run panel, the book REST depth shows (within a second, the replay
    paused), the recorded trades on the tape, candles with the mark and index price."""
    from shared_data import find       # tests/ is on the path (its conftest.py)
    sample = find("binance-usdm/btcusdt_20240808.gz")        # required in CI (PAPEREX_REQUIRE_DATA=1)
    proc = serve(tmp_path, "--flow", "replay", "--data", str(sample), "--speed", "20")
    try:
        base = proc.url
        open_page(browser, base + "/")
        wait_for("a book", lambda: text_of(browser, "#best-bid") not in (None, "-"), timeout=30)
        assert text_of(browser, "#run-flow").startswith("ReplayDriver"), text_of(browser, "#run-flow")
        wait_for("recorded trades on the tape", lambda: browser.execute_script(
            "return document.querySelector('#trades tbody').rows.length") > 0, timeout=20)
        st, _ = call(base, "POST", "/paperex/v1/flow/pause", {})
        assert st == 200
        try:
            wait_for("the replay paused", lambda: "(paused)" in text_of(browser, "#run-flow"), timeout=3)
            st, depth = call(base, "GET", "/fapi/v1/depth?symbol=BTCUSDT&limit=5")
            assert st == 200 and depth["bids"] and depth["asks"], depth
            t0 = time.monotonic()
            wait_for(f"best bid {depth['bids'][0][0]}", lambda: text_of(browser, "#best-bid") == depth["bids"][0][0]
                     and text_of(browser, "#best-ask") == depth["asks"][0][0], timeout=1.0, every=0.05)
            assert time.monotonic() - t0 <= 1.0
            st, trades = call(base, "GET", "/fapi/v1/trades?symbol=BTCUSDT&limit=1")
            assert st == 200 and trades
            wait_for("the last trade on the tape", lambda: browser.execute_script(
                "return document.querySelector('#trades tbody').rows[0].cells[1].textContent") == trades[-1]["price"],
                timeout=1.0, every=0.05)
            chart = browser.execute_script("return window.paperexDashboard.last().chart")
            assert chart["symbol"] == "BTCUSDT" and chart["candles"] and chart["mark"] and chart["index"], chart
        finally:
            call(base, "POST", "/paperex/v1/flow/resume", {})
        assert console_errors(browser) == []
        screenshot(browser, "replay")
    finally:
        proc.stop()


def test_a_fill_appears_in_the_accounts_fills_table(browser, live):
    proc, _ = live
    base = proc.url
    st, acct = call(base, "POST", "/paperex/v1/accounts", {"balance": "50000", "label": "browser-fill"})
    assert st == 200, acct
    open_page(browser, base + "/")
    wait_for("the page", lambda: text_of(browser, "#run-seq") not in (None, "-"))
    select_account(browser, acct["accountId"])
    st, order = signed(base, acct["apiKey"], acct["secretKey"], "POST", "/fapi/v1/order",
                       {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.010"})
    assert st == 200, order
    st, trades = signed(base, acct["apiKey"], acct["secretKey"], "GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"})
    assert st == 200 and trades, trades
    tid = str(trades[0]["id"])
    row = wait_for(f"trade {tid} in the fills table", lambda: browser.execute_script(
        "const r = document.querySelector('#fills tbody tr[data-trade-id=\"' + arguments[0] + '\"]');"
        "return r ? [...r.cells].map(c => c.textContent) : null;", tid), timeout=5)
    assert row[1] == tid and row[3] == "BUY" and row[4] == trades[0]["price"] and row[5] == trades[0]["qty"]
    # the position is drawn in the positions table with its liquidation and bankruptcy prices
    pos = wait_for("the position row", lambda: browser.execute_script(
        "const r = document.querySelector('#positions tbody tr'); return r ? [...r.cells].map(c => c.textContent) : null;"))
    assert pos[0] == "BTCUSDT" and pos[2] == "0.010"
    screenshot(browser, "fill")


def test_forced_liquidation_in_the_crash_scenario_appears_in_the_liquidation_feed(browser, tmp_path):
    """A test account opens a 125x long; the ``crash`` scenario (started through the control
    API, its 30-minute warm-up skipped by advancing the virtual clock, the flow running as fast
    as it can) drives the mark through its liquidation price; the page's liquidation feed shows
    that forceOrder.  Bounded: no liquidation within 90 s fails the test."""
    proc = serve(tmp_path, "--flow", "synthetic", "--clock", "virtual", "--seed", "3", "--speed", "1000")
    try:
        base = proc.url
        st, acct = call(base, "POST", "/paperex/v1/accounts", {"balance": "300", "label": "browser-liq"})
        assert st == 200, acct
        aid = acct["accountId"]
        open_page(browser, base + "/")
        wait_for("the page", lambda: text_of(browser, "#run-seq") not in (None, "-"))
        select_account(browser, aid)
        st, started = call(base, "POST", "/paperex/v1/flow/scenario", {"scenario": "crash"})
        assert st == 200 and started["scenario"] == "crash", started
        # the crash falls after 30 minutes of warm-up: skip most of it
        st, body = call(base, "POST", "/paperex/v1/clock/advance", {"seconds": 1790})
        assert st == 200, body
        st, body = signed(base, acct["apiKey"], acct["secretKey"], "POST", "/fapi/v1/leverage",
                          {"symbol": "BTCUSDT", "leverage": 125})
        assert st == 200, body
        st, order = signed(base, acct["apiKey"], acct["secretKey"], "POST", "/fapi/v1/order",
                           {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.500"})
        assert st == 200, order
        assert wait_for("the scenario on the page", lambda: "crash" in (text_of(browser, "#run-flow") or ""))
        row = wait_for("the liquidation in the feed", lambda: browser.execute_script(
            "const r = document.querySelector('#liquidations tbody tr[data-account=\"' + arguments[0] + '\"]');"
            "return r ? [...r.cells].map(c => c.textContent) : null;", aid), timeout=90, every=0.25)
        assert row[1] == "BTCUSDT" and row[3] == "SELL" and row[4] == "0.500", row
        # the same forceOrder as the REST answer, liquidated below the entry
        st, forced = signed(base, acct["apiKey"], acct["secretKey"], "GET", "/fapi/v1/forceOrders",
                            {"symbol": "BTCUSDT"})
        assert st == 200 and len(forced) == 1, forced
        assert forced[0]["side"] == "SELL" and forced[0]["origQty"] == "0.500"
        assert forced[0]["time"] > started["time"]          # in the crash, after it started
        st, mine = signed(base, acct["apiKey"], acct["secretKey"], "GET", "/fapi/v1/userTrades",
                          {"symbol": "BTCUSDT"})
        entry = float(mine[0]["price"])
        assert float(forced[0]["avgPrice"]) < entry, (forced, entry)
        wait_for("the account without its position", lambda: browser.execute_script(
            "return document.querySelectorAll('#positions tbody tr').length === 0"))
        screenshot(browser, "liquidation", readme=True)     # the README's picture
        assert console_errors(browser) == []
    finally:
        proc.stop()


def test_a_position_is_drawn_with_its_liquidation_and_bankruptcy_prices(browser, live):
    proc, _ = live
    base = proc.url
    st, acct = call(base, "POST", "/paperex/v1/accounts", {"balance": "400", "label": "browser-pos"})
    assert st == 200, acct
    open_page(browser, base + "/")
    wait_for("the page", lambda: text_of(browser, "#run-seq") not in (None, "-"))
    select_account(browser, acct["accountId"])
    st, body = signed(base, acct["apiKey"], acct["secretKey"], "POST", "/fapi/v1/leverage",
                      {"symbol": "BTCUSDT", "leverage": 50})
    assert st == 200, body
    st, body = signed(base, acct["apiKey"], acct["secretKey"], "POST", "/fapi/v1/order",
                      {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.200"})
    assert st == 200, body
    pos = wait_for("the position with its liquidation price", lambda: browser.execute_script(
        "const r = document.querySelector('#positions tbody tr');"
        "return r && r.cells[8].textContent !== '-' ? [...r.cells].map(c => c.textContent) : null;"))
    assert pos[2] == "0.200" and float(pos[9]) < float(pos[8]) < float(pos[3]), pos   # bankruptcy < liq < entry
    screenshot(browser, "position")
    assert console_errors(browser) == []


# ------------------------------------------------------------------ leaderboard
def test_leaderboard_rows_equal_the_rest_leaderboard(browser, tmp_path):
    comp = tmp_path / "cup.toml"
    comp.write_text('name = "Browser Cup"\nstarting_balance = "5000"\nsymbols = ["BTCUSDT"]\nmax_leverage = 20\n'
                    '[window]\nstart = "+0s"\nend = "+10s"\nclock = "wall"\n'
                    '[[teams]]\nname = "alpha"\n[[teams]]\nname = "beta"\n[[teams]]\nname = "gamma"\n')
    proc = serve(tmp_path, "--flow", "synthetic", "--clock", "virtual", "--competition", str(comp))
    try:
        keys = json.loads((tmp_path / "data" / "team-keys.json").read_text())["teams"]
        for row, qty in zip(keys, ("0.010", "0.020")):
            st, body = signed(proc.url, row["apiKey"], row["secretKey"], "POST", "/fapi/v1/order",
                              {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": qty})
            assert st == 200, body
        final = wait_for("the final standings", lambda: (lambda b: b if b["final"] else None)(
            call(proc.url, "GET", "/paperex/v1/leaderboard")[1]), timeout=15)
        open_page(browser, proc.url + "/")
        want = [[str(r["rank"]), r["team"], str(r["accountId"]), r["equity"], r["return"], r["maxDrawdown"],
                 str(r["liquidations"]), str(r["trades"]), r["volume"], r["fees"]] for r in final["standings"]]
        got = wait_for("the leaderboard rows", lambda: (lambda rows: rows if rows == want else None)(
            browser.execute_script("return [...document.querySelectorAll('#leaderboard tbody tr')]"
                                   ".map(r => [...r.cells].map(c => c.textContent));")), timeout=5)
        assert len(got) == 3 and text_of(browser, "#window-state") == "final"
        assert text_of(browser, "#competition-name") == "Browser Cup"
        screenshot(browser, "leaderboard")
        assert console_errors(browser) == []
    finally:
        proc.stop()


# ------------------------------------------------------------------ restart
_PAGE_STATE = """
    const s = window.paperexDashboard.last();
    if (!s || !s.market || !s.chart || !s.leaderboard) return null;
    const cells = (t) => [...document.querySelectorAll(t + ' tbody tr')].map(r => [...r.cells].map(c => c.textContent));
    return {candles: s.chart.candles, mark: s.chart.mark, index: s.chart.index, trades: s.market.trades,
            liquidations: s.liquidations, insurance: s.insurance, leaderboard: s.leaderboard.standings,
            liquidationRows: cells('#liquidations'), leaderboardRows: cells('#leaderboard'),
            insuranceBalance: document.getElementById('insurance-balance').textContent};"""


def test_a_restart_shows_the_same_candles_liquidations_insurance_and_leaderboard(browser, tmp_path):
    """#16: the dashboard's history (candles, liquidation feed, insurance fund over time) and
    the leaderboard come back from the projection checkpoint after ``paperex serve`` restarts on
    the same data directory: the page and /paperex/v1/leaderboard show what they showed."""
    proc = serve(tmp_path, "--flow", "synthetic", "--clock", "virtual", "--seed", "5", "--speed", "1000",
                 "--scenario", "crash")
    try:
        base = proc.url
        st, body = call(base, "POST", "/paperex/v1/clock/advance", {"seconds": 1790})    # to the fall
        assert st == 200, body
        open_page(browser, base + "/")
        wait_for("liquidations in the crash", lambda: len(browser.execute_script(
            "const s = window.paperexDashboard.last(); return s && s.liquidations ? s.liquidations : [];")) >= 3,
            timeout=90, every=0.5)
        st, body = call(base, "POST", "/paperex/v1/flow/pause", {})
        assert st == 200, body
        # the ticks that carry the last commands (the chart and the leaderboard change once a
        # second), and the catch-up of the panels out of the window (every 2 s)
        time.sleep(4.0)
        before = wait_for("the page state", lambda: browser.execute_script(_PAGE_STATE))
        st, board = call(base, "GET", "/paperex/v1/leaderboard")
        assert st == 200 and board["standings"]
    finally:
        proc.stop()             # a clean stop: the venue snapshot and the projection checkpoint
    assert before["candles"] and len(before["insurance"]["series"]) >= 2 and before["liquidationRows"]
    assert any(r["liquidations"] for r in board["standings"])      # the liquidated agents are ranked
    # the clean stop wrote a projection checkpoint (with the feed and the leaderboard) at its last seq
    assert list((tmp_path / "data" / "snapshots").glob("*.projection"))
    again = serve(tmp_path, "--flow", "none", "--clock", "virtual")
    try:
        st, board_after = call(again.url, "GET", "/paperex/v1/leaderboard")
        assert st == 200 and board_after == board
        open_page(browser, again.url + "/")
        # the state arrives first, its tables are drawn on the next animation frame: wait for the rows
        after = wait_for("the page after the restart", lambda: (lambda st: st if st and st["liquidationRows"]
                                                                 else None)(browser.execute_script(_PAGE_STATE)))
        for key in ("candles", "mark", "index", "trades", "liquidations", "insurance", "leaderboard",
                    "liquidationRows", "insuranceBalance"):
            assert after[key] == before[key], key
        wait_for("the leaderboard rows", lambda: browser.execute_script(_PAGE_STATE)["leaderboardRows"]
                 == before["leaderboardRows"], timeout=5)
        screenshot(browser, "restart")
        assert console_errors(browser) == []
    finally:
        again.stop()


# ------------------------------------------------------------------ paperex view
def _replayed(journal, t: int):
    """What ``paperex replay --until-time t`` rebuilds (the same function), with the leaderboard
    fed by that replay: the venue, the board, the symbols' formats."""
    from exchange.contract.venue_config import instruments_from_config
    from exchange.engine.leaderboard import Leaderboard
    from exchange.engine.replay import replay
    from exchange.gateway.format import SymbolFormat
    from exchange.journal import JournalReader
    instruments = instruments_from_config(JournalReader(journal).config)
    board = Leaderboard.for_instruments(instruments)
    res = replay(journal, until_time=t, on_command=board.on_executed)
    return res.venue, board, {s: SymbolFormat(i) for s, i in instruments.items()}


def _cells(drv, table: str) -> list:
    return drv.execute_script("return [...document.querySelectorAll(arguments[0] + ' tbody tr')]"
                              ".map(r => [...r.cells].map(c => c.textContent));", table)


def test_view_time_slider_shows_the_state_of_replay_until_time(browser, tmp_path):
    """``paperex view``: at a slider time the page shows the state ``replay --until-time`` rebuilds
    for that time - its state digest, the book ladder, an account's positions and open orders,
    and the leaderboard."""
    from exchange.contract import codes as C
    proc = serve(tmp_path, "--flow", "synthetic", "--clock", "virtual", "--scenario", "crash", "--seed", "5")
    try:
        wait_for("some flow", lambda: call(proc.url, "GET", "/paperex/v1/state")[1]["lastSeq"] > 3000, timeout=30,
                 every=0.5)
    finally:
        proc.stop()
    journal = tmp_path / "data" / "journal"
    v = view(journal, tmp_path)
    try:
        open_page(browser, v.url + "/")
        st, info = call(v.url, "GET", "/paperex/v1/dashboard/info")
        assert st == 200 and info["mode"] == "view" and info["lastTime"] > info["firstTime"]
        wait_for("the view at the end", lambda: text_of(browser, "#state-digest") not in (None, "-"), timeout=30)
        aid = None
        for frac in (0.5, 0.25):            # forward is incremental, back starts over: both must agree
            t = info["firstTime"] + int((info["lastTime"] - info["firstTime"]) * frac)
            browser.execute_script("const s = document.getElementById('slider'); s.value = String(arguments[0]);"
                                   "s.dispatchEvent(new Event('change'));", t)
            wait_for(f"the state at {t}", lambda: browser.execute_script(
                "return document.getElementById('state-digest').dataset.time") == str(t), timeout=30)
            out = subprocess.run([sys.executable, "-m", "exchange.cli", "replay", str(journal), "--until-time", str(t),
                                  "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                                 env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
            assert out.returncode == 0, out.stderr
            want = json.loads(out.stdout.strip().splitlines()[-1])["state_digest"]
            assert text_of(browser, "#state-digest") == want
            venue, board, fmt = _replayed(journal, t)
            assert venue.state_digest() == want
            if aid is None:     # the agent with the most open orders and positions at that time
                def busy(a):
                    acct = venue.account(a)
                    return len(acct["open_orders"]) + sum(1 for p in acct["positions"] if p["qty"])
                aid = max(sorted(venue.accounts), key=busy)
                assert busy(aid) > 0
                select_account(browser, aid)
            wait_for(f"account {aid} at {t}", lambda: text_of(browser, "#account-id") == str(aid) and
                     browser.execute_script("return document.getElementById('state-digest').dataset.time") == str(t),
                     timeout=30)
            # the ladder: the replayed book's best 12 levels a side, asks above bids
            f = fmt["BTCUSDT"]
            book = venue.book("BTCUSDT")
            asks = [["-", f.price(p), f.qty(q)] for p, q in reversed(book.depth(1, 12))]
            bids = [[f.qty(q), f.price(p), "-"] for p, q in book.depth(0, 12)]
            assert asks and bids
            assert _cells(browser, "#ladder") == asks + bids
            assert text_of(browser, "#best-bid") == bids[0][1] and text_of(browser, "#best-ask") == asks[-1][1]
            # the account's tables
            acct = venue.account(aid)
            pos = sorted((p["symbol"], C.POSITION_SIDE_NAMES[p["position_side"]],
                          fmt[p["symbol"]].qty(p["qty"]) if p["qty"] > 0 else "-" + fmt[p["symbol"]].qty(-p["qty"]))
                         for p in acct["positions"] if p["qty"])
            assert sorted(tuple(r[:3]) for r in _cells(browser, "#positions")) == pos
            orders = sorted(str(o["order_id"]) for o in acct["open_orders"]
                            if o["order_type"] not in C.CONDITIONAL_TYPES)
            assert sorted(r[0] for r in _cells(browser, "#orders")) == orders
            # the leaderboard of that replay (the page shows the best LEADERS of its hundreds of agents)
            from exchange.gateway.dashboard.views import LEADERS
            standings = board.standings()["standings"]
            rows = [[str(r["rank"]), r["team"] or "-", str(r["accountId"]), r["equity"], r["return"],
                     r["maxDrawdown"], str(r["liquidations"]), str(r["trades"]), r["volume"], r["fees"]]
                    for r in standings[:LEADERS]]
            assert len(standings) > LEADERS and _cells(browser, "#leaderboard") == rows
            assert text_of(browser, "#competition-name") == f"(all accounts: the best {LEADERS} of {len(standings)})"
        screenshot(browser, "view")
        assert console_errors(browser) == []
    finally:
        v.stop()


def test_control_buttons_need_the_token_and_call_the_control_api(browser, tmp_path):
    proc = serve(tmp_path, "--flow", "synthetic", "--clock", "virtual", "--admin-token", "sesame")
    try:
        enabled = "return [...document.querySelectorAll('[data-control]')].map(b => !b.disabled);"
        open_page(browser, proc.url + "/")
        wait_for("the page", lambda: text_of(browser, "#run-seq") not in (None, "-"))
        assert set(browser.execute_script(enabled)) == {False}
        assert "token" in text_of(browser, "#control-note")
        open_page(browser, proc.url + "/?token=sesame")
        wait_for("enabled buttons", lambda: set(browser.execute_script(enabled)) == {True})
        browser.find_element("id", "btn-pause").click()
        wait_for("the flow paused", lambda: "(paused)" in (text_of(browser, "#run-flow") or ""), timeout=5)
        browser.find_element("id", "in-mark").send_keys("55000")
        browser.find_element("id", "btn-mark").click()
        wait_for("the pinned mark", lambda: text_of(browser, "#mark-price") == "55000.00 (pinned)", timeout=5)
        assert text_of(browser, "#index-price") not in (None, "-")      # the pin keeps the index shown
        browser.find_element("id", "btn-resume").click()
        wait_for("the flow running", lambda: "(paused)" not in text_of(browser, "#run-flow"), timeout=5)
        assert console_errors(browser) == []
    finally:
        proc.stop()
