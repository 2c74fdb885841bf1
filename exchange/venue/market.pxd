# Typed names for Cython's pure-Python mode compile of the module beside this file.
from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.orders cimport Order
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState
# the perp kernel, a C call per position at settlement (market.py imports it from exchange.perp)
from exchange.perp._kernels cimport funding_payment
# the record constructor, a C call (the .py imports records.new_record: the pure twin)
from exchange.contract._records cimport new_record
