# cython: language_level=3
# distutils: language = c++
"""The compiled limit order book.

Same rules and same reports as ``matching/reference.py`` (the readable
specification); only the data structures differ:

* orders live in one pooled C array of ``Order`` structs, linked FIFO per
  level by slot index; freed slots form an intrusive free list;
* order id -> slot is an open-addressing hash table (linear probing,
  backward-shift deletion), so cancel by id is O(1) with no allocation;
* each side is a ``std::map`` from key to ``Level`` (asks keyed by price,
  bids by -price), so ``begin()`` is the best price on both sides;
* reports are written to a C vector and turned into Python tuples only at the
  end of a call (one call per operation) or copied in bulk into an int64 array
  (``execute_batch``).
"""
cimport cython
from cpython.array cimport array, clone
from cython.operator cimport dereference as deref, preincrement as inc
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from libc.stdint cimport INT64_MAX, INT64_MIN, int8_t, int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset
from libcpp.algorithm cimport sort, unique
from libcpp.map cimport map as cmap
from libcpp.pair cimport pair
from libcpp.vector cimport vector

from matching import constants as _c
from matching.limits import INT64_MAX as _PY_INT64_MAX, INT64_MIN as _PY_INT64_MIN, submit_refusal

cdef enum:
    BUY = 0
    SELL = 1
    GTC = 0
    IOC = 1
    FOK = 2
    GTX = 3
    MARKET = 4
    STP_NONE = 0
    STP_EXPIRE_TAKER = 1
    STP_EXPIRE_MAKER = 2
    STP_EXPIRE_BOTH = 3
    R_ACCEPTED = 1
    R_FILL = 2
    R_RESTED = 3
    R_EXPIRED = 4
    R_CANCELED = 5
    R_REJECTED = 6
    R_MODIFIED = 7
    REASON_IOC = 1
    REASON_FOK = 2
    REASON_GTX = 3
    REASON_NO_LIQUIDITY = 4
    REASON_STP_TAKER = 5
    REASON_STP_MAKER = 6
    REASON_USER = 7
    REASON_MODIFY_FILLED = 8
    REASON_DUPLICATE_ID = 9
    REASON_UNKNOWN_ORDER = 10
    REASON_BAD_QUANTITY = 11
    REASON_BAD_PRICE = 12
    REASON_BAD_PARAM = 13
    OP_SUBMIT = 1
    OP_CANCEL = 2
    OP_MODIFY = 3
    OP_WIDTH = 8
    REPORT_WIDTH = 9

# the constants module is the single source of the codes; fail at import if they drift
assert (_c.BUY, _c.SELL, _c.GTC, _c.IOC, _c.FOK, _c.GTX, _c.MARKET) == (BUY, SELL, GTC, IOC, FOK, GTX, MARKET)
assert (_c.STP_NONE, _c.STP_EXPIRE_TAKER, _c.STP_EXPIRE_MAKER, _c.STP_EXPIRE_BOTH) == (
    STP_NONE, STP_EXPIRE_TAKER, STP_EXPIRE_MAKER, STP_EXPIRE_BOTH)
assert (_c.ACCEPTED, _c.FILL, _c.RESTED, _c.EXPIRED, _c.CANCELED, _c.REJECTED, _c.MODIFIED) == (
    R_ACCEPTED, R_FILL, R_RESTED, R_EXPIRED, R_CANCELED, R_REJECTED, R_MODIFIED)
assert (_c.REASON_IOC, _c.REASON_FOK, _c.REASON_GTX, _c.REASON_NO_LIQUIDITY, _c.REASON_STP_TAKER,
        _c.REASON_STP_MAKER, _c.REASON_USER, _c.REASON_MODIFY_FILLED, _c.REASON_DUPLICATE_ID,
        _c.REASON_UNKNOWN_ORDER, _c.REASON_BAD_QUANTITY, _c.REASON_BAD_PRICE, _c.REASON_BAD_PARAM) == tuple(range(1, 14))
assert (_c.OP_SUBMIT, _c.OP_CANCEL, _c.OP_MODIFY, _c.OP_WIDTH, _c.REPORT_WIDTH) == (
    OP_SUBMIT, OP_CANCEL, OP_MODIFY, OP_WIDTH, REPORT_WIDTH)

