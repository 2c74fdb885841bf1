"""Trading commission and the liquidation clearance fee (perp-mechanics 4.5, 5)."""
from __future__ import annotations

from exchange.units import RATE_SCALE, div_ceil, div_floor


def commission(notional: int, fee_rate: int) -> int:
    """Commission on a fill of ``notional`` money units at ``fee_rate`` (RATE_SCALE).

    Rounded toward +infinity: a positive fee (a charge) rounds up, a negative
    maker fee (a rebate, a payout) rounds toward zero, so both directions
    follow the venue's rounding rule with one formula.
    """
    return div_ceil(abs(notional) * fee_rate, RATE_SCALE)


def commission_split(notional: int, fee_rate: int) -> tuple[int, int]:
    """(commission charged, its exact part rounded down) of a fill, money units.

    The first is ``commission``; the venue books the second as fees collected and the
    difference (< 1 unit) as rounding residue, so the money identity stays exact.
    """
    raw = abs(notional) * fee_rate
    return div_ceil(raw, RATE_SCALE), div_floor(raw, RATE_SCALE)


def liquidation_fee(notional: int, fee_rate: int, remaining_margin: int) -> int:
    """Clearance fee on the liquidated notional, capped by what margin is left.

    The fee rounds up (a charge) but can never take more than the position
    still has, so it cannot by itself push a wallet negative (spec 4.5,
    emulator rule ``min(rate x |Q| x P, remaining margin)``).
    """
    return max(0, min(div_ceil(abs(notional) * fee_rate, RATE_SCALE), remaining_margin))
