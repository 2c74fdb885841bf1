"""Binance mark price: the median of three candidates (perp-mechanics 1.2).

``Mark = median(Price1, Price2, Last)`` with
``Price1 = Index x (1 + F x timeUntilFunding / interval)`` and
``Price2 = Index + MA(basis)``, ``basis = (bid1 + ask1)/2 - Index``.

The candidates are computed exactly (rationals) and only the median is
rounded, to the nearest tick, ties to even: the mark is neither a charge nor a
payout, so it must not lean either way.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from exchange.units import RATE_SCALE


def basis_half_ticks(bid1: int, ask1: int, index_price: int) -> int:
    """One basis sample ``(bid1 + ask1)/2 - index`` in half-ticks, exact.

    The mid of two tick prices can fall between ticks; doubling keeps it an int.
    The venue samples this every ``ma_step`` (default 5 s) and keeps the last
    ``ma_window / ma_step`` samples (default 30) for ``mark_price``.
    """
    return bid1 + ask1 - 2 * index_price


def funding_basis_price(index_price: int, funding_rate: int, ms_until_funding: int,
                        interval_ms: int) -> Fraction:
    """Price1 in ticks (exact): the index carried by the part of the funding rate
    still to accrue, decaying linearly to the index at settlement."""
    if interval_ms <= 0:
        raise ValueError("interval_ms must be positive")
    t = max(0, min(ms_until_funding, interval_ms))
    return Fraction(index_price) * (Fraction(RATE_SCALE * interval_ms + funding_rate * t,
                                             RATE_SCALE * interval_ms))


def moving_basis_price(index_price: int, basis_samples: Sequence[int]) -> Fraction:
    """Price2 in ticks (exact): index + mean of the half-tick basis samples (index if none)."""
    if not basis_samples:
        return Fraction(index_price)
    return index_price + Fraction(sum(basis_samples), 2 * len(basis_samples))


def mark_price(index_price: int, last_price: int, funding_rate: int, ms_until_funding: int,
               interval_ms: int, basis_samples: Sequence[int]) -> int:
    """Mark price in ticks: median of Price1, Price2 and the last trade price.

    Using the median means neither a stale funding estimate, a distorted book
    nor a single manipulated trade can move the mark alone.  All prices in
    ticks; ``funding_rate`` in RATE_SCALE; times in ms; ``basis_samples`` in
    half-ticks (``basis_half_ticks``).  Rounded to the nearest tick, half to even.
    """
    p1 = funding_basis_price(index_price, funding_rate, ms_until_funding, interval_ms)
    p2 = moving_basis_price(index_price, basis_samples)
    a, b, c = sorted((p1, p2, Fraction(last_price)))
    return round(b)
