"""The control API (``/paperex/v1``): accounts, index and mark prices, the virtual clock,
faults and state, each a journaled command like any other."""
