# cython: language_level=3
"""The record constructor as a C function: ``new_record(cls, fields)`` is
``tuple.__new__(cls, fields)`` (``records.new_record``, its specification).

Every event the venue makes, every record the journal decodes and every command
a recorded market replays is a NamedTuple built this way.  Called from Python,
``tuple.__new__`` goes through the type's ``__new__`` wrapper: a method lookup,
an argument tuple, a slice of it, the subtype checks and a copy of ``fields``
(about 900 instructions per record against about 150 here: BENCHMARKS.md,
"The record constructor").  Here the record is allocated by its class and
filled from ``fields`` directly.  The compiled venue modules cimport it (a C
call); everyone else gets it through ``records.new_record``.
"""
from cpython.object cimport PyTypeObject
from cpython.type cimport PyType_IsSubtype

cdef extern from *:
    """
    static PyObject *paperex_record_of(PyTypeObject *t, PyObject *const *items, Py_ssize_t n) {
        Py_ssize_t i;
        PyObject *r = t->tp_alloc(t, n);
        if (r == NULL) return NULL;
        for (i = 0; i < n; i++) {
            Py_INCREF(items[i]);
            PyTuple_SET_ITEM(r, i, items[i]);
        }
        return r;
    }
    static PyObject *paperex_record_of_tuple(PyTypeObject *t, PyObject *fields) {
        return paperex_record_of(t, &PyTuple_GET_ITEM(fields, 0), PyTuple_GET_SIZE(fields));
    }
    static PyObject *paperex_record_of_list(PyTypeObject *t, PyObject *fields) {
        return paperex_record_of(t, PySequence_Fast_ITEMS(fields), PyList_GET_SIZE(fields));
    }
    """
    object paperex_record_of_tuple(PyTypeObject *t, object fields)
    object paperex_record_of_list(PyTypeObject *t, object fields)


cpdef object new_record(type cls, object fields):
    """``tuple.__new__(cls, fields)``: a ``cls`` (a subclass of tuple) holding ``fields``
    (a tuple - the venue's events - or a list - the journal's decoded records)."""
    if cls is not tuple and PyType_IsSubtype(cls, tuple):
        if type(fields) is tuple:
            return paperex_record_of_tuple(<PyTypeObject *>cls, fields)
        if type(fields) is list:
            return paperex_record_of_list(<PyTypeObject *>cls, fields)
    # anything else (tuple itself, another iterable, a class that is no tuple): the
    # specification's own answer
    return tuple.__new__(cls, fields)
