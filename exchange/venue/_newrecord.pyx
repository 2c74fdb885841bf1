# cython: language_level=3
"""C constructor of the venue's event records (NamedTuple subclasses of tuple).

``new_record(Cls, fields)`` is ``tuple.__new__(Cls, fields)`` without the
Python-level ``tuple.__new__`` wrapper, whose safety checks (a walk of the
class's MRO per call) cost more than building the record: the venue makes
three or four records per order and two per position at funding.  The
pure-Python twin is ``tuple.__new__`` itself (``records.new_record``).
"""

from cpython.type cimport PyType_IsSubtype

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
