# Typed names for Cython's pure-Python mode compile of the module beside this file.
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order, default_client_order_id, new_order, order_state
from exchange.venue.positions cimport Position, fill_position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState

cdef class VenueCore:
    cdef public dict symbols, accounts, orders, closed, _dirty, _moved, _adl_cache, _dispatch
    cdef public object _closed_fifo, history_limit, next_order_id, next_tran_id
    cdef public object deposits, withdrawals, fees_collected, insurance_fund, rounding_residue, _ts, _busy
    cpdef list _new_order(self, ts, c)
    cpdef list _cancel_order(self, ts, c)
    cpdef _post(self, list events, ts)
    cpdef _process(self, SymbolState st, reports, list events, dict touched, ts)
    cpdef _fill(self, SymbolState st, Order order, price, q, is_maker, trade_id, counter_id, list events,
                dict touched, ts)
    cpdef _finish(self, dict touched, list events, ts)
    cpdef _trim_reduce(self, Account acct, tuple key, OrderAgg agg, list events, ts)
    cpdef _release(self, Order order, remaining)
    cdef _release_from(self, Order order, Account acct, SymbolState st, remaining)
    cpdef _reserve(self, Order order, remaining)
    cpdef _unlink(self, Order order)
    cdef _unlink_from(self, Order order, Account acct)
    cpdef _close(self, Order order, status)
    cdef _close_in(self, Order order, Account acct, status)
    cpdef _cancel(self, SymbolState st, Order order, reason, ts)
    cdef _cancel_in(self, SymbolState st, Order order, Account acct, reason, ts)

from exchange.venue.risk cimport available_balance, release_order_margin, reserve_order_margin, slot_order_margin
from exchange.venue.liquidation cimport settle_risk      # the risk pass of _post: a C call
from exchange.perp._kernels cimport commission_split, initial_margin   # the perp kernels, C calls

cdef _notional(price, lots, unit)

cpdef tuple percent_band(SymbolState st, mark)
cpdef limit_filter_error(SymbolState st, side, price, qty)
# the record constructor, a C call (the .py imports records.new_record: the pure twin)
from exchange.contract._records cimport new_record
