cdef class Position:
    cdef public object symbol, position_side, qty, entry, realized, iso_wallet, update_time
