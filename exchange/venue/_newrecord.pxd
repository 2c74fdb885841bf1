# The record constructor as a C call for the compiled venue modules (venue.pxd, market.pxd cimport it;
# their Python-level ``from .records import new_record`` is then the pure-Python twin's import).
cpdef object new_record(type cls, tuple fields)

# orders.pxd cimports this one: the default client order id, a C call
cpdef str pex_client_id(oid)
