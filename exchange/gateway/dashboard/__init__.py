"""The live dashboard of ``paperex serve`` (``http://127.0.0.1:8800/``) and its routes.

* ``GET /`` and ``GET /dashboard/{app.js,style.css}``: the page (static files in
  ``static/``, nothing fetched from elsewhere, no build step);
* ``GET /paperex/v1/dashboard/ws``: a websocket pushing the market, chart, run,
  flow, liquidation feed, insurance fund and leaderboard at most twice a second
  (``feed.Publisher``: each message holds only the sections that changed; the run
  panel, the chart and the leaderboard change at most once a second); the page sends
  ``{"symbol": ..., "account": ..., "pace": "slow"}`` to change what it looks at
  (anything else is answered ``{"type": "error", "code": ..., "msg": ...}`` and changes nothing)
  (``pace``: ``"slow"`` while its market panels are out of its window - one message a
  second then);
* ``GET /paperex/v1/dashboard/info``: mode, symbols, accounts, whether the
  control API needs a token;
* ``GET /paperex/v1/dashboard/account?accountId=N``: one account now (REST, with
  the control API's token when one is set: it shows an account's orders).

Everything the websocket carries comes from projections of committed results
(``Projection``, ``Leaderboard``, ``DashboardFeed``); the account's current risk
(liquidation price) is a REST query of the venue, like ``positionRisk``.
"""
from __future__ import annotations

import hmac
import time
from pathlib import Path
from typing import Optional

import orjson
from aiohttp import web

from exchange.gateway.dashboard.feed import DashboardFeed, Publisher
from exchange.gateway.dashboard.views import (
    account_view, accounts_list, chart_view, insurance_view, leaderboard_view, liquidations_view, market_view,
)
from exchange.contract import errors as E
from exchange.gateway import errors

STATIC = Path(__file__).parent / "static"
_FILES = {"app.js": "application/javascript", "style.css": "text/css"}
SCENARIOS = ("calm", "trend", "crash", "squeeze", "funding-spike")
SLOW_EVERY_S = 1.0          # the run panel, the chart and the leaderboard change at most this often


def install(gw) -> DashboardFeed:
    """The feed of a live gateway (its ladders start from the books when a page opens),
    made a companion of the projection's checkpoints with the leaderboard (before the
    projection is restored: both come back from its checkpoint and journal tail)."""
    venue = gw.venue

    def snapshot(sym: str):
        book = venue.book(sym)
        return book.depth(0, 1 << 30), book.depth(1, 1 << 30)

    from exchange.gateway.projection_companions import LeaderboardCompanion
    feed = DashboardFeed(gw.projection, sorted(gw.instruments), snapshot)
    gw.projection.companions["dashboard"] = feed
    gw.projection.companions["leaderboard"] = LeaderboardCompanion(gw.leaderboard)
    return feed


def restored(gw) -> None:
    """After the projection (and the feed) were restored: where the insurance fund stands,
    shown until its first change (the venue's query, not a journaled fact: not in the feed's
    history, so a restart shows the same history a rebuild from the journal does)."""
    gw.dashboard.insurance_start = (gw.now(), gw.venue.insurance_balance())


def page_response(mode: str) -> web.Response:
    html = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{MODE}}", mode)
    return web.Response(text=html, content_type="text/html",
                        headers={"Cache-Control": "no-cache",
                                 # the page may load only its own files: nothing leaves the machine
                                 "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
                                                            "img-src 'self' data:; style-src 'self'"})


def add_static_routes(app: web.Application, mode: str) -> None:
    async def index(request: web.Request) -> web.Response:
        return page_response(mode)

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        ctype = _FILES.get(name)
        if ctype is None:
            raise errors.Execution.UNKNOWN_PATH(request.path, request.method)
        return web.Response(body=(STATIC / name).read_bytes(), content_type=ctype,
                            headers={"Cache-Control": "no-cache"})

    from exchange.gateway.answers import guarded
    app.router.add_get("/", guarded(index))
    app.router.add_get("/dashboard/{name}", guarded(static))


