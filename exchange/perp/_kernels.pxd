# The perp kernels (_kernels.pyx): the venue's compiled modules cimport these and call them in C.
# Each has the name, arguments and answers of its Python specification in exchange.perp.
cpdef tuple apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
cpdef unrealized_pnl(qty, cost, mark_price, notional_unit)
cpdef tuple commission_split(notional, fee_rate)
cpdef funding_payment(qty, mark_price, rate, notional_unit)
cpdef initial_margin(notional, leverage)
cpdef tuple slot_order_margin(position_side, position_notional, buy_notional, sell_notional,
                              buy_loss, sell_loss, leverage)
cpdef tuple slot_margin_change(position_side, position_notional, buy_notional, sell_notional,
                               buy_loss, sell_loss, leverage, side, notional, loss)
cpdef leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark)
