"""The leaderboard as a companion of the gateway's projection checkpoints.

``Leaderboard`` (engine/leaderboard.py) learns only from committed results; on a
restart the gateway restores it from the projection checkpoint (this module's
``checkpoint_state`` / ``restore_checkpoint``) and feeds it the journal after it
together with the projection (``Projection.rebuild``), instead of reading the
whole journal again.  The ``holders`` index is derived from the positions.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from exchange.contract.competition import Competition
from exchange.engine.leaderboard import AccountStats, Leaderboard

_STATS = ("wallet", "base", "peak", "dd_num", "dd_den", "liquidations", "trades", "volume", "fees", "last_liq_seq")


class LeaderboardCompanion:
    """``board`` seen as a projection companion (``Projection.companions``)."""

    def __init__(self, board: Leaderboard) -> None:
        self.board = board

    def on_executed(self, seq: int, ts: int, command: Any, events: list, book: Optional[dict] = None) -> None:
        self.board.on_executed(seq, ts, command, events)

    def checkpoint_state(self) -> dict:
        b = self.board
        return {
            "marks": sorted(b.marks.items()),
            "accounts": [[aid, [getattr(a, k) for k in _STATS],
                          [[sym, side, q, e] for (sym, side), (q, e) in a.positions.items()]]
                         for aid, a in sorted(b.accounts.items())],
            "competition": None if b.competition is None else b.competition.definition(),
            "final": b.final, "final_seq": b.final_seq, "last_seq": b.last_seq, "last_ts": b.last_ts,
        }

    def restore_checkpoint(self, st: dict) -> Callable[[], None]:
        b = self.board
        marks = {s: int(p) for s, p in st["marks"]}
        accounts: dict[int, AccountStats] = {}
        holders: dict[str, set] = {}
        for aid, values, positions in st["accounts"]:
            a = AccountStats(int(aid))
            if len(values) != len(_STATS):
                raise ValueError("leaderboard account of another layout")
            for k, v in zip(_STATS, values):
                setattr(a, k, int(v))
            for sym, side, q, e in positions:
                if sym not in b.units:
                    raise ValueError(f"leaderboard position in unknown symbol {sym!r}")
                a.positions[(sym, side)] = (q, e)
                holders.setdefault(sym, set()).add(a)
            accounts[a.account_id] = a
        comp = None if st["competition"] is None else Competition.from_definition(st["competition"])
        final = st["final"]

        def apply() -> None:
            b.marks, b.accounts, b.holders, b.competition = marks, accounts, holders, comp
            b.final, b.final_seq = final, int(st["final_seq"])
            b.last_seq, b.last_ts = int(st["last_seq"]), int(st["last_ts"])
        return apply


__all__ = ["LeaderboardCompanion"]
