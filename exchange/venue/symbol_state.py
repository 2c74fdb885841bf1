"""The venue's state of one symbol: its spec, book, prices, funding, open positions,
liquidation index and trigger index (the parts are owned by market.py,
liquidation.py and conditional.py; this module only lays them out)."""
from __future__ import annotations

from collections import deque

from sortedcontainers import SortedList

from matching import Book

from exchange.contract.codes import CONTRACT_PRICE, MARK_PRICE
from exchange.venue.liqindex import LiqIndex
from exchange.venue.spec import SymbolSpec

FUNDING_HISTORY = 1000        # settled rows kept per symbol for GET /fapi/v1/fundingRate
# trigger directions of conditional orders
UP = 0
DOWN = 1


def new_trigger_index() -> dict:
    return {(w, d): SortedList() for w in (CONTRACT_PRICE, MARK_PRICE) for d in (UP, DOWN)}


def new_funding_history() -> deque:
    return deque(maxlen=FUNDING_HISTORY)


class SymbolState:
    __slots__ = ("symbol", "spec", "book", "index", "mark", "next_trade_id",
                 # mark rule, premium index, funding (market.py)
                 "last_price", "mark_pinned", "mark_rule", "basis", "premium_sum", "premium_count",
                 "last_premium", "funding_rate", "last_funding_rate", "last_funding_time", "funding_history",
                 # open positions: account_id * 4 + position_side -> Position
                 "positions",
                 # liquidation index (liquidation.py): LiqIndex (sorted multisets) of (key, account_id, group)
                 "liq_falls", "liq_rises",
                 # conditional orders (conditional.py)
                 "triggers", "trailing",
                 # how many conditional orders wait in triggers + trailing: the price-move path
                 # skips the (interpreted) trigger pass of a symbol with none
                 "waiting",
                 # (symbol, position side) for sides 0, 1, 2: the one tuple the order path uses
                 # as the key of new orders' slots (dict lookups then find the stored key by identity)
                 "slot_keys",
                 # (mark, cap, floor): the PERCENT_PRICE band at the last mark a LIMIT order or a
                 # modify was checked against (venue.percent_band; derived, not snapshotted)
                 "percent_band")

    def __init__(self, spec: SymbolSpec, book_factory=Book) -> None:
        self.symbol = spec.symbol
        self.spec = spec
        self.book = book_factory()
        self.index = 0
        self.mark = 0
        self.next_trade_id = 1
        self.last_price = 0
        self.mark_pinned = 0
        self.mark_rule = 0
        self.basis: deque = deque(maxlen=spec.basis_window)
        self.premium_sum = 0
        self.premium_count = 0
        self.last_premium = 0
        # before any sample the estimate is the interest rate (clamped by cap/floor)
        self.funding_rate = max(spec.funding_floor, min(spec.funding_cap, spec.interest_rate))
        self.last_funding_rate = 0
        self.last_funding_time = 0
        self.funding_history = new_funding_history()
        self.positions: dict = {}
        self.liq_falls = LiqIndex()
        self.liq_rises = LiqIndex()
        self.triggers = new_trigger_index()
        self.trailing: dict = {}
        self.waiting = 0
        self.slot_keys = ((spec.symbol, 0), (spec.symbol, 1), (spec.symbol, 2))
        self.percent_band = (0, 0, 0)
