# liquidation.pxd cimports cross_key: one C call per one-position cross re-index.
cpdef cross_key(q, cost, wallet, tuple brackets_mmr, notional_unit, mark)
