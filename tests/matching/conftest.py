import pytest

import matching
from matching.reference import ReferenceBook

BOOKS = [pytest.param(ReferenceBook, id="reference")]
if matching.CompiledBook is not None:
    BOOKS.insert(0, pytest.param(matching.CompiledBook, id="compiled"))


@pytest.fixture(params=BOOKS)
def book(request):
    """Every rule test runs against the compiled book and its pure-Python twin."""
    return request.param()