cdef extern from *:
    void __builtin_prefetch(const void* addr) nogil

cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object v, int* overflow) except? -1


cdef inline int64_t _i64(object v, int* wide) except? -1:
    """``v`` as int64; a value beyond 64 bits sets ``wide`` (no exception: the caller
    answers it as the reference book does)."""
    cdef int overflow = 0
    cdef long long r = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow:
        wide[0] = 1
    return r

# How many operations ahead the batch loop touches the id table, and then the
# order itself: a random cancel is two dependent cache misses, so start both early.
cdef enum:
    PREFETCH_BUCKET = 8
    PREFETCH_ORDER = 4

# lots from which an order counts in Book.n_big (see there)
cdef int64_t BIG = 1LL << 31

cdef struct Order:
    int64_t id
    int64_t owner
    int64_t price
    int64_t qty
    int64_t filled
    int32_t prev
    int32_t next
    int8_t side
    int8_t kind
    int8_t stp

cdef struct Level:
    int64_t qty
    int32_t head
    int32_t tail
    bint logged      # already in the changed-level log since the last drain

cdef struct Bucket:
    int64_t key
    int32_t slot     # -1: empty

cdef struct Report:
    # laid out exactly as one batch report row: [op_index, kind, f1..f7]
    int64_t op
    int64_t f[8]

ctypedef cmap[int64_t, Level] LevelMap

cdef int64_t[8] REPORT_LEN
REPORT_LEN[:] = [0, 2, 8, 4, 4, 4, 3, 6]

cdef void _compact(vector[int64_t]* prices) noexcept:
    cdef vector[int64_t].iterator last
    sort(prices.begin(), prices.end())
    last = unique(prices.begin(), prices.end())
    prices.erase(last, prices.end())


cdef inline uint64_t _mix(int64_t key) noexcept nogil:
    # splitmix64 finaliser: order ids are often sequential, this spreads them
    cdef uint64_t z = <uint64_t>key + 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


