#!/usr/bin/env python
"""Matching-engine benchmark: compiled book vs reference book on one seeded workload.

Workload (``--ops`` operations, default 1,000,000), generated once and replayed on
every book:
  ~55% passive limit orders near the touch, at exponentially distributed distances,
  ~35% cancels of random orders believed resting (some have filled meanwhile:
       those cancels are answered "unknown order", as in real cancel races),
  ~10% marketable orders (half MARKET, half IOC limits a few ticks through).

Reports: operations per second for one call per operation (compiled and
reference), for the compiled batch entry point, their ratios, p50/p99 latency
per operation of the compiled book, and bytes per resting order measured from
process RSS with ``--resting`` (default 1,000,000) orders in one book.
With ``--json`` the last line is one JSON object.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import matching  # noqa: E402
from matching import BUY, GTC, IOC, MARKET, OP_CANCEL, OP_SUBMIT, OP_WIDTH, SELL  # noqa: E402
from matching.reference import ReferenceBook  # noqa: E402

MID = 6_000_000  # ticks: BTC at 60,000.0 with a 0.01 tick


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_workload(n: int, seed: int) -> list[tuple]:
    """Ops as (op, id, owner, side, price, qty, kind, stp) tuples."""
    rng = random.Random(seed)
    ops: list[tuple] = []
    resting: list[int] = []  # ids believed resting; swap-remove keeps picks O(1)
    mid = MID
    next_id = 1
    for _ in range(n):
        r = rng.random()
        if r < 0.55 or not resting:
            side = BUY if rng.random() < 0.5 else SELL
            dist = 1 + int(rng.expovariate(1 / 8.0))
            price = mid - dist if side == BUY else mid + dist
            ops.append((OP_SUBMIT, next_id, rng.randrange(1, 1000), side, price,
                        rng.randint(1, 10), GTC, 0))
            resting.append(next_id)
            next_id += 1
        elif r < 0.90:
            k = rng.randrange(len(resting))
            resting[k], resting[-1] = resting[-1], resting[k]
            ops.append((OP_CANCEL, resting.pop(), 0, 0, 0, 0, 0, 0))
        else:
            side = BUY if rng.random() < 0.5 else SELL
            qty = 1 + int(rng.expovariate(1 / 6.0))
            if rng.random() < 0.5:
                ops.append((OP_SUBMIT, next_id, rng.randrange(1, 1000), side, 0, qty, MARKET, 0))
            else:
                through = rng.randint(1, 5)
                price = mid + through if side == BUY else mid - through
                ops.append((OP_SUBMIT, next_id, rng.randrange(1, 1000), side, price, qty, IOC, 0))
            next_id += 1
        if rng.random() < 0.001:  # a slow drift so levels keep appearing and emptying
            mid += rng.choice((-1, 1))
    return ops


def run_single(book, ops) -> float:
    submit, cancel, modify = book.submit, book.cancel, book.modify
    t0 = time.perf_counter()
    for op, oid, owner, side, price, qty, kind, stp in ops:
        if op == OP_SUBMIT:
            submit(oid, owner, side, price, qty, kind, stp)
        elif op == OP_CANCEL:
            cancel(oid)
        else:
            modify(oid, price, qty)
    return time.perf_counter() - t0


def run_batch(book, flat) -> float:
    t0 = time.perf_counter()
    book.execute_batch(flat)
    return time.perf_counter() - t0


def run_interleaved(ops, flat, segment: int) -> tuple[float, float, float]:
    """Advance the three contenders through the workload a segment at a time, in
    turn, so that a slow spell of a shared machine hits all of them alike."""
    compiled, batch, reference = matching.CompiledBook(), matching.CompiledBook(), ReferenceBook()
    t_cy = t_batch = t_ref = 0.0
    view = memoryview(flat)
    gc.disable()
    try:
        for start in range(0, len(ops), segment):
            part = ops[start:start + segment]
            t_cy += run_single(compiled, part)
            t_batch += run_batch(batch, view[start * OP_WIDTH:(start + segment) * OP_WIDTH])
            t_ref += run_single(reference, part)
    finally:
        gc.enable()
    for side in (BUY, SELL):
        if not (compiled.depth(side, 50) == batch.depth(side, 50) == reference.depth(side, 50)):
            raise SystemExit("the books disagree at the end of the workload")
    return t_cy, t_batch, t_ref


def latencies_ns(book, ops) -> list[int]:
    submit, cancel = book.submit, book.cancel
    clock = time.perf_counter_ns
    out = []
    append = out.append
    gc.disable()
    for op, oid, owner, side, price, qty, kind, stp in ops:
        t0 = clock()
        if op == OP_SUBMIT:
            submit(oid, owner, side, price, qty, kind, stp)
        else:
            cancel(oid)
        append(clock() - t0)
    gc.enable()
    # subtract the cost of the clock pair itself so the figure is the operation's
    overhead = min(clock() - clock() for _ in range(1000))
    return sorted(max(0, x - overhead) for x in out)


def bytes_per_resting_order(book_cls, n: int, seed: int) -> float:
    rng = random.Random(seed)
    gc.collect()
    before = rss_bytes()
    book = book_cls()
    chunk = array("q")
    for i in range(1, n + 1):
        side = BUY if i & 1 else SELL
        dist = 1 + int(rng.expovariate(1 / 50.0))
        chunk.extend((OP_SUBMIT, i, i % 1000, side, MID - dist if side == BUY else MID + dist,
                      rng.randint(1, 10), GTC, 0))
        if len(chunk) >= 8 * 20000 or i == n:
            book.execute_batch(chunk)
            chunk = array("q")
    assert len(book) == n
    gc.collect()
    used = rss_bytes() - before
    del book
    return used / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--resting", type=int, default=1_000_000, help="orders for the memory figure")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--segment", type=int, default=50_000,
                    help="operations per turn (and per batch call) when interleaving the books")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if matching.CompiledBook is None:
        print("the compiled book is not built (pip install -e .)", file=sys.stderr)
        return 2
    Compiled = matching.CompiledBook

    # memory first, in a clean heap
    bpo = bytes_per_resting_order(Compiled, args.resting, args.seed)

    ops = make_workload(args.ops, args.seed)
    flat = array("q")
    for op in ops:
        flat.extend(op)
    n = len(ops)
    mix = {"passive": sum(1 for o in ops if o[0] == OP_SUBMIT and o[6] == GTC),
           "cancel": sum(1 for o in ops if o[0] == OP_CANCEL),
           "marketable": sum(1 for o in ops if o[0] == OP_SUBMIT and o[6] != GTC)}

    # best of several interleaved rounds, fresh books each round
    t_cy = t_ref = t_batch = float("inf")
    for _ in range(args.rounds):
        a, b, c = run_interleaved(ops, flat, args.segment)
        t_cy, t_batch, t_ref = min(t_cy, a), min(t_batch, b), min(t_ref, c)
    same = True  # run_interleaved exits if the books disagree
    check_cy = matching.CompiledBook()
    run_single(check_cy, ops)
    lat = latencies_ns(Compiled(), ops)
    p50 = lat[len(lat) // 2] / 1000
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1000

    result = {
        "ops": n,
        "mix": mix,
        "cython_ops_per_s": round(n / t_cy),
        "batch_ops_per_s": round(n / t_batch),
        "reference_ops_per_s": round(n / t_ref),
        "ratio": round(t_ref / t_cy, 2),
        "batch_ratio": round(t_ref / t_batch, 2),
        "p50_us": round(p50, 3),
        "p99_us": round(p99, 3),
        "bytes_per_resting_order": round(bpo, 1),
        "resting_orders": args.resting,
        "final_depth_equal": same,
        "resting_after_workload": len(check_cy),
    }
    print(f"workload: {n:,} ops ({mix['passive']:,} passive, {mix['cancel']:,} cancels, "
          f"{mix['marketable']:,} marketable), seed {args.seed}")
    print(f"compiled, one call per op : {result['cython_ops_per_s']:>12,} ops/s")
    print(f"compiled, batch           : {result['batch_ops_per_s']:>12,} ops/s")
    print(f"reference (pure Python)   : {result['reference_ops_per_s']:>12,} ops/s")
    print(f"ratio single / batch      : {result['ratio']}x / {result['batch_ratio']}x")
    print(f"latency per op (compiled) : p50 {p50:.3f} us, p99 {p99:.3f} us")
    print(f"memory                    : {bpo:.1f} bytes per resting order ({args.resting:,} resting)")
    print(f"books agree at the end    : {same}")
    if args.json:
        print(json.dumps(result))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
