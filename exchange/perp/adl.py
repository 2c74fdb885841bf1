"""Auto-deleveraging ranking (perp-mechanics 4.6).

Binance ranks opposite-side positions by "LeveragePnl": profitable *and*
highly leveraged positions are deleveraged first.  Scores are RATE_SCALE
integers; ties are the caller's to break deterministically (e.g. by account
id), never by container order.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Sequence

from exchange.units import MONEY_SCALE, RATE_SCALE


def adl_score(wallet_balance: int, upnl: int, maint: int) -> int:
    """LeveragePnl = PnlPercent x MarginRatio in RATE_SCALE units, rounded down.

    ``PnlPercent = max(0, UPNL) / max(1 USDT, WB)``;
    ``MarginRatio = MM / (WB + UPNL)`` or 0 when ``WB + UPNL <= 0``.
    The "1" in ``max(1, WB)`` is read as 1 USDT.  Computed as one fraction so
    the only rounding is the final floor.
    """
    equity = wallet_balance + upnl
    if upnl <= 0 or equity <= 0 or maint <= 0:
        return 0
    return (upnl * maint * RATE_SCALE) // (max(MONEY_SCALE, wallet_balance) * equity)


def adl_quantile(rank: int, count: int) -> int:
    """API ``adlQuantile`` 0-4 (UI lights = value + 1) for a 1-based ``rank`` among
    ``count`` positions ordered by ascending score: the top 20 % get 4.

    Binance ranks per symbol and side; rank ``count`` (highest score) is
    always 4, rank 1 of five or more is 0.
    """
    if count <= 0 or not 1 <= rank <= count:
        raise ValueError("need 1 <= rank <= count")
    return (rank * 5 - 1) // count


def adl_quantiles(scores: Sequence[int]) -> list[int]:
    """Quantile (0-4) of each score among ``scores`` (one symbol, one side).

    Equal scores share the highest rank among them, so a tie never depends
    on input order.
    """
    ordered = sorted(scores)
    n = len(ordered)
    return [adl_quantile(bisect_right(ordered, s), n) for s in scores]
