"""Layer 2 — perpetual-futures risk math, every formula once: pure integer functions, no state, no I/O.

Units (see ``exchange.units``): prices in ticks, quantities in lots (signed
where a side matters: + long / buy, - short / sell), money in 1e-8 USDT,
rates in parts per 1e8.  A position is ``(qty, cost)`` with ``cost`` its
entry notional in money units.  Charges round up, payouts round down; each
function's docstring says which applies.
"""
from exchange.perp.adl import adl_quantile, adl_quantiles, adl_score
from exchange.perp.fees import commission, liquidation_fee
from exchange.perp.funding import (
    INTEREST_CLAMP, add_premium_sample, average_premium, average_premium_from_sum,
    funding_amount, funding_payment, funding_rate, impact_bid_ask, impact_margin_notional,
    interest_rate_for_interval, premium_index, premium_index_from_book,
)
from exchange.perp.liquidation import (
    FALLS, RISES, Leg, bankruptcy_price, is_liquidatable_at, liquidation_price,
    liquidation_price_exact, liquidation_trigger,
)
from exchange.perp.margin import (
    bracket_for_notional, initial_margin, is_liquidatable, maint_margin, margin_ratio,
    max_leverage, max_notional_for_leverage, one_way_order_margin, order_cost, order_open_loss,
)
from exchange.perp.mark import basis_half_ticks, funding_basis_price, mark_price, moving_basis_price
from exchange.perp.position import apply_fill, notional, unrealized_pnl

__all__ = [
    "adl_quantile", "adl_quantiles", "adl_score",
    "commission", "liquidation_fee",
    "INTEREST_CLAMP", "add_premium_sample", "average_premium", "average_premium_from_sum",
    "funding_amount", "funding_payment", "funding_rate", "impact_bid_ask", "impact_margin_notional",
    "interest_rate_for_interval", "premium_index", "premium_index_from_book",
    "FALLS", "RISES", "Leg", "bankruptcy_price", "is_liquidatable_at", "liquidation_price",
    "liquidation_price_exact", "liquidation_trigger",
    "bracket_for_notional", "initial_margin", "is_liquidatable", "maint_margin", "margin_ratio",
    "max_leverage", "max_notional_for_leverage", "one_way_order_margin", "order_cost", "order_open_loss",
    "basis_half_ticks", "funding_basis_price", "mark_price", "moving_basis_price",
    "apply_fill", "notional", "unrealized_pnl",
]
