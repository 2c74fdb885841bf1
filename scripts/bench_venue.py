#!/usr/bin/env python
"""Venue benchmark: whole-venue order throughput, mark updates and funding at scale.

    python scripts/bench_venue.py [--smoke] [--json]

* ``orders_per_s``: NewOrder/CancelOrder commands through ``Venue.apply`` (risk
  checks, matching, positions, fees, events, liquidation index upkeep): 1,000
  accounts, limit orders around the mark (about a quarter cross), cancels of
  resting orders (ids learned from a scratch run of the same commands: until
  2026-11 the ids were guessed, so after the first refused order ~all cancels
  named someone else's order and were refused), some market orders.
* ``mark_update_us_{N}_positions``: mean cost of a SetMarkPrice that
  liquidates nobody with N open positions (N/2 accounts long, N/2 short, 2x
  leverage, so no liquidation price is near), alternating +/- a few ticks.
* ``funding_settle_ms_{N}_positions``: one SettleFunding over N positions, under
  the garbage-collector policy of ``paperex serve`` (``exchange/engine/heap.py``: the
  heap is frozen after start-up and snapshots); ``..._default_gc`` the same with
  CPython's default collector settings, for comparison.

Times are the process's CPU time (``time.process_time``), so other jobs on the
machine do not inflate them; ``venue`` says whether the compiled venue ran
(``PAPEREX_PURE=1`` runs the pure-Python twin).

``--smoke`` uses small sizes (10k/30k positions, a few seconds) for CI; the last line
with ``--json`` is one JSON object.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matching  # noqa: E402
from exchange.engine import heap  # noqa: E402
from exchange._accelerated import compiled  # noqa: E402
from exchange.contract.instruments import DEFAULT_INSTRUMENTS  # noqa: E402
from exchange.venue import Venue  # noqa: E402
from exchange.contract import codes as C  # noqa: E402
from exchange.contract.events import OrderAccepted  # noqa: E402
from exchange.contract.commands import (  # noqa: E402
    CancelOrder, CreateAccount, Deposit, NewOrder, SetIndexPrice, SetLeverage, SetMarkPrice, SettleFunding,
)

USDT = 100_000_000
BTC = "BTCUSDT"
MARK = 500_000          # 50,000.0 USDT in ticks
ORDER_ACCOUNTS = 1000
H = 3_600_000
DEFAULT_GC = gc.get_threshold()


def _order_setup() -> Venue:
    v = Venue(DEFAULT_INSTRUMENTS)
    for a in range(1, ORDER_ACCOUNTS + 1):
        v.apply(0, CreateAccount(a))
        v.apply(0, Deposit(a, 1_000_000 * USDT))
    v.apply(0, SetIndexPrice(BTC, MARK))
    return v


def order_commands(n_orders: int, seed: int = 7) -> tuple[list, int]:
    """The command mix, generated against a scratch venue so that every cancel names
    an order that is resting at that point (order ids are only known once the venue
    accepted an order: a refused order uses no id).  Returns (commands, cancels)."""
    rnd = random.Random(seed)
    scratch = _order_setup()
    open_orders = scratch.orders
    cmds = []
    live: list = []     # (account, order id) of orders that rested
    cancels = 0
    for _ in range(n_orders):
        r = rnd.random()
        a = rnd.randint(1, ORDER_ACCOUNTS)
        if r < 0.30:
            c = None
            while live:
                acct, oid = live.pop(rnd.randrange(len(live)))
                if oid in open_orders:
                    c = CancelOrder(acct, BTC, oid)
                    break
            if c is not None:
                cmds.append(c)
                scratch.apply(1, c)
                cancels += 1
                continue
        side = rnd.randint(0, 1)
        if r < 0.35:
            c = NewOrder(a, BTC, side, C.MARKET, C.GTC, rnd.randint(1, 20))
        else:
            off = rnd.randint(1, 60) if rnd.random() < 0.8 else -rnd.randint(0, 5)   # ~20 % cross
            price = MARK - off if side == 0 else MARK + off
            c = NewOrder(a, BTC, side, C.LIMIT, C.GTC, rnd.randint(1, 50), price)
        cmds.append(c)
        ev = scratch.apply(1, c)
        if c.order_type == C.LIMIT and type(ev[0]) is OrderAccepted and ev[0].order_id in open_orders:
            live.append((a, ev[0].order_id))
    return cmds, cancels


def bench_orders(n_orders: int, seed: int = 7) -> float:
    cmds, _ = order_commands(n_orders, seed)
    v = _order_setup()
    apply = v.apply
    gc.collect()
    gc.disable()
    t0 = time.process_time()
    for c in cmds:
        apply(1, c)
    dt = time.process_time() - t0
    gc.enable()
    assert v.money_identity()["balanced"]
    return n_orders / dt


def build_positions(n_positions: int) -> Venue:
    """n/2 long and n/2 short accounts, one position each, 2x leverage (far from liquidation)."""
    v = Venue(DEFAULT_INSTRUMENTS, history_limit=1000)
    v.apply(0, SetIndexPrice(BTC, MARK))
    pairs = n_positions // 2
    for i in range(pairs):
        a, b = 2 * i + 1, 2 * i + 2
        for x in (a, b):
            v.apply(0, CreateAccount(x))
            v.apply(0, Deposit(x, 30_000 * USDT))
            v.apply(0, SetLeverage(x, BTC, 2))
        q = 100 + i % 900            # 0.1 - 1 BTC
        v.apply(0, NewOrder(a, BTC, C.SELL, C.LIMIT, C.GTC, q, MARK + i % 7))
        v.apply(0, NewOrder(b, BTC, C.BUY, C.MARKET, C.GTC, q))
    assert len(v.symbols[BTC].positions) == 2 * pairs
    return v


def bench_marks(v: Venue, n_updates: int) -> float:
    apply = v.apply
    gc.collect()
    t0 = time.process_time()
    for i in range(n_updates):
        ev = apply(2, SetMarkPrice(BTC, MARK + (i % 11) - 5))
    dt = time.process_time() - t0
    assert len(ev) == 1, ev[:3]       # nobody liquidated
    return dt / n_updates * 1e6


def bench_funding(v: Venue, at_ms: int, server_gc: bool = True) -> float:
    """One SettleFunding, in CPU time.  ``server_gc``: under the garbage-collector
    policy ``paperex serve`` runs with (exchange.engine.heap: survivors of start-up and
    snapshots frozen), else CPython's defaults after a full collection."""
    if server_gc:
        heap.configure()
        heap.settle()
    else:
        gc.unfreeze()
        gc.set_threshold(*DEFAULT_GC)
        gc.collect()
    t0 = time.process_time()
    ev = v.apply(at_ms, SettleFunding(BTC))
    dt = time.process_time() - t0
    assert ev[0].positions == len(v.symbols[BTC].positions), ev[0]
    assert v.money_identity()["balanced"]
    return dt * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="small sizes, a few seconds (CI)")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    small, big = (10_000, 30_000) if args.smoke else (10_000, 100_000)
    n_orders = 30_000 if args.smoke else 300_000
    n_marks = 300 if args.smoke else 2_000
    t_start = time.perf_counter()
    out = {"book": "compiled" if matching.COMPILED else "reference",
           "venue": "compiled" if compiled() else "pure", "smoke": args.smoke}
    out["orders_per_s"] = round(bench_orders(n_orders))
    for n in (small, big):
        t0 = time.process_time()
        v = build_positions(n)
        out[f"build_s_{n // 1000}k_positions"] = round(time.process_time() - t0, 2)
        out[f"mark_update_us_{n // 1000}k_positions"] = round(bench_marks(v, n_marks), 1)
        out[f"funding_settle_ms_{n // 1000}k_positions"] = round(bench_funding(v, 8 * H), 1)
        out[f"funding_settle_ms_{n // 1000}k_positions_default_gc"] = round(bench_funding(v, 16 * H, False), 1)
        del v
    if not args.smoke:
        out["mark_update_ratio_100k_vs_10k"] = round(out["mark_update_us_100k_positions"] /
                                                     out["mark_update_us_10k_positions"], 2)
    out["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    for k, val in out.items():
        print(f"{k:36s} {val}")
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
