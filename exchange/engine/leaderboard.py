"""The leaderboard: a projection of committed results (``sequencer.subscribe``).

It learns everything from commands and events - balances (BalanceChanged),
positions (PositionChanged), mark prices (MarkPriceChanged), fills, liquidation
orders, the competition's rules (OpenCompetition) - never from the venue, so
feeding it the journal (``replay(..., on_command=board.on_executed)``) gives the
same standings as the live server had.

Per account: equity = wallet balance + unrealized PnL at the last mark price;
return = (equity - base) / base, where base is the competition's starting
balance (or, outside a competition, the account's net deposits); max drawdown =
the largest fall of equity from its running peak, as a fraction of that peak
(sampled at every change of the account's wallet or position and every mark
change of a symbol it holds); liquidations; trades (fills); volume (fill
notional); fees.

Ranking: return (higher first), then equity, then max drawdown (smaller first),
then fees (smaller first), then the team name / account id - so two runs of
the same journal always order ties the same way.
"""
from __future__ import annotations

import json
from fractions import Fraction
from typing import Any, Optional

from exchange.contract import codes as C
from exchange.contract.commands import OpenCompetition, RecordStandings
from exchange.contract.competition import Competition
from exchange.contract.events import (
    BalanceChanged, MarkPriceChanged, OrderAccepted, OrderFilled, PositionChanged, PositionClosedOut,
)
from exchange.perp.position import unrealized_pnl
from exchange.units import MONEY_SCALE

_TRANSFERS = (C.R_DEPOSIT, C.R_WITHDRAW)
_RELEVANT = frozenset((OrderFilled, BalanceChanged, PositionChanged, MarkPriceChanged, OrderAccepted,
                       PositionClosedOut))


class AccountStats:
    __slots__ = ("account_id", "wallet", "positions", "base", "peak", "dd_num", "dd_den", "liquidations",
                 "trades", "volume", "fees", "last_liq_seq")

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.wallet = 0
        self.positions: dict[tuple[str, int], tuple[int, int]] = {}   # (symbol, side) -> (qty, entry)
        self.base = 0                  # net deposits (money units)
        self.peak = 0
        # max drawdown = dd_num / dd_den (a fall from the peak over that peak), kept as two ints:
        # compared by cross-multiplication on the hot path, a Fraction only when shown
        self.dd_num = 0
        self.dd_den = 1
        self.liquidations = 0
        self.trades = 0
        self.volume = 0
        self.fees = 0
        self.last_liq_seq = 0


