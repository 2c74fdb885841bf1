"""Competition mode of ``paperex serve --competition FILE``: teams, a trading window, a ranking.

* ``open_competition`` creates one account per team (CreateAccount, Deposit of the
  starting balance, SetLeverage down to the maximum where the default is higher),
  writes the teams' API keys (HMAC: key + secret; Ed25519 / RSA: key + private key,
  the exchange keeps the public one) to the organiser's file (never over an existing one)
  and journals the rules (OpenCompetition) - or, on a restart whose journal
  already holds them, picks the competition up again.
* ``CompetitionGuard.check`` runs in ``Gateway.submit`` before a command reaches the
  sequencer: a team's order (new or modified) outside the window answers -4108,
  on a symbol outside the competition -1121, a leverage above the maximum -4028.
  Cancels stay allowed (a team may always take its orders down).
* ``CompetitionGuard.run_window_end`` waits for the window's end, cancels the teams'
  open orders (conditional ones too: nothing of theirs trades after it), closes their positions by reduce-only market orders if the rules say ``close``
  (``mark``: they are valued at the mark price), and journals the final standings
  (RecordStandings) from the leaderboard projection.
* ``GET /paperex/v1/leaderboard``: the live (or final) standings; without a
  competition every account is ranked the same way.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Optional

import orjson
from aiohttp import web

from exchange.contract import codes as C
from exchange.contract.commands import (
    CancelAllOrders, CreateAccount, Deposit, ModifyOrder, NewOrder, OpenCompetition, RecordStandings, SetLeverage,
)
from exchange.contract.competition import Competition, Team
from exchange.contract.events import CommandRejected
from exchange.gateway import errors
from exchange.gateway.background import BackgroundTask
from exchange.gateway.common import wall_ms

log = logging.getLogger("paperex.competition")

KEYS_FORMAT = "paperex-competition-keys/1"


class CompetitionGuard:
    def __init__(self, gw, competition: Competition) -> None:
        self.gw = gw
        self.competition = competition
        self.teams = {t.account_id: t for t in competition.teams}
        self.symbols = frozenset(competition.symbols)
        self.finished = gw.leaderboard.final is not None
        self._window_end = BackgroundTask(self.run_window_end, "paperex-competition")

    def in_window(self) -> bool:
        return not self.finished and self.competition.in_window(self.gw.clock.now_ms(), wall_ms())

    def check(self, command) -> None:
        """Raise the Binance error for a team's command the competition's rules refuse."""
        t = type(command)
        if t is NewOrder or t is ModifyOrder:
            if command.account_id not in self.teams:
                return
            if command.symbol not in self.symbols:
                raise errors.invalid_symbol()
            if not self.in_window():
                raise errors.Orders41.SYMBOL_ON_DELIVERING()
        elif t is SetLeverage and command.account_id in self.teams:
            if command.leverage > self.competition.max_leverage:
                raise errors.invalid_leverage(command.leverage)

    # ------------------------------------------------------------- window end
    def start(self) -> None:
        if not self.finished:
            self._window_end.start()

    async def stop(self) -> None:
        await self._window_end.stop()

    def _now(self) -> int:
        return self.gw.clock.now_ms() if self.competition.window_clock == "venue" else wall_ms()

    async def run_window_end(self) -> None:
        comp = self.competition
        while self._now() < comp.end_ms:
            # the venue clock may be virtual (moved by a flow or the control API): poll it
            await asyncio.sleep(min(0.2, max(0.01, (comp.end_ms - self._now()) / 1000)))
        await self.finish()

    async def finish(self) -> None:
        """Close (if the rules say so) and journal the final standings; once."""
        if self.finished:
            return
        self.finished = True
        seq = self.gw.sequencer
        for aid in sorted(self.teams):      # nothing of a team's may trade after the window
            for sym in self.competition.symbols:
                await seq.submit(CancelAllOrders(aid, sym))
        if self.competition.at_end == "close":
            for aid in sorted(self.teams):
                for p in self.gw.venue.position_risk(aid):
                    if p["qty"]:
                        side = C.SELL if p["qty"] > 0 else C.BUY
                        await seq.submit(NewOrder(aid, p["symbol"], side, C.MARKET, C.GTC, abs(p["qty"]),
                                                  reduce_only=1 if p["position_side"] == C.BOTH else 0,
                                                  position_side=p["position_side"],
                                                  client_order_id="competition_close"))
        board = self.gw.leaderboard.standings()
        await seq.submit(RecordStandings(json.dumps({"standings": board["standings"]}, sort_keys=True,
                                                    separators=(",", ":"))))
        log.warning("competition %r finished at seq %d", self.competition.name, seq.seq)


async def open_competition(gw, competition: Competition, keys_path: Optional[Path]) -> CompetitionGuard:
    """Create the teams' accounts and journal the rules; resume a journaled competition."""
    board = gw.leaderboard
    if board.competition is not None:
        if board.competition.name != competition.name:
            raise ValueError(f"this data directory holds competition {board.competition.name!r}, "
                             f"not {competition.name!r}: use another --data-dir")
        guard = CompetitionGuard(gw, board.competition)
        gw.competition = guard
        return guard
    if keys_path is not None and keys_path.exists():
        raise ValueError(f"{keys_path}: the team keys file exists already; move it away (it is never "
                         f"overwritten)")
    teams = []
    rows = []
    for t in competition.teams:
        aid = gw.next_account_id()
        res = await gw.submit(CreateAccount(aid))
        _ok(res, f"create the account of team {t.name!r}")
        row = {"team": t.name, "accountId": aid, "keyAlgorithm": t.key_algorithm}
        if t.key_algorithm == "HMAC_SHA256":
            rec = gw.keys.create(aid, f"team:{t.name}")
            row.update(apiKey=rec.api_key, secretKey=rec.secret)
        else:       # the exchange keeps the public half; the team gets the private key
            from exchange.gateway.keytypes import generate_key_pair
            private, public = generate_key_pair(t.key_algorithm)
            rec = gw.keys.add_public(aid, public, t.key_algorithm, f"team:{t.name}")
            row.update(apiKey=rec.api_key, privateKey=private)
        _ok(await gw.submit(Deposit(aid, competition.starting_balance)), f"fund team {t.name!r}")
        for sym in competition.symbols:
            if gw.venue.symbols[sym].spec.default_leverage > competition.max_leverage:
                _ok(await gw.submit(SetLeverage(aid, sym, competition.max_leverage)),
                    f"set the leverage of team {t.name!r}")
        teams.append(Team(t.name, aid, t.key_algorithm))
        rows.append(row)
    comp = Competition(competition.name, competition.starting_balance, competition.start_ms, competition.end_ms,
                       competition.window_clock, competition.symbols, competition.max_leverage,
                       competition.at_end, tuple(teams), competition.scenario, competition.seed,
                       competition.keys_file)
    _ok(await gw.submit(OpenCompetition(comp.definition())), "journal the competition")
    if keys_path is not None:
        _write_new(keys_path, {"format": KEYS_FORMAT, "competition": comp.name, "teams": rows})
    guard = CompetitionGuard(gw, comp)
    gw.competition = guard
    return guard


def _ok(res, what: str) -> None:
    for ev in res.events:
        if type(ev) is CommandRejected:
            raise RuntimeError(f"cannot {what}: {ev.msg}")


def _write_new(path: Path, data: dict) -> None:
    """Write ``path`` only if it does not exist (O_EXCL: no race with another writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")


def add_routes(app: web.Application, gw) -> None:
    from exchange.gateway.answers import guarded

    async def leaderboard(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(gw.leaderboard.standings()), content_type="application/json")

    app.router.add_get("/paperex/v1/leaderboard", guarded(leaderboard))


__all__ = ["CompetitionGuard", "open_competition", "add_routes"]
