#!/usr/bin/env python3
"""Benchmark the msgpack journal: append (group commit), read, recovery on open.

Workload: for every seq one command record ``[seq, ts, 3, [12345, 1, 0, price, 10, 0]]``
and one event record ``[seq, ts, 1001, [12345, 1, price, 10, 0, 7]]``, so ``--records N``
writes N/2 commands and N/2 events, committed in groups of ``--group`` records.

Figures:
* append_records_per_s - append()+commit() throughput with the chosen fsync policy
  (default ``batch``), including the final close() fsync.
* read_records_per_s   - JournalReader iteration over every record (CRC-checked, decoded).
* events_read_per_s    - events yielded per second by ``reader.events()`` (the scan
  still checks and decodes the commands in between).
* recovery_ms          - opening the just-written journal for append (lock + recovery
  scan of the last segment) and closing it; ``journal_bytes`` is its size.

* replay_verify_cmds_per_s - ``paperex replay --verify`` speed on a real venue journal
  (``--replay-commands`` seeded orders among 20 accounts: passive limits, cancels and
  marketable orders), built first through the sequencer; replay_events_per_s is the
  events it re-produced and compared per second.

* recovery_ms_1gb - ``Runtime`` start-up on a data dir whose journal holds
  ``--recovery-gb`` GB (default 1) of real venue records (deposits among 10,000
  accounts and resting orders, default 8 MiB segments) with the clean-shutdown
  snapshot: journal recovery, snapshot load and digest check, tail replay.
* serve_restart_ms_1gb - ``paperex serve`` (a new process, virtual clock, no flow)
  on that data dir, from exec to the first healthy ``GET /paperex/v1/health``:
  Python start, journal recovery (every CRC of the last segment), snapshot load
  and the gateway's projection checkpoint (the data dir is built with the
  gateway's projection subscribed, as ``paperex serve`` builds it).

    python scripts/bench_journal.py --records 1000000 --json
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _benchlib import order_mix, order_mix_accounts   # (a script's own folder is first on sys.path)

try:
    from exchange.journal import JournalReader, JournalWriter
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from exchange.journal import JournalReader, JournalWriter

CONFIG = {"symbols": [{"symbol": "BTCUSDT", "tickSize": "0.10", "stepSize": "0.001",
                       "pricePrecision": 2, "quantityPrecision": 3}]}


def bench_append(path: Path, n: int, group: int, fsync: str, segment_bytes: int) -> dict:
    w = JournalWriter(path, CONFIG, fsync=fsync, segment_bytes=segment_bytes)
    append, commit = w.append, w.commit
    ts0 = 1_700_000_000_000
    t0 = time.perf_counter()
    k = 0
    seq = 0
    while k < n:
        seq += 1
        ts = ts0 + seq
        price = 6_500_000 + (seq & 1023)
        append(seq, ts, 3, [12345, 1, 0, price, 10, 0])
        k += 1
        if k % group == 0:
            commit()
        if k < n:
            append(seq, ts, 1001, [12345, 1, price, 10, 0, 7])
            k += 1
            if k % group == 0:
                commit()
    w.close()
    dt = time.perf_counter() - t0
    return {"append_s": dt, "append_records_per_s": n / dt, "commits": w.commits,
            "fsyncs": w.syncs, "last_seq": w.last_seq}


def bench_read(path: Path, n: int) -> dict:
    r = JournalReader(path)
    t0 = time.perf_counter()
    count = 0
    for _ in r:
        count += 1
    dt = time.perf_counter() - t0
    if count != n:
        raise SystemExit(f"read {count} records, wrote {n}")
    t0 = time.perf_counter()
    events = 0
    for _ in r.events():
        events += 1
    dt_ev = time.perf_counter() - t0
    return {"read_s": dt, "read_records_per_s": count / dt,
            "events": events, "events_read_per_s": events / dt_ev}


def bench_recovery(path: Path) -> dict:
    t0 = time.perf_counter()
    w = JournalWriter(path)
    dt = time.perf_counter() - t0
    last = w.last_seq
    w.close()
    size = sum(p.stat().st_size for p in path.iterdir() if p.suffix == ".journal")
    nseg = sum(1 for p in path.iterdir() if p.suffix == ".journal")
    return {"recovery_ms": dt * 1000.0, "recovered_last_seq": last,
            "journal_bytes": size, "segments": nseg}


def bench_replay(base: Path, n: int, seed: int = 11) -> dict:
    from exchange.engine.clock import VirtualClock
    from exchange.engine.replay import replay
    from exchange.engine.runtime import Runtime
    from exchange.contract import codes as C
    from exchange.contract.commands import CancelOrder, CreateAccount, Deposit, NewOrder, SetIndexPrice

    rt = Runtime(data_dir=base / "replay-data", clock=VirtualClock(1_700_000_000_000), fsync="never")
    seq = rt.sequencer
    seq.execute(order_mix_accounts(SetIndexPrice, CreateAccount, Deposit))
    cmds = order_mix(n, C, NewOrder, CancelOrder, seed)
    t0 = time.perf_counter()
    for i in range(0, len(cmds), 100):  # groups of 100, as one event-loop turn would be
        seq.execute(cmds[i:i + 100])
    build_s = time.perf_counter() - t0
    rt.close()
    t0 = time.perf_counter()
    result = replay(base / "replay-data" / "journal", verify=True)
    verify_s = time.perf_counter() - t0
    if result.divergence is not None:
        raise SystemExit(f"replay diverged: {result.divergence}")
    return {"replay_commands": result.commands, "replay_events": result.events,
            "sequencer_cmds_per_s": n / build_s,
            "replay_verify_cmds_per_s": result.commands / verify_s,
            "replay_events_per_s": result.events / verify_s}


def bench_recovery_gb(base: Path, gb: float, keep: bool = False) -> dict:
    from exchange.engine.clock import VirtualClock
    from exchange.engine.runtime import Runtime
    from exchange.contract import codes as C
    from exchange.gateway.app import Gateway
    from exchange.contract.commands import CreateAccount, Deposit, NewOrder, SetIndexPrice

    data = base / "recovery-data"
    target = int(gb * 1024 ** 3)
    rt = Runtime(data_dir=data, clock=VirtualClock(1_700_000_000_000), fsync="never", timers=False,
                 snapshot_every=0)
    Gateway(rt)     # its projection follows every command and is checkpointed with the snapshot
    seq = rt.sequencer
    seq.execute([SetIndexPrice("BTCUSDT", 600_000)] + [CreateAccount(a) for a in range(1, 10_001)])
    seq.execute([Deposit(a, 1_000_000 * 100_000_000) for a in range(1, 10_001)])
    # resting orders so the snapshot holds a real book
    seq.execute([NewOrder(a, "BTCUSDT", C.BUY if a % 2 else C.SELL, C.LIMIT, C.GTC, 1 + a % 7,
                          600_000 - 1 - a % 500 if a % 2 else 600_000 + 1 + a % 500) for a in range(1, 10_001)])
    journal_dir = data / "journal"
    size = lambda: sum(p.stat().st_size for p in journal_dir.glob("*.journal"))  # noqa: E731
    t0 = time.perf_counter()
    n = 0
    while size() < target:
        for _ in range(50):
            seq.execute([Deposit(1 + (n + i) % 10_000, 1) for i in range(1000)])
            n += 1000
    build_s = time.perf_counter() - t0
    journal_bytes = size()
    rt.close()                      # clean shutdown: the snapshot
    t0 = time.perf_counter()
    again = Runtime(data_dir=data, fsync="never", timers=False)
    open_ms = (time.perf_counter() - t0) * 1000
    ok = again.restored_commands == 0 and again.snapshot_seq == again.sequencer.seq
    again.close(snapshot=False)
    serve = bench_serve_restart(data)
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
    return {"recovery_ms_1gb": open_ms, "recovery_journal_bytes": journal_bytes,
            "recovery_build_s": build_s, "recovery_from_snapshot": ok, **serve}


def bench_serve_restart(data: Path, root: "Path | None" = None) -> dict:
    """``paperex serve`` (the code of checkout ``root``, default this one) on
    ``data`` until it answers health; then a clean stop."""
    import signal
    import socket
    import subprocess
    import urllib.error
    import urllib.request

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    root = Path(root) if root is not None else Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "exchange.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--data-dir", str(data), "--flow", "none", "--clock", "virtual", "--fsync", "never"]
    url = f"http://127.0.0.1:{port}/paperex/v1/health"
    import resource
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # cwd: ``python -m`` puts the working directory first on sys.path
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=root)
    healthy = False
    try:
        while proc.poll() is None and time.perf_counter() - t0 < 600:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    healthy = r.status == 200 and json.loads(r.read())["status"] == "ok"
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.005)
        took_ms = (time.perf_counter() - t0) * 1000
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not healthy:
        raise RuntimeError(f"paperex serve never answered health: {err.decode(errors='replace')[-2000:]}")
    checkpoints = sorted((data / "snapshots").glob("*.projection"))
    return {"serve_restart_ms_1gb": took_ms,
            # the whole process (start-up, then a clean stop): independent of how busy the machine is
            "serve_process_cpu_ms": 1000 * (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime),
            "serve_projection_checkpoint_bytes": checkpoints[-1].stat().st_size if checkpoints else 0}


def serve_data_main(src: Path, roots: list, rounds: int, as_json: bool) -> int:
    """Interleave ``paperex serve`` restarts of each checkout on fresh copies of ``src``."""
    out: dict = {str(r or "this checkout"): [] for r in roots}
    work = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    try:
        for i in range(rounds):
            for r in roots:
                data = work / "data"
                shutil.copytree(src, data)
                res = bench_serve_restart(data, Path(r) if r else None)
                shutil.rmtree(data)
                out[str(r or "this checkout")].append(
                    [round(res["serve_restart_ms_1gb"]), round(res["serve_process_cpu_ms"])])
                print(f"  {r or 'this checkout'} round {i + 1}: {res['serve_restart_ms_1gb']:,.0f} ms wall, "
                      f"{res['serve_process_cpu_ms']:,.0f} ms process CPU", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if as_json:
        print(json.dumps({"serve_restart_ms_and_cpu_ms": out}))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records to write (default 1,000,000)")
    ap.add_argument("--group", type=int, default=100, help="records per commit group (default 100)")
    ap.add_argument("--fsync", choices=["always", "batch", "never"], default="batch")
    ap.add_argument("--segment-mb", type=float, default=8.0, help="segment size limit in MiB")
    ap.add_argument("--dir", help="directory for the journal (default: a temp dir, removed after)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the journal directory and the start-up data dir (DIR/recovery-data)")
    ap.add_argument("--replay-commands", type=int, default=200_000,
                    help="orders in the venue journal replayed with --verify (default 200,000)")
    ap.add_argument("--recovery-gb", type=float, default=1.0,
                    help="journal size for the start-up-with-snapshot figure (0 skips it)")
    ap.add_argument("--serve-data", metavar="DIR",
                    help="only measure paperex serve's restart on a copy of this data dir "
                         "(built e.g. by an earlier run with --keep), --rounds times")
    ap.add_argument("--root", metavar="CHECKOUT", action="append",
                    help="with --serve-data: the checkout whose exchange.cli serves (repeat to "
                         "interleave several; default this one)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args(argv)
    if args.serve_data:
        return serve_data_main(Path(args.serve_data), args.root or [None], args.rounds, args.json)
    if args.records < 1 or args.group < 1:
        ap.error("--records and --group must be >= 1")

    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_journal_"))
    path = base / "journal"
    if path.exists():
        ap.error(f"{path} already exists")
    try:
        res = {"records": args.records, "group": args.group, "fsync": args.fsync,
               "segment_bytes": int(args.segment_mb * 1024 * 1024)}
        res.update(bench_append(path, args.records, args.group, args.fsync, res["segment_bytes"]))
        res.update(bench_read(path, args.records))
        res.update(bench_recovery(path))
        res["bytes_per_record"] = res["journal_bytes"] / args.records
        res["cpus"] = os.cpu_count()
        res.update(bench_replay(base, args.replay_commands))
        if args.recovery_gb > 0:
            res.update(bench_recovery_gb(base, args.recovery_gb, keep=args.keep))
    finally:
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(base / "replay-data", ignore_errors=True)
            if not args.dir:
                shutil.rmtree(base, ignore_errors=True)

    print(f"journal bench: {args.records:,} records (half commands, half events), "
          f"groups of {args.group}, fsync={args.fsync}")
    print(f"  append   {res['append_records_per_s']:>12,.0f} records/s  "
          f"({res['append_s']:.2f} s, {res['commits']:,} commits, {res['fsyncs']:,} fsyncs)")
    print(f"  read     {res['read_records_per_s']:>12,.0f} records/s  ({res['read_s']:.2f} s)")
    print(f"  events   {res['events_read_per_s']:>12,.0f} events/s   ({res['events']:,} events)")
    print(f"  recovery {res['recovery_ms']:>12,.1f} ms         "
          f"({res['journal_bytes']:,} bytes in {res['segments']} segment(s), "
          f"{res['bytes_per_record']:.1f} bytes/record)")
    print(f"  replay --verify {res['replay_verify_cmds_per_s']:>8,.0f} commands/s, "
          f"{res['replay_events_per_s']:,.0f} events/s ({res['replay_commands']:,} commands; "
          f"built through the sequencer at {res['sequencer_cmds_per_s']:,.0f} commands/s)")
    if "recovery_ms_1gb" in res:
        print(f"  start-up {res['recovery_ms_1gb']:>12,.1f} ms         (a {res['recovery_journal_bytes'] / 1024 ** 3:.2f} GB "
              f"journal with its snapshot; from snapshot: {res['recovery_from_snapshot']})")
        print(f"  paperex serve {res['serve_restart_ms_1gb']:>7,.1f} ms         (exec to a healthy "
              f"answer on that data dir; the process used {res['serve_process_cpu_ms']:,.0f} ms CPU "
              f"start to stop; projection checkpoint "
              f"{res['serve_projection_checkpoint_bytes'] / 1e6:,.1f} MB)")
    if args.json:
        out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()}
        print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
