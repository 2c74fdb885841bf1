# cython: language_level=3, boundscheck=False, wraparound=False
"""``risk.slot_order_margin`` and ``risk.available_balance`` in 128-bit C integers.

Both run once or twice per new order; in Python integers (money values are
two-digit Python ints) their handful of floor divisions and negations cost
~1.5k instructions a call.  Here the same arithmetic runs in ``__int128`` with
Python's floor division.  Every input must be an int that fits 64 bits, every
product is overflow-checked and the result must fit 64 bits; otherwise (or
when a value is not what the venue stores, or a lookup would fail) the
function answers ``NotImplemented`` and the caller runs the Python code (the
pure-Python twin, always exact).  ``tests/venue/test_riskmath.py`` compares
both on random and extreme inputs.
"""
from cpython.dict cimport PyDict_GetItem, PyDict_Next
from cpython.object cimport PyObject
from libc.stdint cimport INT64_MIN

from exchange.venue.accounts cimport Account, OrderAgg
from exchange.venue.positions cimport Position
from exchange.venue.spec cimport SymbolSpec
from exchange.venue.symbol_state cimport SymbolState

cdef extern from *:
    """
    typedef __int128 prm_i128;
    static inline int prm_mul(prm_i128 a, prm_i128 b, prm_i128 *r) { return __builtin_mul_overflow(a, b, r); }
    /* Python's a // b (b != 0) */
    static inline prm_i128 prm_floordiv(prm_i128 a, prm_i128 b) {
        if (a >= (prm_i128)INT64_MIN && a <= (prm_i128)INT64_MAX && b >= (prm_i128)INT64_MIN
                && b <= (prm_i128)INT64_MAX && b != -1) {      /* 64-bit division: same quotient, cheaper */
            long long x = (long long)a, y = (long long)b, r = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) r -= 1;
            return r;
        }
        prm_i128 q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        return q;
    }
    static inline int prm_fits64(prm_i128 a) { return a >= (prm_i128)INT64_MIN && a <= (prm_i128)INT64_MAX; }
    /* *out = v (an exact int) when it fits 64 bits.  Ints of up to two digits (money values
       are) read inline where the digit layout is CPython 3.11's; others through the API. */
    static inline int prm_ll(PyObject *v, long long *out) {
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
        return overflow == 0;
    }
    """
    ctypedef long long prm_i128   # Cython only needs a name; C sees __int128
    bint prm_mul(prm_i128 a, prm_i128 b, prm_i128 *r)
    prm_i128 prm_floordiv(prm_i128 a, prm_i128 b)
    bint prm_fits64(prm_i128 a)
    bint prm_ll(PyObject *v, long long *out)

cdef enum:
    BOTH = 0        # codes.BOTH
    LONG = 1        # codes.LONG
    ISOLATED = 1    # codes.ISOLATED


cdef inline bint _ll(object v, long long *out):
    """``out`` = v when v is an int that fits 64 bits."""
    if type(v) is not int:
        return False
    return prm_ll(<PyObject *>v, out)


cdef inline bint _slot(long long bn, long long sn, long long bl, long long sl, long long ps,
                       prm_i128 pn, long long lev, prm_i128 *im_out, prm_i128 *req_out):
    """``slot_order_margin`` for C values; False when the leverage is 0 (Python raises)."""
    cdef prm_i128 a, b, apn, req, loss, im
    if lev == 0:
        return False
    if ps == BOTH:
        a = pn + bn
        if a < 0:
            a = -a
        b = pn - sn
        if b < 0:
            b = -b
        apn = pn if pn >= 0 else -pn
        if a >= b:
            req = a
            loss = bl
        else:
            req = b
            loss = sl
        im = -prm_floordiv(-req, lev) + prm_floordiv(-apn, lev)
        if im < 0:
            im = 0
        im_out[0] = im + loss
        req_out[0] = req
    elif ps == LONG:
        im_out[0] = -prm_floordiv(-(<prm_i128>bn), lev) + bl
        req_out[0] = pn + bn
    else:
        im_out[0] = -prm_floordiv(-(<prm_i128>sn), lev) + sl
        req_out[0] = -pn + sn
    return True


