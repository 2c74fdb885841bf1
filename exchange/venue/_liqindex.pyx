# cython: language_level=3, boundscheck=False, wraparound=False
# distutils: language = c++
"""The liquidation index of one symbol side in C++: a ``std::multiset`` of
``(key, account_id, group)`` triples of 64-bit integers.

Compiled-only twin of ``liqindex.LiqIndex`` (a ``SortedList`` of the same
tuples): same items, same order (lexicographic on the tuple, as Python
compares them), same answers.  An item with a member outside the signed
64-bit range (a key from the exact Python arithmetic can be any integer) is
kept in a Python ``SortedList`` beside the C++ set; every read merges both, so
the answers stay exact.  In practice that side list is empty and the two
range scans run in C.  ``tests/venue/test_liqindex.py`` compares both twins on
random add/remove/scan sequences including extreme keys.
"""
from cpython.dict cimport PyDict_SetItem
from cpython.long cimport PyLong_FromLongLong
from cython.operator cimport dereference as deref, preincrement as inc
from libc.stdint cimport INT64_MIN

import heapq

from sortedcontainers import SortedList

cdef extern from *:
    """
    #include <set>
    struct pex_liq_item {
        long long key, aid, grp;
        bool operator<(const pex_liq_item &o) const {
            if (key != o.key) return key < o.key;
            if (aid != o.aid) return aid < o.aid;
            return grp < o.grp;
        }
    };
    typedef std::multiset<pex_liq_item> pex_liq_set;
    typedef pex_liq_set::iterator pex_liq_iter;
    """
    ctypedef struct pex_liq_item:
        long long key, aid, grp
    cdef cppclass pex_liq_iter:
        pex_liq_item& operator*()
        pex_liq_iter operator++()
        bint operator==(pex_liq_iter)
        bint operator!=(pex_liq_iter)
    cdef cppclass pex_liq_set:
        pex_liq_set() except +
        pex_liq_iter begin()
        pex_liq_iter end()
        pex_liq_iter insert(const pex_liq_item&) except +
        pex_liq_iter find(const pex_liq_item&)
        pex_liq_iter lower_bound(const pex_liq_item&)
        pex_liq_iter erase(pex_liq_iter)
        size_t size()
        void clear()


cdef inline bint _to_item(object item, pex_liq_item *out):
    """True when ``item`` is a triple of ints that fit 64 bits (then ``out`` holds it)."""
    cdef tuple t
    if type(item) is not tuple:
        return False
    t = <tuple>item
    if len(t) != 3:
        return False
    try:
        out.key = t[0]
        out.aid = t[1]
        out.grp = t[2]
    except (OverflowError, TypeError):
        return False
    return True


cdef inline tuple _to_tuple(const pex_liq_item &it):
    return (it.key, it.aid, it.grp)


cdef inline pex_liq_set *_S(LiqIndex self):
    return <pex_liq_set *>self._setp


cdef class LiqIndex:
    """Sorted multiset of ``(key, account_id, group)``: the subset of ``SortedList``'s API the
    venue uses (``add``, ``remove``, ``update``, ``clear``, ``len``, ``in``, iteration) plus the
    two range scans of a mark move and the bulk rebuild (see ``liqindex.LiqIndex``)."""
    # (attributes in _liqindex.pxd: _setp, the C++ set behind a pointer so that modules which
    # cimport the class stay C; _side, a SortedList of the items beyond 64 bits, or None)

    def __cinit__(self, iterable=None):
        self._setp = new pex_liq_set()
        self._side = None
        if iterable is not None:
            self.update(iterable)

    def __dealloc__(self):
        cdef pex_liq_set *p = _S(self)
        del p

    cpdef add(self, item):
        cdef pex_liq_item it
        if _to_item(item, &it):
            _S(self).insert(it)
        else:
            if self._side is None:
                self._side = SortedList()
            self._side.add(item)

    cpdef remove(self, item):
        """Remove one occurrence; ValueError when absent (as ``SortedList.remove``)."""
        cdef pex_liq_item it
        cdef pex_liq_iter pos
        if _to_item(item, &it):
            pos = _S(self).find(it)
            if pos != _S(self).end():
                _S(self).erase(pos)
                return
        elif self._side is not None and item in self._side:
            self._side.remove(item)
            if not self._side:
                self._side = None
            return
        raise ValueError(f"{item!r} not in list")

    def discard(self, item):
        if item in self:
            self.remove(item)

    def update(self, iterable):
        for item in iterable:
            self.add(item)

    def clear(self):
        _S(self).clear()
        self._side = None

    def __len__(self):
        return _S(self).size() + (len(self._side) if self._side is not None else 0)

    def __bool__(self):
        return _S(self).size() != 0 or self._side is not None

    def __contains__(self, item):
        cdef pex_liq_item it
        if _to_item(item, &it):
            return _S(self).find(it) != _S(self).end()
        return self._side is not None and item in self._side

    def __iter__(self):
        return iter(self.items())

    def items(self):
        """All items in order (a list of tuples)."""
        cdef list out = []
        cdef pex_liq_iter pos = _S(self).begin()
        cdef pex_liq_iter end = _S(self).end()
        while pos != end:
            out.append(_to_tuple(deref(pos)))
            inc(pos)
        if self._side is not None:
            return list(heapq.merge(out, self._side))
        return out

    def __repr__(self):
        return f"LiqIndex({self.items()!r})"

    cpdef hits_from(self, key, dict dirty):
        """``dirty[account_id] = None`` for every item with ``item[0] >= key``, in item order
        (``SortedList``: ``islice(bisect_left((key,)))``)."""
        cdef pex_liq_item lo
        cdef pex_liq_iter pos, end
        cdef long long k
        if self._side is None:
            try:
                k = key
            except OverflowError:
                pass
            else:
                lo.key = k
                lo.aid = INT64_MIN
                lo.grp = INT64_MIN
                pos = _S(self).lower_bound(lo)
                end = _S(self).end()
                while pos != end:
                    PyDict_SetItem(dirty, PyLong_FromLongLong(deref(pos).aid), None)
                    inc(pos)
                return
        for item in self.items():
            if item[0] >= key:
                dirty[item[1]] = None

    cpdef hits_upto(self, key, dict dirty):
        """``dirty[account_id] = None`` for every item with ``item[0] <= key``, in item order
        (``SortedList``: ``islice(0, bisect_left((key + 1,)))``)."""
        cdef pex_liq_iter pos, end
        cdef long long k
        if self._side is None:
            try:
                k = key
            except OverflowError:
                pass
            else:
                pos = _S(self).begin()
                end = _S(self).end()
                while pos != end and deref(pos).key <= k:
                    PyDict_SetItem(dirty, PyLong_FromLongLong(deref(pos).aid), None)
                    inc(pos)
                return
        for item in self.items():
            if item[0] > key:
                break
            dirty[item[1]] = None

    def replace(self, removed, added):
        """Remove every item of the set ``removed`` (all occurrences) and add those of ``added``."""
        cdef pex_liq_item it
        cdef pex_liq_iter pos
        for item in removed:
            if _to_item(item, &it):
                pos = _S(self).find(it)
                while pos != _S(self).end():
                    _S(self).erase(pos)
                    pos = _S(self).find(it)
            elif self._side is not None:
                while item in self._side:
                    self._side.remove(item)
                if not self._side:
                    self._side = None
        for item in added:
            self.add(item)
