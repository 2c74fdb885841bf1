# Typed names for Cython's pure-Python mode compile of the module beside this file.
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order, order_state
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState
