"""Garbage-collector policy of a process that holds a venue (``paperex serve``, the benchmarks).

The venue keeps millions of long-lived objects (orders, positions, index entries)
and creates no reference cycles on its command paths, but CPython's full
collections walk every tracked object: at 100k open positions one pass costs
about half a second, and it lands in whichever command happens to trigger it
(funding settlement of 100k positions took 0.8-1.0 s, half of it one such pass).

So the process freezes what is alive after start-up and after every snapshot
(``gc.freeze``: the collector stops scanning those objects; reference counting
still frees them) and collects the young generation less often.  Full passes
then only walk what was created since the last freeze.  Library code (the
runtime, the tests) never calls this: it is a whole-process decision.
"""
from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000     # allocations between young collections (CPython's default is 700)


def configure() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, 20, 10)


def settle() -> None:
    """Collect once, then freeze the survivors (call after start-up and after snapshots)."""
    gc.collect()
    gc.freeze()
