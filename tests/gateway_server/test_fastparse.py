"""The gateway's fast form parser gives exactly what params.parse_form gives."""
from hypothesis import given, settings, strategies as st

from exchange.gateway.common import fast_pairs
from exchange.gateway.params import parse_form


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=80),
                 st.text(alphabet="ab=&%+1é \x00", max_size=40).map(str.encode),
                 st.text(alphabet="abcXYZ019=&._-", max_size=80).map(str.encode)))
def test_fast_pairs_equals_parse_form(raw):
    assert fast_pairs(raw) == parse_form(raw)


def test_fast_pairs_examples():
    assert fast_pairs(b"symbol=BTCUSDT&&side=&x") == [("symbol", "BTCUSDT"), ("side", ""), ("x", "")]
    assert fast_pairs(b"a=%2F+b") == [("a", "/ b")]
