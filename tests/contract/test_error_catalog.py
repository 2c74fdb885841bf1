"""One error catalog (exchange.contract.errors): each code defined once, and every
refusal the venue can give has its answer on the wire."""
import ast
import io
import tokenize
from pathlib import Path

import pytest

from exchange.contract import errors as catalog
from exchange.gateway import errors as wire

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for ext in ("py", "pyx", "pxd") for p in (ROOT / "exchange").rglob(f"*.{ext}")]
CATALOG_FILE = ROOT / "exchange" / "contract" / "errors.py"


def _venue_entries() -> dict[str, catalog.ErrorCode]:
    """Every catalog entry the venue's source names (``E.Family.ATTR``)."""
    found: dict[str, catalog.ErrorCode] = {}
    for path in sorted((ROOT / "exchange" / "venue").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == "E":
                fam = getattr(catalog, node.value.attr)
                found[f"{node.value.attr}.{node.attr}"] = getattr(fam, node.attr)
    return found


def test_venue_refusals_have_wire_answers():
    venue = _venue_entries()
    assert len(venue) >= 40, sorted(venue)     # the scan found the venue's refusals
    for key, entry in venue.items():
        spec = wire.CATALOG.get(key)
        assert spec is not None, f"{key}: no wire answer"
        assert spec.entry is entry and spec.code == entry.code
        args = ("x",) * entry.arity
        code, msg = entry.reason(*args)
        # what the gateway answers to the venue's event is the catalog's answer, status included
        err = wire.rejection(code, msg)
        expected = spec(*args)
        assert (err.code, err.msg, err.http_status) == (expected.code, expected.msg, expected.http_status)


def test_each_code_once_with_one_name():
    seen: dict[int, str] = {}
    for fam in catalog.FAMILIES:
        lo, hi = fam.RANGE
        for attr, entry in fam.items():
            assert lo <= entry.code <= hi, f"{fam.__name__}.{attr} outside its range"
            if isinstance(entry, catalog.Wording):
                assert entry.of is catalog.CODES[entry.code] and entry.name == entry.of.name
                continue
            assert entry.code not in seen, f"{entry.code}: {seen.get(entry.code)} and {fam.__name__}.{attr}"
            seen[entry.code] = f"{fam.__name__}.{attr}"
    assert set(seen) == set(catalog.CODES)
    with pytest.raises(ValueError, match="defined twice"):
        catalog.ErrorCode(-2019, "AGAIN", "Margin is insufficient.")
    assert catalog.CODES[-2019].name == "MARGIN_NOT_SUFFICIEN"


def _code_literals(path: Path) -> list[tuple[int, int]]:
    """(line, value) of every negative literal -1000..-5999 in code (strings and comments
    are not code): a Binance error code written outside the catalog."""
    out = []
    toks = [t for t in tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
                              tokenize.DEDENT)]
    for prev, minus, num in zip(toks, toks[1:], toks[2:]):
        unary = prev.type == tokenize.OP and prev.string in "([{,=:" or prev.string in ("return", "in", "==")
        if minus.string == "-" and unary and num.type == tokenize.NUMBER and num.string.isdigit() \
                and 1000 <= int(num.string) <= 5999:
            out.append((num.start[0], -int(num.string)))
    return out


def test_no_code_defined_outside_the_catalog():
    assert _code_literals(CATALOG_FILE)      # the scan sees the catalog's own codes
    stray = {str(p.relative_to(ROOT)): lits for p in SOURCES if p != CATALOG_FILE
             for lits in [_code_literals(p)] if lits}
    assert stray == {}