cpdef _slot_order_margin_c(OrderAgg agg, position_side, pn, lev):
    """Same answer as ``risk.slot_order_margin``, or ``NotImplemented``."""
    cdef long long bn, sn, bl, sl, ps, cpn, clev
    cdef prm_i128 im, req
    if not (_ll(agg.buy_notional, &bn) and _ll(agg.sell_notional, &sn) and _ll(agg.buy_loss, &bl)
            and _ll(agg.sell_loss, &sl) and _ll(position_side, &ps) and _ll(pn, &cpn) and _ll(lev, &clev)):
        return NotImplemented
    if not _slot(bn, sn, bl, sl, ps, cpn, clev, &im, &req):
        return NotImplemented
    if not (prm_fits64(im) and prm_fits64(req)):
        return NotImplemented
    return (<long long>im, <long long>req)


cdef inline bint _notional(Position pos, long long mark, long long unit, prm_i128 *pn, prm_i128 *upnl):
    """Signed position notional at mark (entry notional without a mark) and its UPNL."""
    cdef long long q, entry
    cdef prm_i128 t
    if not (_ll(pos.qty, &q) and _ll(pos.entry, &entry)):
        return False
    if mark:
        if prm_mul(q, mark, &t) or prm_mul(t, unit, pn):
            return False
        # (no conditional expressions mixing long long and __int128: Cython types them long long)
        if q > 0:
            upnl[0] = pn[0] - entry
        else:
            upnl[0] = pn[0] + entry
    else:
        if q >= 0:
            pn[0] = entry
        else:
            pn[0] = -(<prm_i128>entry)
        upnl[0] = 0
    return prm_fits64(pn[0])


cpdef _available_balance_c(Account acct, dict symbols):
    """Same answer as ``risk.available_balance``, or ``NotImplemented``."""
    cdef Py_ssize_t i = 0
    cdef PyObject *k
    cdef PyObject *v
    cdef PyObject *p
    cdef PyObject *pos_key = NULL      # the last position's key and symbol: an order slot of the
    cdef PyObject *sym_seen = NULL     # same key object finds the same entries (nothing changes here)
    cdef Position pos
    cdef Position last_pos = None
    cdef OrderAgg agg
    cdef SymbolState st = None
    cdef SymbolSpec spec
    cdef dict settings = acct.settings
    cdef dict positions = acct.positions
    cdef tuple key
    cdef list s
    cdef long long mark, unit, lev, mt, q, bn, sn, bl, sl, ps, cw
    cdef prm_i128 avail, pn, upnl, apn, im, req
    if settings is None or positions is None or acct.aggs is None or not _ll(acct.cross_wallet, &cw):
        return NotImplemented
    avail = cw
    while PyDict_Next(positions, &i, &k, &v):
        if type(<object>v) is not Position or type(<object>k) is not tuple:
            return NotImplemented
        pos = <Position>v
        key = <tuple>k
        if len(key) != 2:
            return NotImplemented
        pos_key = k
        last_pos = pos
        if not _ll(pos.qty, &q):
            return NotImplemented
        if q == 0:
            continue
        p = PyDict_GetItem(settings, key[0])
        if p is NULL or type(<object>p) is not list:
            return NotImplemented
        s = <list>p
        if len(s) != 2 or not _ll(s[1], &mt) or not _ll(s[0], &lev) or lev == 0:
            return NotImplemented
        if mt == ISOLATED:
            continue
        p = PyDict_GetItem(symbols, key[0])
        if p is NULL or type(<object>p) is not SymbolState:
            return NotImplemented
        st = <SymbolState>p
        sym_seen = <PyObject *>key[0]
        spec = st.spec
        if spec is None or not (_ll(st.mark, &mark) and _ll(spec.notional_unit, &unit)):
            return NotImplemented
        if not _notional(pos, mark, unit, &pn, &upnl):
            return NotImplemented
        avail += upnl
        apn = pn if pn >= 0 else -pn
        avail += prm_floordiv(-apn, lev)          # - ceil(|pn| / lev)
    i = 0
    while PyDict_Next(acct.aggs, &i, &k, &v):
        if type(<object>v) is not OrderAgg or type(<object>k) is not tuple:
            return NotImplemented
        agg = <OrderAgg>v
        if not (_ll(agg.buy_notional, &bn) and _ll(agg.sell_notional, &sn) and _ll(agg.buy_loss, &bl)
                and _ll(agg.sell_loss, &sl)):
            return NotImplemented
        if not (bn or sn or bl or sl):
            continue
        key = <tuple>k
        if len(key) != 2 or not _ll(key[1], &ps):
            return NotImplemented
        if sym_seen == NULL or <PyObject *>key[0] != sym_seen:
            p = PyDict_GetItem(symbols, key[0])
            if p is NULL or type(<object>p) is not SymbolState:
                return NotImplemented
            st = <SymbolState>p
            sym_seen = <PyObject *>key[0]
        spec = st.spec
        if spec is None:
            return NotImplemented
        pn = 0
        if k == pos_key:
            p = <PyObject *>last_pos
        else:
            p = PyDict_GetItem(positions, key)
        if p is not NULL:
            if type(<object>p) is not Position:
                return NotImplemented
            pos = <Position>p
            if not _ll(pos.qty, &q):
                return NotImplemented
            if q:
                if not (_ll(st.mark, &mark) and _ll(spec.notional_unit, &unit)):
                    return NotImplemented
                if not _notional(pos, mark, unit, &pn, &upnl):
                    return NotImplemented
        p = PyDict_GetItem(settings, key[0])
        if p is not NULL:
            if type(<object>p) is not list or len(<list>p) < 1 or not _ll((<list>p)[0], &lev):
                return NotImplemented
        elif not _ll(spec.default_leverage, &lev):
            return NotImplemented
        if not _slot(bn, sn, bl, sl, ps, pn, lev, &im, &req):
            return NotImplemented
        avail -= im
    if not prm_fits64(avail):
        return NotImplemented
    return <long long>avail



