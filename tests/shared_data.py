"""The recorded market-data samples the flow tests read: ``../shared/data`` beside the
checkout (never copied into the repo; see shared/data/README.md).

Without them those tests skip, so a fresh clone without the samples still runs the
rest; with ``PAPEREX_REQUIRE_DATA=1`` (what ``.ci/run`` sets) a missing sample is a
failure, so CI cannot pass by skipping them.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: also looked at: the shared data of the machine the project is developed on
FALLBACKS = (SHARED_DATA, Path("/work/shared/data"))


def required() -> bool:
    return os.environ.get("PAPEREX_REQUIRE_DATA") == "1"


def find(rel: str) -> Path:
    """The sample ``rel`` (a file or directory under shared/data), else skip (fail when required)."""
    for base in FALLBACKS:
        p = base / rel
        if p.exists():
            return p.resolve()
    missing(f"recorded sample {rel} not found under {SHARED_DATA.resolve()}")


def missing(why: str):
    if required():
        pytest.fail(why + " (PAPEREX_REQUIRE_DATA=1: the samples are required)", pytrace=False)
    pytest.skip(why)
