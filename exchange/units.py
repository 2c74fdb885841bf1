"""The fixed-point scales of the core, named once.

Inside the venue every number is an ``int``:

* price      - integer ticks of the symbol's ``tickSize``
* quantity   - integer lots of the symbol's ``stepSize``
* money      - integer units of 1e-8 USDT (``MONEY_SCALE`` units = 1 USDT)
* rate       - integer parts per 1e8 (``RATE_SCALE`` = 100%): fee rates,
               maintenance margin rates, funding rates, premium index
* time       - integer milliseconds since the Unix epoch, stamped by the sequencer

Decimal strings exist only at the edges (gateway, config files, human output);
``to_money`` / ``money_str`` and friends are the only conversions.

Rounding rule (one rule everywhere): a quantity of money the venue *charges*
(fees, margin requirements) rounds up, one it *pays out* rounds down, so the
venue never creates money; the difference is booked to the rounding-residue
account so the money identity holds exactly.
"""
from __future__ import annotations

from decimal import Decimal, ROUND_CEILING, ROUND_FLOOR

MONEY_SCALE = 100_000_000
RATE_SCALE = 100_000_000

_MONEY_Q = Decimal(1).scaleb(-8)


def to_money(amount: "str | Decimal | int") -> int:
    """Exact conversion of a decimal USDT amount to money units; refuses sub-unit digits."""
    d = Decimal(amount)
    scaled = d.scaleb(8)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than 8 decimal places")
    return int(scaled)


def money_str(units: int, places: int = 8) -> str:
    """Money units as a decimal string with ``places`` decimals (Binance shows 8)."""
    return str((Decimal(units).scaleb(-8)).quantize(Decimal(1).scaleb(-places)))


def to_rate(rate: "str | Decimal") -> int:
    d = Decimal(rate).scaleb(8)
    if d != d.to_integral_value():
        raise ValueError(f"{rate} has more than 8 decimal places")
    return int(d)


def rate_str(units: int, places: int = 8) -> str:
    return str((Decimal(units).scaleb(-8)).quantize(Decimal(1).scaleb(-places)))


def div_floor(a: int, b: int) -> int:
    """Integer division rounding toward minus infinity (payouts)."""
    return a // b


def div_ceil(a: int, b: int) -> int:
    """Integer division rounding toward plus infinity (charges)."""
    return -((-a) // b)
