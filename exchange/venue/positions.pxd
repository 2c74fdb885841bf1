cdef class Position:
    cdef public object symbol, position_side, qty, entry, realized, iso_wallet, update_time

# the perp kernel (a C call when compiled; positions.py imports the same name from exchange.perp)
from exchange.perp._kernels cimport apply_fill

# per fill, from the compiled order path: a C call
cpdef tuple fill_position(Position pos, buy, q, price, unit)
