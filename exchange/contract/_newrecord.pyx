# cython: language_level=3
"""C constructor of the venue's event records (NamedTuple subclasses of tuple).

``new_record(Cls, fields)`` is ``tuple.__new__(Cls, fields)`` without the
Python-level ``tuple.__new__`` wrapper, whose safety checks (a walk of the
class's MRO per call) cost more than building the record: the venue makes
three or four records per order and two per position at funding.  The
pure-Python twin is ``tuple.__new__`` itself (``records.new_record``).
"""

from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.object cimport PyObject
from cpython.type cimport PyType_IsSubtype
from libc.string cimport memcpy

cdef extern from "Python.h":
    # the compact ASCII str of PyUnicode_DecodeASCII, without its decoder's checks (the digits are ASCII)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object o)

cdef extern from *:
    """
    static PyObject *paperex_new_record(PyObject *cls, PyObject *fields) {
        PyTypeObject *t = (PyTypeObject *)cls;
        Py_ssize_t i, n = PyTuple_GET_SIZE(fields);
        PyObject *r = t->tp_alloc(t, n);
        if (r == NULL) return NULL;
        for (i = 0; i < n; i++) {
            PyObject *x = PyTuple_GET_ITEM(fields, i);
            Py_INCREF(x);
            PyTuple_SET_ITEM(r, i, x);
        }
        return r;
    }
    """
    object paperex_new_record(object cls, object fields)

cdef extern from *:
    """
    static PyObject *paperex_record_of(PyObject *cls, PyObject **items, Py_ssize_t n) {
        PyTypeObject *t = (PyTypeObject *)cls;
        Py_ssize_t i;
        PyObject *r = t->tp_alloc(t, n);
        if (r == NULL) return NULL;
        for (i = 0; i < n; i++) {
            Py_INCREF(items[i]);
            PyTuple_SET_ITEM(r, i, items[i]);
        }
        return r;
    }
    """
    object paperex_record_of(object cls, PyObject **items, Py_ssize_t n)


cdef inline int _check_class(type cls) except -1:
    if cls is None:
        raise TypeError("new_record: a tuple subclass is required")
    if not PyType_IsSubtype(cls, tuple):
        raise TypeError("new_record: %r is not a tuple subclass" % (cls,))
    return 0


cpdef object new_record(type cls, tuple fields):
    if fields is None:
        raise TypeError("new_record: a tuple subclass and a tuple are required")
    _check_class(cls)
    return paperex_new_record(cls, fields)


# ``new_record(cls, (a, b, ...))`` for the record sizes of the order path, made from the
# arguments without the temporary tuple (records.record5 ... record22 are the Python twins)
cpdef object record5(type cls, a, b, c, d, e):
    cdef PyObject *v[5]
    _check_class(cls)
    v[0] = <PyObject *>a; v[1] = <PyObject *>b; v[2] = <PyObject *>c; v[3] = <PyObject *>d
    v[4] = <PyObject *>e
    return paperex_record_of(cls, v, 5)


cpdef object record6(type cls, a, b, c, d, e, f):
    cdef PyObject *v[6]
    _check_class(cls)
    v[0] = <PyObject *>a; v[1] = <PyObject *>b; v[2] = <PyObject *>c; v[3] = <PyObject *>d
    v[4] = <PyObject *>e; v[5] = <PyObject *>f
    return paperex_record_of(cls, v, 6)


cpdef object record8(type cls, a, b, c, d, e, f, g, h):
    cdef PyObject *v[8]
    _check_class(cls)
    v[0] = <PyObject *>a; v[1] = <PyObject *>b; v[2] = <PyObject *>c; v[3] = <PyObject *>d
    v[4] = <PyObject *>e; v[5] = <PyObject *>f; v[6] = <PyObject *>g; v[7] = <PyObject *>h
    return paperex_record_of(cls, v, 8)


cpdef object record22(type cls, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, w):
    cdef PyObject *v[22]
    _check_class(cls)
    v[0] = <PyObject *>a; v[1] = <PyObject *>b; v[2] = <PyObject *>c; v[3] = <PyObject *>d
    v[4] = <PyObject *>e; v[5] = <PyObject *>f; v[6] = <PyObject *>g; v[7] = <PyObject *>h
    v[8] = <PyObject *>i; v[9] = <PyObject *>j; v[10] = <PyObject *>k; v[11] = <PyObject *>l
    v[12] = <PyObject *>m; v[13] = <PyObject *>n; v[14] = <PyObject *>o; v[15] = <PyObject *>p
    v[16] = <PyObject *>q; v[17] = <PyObject *>r; v[18] = <PyObject *>s; v[19] = <PyObject *>t
    v[20] = <PyObject *>u; v[21] = <PyObject *>w
    return paperex_record_of(cls, v, 22)


cpdef object record18(type cls, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r):
    cdef PyObject *v[18]
    _check_class(cls)
    v[0] = <PyObject *>a; v[1] = <PyObject *>b; v[2] = <PyObject *>c; v[3] = <PyObject *>d
    v[4] = <PyObject *>e; v[5] = <PyObject *>f; v[6] = <PyObject *>g; v[7] = <PyObject *>h
    v[8] = <PyObject *>i; v[9] = <PyObject *>j; v[10] = <PyObject *>k; v[11] = <PyObject *>l
    v[12] = <PyObject *>m; v[13] = <PyObject *>n; v[14] = <PyObject *>o; v[15] = <PyObject *>p
    v[16] = <PyObject *>q; v[17] = <PyObject *>r
    return paperex_record_of(cls, v, 18)


cpdef str pex_client_id(oid):
    """``f"pex{oid}"`` (the client order id of an order sent without one), written in one
    allocation for an int id in [0, 2**63); anything else takes the f-string."""
    cdef char buf[32]
    cdef char tmp[24]
    cdef int overflow = 0
    cdef long long v
    cdef int n = 0, i = 3
    if type(oid) is not int:
        return f"pex{oid}"
    v = PyLong_AsLongLongAndOverflow(oid, &overflow)
    if overflow or v < 0:
        return f"pex{oid}"
    buf[0] = b'p'
    buf[1] = b'e'
    buf[2] = b'x'
    while True:
        tmp[n] = <char>(48 + v % 10)
        n += 1
        v //= 10
        if v == 0:
            break
    while n:
        n -= 1
        buf[i] = tmp[n]
        i += 1
    s = PyUnicode_New(i, 127)
    memcpy(PyUnicode_DATA(s), buf, i)
    return s
