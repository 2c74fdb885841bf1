# cython: language_level=3, boundscheck=False, wraparound=False
"""``liquidation.trigger_key`` in 128-bit C integers.

The liquidation index re-keys a position after every fill and every payer at
funding; in Python integers the bracket iteration below costs ~3k
instructions (its products reach 1e25, beyond 64 bits).  Here the same
arithmetic runs in ``__int128`` with Python's floor division.  Inputs must fit
in 64 bits and every product is overflow-checked; when anything does not fit
the function answers ``NotImplemented`` and the caller runs the Python code
(the pure-Python twin, always exact).  Same results, same tie-breaks:
``tests/venue/test_liqmath.py`` compares both on random and extreme inputs.
"""

cdef extern from *:
    """
    typedef __int128 pex_i128;
    static inline int pex_mul(pex_i128 a, pex_i128 b, pex_i128 *r) { return __builtin_mul_overflow(a, b, r); }
    static inline int pex_add(pex_i128 a, pex_i128 b, pex_i128 *r) { return __builtin_add_overflow(a, b, r); }
    static inline int pex_sub(pex_i128 a, pex_i128 b, pex_i128 *r) { return __builtin_sub_overflow(a, b, r); }
    /* Python's a // b (b != 0) */
    static inline pex_i128 pex_floordiv(pex_i128 a, pex_i128 b) {
        if (a >= (pex_i128)INT64_MIN && a <= (pex_i128)INT64_MAX && b >= (pex_i128)INT64_MIN
                && b <= (pex_i128)INT64_MAX && b != -1) {      /* 64-bit division: same quotient, cheaper */
            long long x = (long long)a, y = (long long)b, r = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) r -= 1;
            return r;
        }
        pex_i128 q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        return q;
    }
    static inline int pex_fits64(pex_i128 a) { return a >= (pex_i128)INT64_MIN && a <= (pex_i128)INT64_MAX; }
    """
    ctypedef long long pex_i128   # Cython only needs a name; C sees __int128
    bint pex_mul(pex_i128 a, pex_i128 b, pex_i128 *r)
    bint pex_add(pex_i128 a, pex_i128 b, pex_i128 *r)
    bint pex_sub(pex_i128 a, pex_i128 b, pex_i128 *r)
    pex_i128 pex_floordiv(pex_i128 a, pex_i128 b)
    bint pex_fits64(pex_i128 a)

cdef enum:
    MAX_BRACKETS = 64

cdef long long _R = 100_000_000       # exchange.units.RATE_SCALE


# converted bracket tables of the last few ``brackets_mmr`` tuples (one per symbol; a
# tuple is immutable and kept alive by ``_cache_refs``, so its identity is its key)
cdef enum:
    CACHE = 16
cdef void *_cache_id[CACHE]
cdef Py_ssize_t _cache_nb[CACHE]
cdef pex_i128 _cache_caps[CACHE][MAX_BRACKETS]
cdef pex_i128 _cache_mmrs[CACHE][MAX_BRACKETS]
cdef pex_i128 _cache_cums[CACHE][MAX_BRACKETS]
cdef Py_ssize_t _cache_used = 0, _cache_next = 0
_cache_refs = [None] * CACHE


cdef Py_ssize_t _brackets(tuple brackets_mmr) except -2:
    """Slot of ``brackets_mmr`` in the cache (converted on first use), or -1 when it
    does not fit (too many brackets, values beyond 64 bits)."""
    global _cache_used, _cache_next
    cdef Py_ssize_t c, i, nb = len(brackets_mmr)
    cdef tuple b
    for c in range(_cache_used):
        if _cache_id[c] == <void *>brackets_mmr:
            return c
    if nb == 0 or nb > MAX_BRACKETS:
        return -1
    c = _cache_next
    _cache_id[c] = NULL
    try:
        for i in range(nb):
            b = brackets_mmr[i]
            _cache_caps[c][i] = <long long>b[0]
            _cache_mmrs[c][i] = <long long>b[1]
            _cache_cums[c][i] = <long long>b[2]
    except OverflowError:
        return -1
    _cache_refs[c] = brackets_mmr
    _cache_id[c] = <void *>brackets_mmr
    _cache_nb[c] = nb
    _cache_next = (c + 1) % CACHE
    if _cache_used < CACHE:
        _cache_used += 1
    return c


def trigger_key(q, cost, wallet_adj, tuple brackets_mmr, notional_unit, mark):
    """Same answer as ``liquidation.trigger_key`` (``(key, -1|1)``, None or False), or
    ``NotImplemented`` when a value does not fit the 128-bit arithmetic."""
    cdef long long cq, ccost, cwallet, cunit, cmark
    cdef Py_ssize_t slot
    slot = _brackets(brackets_mmr)
    if slot < 0:
        return NotImplemented
    try:
        cq = q
        ccost = cost
        cwallet = wallet_adj
        cunit = notional_unit
        cmark = mark
    except OverflowError:
        return NotImplemented
    return _trigger(cq, ccost, cwallet, cunit, cmark, slot)


