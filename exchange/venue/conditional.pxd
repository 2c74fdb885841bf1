# Typed names for Cython's pure-Python mode compile of the module beside this file.
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order, order_state
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState
# the record constructor, a C call (the .py imports records.new_record: the pure twin)
from exchange.contract._records cimport new_record
