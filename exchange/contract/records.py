"""Shared machinery for commands and events: NamedTuples with a stable ``KIND``.

A record is stored as ``[kind, [field, ...]]`` (msgpack-ready: ints and
strings only).  ``to_record`` / ``from_record`` are the only conversions; the
field order is the NamedTuple's declaration order and never changes for a
given kind (new fields may only be appended, with defaults).
"""
from __future__ import annotations

import typing
from typing import Any


from matching.accelerator import compiled

#: a record from its class and its fields' tuple, without the NamedTuple constructor's
#: keyword handling: ``tuple.__new__`` is the specification; ``_records.new_record`` its
#: compiled kernel (the venue makes one per event, the journal one per record it reads)
_kernel = compiled("exchange.contract._records")
new_record = tuple.__new__ if _kernel is None else _kernel.new_record



class Registry:
    """kind -> record class, with type checking on decode."""

    def __init__(self, what: str, lo: int, hi: int) -> None:
        self.what = what
        self.lo = lo
        self.hi = hi
        self.by_kind: dict[int, type] = {}

    def register(self, cls: type) -> type:
        kind = cls.KIND
        if not (self.lo <= kind < self.hi):
            raise ValueError(f"{self.what} kind {kind} out of range [{self.lo}, {self.hi})")
        if kind in self.by_kind:
            raise ValueError(f"duplicate {self.what} kind {kind}")
        self.by_kind[kind] = cls
        hints = typing.get_type_hints(cls)
        types = []
        for name in cls._fields:
            t = hints[name]
            if t not in (int, str):
                raise TypeError(f"{cls.__name__}.{name}: only int and str fields")
            types.append(t)
        cls._field_types = tuple(types)
        core = getattr(cls, "CORE_FIELDS", None)
        if core is None:
            cls.to_record = _to_record
            cls.JOURNAL_SHAPE = (kind, None, ())
        else:
            # fields appended after the first release are written only when set,
            # so records of commands/events that do not use them keep their old form
            cls._ext_defaults = tuple(cls._field_defaults[f] for f in cls._fields[core:])
            cls._core = core
            cls.to_record = _to_record_ext
            cls.JOURNAL_SHAPE = (kind, core, cls._ext_defaults)
        return cls

    def from_record(self, record: Any):
        """Decode ``[kind, payload]``; raises ValueError on anything malformed."""
        try:
            kind, payload = record
        except (TypeError, ValueError):
            raise ValueError(f"malformed {self.what} record") from None
        cls = self.by_kind.get(kind) if type(kind) is int else None
        if cls is None:
            raise ValueError(f"unknown {self.what} kind {kind!r}")
        if not isinstance(payload, (list, tuple)):
            raise ValueError(f"malformed {self.what} payload")
        n_req = len(cls._fields) - len(cls._field_defaults)
        if not (n_req <= len(payload) <= len(cls._fields)):
            raise ValueError(f"{cls.__name__}: expected {len(cls._fields)} fields, got {len(payload)}")
        for value, t, name in zip(payload, cls._field_types, cls._fields):
            if type(value) is not t:
                raise ValueError(f"{cls.__name__}.{name}: expected {t.__name__}, got {type(value).__name__}")
        return cls(*payload)


# ``JOURNAL_SHAPE = (KIND, core, defaults)`` tells the journal writer how ``to_record()``
# is made, so it packs ``(seq, ts, KIND, record)`` - the tuple itself, or its first
# ``core`` fields while the rest equal ``defaults`` - without a Python call and two lists
# per record: the very bytes of ``[seq, ts, *to_record()]`` (msgpack writes a tuple as an
# array).  ``core`` None: the record is all its fields.  The sequencer's hot path packs
# ~2.5 records per command (BENCHMARKS.md, "Compiled twins and fast paths";
# tests/journal/test_journal_roundtrip.py holds the writer to to_record() for every class).


def _to_record(self) -> list:
    return [self.KIND, list(self)]


def _to_record_ext(self) -> list:
    values = list(self)
    n = len(values)
    core = self._core
    defaults = self._ext_defaults
    while n > core and values[n - 1] == defaults[n - 1 - core]:
        n -= 1
    if n < len(values):
        del values[n:]
    return [self.KIND, values]
