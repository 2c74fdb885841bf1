# Typed names for Cython's pure-Python mode compile of the module beside this file.
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState
# the perp kernels, C calls (risk.py imports the same names from exchange.perp)
from exchange.perp._kernels cimport (initial_margin, slot_margin_change as perp_slot_margin_change,
                                     slot_order_margin as perp_slot_order_margin, unrealized_pnl)

# called once or twice per order from the compiled order path: C calls, not Python calls
cpdef position_notional(Position pos, mark, unit)
cpdef tuple slot_order_margin(OrderAgg agg, position_side, pn, lev)
cpdef tuple reserve_order_margin(OrderAgg agg, side, qty, notional, loss, position_side, pn, lev, list table)
cpdef available_balance(Account acct, dict symbols, OrderAgg known_agg=*, known_margin=*)
cpdef release_order_margin(OrderAgg agg, side, lots, notional_price, loss_per_lot, unit)
cpdef tuple slot_margin(Account acct, key, OrderAgg agg, dict symbols)
