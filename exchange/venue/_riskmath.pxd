# risk.pxd cimports these: the compiled risk module calls them in C (risk.py imports the same
# names in a try: under PAPEREX_PURE=1 they are None and the Python bodies run).
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec

cpdef _slot_order_margin_c(OrderAgg agg, position_side, pn, lev)
cpdef _available_balance_c(Account acct, dict symbols)

# venue.pxd cimports this one: the fee split of each fill, a C call
cpdef _fee_c(n, rate)

# venue.pxd cimports this one: price x lots x notional unit on the order path, a C call
cpdef _product_c(a, b, c)
# and this one: the LIMIT price/quantity filters' common case (all pass), a C call
cpdef bint _limit_ok_c(SymbolSpec spec, side, price, qty, mark)
# and this one: a new order's lots into its slot and the margin verdict, a C call
cpdef int _reserve_order_margin_c(OrderAgg agg, side, qty, notional, loss, position_side, pn, lev,
                                  list table) except -2
# and this one: a filled or cancelled order's lots out of its slot, a C call
cpdef bint _release_order_margin_c(OrderAgg agg, side, lots, notional_price, loss_per_lot, unit)
# venue.pxd cimports this one: the position update of a fill (positions.apply_fill), a C call
cpdef _apply_fill_c(Position pos, buy, q, notional, price_unit)
