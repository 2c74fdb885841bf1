"""``paperex view DIR``: a finished run's journal, read-only, in the dashboard page.

The page's time slider asks ``GET /paperex/v1/dashboard/at?time=T``; the answer
is the state at T built by the same machinery as ``paperex replay --until-time T``
(``engine.replay.replay`` re-executing the journal on a fresh venue), with the
projections the live page reads (``Projection``, ``Leaderboard``,
``DashboardFeed``) fed by that replay - plus the state digest, which equals the
one ``replay --until-time T`` prints.  Moving forward continues the replay;
moving back starts it over.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import orjson
from aiohttp import web

from exchange.contract.venue_config import instruments_from_config
from exchange.engine.leaderboard import Leaderboard
from exchange.engine.replay import new_venue, replay
from exchange.journal import JournalReader, is_command
from exchange.gateway.dashboard import add_static_routes
from exchange.gateway.dashboard.feed import DashboardFeed
from exchange.gateway.dashboard.views import (
    account_view, accounts_list, chart_view, insurance_view, leaderboard_view, liquidations_view, market_view,
)
from exchange.gateway.errors import Request
from exchange.gateway.format import SymbolFormat
from exchange.gateway.projection import Projection


class ViewRun:
    def __init__(self, journal_dir: "str | Path") -> None:
        self.journal = Path(journal_dir)
        reader = JournalReader(self.journal)
        self.instruments = instruments_from_config(reader.config)
        self.formats = {s: SymbolFormat(i) for s, i in sorted(self.instruments.items())}
        self.first_ts: Optional[int] = None
        self.last_ts: Optional[int] = None
        self.last_seq = 0
        for rec in reader.records(events=False):
            if is_command(rec.kind):
                if self.first_ts is None:
                    self.first_ts = rec.ts
                self.last_ts = rec.ts
                self.last_seq = rec.seq
        self._reset()

    def _reset(self) -> None:
        self.venue = new_venue(self.instruments)
        self.proj = Projection(self.instruments)
        self.board = Leaderboard.for_instruments(self.instruments)
        self.feed = DashboardFeed(self.proj, sorted(self.instruments))
        self.seq = 0
        self.time: Optional[int] = None

    def _on_command(self, seq: int, ts: int, command, events: list) -> None:
        # the replay re-executed this command just now: its books' change logs are what it
        # changed (what the sequencer hands a live projection as ``book``)
        book = None
        for sym in self.instruments:
            ch = self.venue.book(sym).changed_levels()
            if ch:
                if book is None:
                    book = {}
                book[sym] = ch
        self.proj.on_executed(seq, ts, command, events, book)
        self.board.on_executed(seq, ts, command, events, book)

    def at(self, t: int) -> None:
        """Bring the venue and the projections to the state at time ``t`` (every command
        with ts <= t applied), as ``replay --until-time t``."""
        if self.time is not None and t < self.time:
            self._reset()
        res = replay(self.journal, until_time=t, venue=self.venue, after_seq=self.seq,
                     on_command=self._on_command)
        self.seq = res.last_seq
        self.time = t

    def snapshot(self, symbol: Optional[str], account: Optional[int]) -> dict:
        sym = symbol if symbol in self.formats else next(iter(self.formats))
        acct = account_view(self.venue, self.proj, self.board, self.feed, self.formats, account) \
            if account is not None else None
        return {
            "type": "update", "mode": "view", "time": self.time, "seq": self.seq,
            "stateDigest": self.venue.state_digest(),
            "run": {"lastSeq": self.seq, "time": self.time, "clock": "journal", "speed": None,
                    "commandsPerSecond": None, "journalBytes": sum(p.stat().st_size for p in self.journal.glob("*")
                                                                   if p.is_file()),
                    "wsClients": 0, "dashboardClients": None, "failed": None},
            "flow": {"kind": "journal", "paused": None, "scenario": None},
            "market": market_view(self.proj, self.feed, self.formats, sym),
            "chart": chart_view(self.feed, self.formats, sym),
            "liquidations": liquidations_view(self.feed, self.formats),
            "insurance": insurance_view(self.feed), "leaderboard": leaderboard_view(self.board),
            "accounts": accounts_list(self.venue), "account": acct, "window": None,
        }


def make_view_app(journal_dir: "str | Path") -> web.Application:
    run = ViewRun(journal_dir)
    lock = asyncio.Lock()
    app = web.Application()
    add_static_routes(app, "view")
    from exchange.gateway.answers import guarded

    async def info(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps({
            "mode": "view", "journal": str(run.journal), "symbols": sorted(run.formats),
            "firstTime": run.first_ts, "lastTime": run.last_ts, "lastSeq": run.last_seq,
            "tokenRequired": False, "tokenValid": False, "scenarios": [], "accounts": []}),
            content_type="application/json")

    async def at(request: web.Request) -> web.Response:
        q = request.query
        raw = q.get("time", "")
        if not raw.isdigit():
            raise Request.MANDATORY_PARAM("time")
        acct = q.get("accountId")
        if acct is not None and not acct.isdigit():
            raise Request.INVALID_PARAMETER("accountId")
        async with lock:        # one replay at a time; the page asks again after a drag
            run.at(int(raw))
            body = run.snapshot(q.get("symbol"), int(acct) if acct else None)
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    app.router.add_get("/paperex/v1/dashboard/info", guarded(info))
    app.router.add_get("/paperex/v1/dashboard/at", guarded(at))
    return app


async def serve_view(journal_dir: "str | Path", host: str, port: int, stop: asyncio.Event) -> web.AppRunner:
    app = make_view_app(journal_dir)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner


__all__ = ["ViewRun", "make_view_app", "serve_view"]
