# Typed names for Cython's pure-Python mode compile of the module beside this file.
cimport cython
from exchange.venue._liqindex cimport LiqIndex as CLiqIndex
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState
# compiled-only helper, a C call (liquidation.py imports the same name in a try; None in the pure twin)
from exchange.venue._liqmath cimport cross_key as _cross_key_c

# one call per re-indexed position leg: a C call, not a Python one
cpdef trigger_key(q, cost, wallet_adj, SymbolSpec spec, mark)
cpdef trigger_key_exact(q, cost, wallet_adj, SymbolSpec spec, mark)

# the risk pass and the re-index of one account: C calls from the compiled order path (venue.pxd)
cpdef list reindex(dict symbols, Account acct, bulk=*)
cpdef unindex(dict symbols, dict liq)
@cython.locals(index=CLiqIndex)      # the entry's add: a C call, not a method lookup
cdef _index_entry(SymbolState st, dict liq, sym, group, tuple item, dirn, bulk)
cpdef bint iso_liquidatable(Position pos, SymbolState st)
cpdef settle_risk(venue, dict dirty, dict accounts, dict symbols, list events, ts)
