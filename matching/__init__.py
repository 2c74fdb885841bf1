"""Limit order books, one per symbol: integers only, no money, no accounts, no I/O.

``Book`` is the compiled book (``matching._book``) when it is built, otherwise
the pure-Python ``ReferenceBook``; both follow the rules written down in
``matching.reference`` and give identical reports.  Set ``PAPEREX_PURE=1`` to
force the reference book (the one switch, ``matching.accelerator``; the test suite
runs against both).
"""
from __future__ import annotations

from matching.accelerator import compiled
from matching.constants import *  # noqa: F401,F403 - the codes are part of the package API
from matching.reference import ReferenceBook

_compiled_book = compiled("matching._book")     # None when not built, or PAPEREX_PURE=1
CompiledBook = _compiled_book.Book if _compiled_book is not None else None

Book = CompiledBook if CompiledBook is not None else ReferenceBook
COMPILED = CompiledBook is not None
