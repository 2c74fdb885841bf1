"""Limit order books, one per symbol: integers only, no money, no accounts, no I/O.

``Book`` is the compiled book (``matching._book``) when it is built, otherwise
the pure-Python ``ReferenceBook``; both follow the rules written down in
``matching.reference`` and give identical reports.  Set ``PAPEREX_PURE=1`` to
force the reference book (the test suite runs against both).
"""
from __future__ import annotations

import os

from matching.constants import *  # noqa: F401,F403 - the codes are part of the package API
from matching.reference import ReferenceBook

CompiledBook = None
if os.environ.get("PAPEREX_PURE") != "1":
    try:
        from matching._book import Book as CompiledBook
    except ImportError:  # not built: the reference twin keeps everything working
        CompiledBook = None

Book = CompiledBook if CompiledBook is not None else ReferenceBook
COMPILED = CompiledBook is not None
