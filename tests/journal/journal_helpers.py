"""Shared helpers for the journal tests (imported by module name; no __init__.py)."""
from __future__ import annotations

from pathlib import Path

from exchange.journal import JournalReader, JournalWriter

CONFIG = {"symbols": [{"symbol": "BTCUSDT", "tickSize": "0.10", "stepSize": "0.001"}],
          "version": 1}


def sample(i: int) -> tuple[int, int, int, list]:
    """A small command record like the ones the venue journals."""
    return (i, 1_700_000_000_000 + i, 3, [12345, 1, 0, 6_500_000 + i, 10, 0])


def write(path: Path, records, *, group: int = 1, **kw) -> JournalWriter:
    """Write ``records`` committing every ``group`` records; returns the closed writer."""
    w = JournalWriter(path, CONFIG, **kw)
    for k, r in enumerate(records, 1):
        w.append(*r)
        if k % group == 0:
            w.commit()
    w.close()
    return w


def read_all(path: Path, **kw) -> list[tuple]:
    return [tuple(r) for r in JournalReader(path).records(**kw)]


def segments(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.suffix == ".journal")
