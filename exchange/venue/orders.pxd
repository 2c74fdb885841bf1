# Compiled layout of orders.Order (Cython pure-Python mode: orders.py is the source
# of both the compiled module and its pure-Python twin).

cdef class Order:
    cdef public object order_id, account_id, symbol, client_order_id, side, order_type
    cdef public object time_in_force, price, qty, filled, cum_quote, reduce_only
    cdef public object position_side, stp, status, time, update_time
    cdef public object reduce, key, margin_price, loss_per_lot
    cdef public object stop_price, working_type, price_protect, close_position
    cdef public object activation_price, callback_rate, trail_extreme, new_order_id, book_offset

cdef _set_fields(Order o, order_id, account_id, symbol, client_order_id, side, order_type,
                 time_in_force, price, qty, reduce_only, position_side, stp, time, reduce, key,
                 margin_price, loss_per_lot)

# one per accepted order from the compiled order path: a C call (same fields as Order(...))
cpdef Order new_order(order_id, account_id, symbol, client_order_id, side, order_type, time_in_force,
                      price, qty, reduce_only, position_side, stp, time, reduce, key, margin_price,
                      loss_per_lot)

# the order's fields of its later events (events.ORDER_STATE)
cpdef tuple order_state(Order o)

# default client order id, a C call from the compiled order path
cpdef str default_client_order_id(oid)
