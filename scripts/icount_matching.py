#!/usr/bin/env python
"""Driver for load-independent instruction counts of the compiled book (callgrind).

    PYTHONHASHSEED=0 valgrind --tool=callgrind python3 scripts/icount_matching.py MODE N [ROOT]

MODE ``gen`` only builds the workload of ``bench_matching.py`` (seed 7, N operations);
``single`` also runs it one call per operation, ``batch`` through ``execute_batch``.
Instructions per operation = (total of MODE - total of ``gen``) / N.  ROOT (default:
this checkout) is where ``matching`` is imported from, to count another build.
"""
import os
import sys
from array import array

mode, n = sys.argv[1], int(sys.argv[2])
root = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [root, os.path.join(root, "scripts")]

import bench_matching as bench  # noqa: E402
import matching  # noqa: E402

ops = bench.make_workload(n, 7)
flat = array("q")
for op in ops:
    flat.extend(op)
if mode == "single":
    bench.run_single(matching.CompiledBook(), ops)
elif mode == "batch":
    bench.run_batch(matching.CompiledBook(), flat)
elif mode != "gen":
    sys.exit("MODE must be gen, single or batch")
