# The compiled liquidation index (_liqindex.pyx): declared here so that the venue's compiled
# modules call its methods in C (symbol_state.pxd types liq_falls / liq_rises with it).
cdef class LiqIndex:
    cdef void *_setp        # pex_liq_set * (a C++ std::multiset, see _liqindex.pyx)
    cdef object _side
    cpdef add(self, item)
    cpdef remove(self, item)
    cpdef hits_from(self, key, dict dirty)
    cpdef hits_upto(self, key, dict dirty)
