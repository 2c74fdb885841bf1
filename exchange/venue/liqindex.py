"""The liquidation index of one symbol side: a sorted multiset of ``(key, account_id, group)``.

``LiqIndex`` is the compiled ``_liqindex.LiqIndex`` (a C++ ``std::multiset`` of
64-bit triples, with an exact Python side list for items beyond 64 bits) when
it is built, else ``PyLiqIndex``, its pure-Python twin: a ``SortedList`` of the
tuples with the two range scans a mark move needs and the bulk rebuild of the
risk pass.  Both give the same items in the same (tuple) order, so the venue
dirties the same accounts in the same order either way
(``tests/venue/test_liqindex.py`` compares them).
"""
from __future__ import annotations

from sortedcontainers import SortedList

from matching.accelerator import compiled


class PyLiqIndex(SortedList):
    """``SortedList`` of ``(key, account_id, group)`` with the venue's scans."""

    def hits_from(self, key, dirty: dict) -> None:
        """``dirty[account_id] = None`` for every item with ``item[0] >= key``, in order."""
        i = self.bisect_left((key,))
        if i < len(self):
            for item in self.islice(i):
                dirty[item[1]] = None

    def hits_upto(self, key, dirty: dict) -> None:
        """``dirty[account_id] = None`` for every item with ``item[0] <= key``, in order."""
        j = self.bisect_left((key + 1,))
        if j:
            for item in self.islice(0, j):
                dirty[item[1]] = None

    def items(self) -> list:
        return list(self)

    def replace(self, removed, added) -> None:
        """Remove every item of the set ``removed`` (all occurrences) and add those of ``added``:
        one sort instead of one remove and one insert per item."""
        keep = [x for x in self if x not in removed] if removed else list(self)
        keep.extend(added)
        self.clear()
        self.update(keep)


_compiled = compiled("exchange.venue._liqindex")     # None when not built, or PAPEREX_PURE=1
LiqIndex = _compiled.LiqIndex if _compiled is not None else PyLiqIndex
