"""Margin requirements from the tiered bracket table (perp-mechanics 3.1-3.5).

Every notional is money units (1e-8 USDT) at some price; rates are RATE_SCALE
integers.  Requirements are charges, so they round *up*: the venue may ask
for one unit too much, never one too little.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from exchange.contract.codes import BOTH, LONG
from exchange.contract.instruments import Bracket
from exchange.units import RATE_SCALE, div_ceil


def bracket_for_notional(brackets: Sequence[Bracket], notional: "int | Fraction") -> Bracket:
    """The bracket whose ``(floor, cap]`` holds ``|notional|``.

    Zero falls in bracket 1.  A notional above the last cap stays in the last
    bracket: a price move can push a position past the table, and its margin
    must still be defined (new exposure there is refused by
    ``max_notional_for_leverage`` instead).  Accepts any number type that
    compares with ints (the liquidation solver passes exact Fractions).
    """
    n = abs(notional)
    for b in brackets:
        if n <= b.notional_cap:
            return b
    return brackets[-1]


def maint_margin(brackets: Sequence[Bracket], notional: int) -> int:
    """Maintenance margin ``|N| x MMR - cum`` of one position, money units, rounded up.

    ``cum`` makes the result continuous across brackets, so it is never
    negative for a valid table; it is clamped at 0 anyway.
    """
    n = abs(notional)
    if n == 0:
        return 0
    b = bracket_for_notional(brackets, n)
    return max(0, div_ceil(n * b.maint_margin_rate, RATE_SCALE) - b.cum)


def initial_margin(notional: int, leverage: int) -> int:
    """Initial margin ``|N| / L``, money units, rounded up (a charge)."""
    if leverage < 1:
        raise ValueError("leverage must be >= 1")
    return div_ceil(abs(notional), leverage)


def max_leverage(brackets: Sequence[Bracket]) -> int:
    """Highest leverage the table allows (bracket 1's initialLeverage)."""
    return brackets[0].initial_leverage


def max_notional_for_leverage(brackets: Sequence[Bracket], leverage: int) -> int:
    """Largest position notional (money units) allowed at ``leverage`` (spec 3.3).

    It is the cap of the highest bracket whose ``initialLeverage >= leverage``:
    the leverage a user picks must be affordable in every bracket the position
    can reach.  ValueError for a leverage above the table's maximum (Binance
    refuses it when the leverage is set, so reaching this is a caller bug).
    """
    if leverage < 1:
        raise ValueError("leverage must be >= 1")
    best = None
    for b in brackets:
        if b.initial_leverage >= leverage:
            best = b
    if best is None:
        raise ValueError(f"leverage {leverage} exceeds the maximum {brackets[0].initial_leverage}")
    return best.notional_cap


def order_open_loss(qty: int, order_price: int, mark_price: int, is_buy: bool, notional_unit: int) -> int:
    """Open loss of an order, money units (exact, no rounding needed).

    A buy above mark (or a sell below mark) is under water at mark the moment
    it fills, so Binance reserves that loss on top of the initial margin:
    ``|Q| x |min(0, dir x (mark - price))|``.
    """
    gap = order_price - mark_price if is_buy else mark_price - order_price
    return abs(qty) * max(0, gap) * notional_unit


def one_way_order_margin(position_notional: int, bid_notional: int, ask_notional: int, leverage: int) -> int:
    """Extra initial margin the open orders of a one-way position need, money units.

    Only the side that grows the position needs margin; orders that would
    close it are free.  ``position_notional`` is signed (+ long, - short);
    ``bid_notional``/``ask_notional`` are the totals of open buy/sell orders
    (>= 0).  Result = ``ceil(max(|pos + bids|, |pos - asks|) / L) - ceil(|pos| / L)``,
    clamped at 0 (both terms round up, being charges).
    """
    worst = max(abs(position_notional + bid_notional), abs(position_notional - ask_notional))
    return max(0, initial_margin(worst, leverage) - initial_margin(position_notional, leverage))


def slot_order_margin(position_side: int, position_notional: int, buy_notional: int, sell_notional: int,
                      buy_loss: int, sell_loss: int, leverage: int) -> tuple[int, int]:
    """(initial margin, worst-case position notional) of the open orders of one position
    slot (one symbol and position side), money units - the margin check of every new
    order (spec 3.5).

    ``position_notional`` is signed (+ long, - short); ``buy_notional``/``sell_notional``
    are the totals of the slot's open position-increasing orders at their prices and
    ``buy_loss``/``sell_loss`` their open losses (``order_open_loss``), all >= 0.

    * one-way (``BOTH``): ``one_way_order_margin`` plus the open loss of the side that
      dominates (buys when ``|pos + buys| >= |pos - sells|``); the worst case is that
      larger ``|pos +/- orders|``;
    * hedge ``LONG``: ``ceil(buys / L) + buy loss``, worst case ``pos + buys``;
    * hedge ``SHORT``: ``ceil(sells / L) + sell loss``, worst case ``-pos + sells``.

    The worst case is what the bracket cap at the chosen leverage limits (-2027).
    """
    if position_side == BOTH:
        up = abs(position_notional + buy_notional)
        down = abs(position_notional - sell_notional)
        im = one_way_order_margin(position_notional, buy_notional, sell_notional, leverage)
        if up >= down:
            return im + buy_loss, up
        return im + sell_loss, down
    if position_side == LONG:
        return initial_margin(buy_notional, leverage) + buy_loss, position_notional + buy_notional
    return initial_margin(sell_notional, leverage) + sell_loss, -position_notional + sell_notional



def slot_margin_change(position_side: int, position_notional: int, buy_notional: int, sell_notional: int,
                       buy_loss: int, sell_loss: int, leverage: int, side: int, notional: int,
                       loss: int) -> tuple[int, int, int]:
    """A new order joins a slot: (the slot's open-order margin before it, after it, the
    worst-case position notional after it) - ``slot_order_margin`` before and after the
    order's ``notional`` and open ``loss`` are added to its ``side`` (0 buy, 1 sell).  The
    order path needs all three (the bracket cap, and whether the balance must be checked)."""
    before = slot_order_margin(position_side, position_notional, buy_notional, sell_notional,
                               buy_loss, sell_loss, leverage)[0]
    if side == 0:
        buy_notional += notional
        buy_loss += loss
    else:
        sell_notional += notional
        sell_loss += loss
    after, worst = slot_order_margin(position_side, position_notional, buy_notional, sell_notional,
                                     buy_loss, sell_loss, leverage)
    return before, after, worst


def margin_ratio(maint: int, margin_balance: int) -> int:
    """``MM / margin balance`` in RATE_SCALE units, rounded up (risk is never understated).

    A non-positive margin balance with any maintenance margin is reported as
    RATE_SCALE (100 %): the account is liquidatable, the exact excess is moot.
    """
    if maint <= 0:
        return 0
    if margin_balance <= 0:
        return RATE_SCALE
    return div_ceil(maint * RATE_SCALE, margin_balance)


def is_liquidatable(margin_balance: int, maint: int) -> bool:
    """Binance's trigger ``margin balance <= maintenance margin`` (margin ratio >= 100 %).

    A book with no maintenance margin (no positions) is never liquidatable,
    even at a zero balance.
    """
    return maint > 0 and margin_balance <= maint