cpdef cross_key(q, cost, wallet, tuple brackets_mmr, notional_unit, mark):
    """The one-position cross account of ``Liquidation._reindex`` in one call: True when the
    position is at or below maintenance margin at ``mark`` (``mm > 0 and wallet + upnl - mm
    <= 0``, ``mm`` as ``SymbolSpec.maint_margin``), else ``trigger_key(q, cost, wallet, ...)``;
    ``NotImplemented`` when a value does not fit (the caller runs the Python code)."""
    cdef long long cq, ccost, cwallet, cunit, cmark
    cdef Py_ssize_t slot, i, nb
    cdef pex_i128 aq, n, u, t, mm
    slot = _brackets(brackets_mmr)
    if slot < 0:
        return NotImplemented
    try:
        cq = q
        ccost = cost
        cwallet = wallet
        cunit = notional_unit
        cmark = mark
    except OverflowError:
        return NotImplemented
    if cq > 0:          # (no conditional expression: Cython would type it long long)
        aq = cq
    else:
        aq = -(<pex_i128>cq)
    if pex_mul(aq, cmark, &t) or pex_mul(t, cunit, &n):
        return NotImplemented
    u = n - ccost if cq > 0 else ccost - n
    nb = _cache_nb[slot]
    i = 0
    while i < nb - 1 and n > _cache_caps[slot][i]:       # SymbolSpec.maint_margin
        i += 1
    if pex_mul(-n, _cache_mmrs[slot][i], &t):
        return NotImplemented
    if pex_sub(-pex_floordiv(t, _R), _cache_cums[slot][i], &mm):
        return NotImplemented
    if mm > 0:
        if pex_add(cwallet, u, &t) or pex_sub(t, mm, &t):
            return NotImplemented
        if t <= 0:
            return True
    return _trigger(cq, ccost, cwallet, cunit, cmark, slot)


cdef object _trigger(long long cq, long long ccost, long long cwallet, long long cunit, long long cmark,
                     Py_ssize_t slot):
    cdef pex_i128 *caps = _cache_caps[slot]
    cdef pex_i128 *mmrs = _cache_mmrs[slot]
    cdef pex_i128 *cums = _cache_cums[slot]
    cdef Py_ssize_t nb = _cache_nb[slot], last, i, j, it
    cdef pex_i128 aq, scost, n, num, den, rn, rd, r, nr, t, key, pad
    last = nb - 1
    if cq > 0:
        aq = cq
        scost = ccost
    else:
        aq = -(<pex_i128>cq)
        scost = -(<pex_i128>ccost)
    if pex_mul(aq, cmark, &t) or pex_mul(t, cunit, &n):
        return NotImplemented
    i = 0
    while i < last and n > caps[i]:
        i += 1
    for it in range(last + 3):
        if pex_add(cwallet, cums[i], &t) or pex_sub(t, scost, &num):
            return NotImplemented
        if pex_mul(aq, mmrs[i], &t) or pex_mul(_R, cq, &den) or pex_sub(t, den, &den):
            return NotImplemented
        if pex_mul(num, _R, &rn) or pex_mul(cunit, den, &rd) or rd == 0:
            return NotImplemented
        r = pex_floordiv(rn, rd)
        if pex_mul(aq, r if r > 0 else 0, &t) or pex_mul(t, cunit, &nr):
            return NotImplemented
        j = 0
        while j < last and nr > caps[j]:
            j += 1
        if j == i:
            break
        i = j
    else:
        return False
    pad = 1 if aq * cunit >= 4 else 4
    if den < 0:
        key = r + pad
        if not pex_fits64(key):
            return NotImplemented
        return ((<long long>key), -1) if key > 0 else None
    key = -pex_floordiv(-rn, rd) - pad
    if not pex_fits64(key):
        return NotImplemented
    return ((<long long>key) if key > 0 else 0, 1)


def maint_margin(notional, tuple brackets_mmr):
    """Same answer as ``SymbolSpec.maint_margin`` (maintenance margin of a notional >= 0,
    rounded up), or ``NotImplemented`` when a value does not fit 64 bits."""
    cdef long long cn
    cdef pex_i128 t, mm, mmr, cum
    cdef Py_ssize_t i, nb, slot
    slot = _brackets(brackets_mmr)
    if slot < 0:
        return NotImplemented
    try:
        cn = notional
    except OverflowError:
        return NotImplemented
    nb = _cache_nb[slot]
    i = 0
    while i < nb - 1 and cn > _cache_caps[slot][i]:      # first bracket with notional <= cap, else the last
        i += 1
    mmr = _cache_mmrs[slot][i]
    cum = _cache_cums[slot][i]
    if pex_mul(-(<pex_i128>cn), mmr, &t):
        return NotImplemented
    mm = -pex_floordiv(t, _R) - cum
    if not pex_fits64(mm):
        return NotImplemented
    return <long long>mm if mm > 0 else 0
