cdef class Position:
    cdef public object symbol, position_side, qty, entry, realized, iso_wallet, update_time

# per fill, from the compiled order path: a C call
cpdef tuple apply_fill(Position pos, buy, q, notional, price_unit)
