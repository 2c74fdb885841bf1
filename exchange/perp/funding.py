"""Premium index and funding (perp-mechanics 2.1-2.5).

Rates (premium, interest, funding) are RATE_SCALE integers and round toward
zero, so a published rate never overstates the premium.  Money follows the
venue rule: the side that pays is charged rounded up, the side that
receives is paid rounded down; the difference (< 1 unit per position) is the
venue's rounding residue.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Sequence

from exchange.units import MONEY_SCALE, RATE_SCALE, div_ceil, div_floor

#: the +-0.05 % band around the interest rate (spec 2.3)
INTEREST_CLAMP = 50_000
#: 0.01 % per 8 hours
BASE_INTEREST_8H = 10_000


def interest_rate_for_interval(hours: int) -> int:
    """Per-interval interest: 0.01 % per 8 h scaled to the interval (4 h -> 5_000, 1 h -> 1_250)."""
    if hours < 1:
        raise ValueError("funding interval must be at least 1 hour")
    return BASE_INTEREST_8H * hours // 8


def impact_margin_notional(max_leverage: int) -> int:
    """IMN = 200 USDT / IMR at max leverage = 200 USDT x max leverage, money units (spec 2.1)."""
    return 200 * MONEY_SCALE * max_leverage


def _impact(levels: Iterable[tuple[int, int]], imn: int, notional_unit: int) -> Fraction | None:
    """Exact average fill price (ticks) of a market order for ``imn`` money units.

    The last level is consumed fractionally (the impact notional is a money
    amount, not a lot count), hence the exact rational.  None when the book
    side is too thin to absorb the impact notional.
    """
    if imn <= 0:
        raise ValueError("impact notional must be positive")
    remaining = imn
    lots = Fraction(0)
    for price, qty in levels:
        if price <= 0 or qty <= 0:
            continue
        level_value = price * qty * notional_unit
        if level_value >= remaining:
            lots += Fraction(remaining, price * notional_unit)
            return Fraction(imn, notional_unit) / lots
        lots += qty
        remaining -= level_value
    return None


def impact_bid_ask(bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], imn: int,
                   notional_unit: int) -> tuple[int, int] | None:
    """(impact bid, impact ask) in ticks, for ``premiumIndex``-style display.

    ``bids``/``asks`` are ``(price ticks, qty lots)`` levels, best first.
    Impact bid rounds down and impact ask up (the pessimistic fill for the
    taker the impact price models).  None if either side is too thin.
    Use ``premium_index_from_book`` for the premium itself, which avoids
    this rounding.
    """
    bid = _impact(bids, imn, notional_unit)
    ask = _impact(asks, imn, notional_unit)
    if bid is None or ask is None:
        return None
    return bid.numerator // bid.denominator, -((-ask.numerator) // ask.denominator)


def _premium(bid: Fraction, ask: Fraction, index: int) -> int:
    if index <= 0:
        raise ValueError("index price must be positive")
    p = (max(Fraction(0), bid - index) - max(Fraction(0), index - ask)) / index
    return int(p * RATE_SCALE)      # int() truncates toward zero


def premium_index(impact_bid: int, impact_ask: int, index_price: int) -> int:
    """``[max(0, bid - index) - max(0, index - ask)] / index`` in RATE_SCALE, toward zero.

    Prices in ticks.  Zero while the index sits between the impact prices:
    only a book that is shifted against the index produces a premium.
    """
    return _premium(Fraction(impact_bid), Fraction(impact_ask), index_price)


def premium_index_from_book(bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]],
                            index_price: int, imn: int, notional_unit: int) -> int | None:
    """One premium sample straight from book levels, rounding only once at the end.

    None when a side cannot absorb the impact notional; the caller decides
    whether to skip the sample (Binance does not document this case).
    """
    bid = _impact(bids, imn, notional_unit)
    ask = _impact(asks, imn, notional_unit)
    if bid is None or ask is None:
        return None
    return _premium(bid, ask, index_price)


def average_premium(samples: Sequence[int]) -> int:
    """Time-weighted average ``sum(k * P_k) / sum(k)``, k = 1..n oldest to newest (spec 2.2).

    The latest samples weigh most, so a premium that appears just before
    settlement still moves the rate.  Rounded toward zero; 0 for no samples.
    """
    n = len(samples)
    if n == 0:
        return 0
    weighted = sum(k * p for k, p in enumerate(samples, start=1))
    return average_premium_from_sum(weighted, n)


def add_premium_sample(weighted_sum: int, count: int, sample: int) -> tuple[int, int]:
    """Running form of ``average_premium``: fold sample number ``count + 1`` into the sums.

    Lets the venue keep two ints per symbol instead of 5,760 samples per interval.
    """
    count += 1
    return weighted_sum + count * sample, count


def average_premium_from_sum(weighted_sum: int, count: int) -> int:
    """``weighted_sum / (1 + 2 + ... + count)`` toward zero."""
    if count <= 0:
        return 0
    total = count * (count + 1) // 2
    q = abs(weighted_sum) // total
    return q if weighted_sum >= 0 else -q


def funding_rate(avg_premium: int, interest_rate: int, cap: int, floor: int,
                 clamp: int = INTEREST_CLAMP) -> int:
    """``F = P + clamp(I - P, -0.05 %, +0.05 %)`` then limited to ``[floor, cap]`` (spec 2.3).

    The inner clamp pins F to the interest rate in calm markets (whenever
    ``|I - P| <= 0.05 %``); cap/floor bound it in violent ones.  Exact.
    """
    if floor > cap:
        raise ValueError("funding floor above cap")
    f = avg_premium + max(-clamp, min(clamp, interest_rate - avg_premium))
    return max(floor, min(cap, f))


def funding_amount(qty: int, mark_price: int, rate: int, notional_unit: int) -> tuple[int, int]:
    """(amount charged to the payer, amount paid to the receiver) for a position of
    this size, money units: ``|Q| x mark x |F|`` rounded up and down respectively."""
    raw = abs(qty) * mark_price * notional_unit * abs(rate)
    return div_ceil(raw, RATE_SCALE), div_floor(raw, RATE_SCALE)


def funding_payment(qty: int, mark_price: int, rate: int, notional_unit: int) -> int:
    """Signed change to the holder's balance (spec 2.5): + received, - paid.

    ``F > 0``: longs pay shorts; ``F < 0``: shorts pay longs.  The notional
    is the position at the settlement mark.  A payer's charge rounds up, a
    receiver's credit rounds down, so matched longs and shorts sum to <= 0
    (the residue, at most 1 unit per position, goes to the rounding account).
    Hedge legs are separate positions and are settled separately.
    """
    if qty == 0 or rate == 0:
        return 0
    charge, credit = funding_amount(qty, mark_price, rate, notional_unit)
    pays = (qty > 0) == (rate > 0)
    return -charge if pays else credit
