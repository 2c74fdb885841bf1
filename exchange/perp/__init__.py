"""Layer 2 — perpetual-futures risk math, every formula once: pure integer functions, no state, no I/O.

Units (see ``exchange.units``): prices in ticks, quantities in lots (signed
where a side matters: + long / buy, - short / sell), money in 1e-8 USDT,
rates in parts per 1e8.  A position is ``(qty, cost)`` with ``cost`` its
entry notional in money units.  Charges round up, payouts round down; each
function's docstring says which applies.

The Python modules are the specification.  Where a compiled kernel pays
(``BENCHMARKS.md``, "Compiled twins and fast paths"), ``_kernels.pyx`` holds it
under the same name, exact over the same inputs (it runs the specification
itself for what its 64/128-bit arithmetic cannot hold); this package exports
the kernel in the specification's place unless ``PAPEREX_PURE=1``
(``matching.accelerator``, the one switch).  ``exchange.perp.<module>.<name>``
is always the specification.
"""
from matching.accelerator import compiled

from exchange.perp.adl import adl_quantile, adl_quantiles, adl_score
from exchange.perp.fees import commission, commission_split, liquidation_fee
from exchange.perp.funding import (
    INTEREST_CLAMP, add_premium_sample, average_premium, average_premium_from_sum,
    funding_amount, funding_payment, funding_rate, impact_bid_ask, impact_margin_notional,
    interest_rate_for_interval, premium_index, premium_index_from_book,
)
from exchange.perp.liquidation import (
    FALLS, RISES, Leg, bankruptcy_price, index_key, is_liquidatable_at, leg_index_key, liquidation_price,
    liquidation_price_exact, liquidation_trigger,
)
from exchange.perp.margin import (
    bracket_for_notional, initial_margin, is_liquidatable, maint_margin, margin_ratio,
    max_leverage, max_notional_for_leverage, one_way_order_margin, order_open_loss, slot_margin_change,
    slot_order_margin,
)
from exchange.perp.mark import basis_half_ticks, funding_basis_price, mark_price, moving_basis_price
from exchange.perp.position import apply_fill, notional, unrealized_pnl

__all__ = [
    "adl_quantile", "adl_quantiles", "adl_score",
    "commission", "commission_split", "liquidation_fee",
    "INTEREST_CLAMP", "add_premium_sample", "average_premium", "average_premium_from_sum",
    "funding_amount", "funding_payment", "funding_rate", "impact_bid_ask", "impact_margin_notional",
    "interest_rate_for_interval", "premium_index", "premium_index_from_book",
    "FALLS", "RISES", "Leg", "bankruptcy_price", "index_key", "is_liquidatable_at", "leg_index_key", "liquidation_price",
    "liquidation_price_exact", "liquidation_trigger",
    "bracket_for_notional", "initial_margin", "is_liquidatable", "maint_margin", "margin_ratio",
    "max_leverage", "max_notional_for_leverage", "one_way_order_margin", "order_open_loss",
    "slot_margin_change", "slot_order_margin",
    "basis_half_ticks", "funding_basis_price", "mark_price", "moving_basis_price",
    "apply_fill", "notional", "unrealized_pnl",
]

_kernels = compiled("exchange.perp._kernels")      # None when not built, or PAPEREX_PURE=1
if _kernels is not None:        # the kernels measured to pay (BENCHMARKS.md), same names and answers
    apply_fill = _kernels.apply_fill
    unrealized_pnl = _kernels.unrealized_pnl
    commission_split = _kernels.commission_split
    funding_payment = _kernels.funding_payment
    initial_margin = _kernels.initial_margin
    slot_order_margin = _kernels.slot_order_margin
    slot_margin_change = _kernels.slot_margin_change
    leg_index_key = _kernels.leg_index_key