class LiveDashboard:
    def __init__(self, gw) -> None:
        self.gw = gw
        self.feed: DashboardFeed = gw.dashboard
        self.publisher = Publisher(self.feed, self.sections, slow_tick=self.slow_tick)
        self._memo: dict = {}       # section -> (version, serialized JSON)
        self._run: Optional[tuple] = None     # (serialized run panel, the seq it shows)
        self._slow_at = -SLOW_EVERY_S         # when the last slow tick was
        self._slow = True                     # whether the tick being built is a slow one
        self._rate = (time.monotonic(), gw.sequencer.commands_total, 0.0)
        self._journal: tuple = (None, 0)     # (current segment, bytes of the segments before it)

    def run_view(self) -> dict:
        gw = self.gw
        seq = gw.sequencer
        now = time.monotonic()
        t0, n0, rate = self._rate
        if now - t0 >= 1.0:
            rate = (seq.commands_total - n0) / (now - t0)
            self._rate = (now, seq.commands_total, rate)
        clock = gw.clock
        return {"lastSeq": seq.seq, "time": gw.now(), "clock": "virtual" if clock.virtual else "wall",
                "speed": getattr(clock, "speed", None), "commandsPerSecond": round(rate, 1),
                "journalBytes": self.journal_bytes(), "wsClients": len(gw.hub.conns),
                "dashboardClients": len(self.publisher.clients), "failed": seq.failed}

    def journal_bytes(self) -> int:
        """The journal directory's size: the segments written before the current one (listed
        once per segment, when the writer moves to a new one: they no longer change) plus the
        current segment's committed bytes, which the writer counts - no directory walk and no
        ``stat`` per tick, which took 0.1-0.2 ms of the loop (3 ms at worst) once a second."""
        journal = self.gw.runtime.journal
        mark = journal.end_mark if journal is not None else None
        if mark is None:
            return 0
        closed_for, closed = self._journal
        if closed_for != mark.segment:
            jdir = journal.path
            closed = sum(p.stat().st_size for p in jdir.iterdir() if p.is_file() and p.name != mark.segment)
            self._journal = (mark.segment, closed)
        return closed + (mark.offset or 0)

    def flow_view(self) -> dict:
        flow = self.gw.flow
        if flow is None:
            return {"kind": None}
        scen = getattr(flow, "scenario", None)
        return {"kind": type(flow).__name__, "paused": bool(getattr(flow, "paused", False)),
                "scenario": getattr(getattr(scen, "p", None), "name", None)}

    def slow_tick(self) -> bool:
        """Called by the publisher at the start of each tick: one tick a second is slow."""
        now = time.monotonic()
        self._slow = now - self._slow_at >= SLOW_EVERY_S - 0.1
        if self._slow:
            self._slow_at = now
        return self._slow

    def sections(self, focus: dict) -> dict:
        """The page's sections for ``focus``, each serialized once per change: the
        liquidation feed, insurance fund and leaderboard are rebuilt only when what they
        show moved (their counters), the market only when a command committed."""
        gw = self.gw
        feed = self.feed
        sym = focus.get("symbol") if focus.get("symbol") in gw.formats else next(iter(gw.formats))
        comp = gw.competition
        memo = self._memo
        # The slow sections - the run panel (its rates are per second anyway), the chart (5-second
        # candles) and the leaderboard (it moves with every mark) - change only in a "slow" tick,
        # one a second, and all in the same one: a page whose visible part is the run panel and
        # the chart then draws one frame a second, not one per message.  Every focus built in
        # the same tick shares its slowness.
        slow = self._slow
        run = self._run
        if run is None or slow:
            run = self._run = (orjson.dumps(self.run_view()), gw.sequencer.seq)
        elif run[1] != gw.sequencer.seq:
            feed.dirty = True       # held back: a later tick sends it, even if nothing else moves
        parts = {"run": run[0], "flow": orjson.dumps(self.flow_view())}
        board = gw.leaderboard
        for name, version, slow_only, make in (
                ("market:" + sym, (gw.projection.last_seq, feed.ladders_live), False,
                 lambda: market_view(gw.projection, feed, gw.formats, sym)),
                ("chart:" + sym, gw.projection.last_seq, True, lambda: chart_view(feed, gw.formats, sym)),
                ("liquidations", feed.liquidations_total, False, lambda: liquidations_view(feed, gw.formats)),
                ("insurance", feed.insurance_total, False, lambda: insurance_view(feed)),
                # the final standings at once
                ("leaderboard", (board.last_seq, board.final_seq), board.final is None,
                 lambda: leaderboard_view(board))):
            hit = memo.get(name)
            if hit is None or (hit[0] != version and (slow or not slow_only)):
                hit = memo[name] = (version, orjson.dumps(make()))
            elif hit[0] != version:
                feed.dirty = True       # held back: a later tick sends it, even if nothing else moves
            parts[name.partition(":")[0]] = hit[1]
        parts["window"] = orjson.dumps(None if comp is None else {"open": comp.in_window(), "finished": comp.finished})
        return parts

    def build(self, focus: dict) -> str:
        """Every section as one JSON text (a page's first message)."""
        return self.publisher.whole(focus)