cdef enum:
    RATE_SCALE = 100_000_000        # exchange.units.RATE_SCALE (test_riskmath checks)


cpdef _fee_c(n, rate):
    """``(-((-n * rate) // RATE_SCALE), (n * rate) // RATE_SCALE)``: n * rate / RATE_SCALE
    rounded up and down, or ``NotImplemented`` (an input not a 64-bit int, or a result
    outside 64 bits).  The fee split of a fill (``VenueCore._fill``: fee charged, fee
    booked) and the PERCENT_PRICE bounds (``limit_filter_error``)."""
    cdef long long cn, cr
    cdef prm_i128 nr, fee, booked
    if not (_ll(n, &cn) and _ll(rate, &cr)):
        return NotImplemented
    if prm_mul(cn, cr, &nr):
        return NotImplemented
    booked = prm_floordiv(nr, RATE_SCALE)
    fee = -prm_floordiv(-nr, RATE_SCALE)
    if not (prm_fits64(fee) and prm_fits64(booked)):
        return NotImplemented
    return (<long long>fee, <long long>booked)


cpdef _product_c(a, b, c):
    """``a * b * c``: one overflow-checked 64-bit multiplication when all three are ints
    that fit 64 bits and so does the product, else the Python product (always exact).
    The notionals of the order path (price x lots x notional unit) are two Python
    multiplications and a temporary otherwise."""
    cdef long long x, y, z
    cdef prm_i128 r
    if _ll(a, &x) and _ll(b, &y) and _ll(c, &z):
        if not (prm_mul(x, y, &r) or prm_mul(r, z, &r)) and prm_fits64(r):
            return <long long>r
    return a * b * c


