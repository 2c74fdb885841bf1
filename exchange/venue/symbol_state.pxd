from exchange.venue.spec cimport SymbolSpec
from exchange.venue._liqindex cimport LiqIndex as CLiqIndex

cdef class SymbolState:
    cdef public object symbol, book, index, mark, next_trade_id
    cdef public SymbolSpec spec
    cdef public object last_price, mark_pinned, mark_rule, basis, premium_sum, premium_count
    cdef public object last_premium, funding_rate, last_funding_rate, last_funding_time, funding_history
    cdef public dict positions, triggers, trailing
    cdef public Py_ssize_t waiting
    cdef public tuple slot_keys, percent_band
    cdef public CLiqIndex liq_falls, liq_rises      # liqindex.LiqIndex (the compiled one)
