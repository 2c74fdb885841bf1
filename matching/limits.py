"""The book's value range, one rule for both books.

Every order id, owner, price and quantity is a signed 64-bit integer (the
compiled book stores them so; the reference book refuses what it could not
store), and a price level's resting quantity stays one too: an order whose
resting quantity would push its level past 2**63 - 1 is refused (REJECTED,
REASON_BAD_QUANTITY) before anything happens.  The venue's lot and price
filters keep its orders far below these edges; the rule makes the two books
agree at the edges instead of one overflowing.
"""
from __future__ import annotations

from matching.constants import (
    BUY, GTC, MARKET, REASON_BAD_PARAM, REASON_BAD_PRICE, REASON_BAD_QUANTITY, SELL, STP_EXPIRE_BOTH,
    STP_NONE,
)

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


#: the largest int CPython compares on its fast path (one 30-bit digit): far inside 64 bits
_SMALL = (1 << 30) - 1
_NEG_SMALL = -_SMALL


def submit_refusal(order_id: int, owner: int, side: int, price: int, qty: int, kind: int, stp: int) -> int:
    """The REJECTED reason a submit earns from its arguments alone, else 0 (the
    book's state adds the duplicate-id and level-total checks)."""
    # an order whose numbers all fit one CPython digit is inside every bound below; the
    # comparisons with the 64-bit edges (big ints, off the interpreter's fast path) cost
    # the pure-Python book ~12 % of its submits (BENCHMARKS.md, #14 replay speed)
    if (_NEG_SMALL <= order_id <= _SMALL and _NEG_SMALL <= owner <= _SMALL and 0 < qty <= _SMALL
            and (0 < price <= _SMALL or kind == MARKET) and (side == BUY or side == SELL)
            and GTC <= kind <= MARKET and STP_NONE <= stp <= STP_EXPIRE_BOTH):
        return 0
    if (side not in (BUY, SELL) or not (GTC <= kind <= MARKET) or not (STP_NONE <= stp <= STP_EXPIRE_BOTH)
            or not INT64_MIN <= order_id <= INT64_MAX or not INT64_MIN <= owner <= INT64_MAX):
        return REASON_BAD_PARAM
    if not 0 < qty <= INT64_MAX:
        return REASON_BAD_QUANTITY
    if kind != MARKET and not 0 < price <= INT64_MAX:
        return REASON_BAD_PRICE
    return 0


def level_overflows(level_qty: int, adding: int) -> bool:
    """True when resting ``adding`` more lots on a level holding ``level_qty``
    would take it past the 64-bit range."""
    return adding > INT64_MAX - level_qty
