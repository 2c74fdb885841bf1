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


def trigger_key(q, cost, wallet_adj, tuple brackets_mmr, notional_unit, mark):
    """Same answer as ``liquidation.trigger_key`` (``(key, -1|1)``, None or False), or
    ``NotImplemented`` when a value does not fit the 128-bit arithmetic."""
    cdef long long cq, ccost, cwallet, cunit, cmark
    cdef pex_i128 caps[MAX_BRACKETS]
    cdef pex_i128 mmrs[MAX_BRACKETS]
    cdef pex_i128 cums[MAX_BRACKETS]
    cdef Py_ssize_t nb = len(brackets_mmr), last, i, j, it
    cdef pex_i128 aq, scost, n, num, den, rn, rd, r, nr, t, key, pad
    cdef tuple b
    if nb == 0 or nb > MAX_BRACKETS:
        return NotImplemented
    try:
        cq = q
        ccost = cost
        cwallet = wallet_adj
        cunit = notional_unit
        cmark = mark
        for i in range(nb):
            b = brackets_mmr[i]
            caps[i] = <long long>b[0]
            mmrs[i] = <long long>b[1]
            cums[i] = <long long>b[2]
    except OverflowError:
        return NotImplemented
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
    cdef long long cn, cap, mmr, cum
    cdef pex_i128 t, mm
    cdef Py_ssize_t i, nb = len(brackets_mmr)
    cdef tuple b = None
    if nb == 0:
        return NotImplemented
    try:
        cn = notional
        for i in range(nb):
            b = brackets_mmr[i]
            cap = b[0]
            if cn <= cap:
                break
        mmr = b[1]
        cum = b[2]
    except OverflowError:
        return NotImplemented
    if pex_mul(-(<pex_i128>cn), mmr, &t):
        return NotImplemented
    mm = -pex_floordiv(t, _R) - cum
    if not pex_fits64(mm):
        return NotImplemented
    return <long long>mm if mm > 0 else 0
