"""Which modules of ``exchange`` are compiled, and the switch back to their source.

The venue's modules are written in Python and compiled by Cython in pure-Python
mode (each ``.pxd`` beside a ``.py`` gives the record classes a C layout and the
hot functions typed locals).  The ``.py`` file is therefore both the compiled
module's source and its pure-Python twin.  Python prefers an extension module to
a source file of the same name, so ``PAPEREX_PURE=1`` (the one switch,
``matching.accelerator``, which also picks the reference order book and the
perp specifications instead of their kernels) installs a finder that loads the
sources instead; the test suite runs against both.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

from matching.accelerator import PURE

ACCELERATED = (
    "exchange.venue.accounts", "exchange.venue.orders", "exchange.venue.positions", "exchange.venue.spec",
    "exchange.venue.symbol_state", "exchange.venue.risk", "exchange.venue.venue", "exchange.venue.liquidation",
    "exchange.venue.market", "exchange.venue.conditional", "exchange.venue.admin", "exchange.venue.queries",
    "exchange.venue.snapshot",
)

# compiled modules with no source of the same name: unavailable under PAPEREX_PURE=1 (their
# importers choose through ``matching.accelerator.compiled`` and get the twin: the perp
# specifications for ``exchange.perp._kernels``, ``liqindex.PyLiqIndex`` for ``_liqindex``)
COMPILED_ONLY = ("exchange.perp._kernels", "exchange.venue._liqindex", "exchange.contract._records")

_ROOT = Path(__file__).resolve().parent.parent


class _SourceFirst:
    """Meta-path finder: the accelerated modules come from their ``.py`` source and
    the compiled-only helpers are absent."""

    @staticmethod
    def find_spec(fullname: str, path=None, target=None):
        if fullname in COMPILED_ONLY:
            raise ImportError(f"{fullname} is compiled only (PAPEREX_PURE=1)")
        if fullname not in ACCELERATED:
            return None
        source = _ROOT.joinpath(*fullname.split(".")).with_suffix(".py")
        loader = importlib.machinery.SourceFileLoader(fullname, str(source))
        return importlib.util.spec_from_file_location(fullname, source, loader=loader)


def install() -> None:
    if PURE and not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())


def compiled() -> bool:
    """True when the venue runs compiled (the extension modules were built and not switched off)."""
    from exchange.venue import venue
    return not venue.__file__.endswith(".py")
