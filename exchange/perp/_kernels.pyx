# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled kernels of the perp formulas the venue runs per order, per fill and per re-index.

Each function here has the name, the arguments and the answers of its Python
specification in ``exchange.perp`` (named below each) and is exact over the
specification's whole input domain: the arithmetic runs in 64/128-bit C with
Python's floor division while every input is an ``int`` that fits 64 bits and
every product and result fits (overflow-checked); otherwise - a value beyond 64
bits, a bool or any other type, a division by zero - the kernel calls the
specification itself and returns what it returns (or raises what it raises).
So a caller never learns which one ran.

``exchange.perp`` exports these in place of the Python functions unless
``PAPEREX_PURE=1`` (``matching.accelerator``); the venue's compiled modules call
them in C (``_kernels.pxd``).  ``tests/perp/test_kernels.py`` holds each one to its
specification on random and extreme inputs, and ``BENCHMARKS.md`` ("Compiled twins
and fast paths") records what each pays.
"""
from cpython.object cimport PyObject

from exchange.perp import fees as _fees, funding as _funding, liquidation as _liquidation, margin as _margin
from exchange.perp import position as _position

cdef extern from *:
    """
    typedef __int128 pk_i128;
    static inline int pk_mul(pk_i128 a, pk_i128 b, pk_i128 *r) { return __builtin_mul_overflow(a, b, r); }
    static inline int pk_add(pk_i128 a, pk_i128 b, pk_i128 *r) { return __builtin_add_overflow(a, b, r); }
    static inline int pk_sub(pk_i128 a, pk_i128 b, pk_i128 *r) { return __builtin_sub_overflow(a, b, r); }
    /* Python's a // b (b != 0) */
    static inline pk_i128 pk_floordiv(pk_i128 a, pk_i128 b) {
        if (a >= (pk_i128)INT64_MIN && a <= (pk_i128)INT64_MAX && b >= (pk_i128)INT64_MIN
                && b <= (pk_i128)INT64_MAX && b != -1) {      /* 64-bit division: same quotient, cheaper */
            long long x = (long long)a, y = (long long)b, r = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) r -= 1;
            return r;
        }
        pk_i128 q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        return q;
    }
    static inline pk_i128 pk_make(long long hi, unsigned long long lo) {
        return (pk_i128)hi * ((pk_i128)1 << 64) + (pk_i128)lo;
    }
    static inline int pk_fits64(pk_i128 a) { return a >= (pk_i128)INT64_MIN && a <= (pk_i128)INT64_MAX; }
    /* *out = v (an exact int) when it fits 64 bits.  Ints of up to two digits (money values
       are) read inline where the digit layout is CPython 3.11's; others through the API. */
    static inline int pk_ll(PyObject *v, long long *out) {
    #if PY_VERSION_HEX < 0x030C0000 && !defined(Py_LIMITED_API) && !defined(PYPY_VERSION)
        const digit *d = ((PyLongObject *)v)->ob_digit;
        switch (Py_SIZE(v)) {
            case 0: *out = 0; return 1;
            case 1: *out = (long long)d[0]; return 1;
            case -1: *out = -(long long)d[0]; return 1;
            case 2: *out = (long long)(((unsigned long long)d[1] << PyLong_SHIFT) | d[0]); return 1;
            case -2: *out = -(long long)(((unsigned long long)d[1] << PyLong_SHIFT) | d[0]); return 1;
        }
    #endif
        int overflow = 0;
        *out = PyLong_AsLongLongAndOverflow(v, &overflow);
        return overflow == 0 && !(*out == -1 && PyErr_Occurred());
    }
    """
    ctypedef long long pk_i128   # Cython only needs a name; C sees __int128
    bint pk_mul(pk_i128 a, pk_i128 b, pk_i128 *r)
    bint pk_add(pk_i128 a, pk_i128 b, pk_i128 *r)
    bint pk_sub(pk_i128 a, pk_i128 b, pk_i128 *r)
    pk_i128 pk_floordiv(pk_i128 a, pk_i128 b)
    bint pk_fits64(pk_i128 a)
    pk_i128 pk_make(long long hi, unsigned long long lo)
    bint pk_ll(PyObject *v, long long *out)

cdef extern from "limits.h":
    const long long LLONG_MIN

cdef enum:
    RATE_SCALE = 100_000_000        # exchange.units.RATE_SCALE (tests/perp/test_kernels.py checks)
    BOTH = 0                        # exchange.contract.codes.BOTH
    LONG = 1                        # exchange.contract.codes.LONG
    FALLS = -1                      # exchange.perp.liquidation.FALLS
    RISES = 1                       # exchange.perp.liquidation.RISES
    MAX_BRACKETS = 64
    CACHE = 16


cdef inline bint _ll(object v, long long *out):
    """``out`` = v when v is an int (not a bool or a subclass) that fits 64 bits, and not
    INT64_MIN (whose negation does not fit: the kernels negate freely)."""
    if type(v) is not int:
        return False
    return pk_ll(<PyObject *>v, out) and out[0] != LLONG_MIN


cdef inline object _int(pk_i128 v):
    return <long long>v


# ---------------------------------------------------------------- position (exchange.perp.position)

cpdef tuple apply_fill(qty, cost, fill_qty, fill_price, notional_unit):
    """``exchange.perp.position.apply_fill``: new ``(qty, cost)`` and the realized PnL."""
    cdef long long q, c, fq, p, u
    cdef pk_i128 fill_abs, pos_abs, close, cost_closed, t, exit_value, realized, rest, new_qty, new_cost
    if not (_ll(qty, &q) and _ll(cost, &c) and _ll(fill_qty, &fq) and _ll(fill_price, &p)
            and _ll(notional_unit, &u)):
        return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
    if fq == 0:
        return qty, cost, 0
    fill_abs = fq if fq > 0 else -(<pk_i128>fq)
    if q == 0 or (q > 0) == (fq > 0):
        if pk_mul(fill_abs, p, &t) or pk_mul(t, u, &t) or pk_add(c, t, &new_cost):
            return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
        new_qty = <pk_i128>q + fq
        if not (pk_fits64(new_qty) and pk_fits64(new_cost)):
            return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
        return _int(new_qty), _int(new_cost), 0
    pos_abs = q if q > 0 else -(<pk_i128>q)
    close = fill_abs if fill_abs < pos_abs else pos_abs
    if close == pos_abs:
        cost_closed = c
    elif q > 0:
        if pk_mul(-(<pk_i128>c), close, &t):
            return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
        cost_closed = -pk_floordiv(t, pos_abs)         # ceil: a long's realized PnL rounds down
    else:
        if pk_mul(c, close, &t):
            return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
        cost_closed = pk_floordiv(t, pos_abs)          # floor: a short's realized PnL rounds down
    if pk_mul(close, p, &t) or pk_mul(t, u, &exit_value):
        return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
    if q > 0:
        realized = exit_value - cost_closed
    else:
        realized = cost_closed - exit_value
    rest = fill_abs - close
    if rest == 0:
        new_qty = <pk_i128>q + fq
        new_cost = <pk_i128>c - cost_closed
    else:
        new_qty = rest if fq > 0 else -rest
        if pk_mul(rest, p, &t) or pk_mul(t, u, &new_cost):
            return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
    if not (pk_fits64(new_qty) and pk_fits64(new_cost) and pk_fits64(realized)):
        return _position.apply_fill(qty, cost, fill_qty, fill_price, notional_unit)
    return _int(new_qty), _int(new_cost), _int(realized)


cpdef unrealized_pnl(qty, cost, mark_price, notional_unit):
    """``exchange.perp.position.unrealized_pnl``."""
    cdef long long q, c, m, u
    cdef pk_i128 t, value
    if not (_ll(qty, &q) and _ll(cost, &c) and _ll(mark_price, &m) and _ll(notional_unit, &u)):
        return _position.unrealized_pnl(qty, cost, mark_price, notional_unit)
    if q == 0:
        return 0
    if pk_mul(q if q > 0 else -q, m, &t) or pk_mul(t, u, &value):
        return _position.unrealized_pnl(qty, cost, mark_price, notional_unit)
    if q > 0:               # (no conditional expressions on __int128: Cython would type them long long)
        t = value - c
    else:
        t = c - value
    if not pk_fits64(t):
        return _position.unrealized_pnl(qty, cost, mark_price, notional_unit)
    return _int(t)


# ---------------------------------------------------------------- fees (exchange.perp.fees)

cpdef tuple commission_split(notional, fee_rate):
    """``exchange.perp.fees.commission_split``: (charged rounded up, exact part rounded down)."""
    cdef long long n, r
    cdef pk_i128 raw, fee, booked
    if not (_ll(notional, &n) and _ll(fee_rate, &r)) or pk_mul(n if n >= 0 else -n, r, &raw):
        return _fees.commission_split(notional, fee_rate)
    fee = -pk_floordiv(-raw, RATE_SCALE)
    booked = pk_floordiv(raw, RATE_SCALE)
    if not (pk_fits64(fee) and pk_fits64(booked)):
        return _fees.commission_split(notional, fee_rate)
    return _int(fee), _int(booked)


# ---------------------------------------------------------------- funding (exchange.perp.funding)

cpdef funding_payment(qty, mark_price, rate, notional_unit):
    """``exchange.perp.funding.funding_payment``: + received (rounded down), - paid (rounded up)."""
    cdef long long q, m, r, u
    cdef pk_i128 raw
    if not (_ll(qty, &q) and _ll(mark_price, &m) and _ll(rate, &r) and _ll(notional_unit, &u)):
        return _funding.funding_payment(qty, mark_price, rate, notional_unit)
    if q == 0 or r == 0:
        return 0
    if (pk_mul(q if q > 0 else -q, m, &raw) or pk_mul(raw, u, &raw)
            or pk_mul(raw, r if r > 0 else -r, &raw)):
        return _funding.funding_payment(qty, mark_price, rate, notional_unit)
    if (q > 0) == (r > 0):
        raw = pk_floordiv(-raw, RATE_SCALE)        # - ceil(raw / RATE_SCALE): the payer is charged
    else:
        raw = pk_floordiv(raw, RATE_SCALE)         # floor: the receiver is credited
    if not pk_fits64(raw):
        return _funding.funding_payment(qty, mark_price, rate, notional_unit)
    return _int(raw)


# ---------------------------------------------------------------- margin (exchange.perp.margin)

cpdef initial_margin(notional, leverage):
    """``exchange.perp.margin.initial_margin``: ``ceil(|N| / L)``."""
    cdef long long n, lev
    if not (_ll(notional, &n) and _ll(leverage, &lev)) or lev < 1:
        return _margin.initial_margin(notional, leverage)
    return _int(-pk_floordiv(-(<pk_i128>(n if n >= 0 else -n)), lev))


cdef bint _slot(long long ps, long long pn, long long bn, long long sn, long long bl, long long sl,
               long long lev, pk_i128 *im_out, pk_i128 *req_out):
    """The C body of ``slot_order_margin`` (``lev`` >= 1; 64-bit inputs): False when a
    result does not fit 64 bits (the caller runs the specification)."""
    cdef pk_i128 up, down, apn, im, req, loss
    if ps == BOTH:
        up = <pk_i128>pn + bn
        if up < 0:
            up = -up
        down = <pk_i128>pn - sn
        if down < 0:
            down = -down
        apn = pn if pn >= 0 else -(<pk_i128>pn)
        if up >= down:
            req = up
            loss = bl
        else:
            req = down
            loss = sl
        im = -pk_floordiv(-req, lev) + pk_floordiv(-apn, lev)
        if im < 0:
            im = 0
        im += loss
    elif ps == LONG:
        im = -pk_floordiv(-(<pk_i128>(bn if bn >= 0 else -bn)), lev) + bl
        req = <pk_i128>pn + bn
    else:
        im = -pk_floordiv(-(<pk_i128>(sn if sn >= 0 else -sn)), lev) + sl
        req = -(<pk_i128>pn) + sn
    im_out[0] = im
    req_out[0] = req
    return pk_fits64(im) and pk_fits64(req)


cpdef tuple slot_order_margin(position_side, position_notional, buy_notional, sell_notional,
                              buy_loss, sell_loss, leverage):
    """``exchange.perp.margin.slot_order_margin``: (initial margin, worst-case notional)."""
    cdef long long ps, pn, bn, sn, bl, sl, lev
    cdef pk_i128 im, req
    if not (_ll(position_side, &ps) and _ll(position_notional, &pn) and _ll(buy_notional, &bn)
            and _ll(sell_notional, &sn) and _ll(buy_loss, &bl) and _ll(sell_loss, &sl)
            and _ll(leverage, &lev)) or lev < 1 \
            or not _slot(ps, pn, bn, sn, bl, sl, lev, &im, &req):
        return _margin.slot_order_margin(position_side, position_notional, buy_notional, sell_notional,
                                         buy_loss, sell_loss, leverage)
    return _int(im), _int(req)


cpdef tuple slot_margin_change(position_side, position_notional, buy_notional, sell_notional,
                               buy_loss, sell_loss, leverage, side, notional, loss):
    """``exchange.perp.margin.slot_margin_change``: (margin before, margin after, worst case after)."""
    cdef long long ps, pn, bn, sn, bl, sl, lev, sd, n, ls
    cdef pk_i128 before, after, worst, bn2, sn2, bl2, sl2
    if not (_ll(position_side, &ps) and _ll(position_notional, &pn) and _ll(buy_notional, &bn)
            and _ll(sell_notional, &sn) and _ll(buy_loss, &bl) and _ll(sell_loss, &sl)
            and _ll(leverage, &lev) and _ll(side, &sd) and _ll(notional, &n) and _ll(loss, &ls)) \
            or lev < 1 or not _slot(ps, pn, bn, sn, bl, sl, lev, &before, &worst):
        return _margin.slot_margin_change(position_side, position_notional, buy_notional, sell_notional,
                                          buy_loss, sell_loss, leverage, side, notional, loss)
    bn2 = bn
    sn2 = sn
    bl2 = bl
    sl2 = sl
    if sd == 0:
        bn2 += n
        bl2 += ls
    else:
        sn2 += n
        sl2 += ls
    if not (pk_fits64(bn2) and pk_fits64(sn2) and pk_fits64(bl2) and pk_fits64(sl2)
            and _slot(ps, pn, <long long>bn2, <long long>sn2, <long long>bl2, <long long>sl2, lev, &after, &worst)):
        return _margin.slot_margin_change(position_side, position_notional, buy_notional, sell_notional,
                                          buy_loss, sell_loss, leverage, side, notional, loss)
    return _int(before), _int(after), _int(worst)


# converted bracket tables of the last few bracket tuples (one per symbol; a tuple is
# immutable and kept alive by ``_cache_refs``, so its identity is its key)
cdef void *_cache_id[CACHE]
cdef Py_ssize_t _cache_nb[CACHE]
cdef pk_i128 _cache_caps[CACHE][MAX_BRACKETS]
cdef long long _cache_mmrs[CACHE][MAX_BRACKETS]
cdef long long _cache_cums[CACHE][MAX_BRACKETS]
cdef Py_ssize_t _cache_used = 0, _cache_next = 0
_cache_refs = [None] * CACHE


cdef Py_ssize_t _brackets(object brackets) except -2:
    """Slot of the bracket tuple in the cache (converted on first use), or -1 when the table
    is not a tuple or does not fit (no brackets, too many, a rate or cum beyond 64 bits, a
    cap beyond 128)."""
    global _cache_used, _cache_next
    cdef Py_ssize_t c, i, nb
    cdef long long cap, mmr, cum, hi
    cdef unsigned long long lo
    cdef pk_i128 cap128
    if type(brackets) is not tuple:
        return -1
    for c in range(_cache_used):
        if _cache_id[c] == <void *>brackets:
            return c
    nb = len(<tuple>brackets)
    if nb == 0 or nb > MAX_BRACKETS:
        return -1
    c = _cache_next
    _cache_id[c] = NULL
    for i in range(nb):
        b = (<tuple>brackets)[i]
        v = b.notional_cap
        if type(v) is not int:
            return -1
        if pk_ll(<PyObject *>v, &cap):
            cap128 = cap
        else:                               # e.g. the 1e30 cap of a one-tier table
            w = v >> 64
            if not pk_ll(<PyObject *>w, &hi):
                return -1
            lo = v & 0xFFFFFFFFFFFFFFFF
            cap128 = pk_make(hi, lo)
        if not (_ll(b.maint_margin_rate, &mmr) and _ll(b.cum, &cum)):
            return -1
        _cache_caps[c][i] = cap128
        _cache_mmrs[c][i] = mmr
        _cache_cums[c][i] = cum
    _cache_refs[c] = brackets
    _cache_id[c] = <void *>brackets
    _cache_nb[c] = nb
    _cache_next = (c + 1) % CACHE
    if _cache_used < CACHE:
        _cache_used += 1
    return c


# ---------------------------------------------------------------- liquidation (exchange.perp.liquidation)

cpdef leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark):
    """``exchange.perp.liquidation.leg_index_key``: True when liquidatable at ``mark``, else
    ``index_key``."""
    cdef long long cq, ccost, cwallet, cunit, cmark
    cdef Py_ssize_t slot, i, nb
    cdef pk_i128 aq, n, u, t, mm
    slot = _brackets(brackets)
    if slot < 0 or not (_ll(q, &cq) and _ll(cost, &ccost) and _ll(wallet_adj, &cwallet)
                        and _ll(notional_unit, &cunit) and _ll(mark, &cmark)):
        return _liquidation.leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark)
    aq = cq
    if cq < 0:
        aq = -aq
    if pk_mul(aq, cmark, &t) or pk_mul(t, cunit, &n):
        return _liquidation.leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark)
    if cq > 0:
        u = n - ccost
    else:
        u = ccost - n
    if n < 0:           # (a negative mark: maint_margin takes |N|)
        n = -n
    nb = _cache_nb[slot]
    i = 0
    while i < nb - 1 and n > _cache_caps[slot][i]:       # maint_margin's bracket
        i += 1
    if pk_mul(-n, _cache_mmrs[slot][i], &t) or pk_sub(-pk_floordiv(t, RATE_SCALE), _cache_cums[slot][i], &mm):
        return _liquidation.leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark)
    if mm > 0:          # is_liquidatable(wallet_adj + upnl, mm)
        if pk_add(cwallet, u, &t):
            return _liquidation.leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark)
        if t <= mm:
            return True
    r = _index_key(cq, ccost, cwallet, cunit, cmark, slot)
    if r is NotImplemented:
        return _liquidation.leg_index_key(q, cost, wallet_adj, brackets, notional_unit, mark)
    return r


cdef object _index_key(long long cq, long long ccost, long long cwallet, long long cunit, long long cmark,
                       Py_ssize_t slot):
    cdef pk_i128 *caps = _cache_caps[slot]
    cdef long long *mmrs = _cache_mmrs[slot]
    cdef long long *cums = _cache_cums[slot]
    cdef Py_ssize_t nb = _cache_nb[slot], last, i, j, it
    cdef pk_i128 aq, scost, n, num, den, rn, rd, r, nr, t, key, pad
    last = nb - 1
    if cq > 0:
        aq = cq
        scost = ccost
    else:
        aq = -(<pk_i128>cq)
        scost = -(<pk_i128>ccost)
    if pk_mul(aq, cmark, &t) or pk_mul(t, cunit, &n):
        return NotImplemented
    i = 0
    while i < last and n > caps[i]:
        i += 1
    for it in range(last + 3):
        if pk_add(cwallet, cums[i], &t) or pk_sub(t, scost, &num):
            return NotImplemented
        if pk_mul(aq, mmrs[i], &t) or pk_mul(RATE_SCALE, cq, &den) or pk_sub(t, den, &den):
            return NotImplemented
        if pk_mul(num, RATE_SCALE, &rn) or pk_mul(cunit, den, &rd) or rd == 0:
            return NotImplemented
        r = pk_floordiv(rn, rd)
        t = 0
        if r > 0:
            t = r
        if pk_mul(aq, t, &t) or pk_mul(t, cunit, &nr):
            return NotImplemented
        j = 0
        while j < last and nr > caps[j]:
            j += 1
        if j == i:
            break
        i = j
    else:
        return False
    if pk_mul(aq, cunit, &t):
        return NotImplemented
    pad = 1 if t >= 4 else 4
    if den < 0:
        key = r + pad
        if not pk_fits64(key):
            return NotImplemented
        return (_int(key), FALLS) if key > 0 else None
    key = -pk_floordiv(-rn, rd) - pad
    if not pk_fits64(key):
        return NotImplemented
    return (_int(key) if key > 0 else 0, RISES)
