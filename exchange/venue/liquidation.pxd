# Typed names for Cython's pure-Python mode compile of the module beside this file.
cimport cython
from exchange.venue._liqindex cimport LiqIndex as CLiqIndex
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order
from exchange.venue.positions cimport Position, fill_position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState
# the perp kernels, C calls (liquidation.py imports the same names from exchange.perp)
from exchange.perp._kernels cimport leg_index_key, unrealized_pnl

# the risk pass and the re-index of one account: C calls from the compiled order path (venue.pxd)
cpdef list reindex(dict symbols, Account acct, bulk=*)
cpdef unindex(dict symbols, dict liq)
@cython.locals(index=CLiqIndex)      # the entry's add: a C call, not a method lookup
cdef _index_entry(SymbolState st, dict liq, sym, group, tuple item, dirn, bulk)
cpdef bint iso_liquidatable(Position pos, SymbolState st)
cpdef settle_risk(venue, dict dirty, dict accounts, dict symbols, list events, ts)
