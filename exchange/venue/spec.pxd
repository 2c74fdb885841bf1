cdef class SymbolSpec:
    cdef public object symbol, tick_size, step_size, notional_unit, min_price, max_price
    cdef public object min_qty, max_qty, market_min_qty, market_max_qty, min_notional
    cdef public object min_notional_str, max_num_orders, percent_up, percent_down
    cdef public object market_take_bound, maker_fee, taker_fee, brackets, max_leverage
    cdef public object default_leverage, price_precision, instrument
    cdef public list _max_notional
    cdef public object interest_rate, funding_cap, funding_floor, funding_interval_ms
    cdef public object impact_notional, liquidation_fee, trigger_protect, max_num_algo_orders
    cdef public object basis_window, bracket_table

    # called per position on liquidation-index and funding paths: a C call from typed code
    cpdef maint_margin(self, notional)
