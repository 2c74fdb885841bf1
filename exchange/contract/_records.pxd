# cimported by the compiled venue modules: the record constructor as a C call
cpdef object new_record(type cls, object fields)