#: what a page may send on its websocket: the focus (see the module docstring)
FOCUS_KEYS = ("symbol", "account", "pace")


def focus_refusal(text: str) -> Optional[str]:
    """None when ``text`` is a focus message (a JSON object of ``FOCUS_KEYS`` only, ``pace``
    "slow" when present), else the Binance-style error the page gets back: an unknown field
    is an error, never ignored, and a refused message changes nothing."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        code, msg = E.Request.MANDATORY_PARAM.reason("focus")
        return orjson.dumps({"type": "error", "code": code, "msg": msg}).decode()
    if not isinstance(data, dict):
        code, msg = E.Request.MANDATORY_PARAM.reason("focus")
    elif any(k not in FOCUS_KEYS for k in data):
        unknown = ", ".join(f"'{k}'" for k in data if k not in FOCUS_KEYS)
        code, msg = E.Request.UNKNOWN_PARAM_KNOWN.reason(unknown, ", ".join(f"'{k}'" for k in FOCUS_KEYS))
    elif "pace" in data and data["pace"] != "slow":
        code, msg = E.Request.INVALID_PARAMETER.reason("pace")
    else:
        return None
    return orjson.dumps({"type": "error", "code": code, "msg": msg}).decode()


def add_routes(app: web.Application, gw) -> None:
    from exchange.gateway.answers import guarded
    live = LiveDashboard(gw)
    gw.dashboard_live = live
    add_static_routes(app, "live")

    def token_ok(request: web.Request) -> bool:
        tok = gw.admin_token
        return not tok or hmac.compare_digest(request.headers.get("X-PAPEREX-TOKEN", "").encode(), tok.encode())

    async def info(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({
            "mode": "live", "symbols": sorted(gw.formats), "tokenRequired": bool(gw.admin_token),
            "tokenValid": token_ok(request), "clock": "virtual" if gw.clock.virtual else "wall",
            "scenarios": list(SCENARIOS), "accounts": accounts_list(gw.venue, gw.keys.label),
            "competition": gw.leaderboard.standings()["competition"]}), content_type="application/json")

    async def account(request: web.Request) -> web.Response:
        if not token_ok(request):
            raise errors.Processing.INVALID_ADMIN_TOKEN()
        raw = request.query.get("accountId", "")
        if not raw.isdigit():
            raise errors.Request.MANDATORY_PARAM("accountId")
        view = account_view(gw.venue, gw.projection, gw.leaderboard, live.feed, gw.formats, int(raw))
        if view is None:
            raise errors.Request.BAD_ACCOUNT()
        return web.Response(body=orjson.dumps(view), content_type="application/json")

    async def ws(request: web.Request) -> web.StreamResponse:
        sock = web.WebSocketResponse(heartbeat=30.0)
        await sock.prepare(request)
        live.feed.open_ladders()
        live.publisher.clients[sock] = {}
        live.publisher.start()
        live.feed.dirty = True
        try:
            await sock.send_str(live.build({}))
            async for msg in sock:
                if msg.type == web.WSMsgType.TEXT:
                    refusal = focus_refusal(msg.data)
                    if refusal is not None:     # answered, and the page keeps its focus
                        await sock.send_str(refusal)
                        continue
                    focus = orjson.loads(msg.data)
                    live.publisher.clients[sock] = focus
                    await sock.send_str(live.build(focus))
        finally:
            live.publisher.clients.pop(sock, None)
            if not live.publisher.clients:
                live.feed.close_ladders()
        return sock

    app.router.add_get("/paperex/v1/dashboard/info", guarded(info))
    app.router.add_get("/paperex/v1/dashboard/account", guarded(account))
    app.router.add_get("/paperex/v1/dashboard/ws", ws)

    async def on_cleanup(app: web.Application) -> None:
        await live.publisher.stop()
    app.on_shutdown.append(on_cleanup)


__all__ = ["install", "restored", "add_routes", "add_static_routes", "LiveDashboard"]