@cython.final
cdef class Book:
    """One symbol's book (compiled).  See ``matching.reference`` for the rules."""

    cdef Order* pool
    cdef int32_t pool_cap
    cdef int32_t pool_used      # slots ever handed out
    cdef int32_t free_head      # intrusive free list through Order.next
    cdef int64_t n_orders
    # resting orders of BIG lots or more.  With none, and a new order below BIG, no
    # level total can leave 64 bits (< 2**31 slots x < 2**31 lots), so the level
    # check of matching.limits is skipped on the hot path.
    cdef int64_t n_big
    # id -> slot hash table; a slot value of -1 marks an empty bucket
    cdef Bucket* htab
    cdef uint64_t hmask
    cdef int64_t hsize
    cdef LevelMap bids           # keyed by -price
    cdef LevelMap asks           # keyed by price
    cdef vector[Report] reps
    cdef int64_t cur_op          # batch operation index stamped on each report
    cdef vector[int64_t] changed_bids
    cdef vector[int64_t] changed_asks
    cdef size_t changed_limit    # compact the change logs when a caller never drains them
    # report_changes_to: the list told, and the key it is told, when the first level is logged
    # after a drain (``reported``: already told since the last drain)
    cdef object touched
    cdef object touched_key
    cdef bint reported
    cdef object box_o0, box_o1, box_o2
    cdef int64_t box_v0, box_v1, box_v2

    def __cinit__(self):
        self.pool_cap = 0
        self.pool = NULL
        self.pool_used = 0
        self.free_head = -1
        self.n_orders = 0
        self.n_big = 0
        self.htab = NULL
        self.hsize = 0
        self.changed_limit = 1 << 16
        self.cur_op = 0
        self.box_v0 = self.box_v1 = self.box_v2 = INT64_MIN
        self._hash_alloc(1024)

    def __dealloc__(self):
        free(self.pool)
        free(self.htab)

    # ------------------------------------------------------------ hash table
    cdef int _hash_alloc(self, uint64_t cap) except -1:
        cdef Bucket* table = <Bucket*>malloc(cap * sizeof(Bucket))
        cdef uint64_t i
        if table == NULL:
            raise MemoryError()
        for i in range(cap):
            table[i].slot = -1
        self.htab = table
        self.hmask = cap - 1
        return 0

    cdef int _hash_grow(self) except -1:
        cdef Bucket* old = self.htab
        cdef uint64_t old_cap = self.hmask + 1
        cdef uint64_t i, j
        self._hash_alloc(old_cap * 2)
        for i in range(old_cap):
            if old[i].slot >= 0:
                j = _mix(old[i].key) & self.hmask
                while self.htab[j].slot >= 0:
                    j = (j + 1) & self.hmask
                self.htab[j] = old[i]
        free(old)
        return 0

    cdef inline int32_t _hash_find(self, int64_t key) noexcept nogil:
        cdef uint64_t i = _mix(key) & self.hmask
        cdef Bucket* bk
        while True:
            bk = &self.htab[i]
            if bk.slot < 0:
                return -1
            if bk.key == key:
                return bk.slot
            i = (i + 1) & self.hmask

    cdef inline void _prefetch_order(self, int64_t key) noexcept nogil:
        # only the home bucket: enough for most ids, and never a probe loop
        cdef Bucket* bk = &self.htab[_mix(key) & self.hmask]
        if bk.slot >= 0 and bk.key == key:
            __builtin_prefetch(&self.pool[bk.slot])

    cdef inline int _hash_insert(self, int64_t key, int32_t slot) except -1:
        cdef uint64_t i
        if (self.hsize + 1) * 10 > <int64_t>(self.hmask + 1) * 7:
            self._hash_grow()
        i = _mix(key) & self.hmask
        while self.htab[i].slot >= 0:
            i = (i + 1) & self.hmask
        self.htab[i].key = key
        self.htab[i].slot = slot
        self.hsize += 1
        return 0

    cdef inline void _hash_erase(self, int64_t key) noexcept nogil:
        cdef uint64_t mask = self.hmask
        cdef uint64_t i = _mix(key) & mask
        cdef uint64_t j, k
        cdef Bucket* t = self.htab
        while t[i].slot >= 0 and t[i].key != key:
            i = (i + 1) & mask
        if t[i].slot < 0:
            return
        # backward-shift deletion keeps every probe chain unbroken without tombstones
        j = i
        while True:
            j = (j + 1) & mask
            if t[j].slot < 0:
                break
            k = _mix(t[j].key) & mask
            if (i <= j and (k <= i or k > j)) or (i > j and k <= i and k > j):
                t[i] = t[j]
                i = j
        t[i].slot = -1
        self.hsize -= 1

    # ------------------------------------------------------------ order pool
    cdef int32_t _alloc_slot(self) except -1:
        cdef int32_t slot
        cdef int32_t new_cap
        cdef Order* grown
        if self.free_head >= 0:
            slot = self.free_head
            self.free_head = self.pool[slot].next
            return slot
        if self.pool_used == self.pool_cap:
            new_cap = self.pool_cap + (self.pool_cap >> 1) + 1024
            grown = <Order*>realloc(self.pool, <size_t>new_cap * sizeof(Order))
            if grown == NULL:
                raise MemoryError()
            self.pool = grown
            self.pool_cap = new_cap
        slot = self.pool_used
        self.pool_used += 1
        return slot

    cdef inline void _free_slot(self, int32_t slot) noexcept nogil:
        self.pool[slot].next = self.free_head
        self.free_head = slot

    # --------------------------------------------------------------- helpers
    cdef inline LevelMap* _side(self, int side) noexcept nogil:
        if side == BUY:
            return &self.bids
        return &self.asks

    cdef inline void _mark(self, int side, Level* lvl, int64_t price) noexcept:
        cdef vector[int64_t]* log
        if lvl.logged:
            return
        lvl.logged = True
        log = &self.changed_bids if side == BUY else &self.changed_asks
        log.push_back(price)
        if not self.reported and self.touched is not None:
            self.reported = True
            (<list>self.touched).append(self.touched_key)
        # a level emptied and re-created is logged again; compact if nobody drains
        if log.size() >= self.changed_limit:
            _compact(log)
            if log.size() * 2 > self.changed_limit:
                self.changed_limit = log.size() * 2

    cdef inline void _rep(self, int64_t kind, int64_t a, int64_t b, int64_t c, int64_t d,
                          int64_t e, int64_t f, int64_t g) noexcept nogil:
        cdef Report r
        r.f[0] = kind
        r.f[1] = a
        r.f[2] = b
        r.f[3] = c
        r.f[4] = d
        r.f[5] = e
        r.f[6] = f
        r.f[7] = g
        r.op = self.cur_op
        self.reps.push_back(r)

    cdef bint _level_overflows(self, int side, int64_t price, int64_t adding, int64_t own) noexcept:
        """matching.limits.level_overflows for the level at ``price`` (``own``: this
        order's remaining quantity already counted there)."""
        cdef LevelMap* m = self._side(side)
        cdef LevelMap.iterator it = m.find(price if side == SELL else -price)
        if it == m.end():
            return False
        return adding > INT64_MAX - (deref(it).second.qty - own)

    cdef inline bint _crosses(self, int side, int64_t price, int64_t opp_key) noexcept nogil:
        if side == BUY:
            return opp_key <= price
        return -opp_key >= price

    cdef void _unlink(self, int32_t slot) noexcept:
        """Take a resting order out of its level and the id table, free its slot."""
        cdef Order* o = &self.pool[slot]
        cdef LevelMap* m = self._side(o.side)
        cdef int64_t key = o.price if o.side == SELL else -o.price
        cdef LevelMap.iterator it = m.find(key)
        cdef Level* lvl = &deref(it).second
        if o.prev >= 0:
            self.pool[o.prev].next = o.next
        else:
            lvl.head = o.next
        if o.next >= 0:
            self.pool[o.next].prev = o.prev
        else:
            lvl.tail = o.prev
        lvl.qty -= o.qty - o.filled
        self._mark(o.side, lvl, o.price)
        if lvl.head < 0:
            m.erase(it)
        if o.qty >= BIG:
            self.n_big -= 1
        self._hash_erase(o.id)
        self.n_orders -= 1
        self._free_slot(slot)

    cdef int _rest(self, int64_t oid, int64_t owner, int side, int64_t price, int64_t qty,
                   int64_t filled, int kind, int stp) except -1:
        cdef int32_t slot = self._alloc_slot()
        cdef Order* o = &self.pool[slot]
        cdef LevelMap* m = self._side(side)
        cdef int64_t key = price if side == SELL else -price
        cdef pair[LevelMap.iterator, bint] ins
        cdef Level fresh
        cdef Level* lvl
        o.id = oid
        o.owner = owner
        o.price = price
        o.qty = qty
        o.filled = filled
        o.side = side
        o.kind = kind
        o.stp = stp
        o.next = -1
        fresh.qty = 0
        fresh.head = -1
        fresh.tail = -1
        fresh.logged = False
        ins = m.insert(pair[int64_t, Level](key, fresh))
        lvl = &deref(ins.first).second
        o.prev = lvl.tail
        if lvl.tail >= 0:
            self.pool[lvl.tail].next = slot
        else:
            lvl.head = slot
        lvl.tail = slot
        lvl.qty += qty - filled
        self._mark(side, lvl, price)
        if qty >= BIG:
            self.n_big += 1
        self._hash_insert(oid, slot)
        self.n_orders += 1
        return 0

    cdef int64_t _fillable(self, int side, int64_t price, int64_t owner, int kind, int stp,
                           int64_t need) noexcept:
        cdef int opp = 1 - side
        cdef LevelMap* m = self._side(opp)
        cdef LevelMap.iterator it = m.begin()
        cdef int64_t total = 0
        cdef int32_t s
        cdef Order* mk
        while it != m.end():
            if kind != MARKET and not self._crosses(side, price, deref(it).first):
                break
            s = deref(it).second.head
            while s >= 0:
                mk = &self.pool[s]
                s = mk.next
                if stp != STP_NONE and mk.owner == owner:
                    if stp == STP_EXPIRE_MAKER:
                        continue
                    return total
                # total < need here: compare before adding, so the sum cannot overflow
                if mk.qty - mk.filled >= need - total:
                    return need
                total += mk.qty - mk.filled
            inc(it)
        return total

    cdef int64_t _match(self, int64_t taker_id, int64_t owner, int side, int64_t price,
                        int64_t remaining, int kind, int stp, bint* taker_expired) noexcept:
        """Trade against the opposite side; returns the taker's remaining quantity."""
        cdef int opp = 1 - side
        cdef LevelMap* m = self._side(opp)
        cdef LevelMap.iterator it
        cdef Level* lvl
        cdef int64_t key, px, maker_left, traded
        cdef int32_t s
        cdef Order* mk
        cdef bint market = kind == MARKET
        while remaining > 0 and not m.empty():
            it = m.begin()
            key = deref(it).first
            if not market and not self._crosses(side, price, key):
                break
            px = key if opp == SELL else -key
            lvl = &deref(it).second
            self._mark(opp, lvl, px)
            while remaining > 0 and lvl.head >= 0:
                s = lvl.head
                mk = &self.pool[s]
                maker_left = mk.qty - mk.filled
                if stp != STP_NONE and mk.owner == owner:
                    if stp == STP_EXPIRE_TAKER:
                        self._rep(R_EXPIRED, taker_id, remaining, REASON_STP_TAKER, 0, 0, 0, 0)
                        taker_expired[0] = True
                        return remaining
                    self._rep(R_EXPIRED, mk.id, maker_left, REASON_STP_MAKER, 0, 0, 0, 0)
                    self._pop_head(lvl, s)
                    if stp == STP_EXPIRE_BOTH:
                        if lvl.head < 0:
                            m.erase(it)
                        self._rep(R_EXPIRED, taker_id, remaining, REASON_STP_TAKER, 0, 0, 0, 0)
                        taker_expired[0] = True
                        return remaining
                    continue
                traded = remaining if remaining < maker_left else maker_left
                remaining -= traded
                maker_left -= traded
                mk.filled += traded
                lvl.qty -= traded
                self._rep(R_FILL, taker_id, mk.id, owner, mk.owner, px, traded, maker_left)
                if maker_left == 0:
                    self._pop_head(lvl, s)
            if lvl.head < 0:
                m.erase(it)
        return remaining

    cdef inline void _pop_head(self, Level* lvl, int32_t s) noexcept:
        """Remove the head order ``s`` of ``lvl`` (filled or expired by STP)."""
        cdef Order* mk = &self.pool[s]
        lvl.qty -= mk.qty - mk.filled
        if mk.qty >= BIG:
            self.n_big -= 1
        lvl.head = mk.next
        if mk.next >= 0:
            self.pool[mk.next].prev = -1
        else:
            lvl.tail = -1
        self._hash_erase(mk.id)
        self.n_orders -= 1
        self._free_slot(s)

    cdef int _enter(self, int64_t oid, int64_t owner, int side, int64_t price, int64_t qty,
                    int64_t filled, int kind, int stp) except -1:
        cdef LevelMap* opp = self._side(1 - side)
        cdef int64_t remaining = qty - filled
        cdef bint taker_expired = False
        if kind == GTX:
            if not opp.empty() and self._crosses(side, price, deref(opp.begin()).first):
                self._rep(R_EXPIRED, oid, remaining, REASON_GTX, 0, 0, 0, 0)
                return 0
        elif kind == FOK:
            if self._fillable(side, price, owner, kind, stp, remaining) < remaining:
                self._rep(R_EXPIRED, oid, remaining, REASON_FOK, 0, 0, 0, 0)
                return 0
        if not opp.empty():
            remaining = self._match(oid, owner, side, price, remaining, kind, stp, &taker_expired)
            if taker_expired:
                return 0
        if remaining == 0:
            return 0
        if kind == GTC or kind == GTX:
            self._rest(oid, owner, side, price, qty, qty - remaining, kind, stp)
            self._rep(R_RESTED, oid, price, remaining, 0, 0, 0, 0)
        elif kind == MARKET:
            self._rep(R_EXPIRED, oid, remaining, REASON_NO_LIQUIDITY, 0, 0, 0, 0)
        else:
            self._rep(R_EXPIRED, oid, remaining, REASON_IOC, 0, 0, 0, 0)
        return 0

    # ------------------------------------------------------ core operations
    cdef int _submit(self, int64_t oid, int64_t owner, int64_t side, int64_t price, int64_t qty,
                     int64_t kind, int64_t stp) except -1:
        if side < BUY or side > SELL or kind < GTC or kind > MARKET or stp < STP_NONE or stp > STP_EXPIRE_BOTH:
            self._rep(R_REJECTED, oid, REASON_BAD_PARAM, 0, 0, 0, 0, 0)
            return 0
        if qty <= 0:
            self._rep(R_REJECTED, oid, REASON_BAD_QUANTITY, 0, 0, 0, 0, 0)
            return 0
        if kind != MARKET and price <= 0:
            self._rep(R_REJECTED, oid, REASON_BAD_PRICE, 0, 0, 0, 0, 0)
            return 0
        if self._hash_find(oid) >= 0:
            self._rep(R_REJECTED, oid, REASON_DUPLICATE_ID, 0, 0, 0, 0, 0)
            return 0
        if (kind == GTC or kind == GTX) and (qty >= BIG or self.n_big) \
                and self._level_overflows(<int>side, price, qty, 0):
            self._rep(R_REJECTED, oid, REASON_BAD_QUANTITY, 0, 0, 0, 0, 0)
            return 0
        if kind == MARKET:
            price = 0
        self._rep(R_ACCEPTED, oid, 0, 0, 0, 0, 0, 0)
        return self._enter(oid, owner, <int>side, price, qty, 0, <int>kind, <int>stp)

    cdef int _cancel(self, int64_t oid) except -1:
        cdef int32_t slot = self._hash_find(oid)
        cdef Order* o
        if slot < 0:
            self._rep(R_REJECTED, oid, REASON_UNKNOWN_ORDER, 0, 0, 0, 0, 0)
            return 0
        o = &self.pool[slot]
        self._rep(R_CANCELED, oid, o.qty - o.filled, REASON_USER, 0, 0, 0, 0)
        self._unlink(slot)
        return 0

    cdef int _modify(self, int64_t oid, int64_t price, int64_t qty) except -1:
        cdef int32_t slot = self._hash_find(oid)
        cdef Order* o
        cdef LevelMap* m
        cdef Level* lvl
        cdef int64_t owner, filled, key
        cdef int side, kind, stp
        if slot < 0:
            self._rep(R_REJECTED, oid, REASON_UNKNOWN_ORDER, 0, 0, 0, 0, 0)
            return 0
        if qty <= 0:
            self._rep(R_REJECTED, oid, REASON_BAD_QUANTITY, 0, 0, 0, 0, 0)
            return 0
        if price <= 0:
            self._rep(R_REJECTED, oid, REASON_BAD_PRICE, 0, 0, 0, 0, 0)
            return 0
        o = &self.pool[slot]
        filled = o.filled
        if qty <= filled:
            self._rep(R_CANCELED, oid, o.qty - filled, REASON_MODIFY_FILLED, 0, 0, 0, 0)
            self._unlink(slot)
            return 0
        side = o.side
        if (qty >= BIG or self.n_big) and self._level_overflows(
                side, price, qty - filled, o.qty - filled if price == o.price else 0):
            self._rep(R_REJECTED, oid, REASON_BAD_QUANTITY, 0, 0, 0, 0, 0)
            return 0
        if price == o.price and qty <= o.qty:
            m = self._side(side)
            key = price if side == SELL else -price
            lvl = &deref(m.find(key)).second
            lvl.qty -= o.qty - qty
            if o.qty >= BIG and qty < BIG:
                self.n_big -= 1
            o.qty = qty
            self._mark(side, lvl, price)
            self._rep(R_MODIFIED, oid, price, qty, qty - filled, 1, 0, 0)
            return 0
        owner = o.owner
        kind = o.kind
        stp = o.stp
        self._unlink(slot)
        self._rep(R_MODIFIED, oid, price, qty, qty - filled, 0, 0, 0)
        return self._enter(oid, owner, side, price, qty, filled, kind, stp)

    cdef inline object _box(self, int64_t v):
        # Reports repeat the caller's order id, owner and price: hand back the
        # caller's own int objects instead of allocating new ones.
        if v == self.box_v0:
            return self.box_o0
        if v == self.box_v1:
            return self.box_o1
        if v == self.box_v2:
            return self.box_o2
        return v

    cdef inline void _remember(self, object o0, int64_t v0, object o1, int64_t v1, object o2, int64_t v2) noexcept:
        self.box_o0 = o0
        self.box_v0 = v0
        self.box_o1 = o1
        self.box_v1 = v1
        self.box_o2 = o2
        self.box_v2 = v2

    cdef list _take_reports(self):
        cdef Py_ssize_t i, n = self.reps.size()
        cdef list out = PyList_New(n)
        cdef Report* r
        cdef object t
        cdef int64_t n_fields
        for i in range(n):
            r = &self.reps[i]
            n_fields = REPORT_LEN[r.f[0]]
            if n_fields == 2:
                t = (r.f[0], self._box(r.f[1]))
            elif n_fields == 4:
                t = (r.f[0], self._box(r.f[1]), self._box(r.f[2]), r.f[3])
            elif n_fields == 8:
                t = (r.f[0], self._box(r.f[1]), self._box(r.f[2]), self._box(r.f[3]), r.f[4],
                     self._box(r.f[5]), r.f[6], r.f[7])
            elif n_fields == 3:
                t = (r.f[0], self._box(r.f[1]), r.f[2])
            else:
                t = (r.f[0], self._box(r.f[1]), self._box(r.f[2]), r.f[3], r.f[4], r.f[5])
            Py_INCREF(t)
            PyList_SET_ITEM(out, i, t)
        self.reps.clear()
        self.box_o0 = self.box_o1 = self.box_o2 = None
        self.box_v0 = self.box_v1 = self.box_v2 = INT64_MIN
        return out

    # ------------------------------------------------------------ Python API
    def submit(self, order_id, owner, side, price, qty, kind=GTC, stp=STP_NONE):
        """Submit an order; returns the list of report tuples (see matching.constants)."""
        cdef int wide = 0
        cdef int64_t oid = _i64(order_id, &wide)
        cdef int64_t own = _i64(owner, &wide)
        cdef int64_t sd = _i64(side, &wide)
        cdef int64_t px = _i64(price, &wide)
        cdef int64_t q = _i64(qty, &wide)
        cdef int64_t k = _i64(kind, &wide)
        cdef int64_t sp = _i64(stp, &wide)
        self.reps.clear()
        if wide:        # an argument beyond 64 bits: refused as the reference refuses it
            reason = submit_refusal(order_id, owner, side, price, qty, kind, stp)
            if reason:
                return [(R_REJECTED, order_id, reason)]
            return self.submit(order_id, owner, side, 0, qty, kind, stp)    # a MARKET order's unused price
        self._remember(order_id, oid, owner, own, price, px)
        self._submit(oid, own, sd, px, q, k, sp)
        return self._take_reports()

    def cancel(self, order_id):
        cdef int wide = 0
        cdef int64_t oid = _i64(order_id, &wide)
        self.reps.clear()
        if wide:
            return [(R_REJECTED, order_id, REASON_UNKNOWN_ORDER)]
        self._remember(order_id, oid, order_id, oid, order_id, oid)
        self._cancel(oid)
        return self._take_reports()

    def modify(self, order_id, price, qty):
        cdef int wide = 0
        cdef int64_t oid = _i64(order_id, &wide)
        cdef int64_t px = _i64(price, &wide)
        cdef int64_t q = _i64(qty, &wide)
        self.reps.clear()
        if wide:        # an argument beyond 64 bits: refused as the reference refuses it
            if not _PY_INT64_MIN <= order_id <= _PY_INT64_MAX or self._hash_find(oid) < 0:
                return [(R_REJECTED, order_id, REASON_UNKNOWN_ORDER)]
            if not 0 < qty <= _PY_INT64_MAX:
                return [(R_REJECTED, order_id, REASON_BAD_QUANTITY)]
            return [(R_REJECTED, order_id, REASON_BAD_PRICE)]
        self._remember(order_id, oid, price, px, price, px)
        self._modify(oid, px, q)
        return self._take_reports()

    def execute_batch(self, const int64_t[::1] ops not None):
        """Run len(ops) // OP_WIDTH operations in one call.

        Returns an ``array('q')`` holding REPORT_WIDTH words per report:
        [op_index, kind, f1..f7], unused fields 0.
        """
        cdef Py_ssize_t n = ops.shape[0] // OP_WIDTH
        cdef Py_ssize_t i, b
        cdef int64_t op
        cdef array result
        self.reps.clear()
        try:
            for i in range(n):
                if i + PREFETCH_BUCKET < n:
                    __builtin_prefetch(&self.htab[_mix(ops[(i + PREFETCH_BUCKET) * OP_WIDTH + 1]) & self.hmask])
                if i + PREFETCH_ORDER < n:
                    self._prefetch_order(ops[(i + PREFETCH_ORDER) * OP_WIDTH + 1])
                b = i * OP_WIDTH
                op = ops[b]
                self.cur_op = i
                if op == OP_SUBMIT:
                    self._submit(ops[b + 1], ops[b + 2], ops[b + 3], ops[b + 4], ops[b + 5], ops[b + 6], ops[b + 7])
                elif op == OP_CANCEL:
                    self._cancel(ops[b + 1])
                elif op == OP_MODIFY:
                    self._modify(ops[b + 1], ops[b + 4], ops[b + 5])
                else:
                    self._rep(R_REJECTED, ops[b + 1], REASON_BAD_PARAM, 0, 0, 0, 0, 0)
            result = clone(array("q"), self.reps.size() * REPORT_WIDTH, False)
            if self.reps.size():
                memcpy(result.data.as_voidptr, self.reps.data(), self.reps.size() * sizeof(Report))
        finally:
            self.cur_op = 0
            self.reps.clear()
        return result

    # --------------------------------------------------------------- queries
    def __len__(self):
        return self.n_orders

    def best_bid(self):
        if self.bids.empty():
            return None
        return -deref(self.bids.begin()).first

    def best_ask(self):
        if self.asks.empty():
            return None
        return deref(self.asks.begin()).first

    def depth(self, int side, Py_ssize_t n):
        """Top ``n`` levels of a side, best first, as (price, resting qty)."""
        cdef LevelMap* m = self._side(side)
        cdef LevelMap.iterator it = m.begin()
        cdef list out = []
        cdef int64_t sign = -1 if side == BUY else 1
        while it != m.end() and len(out) < n:
            out.append((sign * deref(it).first, deref(it).second.qty))
            inc(it)
        return out

    def level_orders(self, int side, int64_t price):
        """The orders resting at one level, oldest first, as (id, owner, remaining)."""
        cdef LevelMap* m = self._side(side)
        cdef LevelMap.iterator it = m.find(price if side == SELL else -price)
        cdef list out = []
        cdef int32_t s
        if it == m.end():
            return out
        s = deref(it).second.head
        while s >= 0:
            out.append((self.pool[s].id, self.pool[s].owner, self.pool[s].qty - self.pool[s].filled))
            s = self.pool[s].next
        return out

    def order(self, int64_t order_id):
        """(side, price, quantity, filled, owner, kind, stp) of a resting order, else None."""
        cdef int32_t s = self._hash_find(order_id)
        cdef Order* o
        if s < 0:
            return None
        o = &self.pool[s]
        return (o.side, o.price, o.qty, o.filled, o.owner, o.kind, o.stp)

    def report_changes_to(self, list touched, key):
        """Append ``key`` to ``touched`` when this book logs its first changed level after
        each ``changed_levels()`` (at once if levels are already logged): whoever drains
        many books asks only the ones that changed."""
        self.touched = touched
        self.touched_key = key
        self.reported = not (self.changed_bids.empty() and self.changed_asks.empty())
        if self.reported:
            touched.append(key)

    def changed_levels(self):
        cdef list out = []
        self.reported = False
        self._drain_changed(BUY, &self.changed_bids, out)
        self._drain_changed(SELL, &self.changed_asks, out)
        return out

    cdef void _drain_changed(self, int side, vector[int64_t]* prices, list out):
        cdef LevelMap* m = self._side(side)
        cdef LevelMap.iterator it
        cdef Level* lvl
        cdef size_t i
        cdef int64_t p
        _compact(prices)
        for i in range(prices.size()):
            p = deref(prices)[i]
            it = m.find(p if side == SELL else -p)
            if it == m.end():
                out.append((side, p, 0))
            else:
                lvl = &deref(it).second
                lvl.logged = False
                out.append((side, p, lvl.qty))
        prices.clear()
