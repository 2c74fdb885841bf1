"""The one accelerator switch of paperex: ``PAPEREX_PURE=1`` forces Python everywhere.

Every compiled twin (the order book here, the venue's Cython-compiled modules,
the perp kernels, the liquidation index) is chosen through this module, and
this is the only place that reads the environment.  It sits in layer 0 so the
order book can use it; ``exchange._accelerated`` and ``exchange.perp`` import it.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType

#: True when ``PAPEREX_PURE=1``: no compiled module is used, every pure-Python twin runs
PURE = os.environ.get("PAPEREX_PURE") == "1"


def compiled(module: str) -> ModuleType | None:
    """The compiled module ``module``, or None under ``PAPEREX_PURE=1`` or when it was not
    built (then its pure-Python twin keeps everything working)."""
    if PURE:
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
