# The record constructor as a C call for the compiled venue modules (venue.pxd, market.pxd cimport it;
# their Python-level ``from .records import new_record`` is then the pure-Python twin's import).
cpdef object new_record(type cls, tuple fields)
# the same for the record sizes of the order path, without the temporary tuple (venue.pxd)
cpdef object record5(type cls, a, b, c, d, e)
cpdef object record6(type cls, a, b, c, d, e, f)
cpdef object record8(type cls, a, b, c, d, e, f, g, h)
cpdef object record18(type cls, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r)
cpdef object record22(type cls, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, w)

# orders.pxd cimports this one: the default client order id, a C call
cpdef str pex_client_id(oid)