cpdef _apply_fill_c(Position pos, buy, q, notional, price_unit):
    """``positions.apply_fill`` in 64/128-bit C: the same position update and the same
    ``(realized_pnl, closed_lots, opened_lots)``, or ``NotImplemented`` with ``pos``
    untouched when a value is not a 64-bit int (``buy`` a bool or 0/1) or a result would
    not fit (the caller runs the Python code)."""
    cdef long long old, cq, cn, pu, entry, realized, aold, closing, opened
    cdef bint cb
    cdef prm_i128 removed, t, close_n, pnl, new_qty, new_entry, new_realized
    if type(buy) is bool:
        cb = buy is True
    elif _ll(buy, &old) and (old == 0 or old == 1):
        cb = old == 1
    else:
        return NotImplemented
    if not (_ll(pos.qty, &old) and _ll(q, &cq) and _ll(notional, &cn) and _ll(price_unit, &pu)
            and _ll(pos.entry, &entry) and _ll(pos.realized, &realized)) or old == INT64_MIN:
        return NotImplemented       # (|INT64_MIN| is not a long long)
    if old == 0 or (old > 0) == cb:
        # (no conditional expressions mixing long long and __int128: Cython types them long long)
        if cb:
            new_qty = <prm_i128>old + cq
        else:
            new_qty = <prm_i128>old - cq
        new_entry = <prm_i128>entry + cn
        if not (prm_fits64(new_qty) and prm_fits64(new_entry)):
            return NotImplemented
        pos.qty = <long long>new_qty
        pos.entry = <long long>new_entry
        return 0, 0, q
    aold = old if old > 0 else -old
    closing = cq if cq < aold else aold
    if closing == aold:
        removed = entry
    elif old > 0:
        if prm_mul(-(<prm_i128>entry), closing, &t):
            return NotImplemented
        removed = -prm_floordiv(t, aold)         # ceil: long PnL rounds down
    else:
        if prm_mul(entry, closing, &t):
            return NotImplemented
        removed = prm_floordiv(t, aold)          # floor: short PnL rounds down
    if prm_mul(pu, closing, &close_n):
        return NotImplemented
    if old > 0:
        pnl = close_n - removed
    else:
        pnl = removed - close_n
    opened = cq - closing
    if opened:
        new_qty = opened
        if not cb:
            new_qty = -new_qty
        new_entry = <prm_i128>cn - close_n
    else:
        if cb:
            new_qty = <prm_i128>old + closing
        else:
            new_qty = <prm_i128>old - closing
        new_entry = <prm_i128>entry - removed
    new_realized = <prm_i128>realized + pnl
    if not (prm_fits64(pnl) and prm_fits64(new_qty) and prm_fits64(new_entry) and prm_fits64(new_realized)):
        return NotImplemented
    pos.qty = <long long>new_qty
    pos.entry = <long long>new_entry
    pos.realized = <long long>new_realized
    return <long long>pnl, closing, opened


cpdef int _reserve_order_margin_c(OrderAgg agg, side, qty, notional, loss, position_side, pn, lev,
                                  list table) except -2:
    """A new order's lots into its slot (``agg``: lots, notional and loss of its side grow by
    ``qty``, ``notional``, ``loss``) and what that did to the slot's margin, as
    ``VenueCore._new_order`` reads it: 1 when the worst-case position notional exceeds the
    bracket cap at ``lev`` (``table[lev]``, 0 outside the table), else 2 when the slot's
    open-order margin grew, else 0.  -1 with ``agg`` untouched when a value is not a 64-bit
    int, a sum would not fit or ``lev`` is 0: the caller runs its Python lines."""
    cdef long long cs, cq, cn, cl, ps, cpn, clev, bn, sn, bl, sl, blots, slots, cap
    cdef prm_i128 before, after, worst, t, lots2, n2, l2
    if table is None or not (
            _ll(side, &cs) and _ll(qty, &cq) and _ll(notional, &cn) and _ll(loss, &cl)
            and _ll(position_side, &ps) and _ll(pn, &cpn) and _ll(lev, &clev)
            and _ll(agg.buy_lots, &blots) and _ll(agg.buy_notional, &bn) and _ll(agg.buy_loss, &bl)
            and _ll(agg.sell_lots, &slots) and _ll(agg.sell_notional, &sn) and _ll(agg.sell_loss, &sl)):
        return -1
    if 0 < clev < len(table):
        if not _ll(table[clev], &cap):
            return -1
    else:
        cap = 0
    if not _slot(bn, sn, bl, sl, ps, cpn, clev, &before, &t):
        return -1
    if cs == 0:
        lots2 = <prm_i128>blots + cq
        n2 = <prm_i128>bn + cn
        l2 = <prm_i128>bl + cl
    else:
        lots2 = <prm_i128>slots + cq
        n2 = <prm_i128>sn + cn
        l2 = <prm_i128>sl + cl
    if not (prm_fits64(lots2) and prm_fits64(n2) and prm_fits64(l2)):
        return -1
    if cs == 0:
        if not _slot(<long long>n2, sn, <long long>l2, sl, ps, cpn, clev, &after, &worst):
            return -1
        agg.buy_lots = <long long>lots2
        agg.buy_notional = <long long>n2
        agg.buy_loss = <long long>l2
    else:
        if not _slot(bn, <long long>n2, bl, <long long>l2, ps, cpn, clev, &after, &worst):
            return -1
        agg.sell_lots = <long long>lots2
        agg.sell_notional = <long long>n2
        agg.sell_loss = <long long>l2
    if worst > cap:
        return 1
    return 2 if after > before else 0


