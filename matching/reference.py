"""The reference limit order book: pure Python on sortedcontainers.

This is the readable specification of the matching rules.  The Cython book in
``matching/_book.pyx`` must produce exactly the same reports and depth for any
sequence of operations; ``tests/matching/test_differential.py`` checks that.

Rules
-----
* Price-time priority.  Levels are kept per side in a SortedList of keys
  (``price`` for asks, ``-price`` for bids, so index 0 is the best on both
  sides, also cached in ``_best``); each level holds its resting quantity and
  an OrderedDict order_id -> order, oldest first.
* A submit is validated (side, kind, STP mode, quantity > 0, limit price > 0,
  all within 64 bits, order id not resting, its level's resting quantity
  stays within 64 bits: ``matching.limits``), then ACCEPTED, then:
  - GTX: if it would take liquidity it EXPIRES (reason GTX) without trading,
    otherwise it rests.
  - FOK: if the quantity it could fill now (see STP below) is short of its
    quantity it EXPIRES (reason FOK) without trading or expiring any maker.
  - otherwise it matches level by level, oldest maker first, while the
    opposite best price crosses its limit (market orders: any price).  The
    remainder of GTC rests; of IOC expires (IOC); of MARKET expires
    (NO_LIQUIDITY).
* Self-trade prevention: when the maker at the head of the queue has the
  taker's owner and the taker's mode is not NONE:
  - EXPIRE_TAKER: the taker's remainder expires (STP_TAKER), the maker stays;
  - EXPIRE_MAKER: the maker expires (STP_MAKER) and matching goes on;
  - EXPIRE_BOTH: the maker expires (STP_MAKER), then the taker (STP_TAKER).
  For the FOK check, EXPIRE_MAKER skips own makers and the other two modes
  stop counting at the first own maker.
* Cancel by id.  Modify sets a new price and total quantity: a total not
  above the filled quantity cancels the order (MODIFY_FILLED); the same price
  with a total not above the old one keeps the queue position; anything else
  takes the order out and enters it again as a taker with its own kind and
  STP mode (a post-only order that would now take expires, reason GTX).
* ``changed_levels()`` returns the (side, price, resting qty) of every level
  touched since the previous call, sorted by side then price; qty 0 means the
  level is gone.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional

from sortedcontainers import SortedList

from matching.constants import (
    ACCEPTED, BUY, CANCELED, EXPIRED, FILL, FOK, GTC, GTX, IOC, MARKET,
    MODIFIED, OP_CANCEL, OP_MODIFY, OP_SUBMIT, OP_WIDTH, REASON_BAD_PARAM,
    REASON_BAD_PRICE, REASON_BAD_QUANTITY, REASON_DUPLICATE_ID, REASON_FOK,
    REASON_GTX, REASON_IOC, REASON_MODIFY_FILLED, REASON_NO_LIQUIDITY,
    REASON_STP_MAKER, REASON_STP_TAKER, REASON_UNKNOWN_ORDER, REASON_USER,
    REJECTED, REPORT_WIDTH, RESTED, SELL, STP_EXPIRE_BOTH, STP_EXPIRE_MAKER,
    STP_EXPIRE_TAKER, STP_NONE,
)

from matching.limits import INT64_MAX, level_overflows, submit_refusal

# order record fields (a list, so fills update it in place)
_ID, _OWNER, _SIDE, _PRICE, _QTY, _FILLED, _KIND, _STP = range(8)


class _Level:
    __slots__ = ("qty", "orders")

    def __init__(self) -> None:
        self.qty = 0
        self.orders: OrderedDict = OrderedDict()


class _ReportingSet(set):
    """A side's change set once the book reports its changes (``report_changes_to``): its
    first price after a drain appends ``key`` to ``touched``, once for both sides.  Only a
    book that reports pays for it: the others keep plain sets."""
    __slots__ = ("touched", "key", "told")

    def __init__(self, prices: set, touched: list, key: object, told: list) -> None:
        super().__init__(prices)
        self.touched, self.key, self.told = touched, key, told

    def add(self, price: int) -> None:
        if not self.told[0]:
            self.told[0] = True
            self.touched.append(self.key)
        set.add(self, price)

    def clear(self) -> None:
        self.told[0] = False
        set.clear(self)


class ReferenceBook:
    """One symbol's book.  See the module docstring for the rules."""

    def __init__(self) -> None:
        self._orders: dict[int, list] = {}
        # per side: SortedList of keys, the best key (or None), dict price -> _Level
        self._keys = (SortedList(), SortedList())
        self._best: list = [None, None]
        self._levels: tuple[dict, dict] = ({}, {})
        self._changed: tuple[set, set] = (set(), set())

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._orders)

    def best_bid(self) -> Optional[int]:
        key = self._best[BUY]
        return None if key is None else -key

    def best_ask(self) -> Optional[int]:
        return self._best[SELL]

    def depth(self, side: int, n: int) -> list[tuple[int, int]]:
        """Top ``n`` levels of a side, best first, as (price, resting qty)."""
        sign = -1 if side == BUY else 1
        levels = self._levels[side]
        return [(sign * key, levels[sign * key].qty) for key in self._keys[side].islice(0, max(n, 0))]

    def level_orders(self, side: int, price: int) -> list[tuple[int, int, int]]:
        """The orders resting at one level, oldest first, as (id, owner, remaining)."""
        level = self._levels[side].get(price)
        if level is None:
            return []
        return [(o[_ID], o[_OWNER], o[_QTY] - o[_FILLED]) for o in level.orders.values()]

    def order(self, order_id: int) -> Optional[tuple[int, int, int, int, int, int, int]]:
        """(side, price, quantity, filled, owner, kind, stp) of a resting order, else None."""
        o = self._orders.get(order_id)
        if o is None:
            return None
        return (o[_SIDE], o[_PRICE], o[_QTY], o[_FILLED], o[_OWNER], o[_KIND], o[_STP])

    def report_changes_to(self, touched: list, key: object) -> None:
        """Append ``key`` to ``touched`` when this book logs its first changed level after
        each ``changed_levels()`` (at once if levels are already logged): whoever drains
        many books asks only the ones that changed."""
        pending = bool(self._changed[0] or self._changed[1])
        told = [pending]        # told since the last drain (shared by both sides' sets)
        self._changed = (_ReportingSet(self._changed[0], touched, key, told),
                         _ReportingSet(self._changed[1], touched, key, told))
        if pending:
            touched.append(key)

    def changed_levels(self) -> list[tuple[int, int, int]]:
        out = []
        for side in (BUY, SELL):
            levels = self._levels[side]
            for price in sorted(self._changed[side]):
                level = levels.get(price)
                out.append((side, price, 0 if level is None else level.qty))
            self._changed[side].clear()
        return out

    # --------------------------------------------------------------- operations
    def submit(self, order_id: int, owner: int, side: int, price: int, qty: int,
               kind: int = GTC, stp: int = STP_NONE) -> list[tuple]:
        reason = submit_refusal(order_id, owner, side, price, qty, kind, stp)
        if reason:
            return [(REJECTED, order_id, reason)]
        if kind == MARKET:
            price = 0
        if order_id in self._orders:
            return [(REJECTED, order_id, REASON_DUPLICATE_ID)]
        reports: list[tuple] = [(ACCEPTED, order_id)]
        self._enter([order_id, owner, side, price, qty, 0, kind, stp], reports)
        return reports

    def cancel(self, order_id: int) -> list[tuple]:
        order = self._orders.get(order_id)
        if order is None:
            return [(REJECTED, order_id, REASON_UNKNOWN_ORDER)]
        self._unlink(order)
        return [(CANCELED, order_id, order[_QTY] - order[_FILLED], REASON_USER)]

    def modify(self, order_id: int, price: int, qty: int) -> list[tuple]:
        order = self._orders.get(order_id)
        if order is None:
            return [(REJECTED, order_id, REASON_UNKNOWN_ORDER)]
        if not 0 < qty <= INT64_MAX:
            return [(REJECTED, order_id, REASON_BAD_QUANTITY)]
        if not 0 < price <= INT64_MAX:
            return [(REJECTED, order_id, REASON_BAD_PRICE)]
        filled = order[_FILLED]
        if qty <= filled:
            self._unlink(order)
            return [(CANCELED, order_id, order[_QTY] - filled, REASON_MODIFY_FILLED)]
        side = order[_SIDE]
        level = self._levels[side].get(price)
        if level is not None:
            others = level.qty - (order[_QTY] - filled if price == order[_PRICE] else 0)
            if level_overflows(others, qty - filled):
                return [(REJECTED, order_id, REASON_BAD_QUANTITY)]
        if price == order[_PRICE] and qty <= order[_QTY]:
            self._levels[side][price].qty -= order[_QTY] - qty
            self._changed[side].add(price)
            order[_QTY] = qty
            return [(MODIFIED, order_id, price, qty, qty - filled, 1)]
        self._unlink(order)
        order[_PRICE] = price
        order[_QTY] = qty
        reports: list[tuple] = [(MODIFIED, order_id, price, qty, qty - filled, 0)]
        self._enter(order, reports)
        return reports

    def execute_batch(self, ops) -> "array":
        """Run many operations; ``ops`` is a flat int64 sequence of OP_WIDTH words
        per operation.  Returns an ``array('q')`` of REPORT_WIDTH words per report."""
        from array import array
        out = array("q")
        n = len(ops) // OP_WIDTH
        for i in range(n):
            base = i * OP_WIDTH
            op = ops[base]
            if op == OP_SUBMIT:
                reports = self.submit(ops[base + 1], ops[base + 2], ops[base + 3], ops[base + 4],
                                      ops[base + 5], ops[base + 6], ops[base + 7])
            elif op == OP_CANCEL:
                reports = self.cancel(ops[base + 1])
            elif op == OP_MODIFY:
                reports = self.modify(ops[base + 1], ops[base + 4], ops[base + 5])
            else:
                reports = [(REJECTED, ops[base + 1], REASON_BAD_PARAM)]
            for r in reports:
                out.append(i)
                out.extend(r)
                out.extend([0] * (REPORT_WIDTH - 1 - len(r)))
        return out

    # ---------------------------------------------------------------- internals
    def _enter(self, order: list, reports: list) -> None:
        """Match an accepted (or re-priced) order as a taker, then rest or expire it."""
        side, price, kind = order[_SIDE], order[_PRICE], order[_KIND]
        best = self._best[1 - side]
        # asks are keyed by price, bids by -price
        crosses = best is not None and (
            kind == MARKET or (best <= price if side == BUY else -best >= price))
        if crosses:
            if kind == GTX:
                reports.append((EXPIRED, order[_ID], order[_QTY] - order[_FILLED], REASON_GTX))
                return
            if kind == FOK and self._fillable(order) < order[_QTY] - order[_FILLED]:
                reports.append((EXPIRED, order[_ID], order[_QTY] - order[_FILLED], REASON_FOK))
                return
            if self._match(order, reports):
                return  # self-trade prevention expired the taker
        remaining = order[_QTY] - order[_FILLED]
        if remaining == 0:
            return
        if kind == GTC or kind == GTX:
            # rest at the back of its level (inline: this is the hottest path)
            levels = self._levels[side]
            level = levels.get(price)
            if level is None:
                level = levels[price] = _Level()
                key = price if side == SELL else -price
                self._keys[side].add(key)
                best = self._best[side]
                if best is None or key < best:
                    self._best[side] = key
            elif level.qty + remaining > INT64_MAX:
                # the level's total would leave 64 bits (``limits.level_overflows`` written
                # out: the call per resting order cost the reference ~3 % of its submits).
                # Refused as if before anything happened, because nothing did: a level on
                # the order's own side at its price means it did not cross (modify checks
                # before it takes the order out of the book, so this is a submit's case)
                reports[:] = [(REJECTED, order[_ID], REASON_BAD_QUANTITY)]
                return
            level.orders[order[_ID]] = order
            level.qty += remaining
            self._orders[order[_ID]] = order
            self._changed[side].add(price)
            reports.append((RESTED, order[_ID], price, remaining))
        elif kind == MARKET:
            reports.append((EXPIRED, order[_ID], remaining, REASON_NO_LIQUIDITY))
        elif kind == IOC:
            reports.append((EXPIRED, order[_ID], remaining, REASON_IOC))
        else:  # FOK against an empty or non-crossing book
            reports.append((EXPIRED, order[_ID], remaining, REASON_FOK))

    def _fillable(self, order: list) -> int:
        side, price, owner, stp = order[_SIDE], order[_PRICE], order[_OWNER], order[_STP]
        opp = 1 - side
        need = order[_QTY] - order[_FILLED]
        levels = self._levels[opp]
        sign = 1 if opp == SELL else -1
        total = 0
        for key in self._keys[opp]:
            if order[_KIND] != MARKET and not (key <= price if side == BUY else -key >= price):
                break
            for maker in levels[sign * key].orders.values():
                if stp != STP_NONE and maker[_OWNER] == owner:
                    if stp == STP_EXPIRE_MAKER:
                        continue
                    return total
                total += maker[_QTY] - maker[_FILLED]
                if total >= need:
                    return total
        return total

    def _match(self, order: list, reports: list) -> bool:
        """Trade ``order`` against the opposite side.  True if STP expired the taker."""
        side, price, owner, stp = order[_SIDE], order[_PRICE], order[_OWNER], order[_STP]
        taker_id = order[_ID]
        is_market = order[_KIND] == MARKET
        opp = 1 - side
        keys = self._keys[opp]
        levels = self._levels[opp]
        orders = self._orders
        changed = self._changed[opp]
        sign = 1 if opp == SELL else -1
        remaining = order[_QTY] - order[_FILLED]
        while remaining and keys:
            key = keys[0]
            if not is_market and not (key <= price if side == BUY else -key >= price):
                break
            px = sign * key
            level = levels[px]
            queue = level.orders
            changed.add(px)
            while remaining and queue:
                maker = queue[next(iter(queue))]
                maker_left = maker[_QTY] - maker[_FILLED]
                if stp != STP_NONE and maker[_OWNER] == owner:
                    if stp == STP_EXPIRE_TAKER:
                        order[_FILLED] = order[_QTY] - remaining
                        reports.append((EXPIRED, taker_id, remaining, REASON_STP_TAKER))
                        return True
                    del queue[maker[_ID]]
                    del orders[maker[_ID]]
                    level.qty -= maker_left
                    reports.append((EXPIRED, maker[_ID], maker_left, REASON_STP_MAKER))
                    if stp == STP_EXPIRE_BOTH:
                        if not queue:
                            self._drop_level(opp, px)
                        order[_FILLED] = order[_QTY] - remaining
                        reports.append((EXPIRED, taker_id, remaining, REASON_STP_TAKER))
                        return True
                    continue
                traded = remaining if remaining < maker_left else maker_left
                remaining -= traded
                maker_left -= traded
                maker[_FILLED] += traded
                level.qty -= traded
                reports.append((FILL, taker_id, maker[_ID], owner, maker[_OWNER], px, traded, maker_left))
                if not maker_left:
                    del queue[maker[_ID]]
                    del orders[maker[_ID]]
            if not queue:
                self._drop_level(opp, px)
        order[_FILLED] = order[_QTY] - remaining
        return False

    def _unlink(self, order: list) -> None:
        side, price = order[_SIDE], order[_PRICE]
        level = self._levels[side][price]
        del level.orders[order[_ID]]
        del self._orders[order[_ID]]
        self._changed[side].add(price)
        if level.orders:
            level.qty -= order[_QTY] - order[_FILLED]
        else:
            self._drop_level(side, price)

    def _drop_level(self, side: int, price: int) -> None:
        del self._levels[side][price]
        keys = self._keys[side]
        key = price if side == SELL else -price
        keys.remove(key)
        if self._best[side] == key:
            self._best[side] = keys[0] if keys else None
