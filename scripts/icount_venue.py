#!/usr/bin/env python
"""Driver for load-independent instruction counts of the venue's sections of
``bench_venue.py`` and of the perp kernels (callgrind), for the twin rule (ARCHITECTURE rule 8).

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python3 scripts/icount_venue.py SECTION N [--setup-only]

SECTION ``orders``: bench_venue's order mix, N commands (generated once per N and pickled in
the temp dir, so every build replays the same commands), garbage collector off as in
``bench_orders``; ``funding``: N positions built as ``build_positions``, then one
SettleFunding under the serve GC policy; ``marks``: N positions, then 300 mark updates that
liquidate nobody.  Instructions of the section = total - total with ``--setup-only``
(run ``orders N`` once first: its first run also generates and pickles the commands).

    ... python3 scripts/icount_venue.py kernel NAME {kernel|spec|none}

20,000 calls of the perp function NAME (realistic venue arguments) through its compiled
kernel, its Python specification, or a no-op: (spec - kernel) / 20,000 is what one call of
the kernel saves.  Run it with ``PYTHONPATH`` set to the checkout whose build you count.
"""
from __future__ import annotations

import gc
import os
import pickle
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))

import bench_venue as b  # noqa: E402
from exchange.contract.commands import SetMarkPrice, SettleFunding  # noqa: E402


def section(what: str, n: int, setup_only: bool) -> None:
    if what == "orders":
        path = os.path.join(tempfile.gettempdir(), f"paperex_icount_orders_{n}.pickle")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                pickle.dump(b.order_commands(n)[0], f)
        with open(path, "rb") as f:
            cmds = pickle.load(f)
        v = b._order_setup()
        gc.collect()
        gc.disable()            # as bench_venue.bench_orders
        if not setup_only:
            for c in cmds:
                v.apply(1, c)
            assert v.money_identity()["balanced"]
    elif what == "funding":
        v = b.build_positions(n)
        b.heap.configure()      # as bench_venue.bench_funding (the serve GC policy)
        b.heap.settle()
        if not setup_only:
            ev = v.apply(8 * b.H, SettleFunding(b.BTC))
            assert ev[0].positions == n
    elif what == "marks":
        v = b.build_positions(n)
        gc.collect()
        if not setup_only:
            for i in range(300):
                v.apply(2, SetMarkPrice(b.BTC, b.MARK + (i % 11) - 5))
    else:
        raise SystemExit(__doc__)


def kernel_calls(name: str, which: str) -> None:
    import exchange.perp._kernels as kernels
    from exchange.contract.instruments import DEFAULT_INSTRUMENTS
    from exchange.perp import fees, funding, liquidation, margin, position
    from exchange.venue.spec import SymbolSpec
    spec = SymbolSpec(DEFAULT_INSTRUMENTS["BTCUSDT"])
    t, u = spec.bracket_table, spec.notional_unit
    calls = {
        "apply_fill": (position, (250, 250 * 500_010 * u, -40, 500_003, u)),
        "unrealized_pnl": (position, (250, 250 * 500_010 * u, 500_003, u)),
        "commission_split": (fees, (40 * 500_003 * u, 50_000)),
        "initial_margin": (margin, (250 * 500_003 * u, 20)),
        "slot_order_margin": (margin, (0, 250 * 500_003 * u, 30 * 499_990 * u, 10 * 500_020 * u, 0, 30 * u, 20)),
        "leg_index_key": (liquidation, (250, 250 * 500_010 * u, 30_000 * 10**8, t, u, 500_003)),
        "funding_payment": (funding, (250, 500_003, 10_000, u)),
    }
    module, args = calls[name]
    f = getattr(kernels, name) if which == "kernel" else getattr(module, name)
    assert getattr(kernels, name)(*args) == getattr(module, name)(*args)
    if which == "none":
        def f(*a):
            return None
    for _ in range(20_000):
        f(*args)


if __name__ == "__main__":
    if sys.argv[1] == "kernel":
        kernel_calls(sys.argv[2], sys.argv[3])
    else:
        section(sys.argv[1], int(sys.argv[2]), "--setup-only" in sys.argv)