class Leaderboard:
    """``on_executed(seq, ts, command, events)`` is the sequencer subscriber."""

    def __init__(self, notional_units: dict[str, int]) -> None:
        self.units = dict(notional_units)
        self.marks: dict[str, int] = {}
        self.accounts: dict[int, AccountStats] = {}
        self.holders: dict[str, set] = {}          # symbol -> AccountStats with a position in it
        self.competition: Optional[Competition] = None
        self.final: Optional[list] = None          # standings journaled by RecordStandings
        self.final_seq = 0
        self.last_seq = 0
        self.last_ts = 0

    @classmethod
    def for_instruments(cls, instruments: dict) -> "Leaderboard":
        return cls({s: i.notional_unit for s, i in instruments.items()})

    # ------------------------------------------------------------- feeding
    def on_executed(self, seq: int, ts: int, command: Any, events: list, book: Optional[dict] = None) -> None:
        self.last_seq = seq
        self.last_ts = ts
        tc = type(command)
        if tc is OpenCompetition:
            self.competition = Competition.from_definition(command.definition)
            return
        if tc is RecordStandings:
            self.final = json.loads(command.standings)["standings"]
            self.final_seq = seq
            return
        accounts = self.accounts
        dirty: Optional[set] = None
        for ev in events:
            t = type(ev)
            if t not in _RELEVANT:      # most events (order amends, income rows) change no ranking
                continue
            if t is OrderFilled:
                a = accounts.get(ev.account_id) or self._acct(ev.account_id)
                a.trades += 1
                a.volume += ev.price * ev.qty * self.units[ev.symbol]
                a.fees += ev.fee
            elif t is BalanceChanged:
                a = accounts.get(ev.account_id) or self._acct(ev.account_id)
                a.wallet = ev.wallet_balance
                if ev.reason in _TRANSFERS:
                    # money moved in or out is neither gain nor loss: base and peak move with it
                    a.base += ev.balance_change
                    a.peak += ev.balance_change
                if dirty is None:
                    dirty = {a}
                else:
                    dirty.add(a)
            elif t is PositionChanged:
                a = accounts.get(ev.account_id) or self._acct(ev.account_id)
                key = (ev.symbol, ev.position_side)
                if ev.qty:
                    a.positions[key] = (ev.qty, ev.entry_notional)
                    h = self.holders.get(ev.symbol)
                    if h is None:
                        h = self.holders[ev.symbol] = set()
                    h.add(a)
                else:
                    a.positions.pop(key, None)
                    if not any(k[0] == ev.symbol for k in a.positions):
                        h = self.holders.get(ev.symbol)
                        if h is not None:
                            h.discard(a)
                if dirty is None:
                    dirty = {a}
                else:
                    dirty.add(a)
            elif t is MarkPriceChanged:
                self.marks[ev.symbol] = ev.price
                held = self.holders.get(ev.symbol)
                if held:
                    if dirty is None:
                        dirty = set(held)
                    else:
                        dirty.update(held)
            elif (t is OrderAccepted and ev.order_type == C.LIQUIDATION) or \
                    (t is PositionClosedOut and ev.kind == C.CLOSE_TAKEOVER):
                a = accounts.get(ev.account_id) or self._acct(ev.account_id)
                if a.last_liq_seq != seq:       # one liquidation per account per command
                    a.last_liq_seq = seq
                    a.liquidations += 1
        if dirty:
            sample = self._sample
            for a in dirty:
                sample(a)

    def _acct(self, aid: int) -> AccountStats:
        a = self.accounts.get(aid)
        if a is None:
            a = self.accounts[aid] = AccountStats(aid)
        return a

    def equity(self, a: AccountStats) -> int:
        eq = a.wallet
        for (sym, _side), (qty, entry) in a.positions.items():
            mark = self.marks.get(sym)
            if mark:
                eq += unrealized_pnl(qty, entry, mark, self.units[sym])
        return eq

    def _sample(self, a: AccountStats) -> None:
        eq = self.equity(a) if a.positions else a.wallet
        peak = a.peak
        if eq > peak:
            a.peak = eq
        elif peak > 0 and (peak - eq) * a.dd_den > a.dd_num * peak:
            a.dd_num = peak - eq
            a.dd_den = peak

    def rebuild(self, journal_dir) -> int:
        """Feed the journal's committed results through the board (before serving)."""
        from exchange.engine.replay import committed_results
        n = 0
        for seq, ts, cmd, events in committed_results(journal_dir):
            self.on_executed(seq, ts, cmd, events)
            n += 1
        return n

    # ------------------------------------------------------------- answers
    def standings(self) -> dict:
        """The ranking now: ``{"competition", "final", "seq", "time", "standings": [row...]}``."""
        comp = self.competition
        if comp is not None:
            entrants = [(t.name, self._acct(t.account_id)) for t in comp.teams]
        else:
            entrants = [("", a) for _, a in sorted(self.accounts.items())]
        rows = []
        for name, a in entrants:
            eq = self.equity(a)
            base = comp.starting_balance if comp is not None else a.base
            ret = Fraction(eq - base, base) if base > 0 else Fraction(0)
            rows.append((-ret, -eq, Fraction(a.dd_num, a.dd_den), a.fees, name, a.account_id, eq, ret, base, a))
        rows.sort(key=lambda r: r[:6])
        out = []
        for rank, (_, _, dd, fees, name, aid, eq, ret, base, a) in enumerate(rows, 1):
            out.append({
                "rank": rank, "team": name or None, "accountId": aid,
                "equity": _money(eq), "walletBalance": _money(a.wallet), "startingBalance": _money(base),
                "return": _pct(ret), "maxDrawdown": _pct(dd), "liquidations": a.liquidations,
                "trades": a.trades, "volume": _money(a.volume), "fees": _money(fees),
                "openPositions": len(a.positions),
            })
        return {
            "competition": None if comp is None else {
                "name": comp.name, "startTime": comp.start_ms, "endTime": comp.end_ms,
                "windowClock": comp.window_clock, "symbols": list(comp.symbols),
                "maxLeverage": comp.max_leverage, "atEnd": comp.at_end},
            "final": self.final is not None, "seq": self.last_seq, "time": self.last_ts,
            "standings": self.final if self.final is not None else out,
        }


def _money(units: int) -> str:
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(units), MONEY_SCALE)
    return f"{sign}{q}.{r:08d}"


def _pct(x: Fraction) -> str:
    """A fraction as a percentage string with 4 decimals, rounded toward zero
    (``Fraction(1, 8)`` -> ``"12.5000"``)."""
    scaled = x * 100 * 10_000
    n = int(scaled)         # toward zero
    sign = "-" if n < 0 else ""
    q, r = divmod(abs(n), 10_000)
    return f"{sign}{q}.{r:04d}"


__all__ = ["Leaderboard", "AccountStats"]
