# cython: language_level=3
"""C constructor of the venue's event records (NamedTuple subclasses of tuple).

``new_record(Cls, fields)`` is ``tuple.__new__(Cls, fields)`` without the
Python-level ``tuple.__new__`` wrapper, whose safety checks (a walk of the
class's MRO per call) cost more than building the record: the venue makes
three or four records per order and two per position at funding.  The
pure-Python twin is ``tuple.__new__`` itself (``records.new_record``).
"""

from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.type cimport PyType_IsSubtype
from cpython.unicode cimport PyUnicode_DecodeASCII

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


cpdef object new_record(type cls, tuple fields):
    if cls is None or fields is None:
        raise TypeError("new_record: a tuple subclass and a tuple are required")
    if not PyType_IsSubtype(cls, tuple):
        raise TypeError("new_record: %r is not a tuple subclass" % (cls,))
    return paperex_new_record(cls, fields)


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
    return PyUnicode_DecodeASCII(buf, i, NULL)