cpdef bint _release_order_margin_c(OrderAgg agg, side, lots, notional_price, loss_per_lot, unit):
    """``lots`` of an open order out of its slot ``agg`` (lots, ``notional_price x lots x unit``
    and ``loss_per_lot x lots`` off its side).  False with ``agg`` untouched when a value is
    not a 64-bit int or a result would not fit: the caller runs its Python lines."""
    cdef long long cs, cq, cp, cl, cu, l0, n0, s0
    cdef prm_i128 n, lots2, n2, l2
    if not (_ll(side, &cs) and _ll(lots, &cq) and _ll(notional_price, &cp)
            and _ll(loss_per_lot, &cl) and _ll(unit, &cu)):
        return False
    if cs == 0:
        if not (_ll(agg.buy_lots, &l0) and _ll(agg.buy_notional, &n0) and _ll(agg.buy_loss, &s0)):
            return False
    elif not (_ll(agg.sell_lots, &l0) and _ll(agg.sell_notional, &n0) and _ll(agg.sell_loss, &s0)):
        return False
    n = <prm_i128>cp * cq
    if not prm_fits64(n):
        return False
    n2 = <prm_i128>n0 - n * cu
    lots2 = <prm_i128>l0 - cq
    l2 = <prm_i128>s0 - <prm_i128>cl * cq
    if not (prm_fits64(n2) and prm_fits64(lots2) and prm_fits64(l2)):
        return False
    if cs == 0:
        agg.buy_lots = <long long>lots2
        agg.buy_notional = <long long>n2
        agg.buy_loss = <long long>l2
    else:
        agg.sell_lots = <long long>lots2
        agg.sell_notional = <long long>n2
        agg.sell_loss = <long long>l2
    return True


cpdef bint _limit_ok_c(SymbolSpec spec, side, price, qty, mark):
    """True when a LIMIT order passes every check of ``venue.limit_filter_error`` (the same
    comparisons in 64/128-bit C); False when one fails or a value is not a 64-bit int,
    and the Python function then finds the answer."""
    cdef long long cs, cp, cq, cm, lo, hi, lq, hq, rate
    cdef prm_i128 t
    if spec is None:
        return False
    if not (_ll(side, &cs) and _ll(price, &cp) and _ll(qty, &cq) and _ll(mark, &cm)
            and _ll(spec.min_price, &lo) and _ll(spec.max_price, &hi) and _ll(spec.min_qty, &lq)
            and _ll(spec.max_qty, &hq)):
        return False
    if cq <= 0 or cp <= 0 or cp < lo or (hi and cp > hi) or cq < lq or (hq and cq > hq):
        return False
    if cm:
        if cs == 0:
            if not _ll(spec.percent_up, &rate) or prm_mul(cm, rate, &t):
                return False
            return cp <= prm_floordiv(t, RATE_SCALE)                # PERCENT_PRICE cap, floor
        if not _ll(spec.percent_down, &rate) or prm_mul(cm, rate, &t):
            return False
        return cp >= -prm_floordiv(-t, RATE_SCALE)                  # PERCENT_PRICE floor, ceil
    return True


# the Python names (tests/venue/test_riskmath.py); risk.pxd cimports the C ones above
slot_order_margin = _slot_order_margin_c
available_balance = _available_balance_c
