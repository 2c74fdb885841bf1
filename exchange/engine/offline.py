"""``paperex replay`` and ``paperex export``: what a user runs on a journal."""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Optional

from exchange.journal import JournalError
from exchange.units import MONEY_SCALE


def _iso(ts: Optional[int]) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def _parse_time(text: str) -> int:
    """Milliseconds since the epoch, or an ISO 8601 time (UTC when no zone is given)."""
    if text.isdigit():
        return int(text)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1000)


def _journal_dir(path: str) -> Path:
    p = Path(path)
    # accept the data dir of `paperex serve` as well as the journal dir itself
    if (p / "journal").is_dir() and not any(p.glob("*.journal")):
        return p / "journal"
    return p


def existing_journal(path: str, prog: str) -> Optional[Path]:
    """The journal directory ``path`` names (a journal or a serve data dir), or None after
    telling the user on stderr that there is none (the commands then exit with 2)."""
    journal = _journal_dir(path)
    if not journal.is_dir():
        print(f"{prog}: {journal}: no such journal", file=sys.stderr)
        return None
    return journal


def _money(units: int) -> str:
    return str((Decimal(units) / MONEY_SCALE).quantize(Decimal("0.00000001")))


def state_view(venue) -> dict:
    """Balances, positions and open orders of every account, in decimals."""
    accounts = []
    for account_id in sorted(venue.accounts):
        view = venue.account(account_id)
        positions = [{k: v for k, v in p.items() if not isinstance(v, (dict, list, tuple))}
                     for p in view["positions"]]
        accounts.append({
            "account_id": account_id,
            "wallet_balance": _money(view["wallet_balance"]),
            "available_balance": _money(view["available_balance"]),
            "positions": positions,
            "open_orders": [{k: v for k, v in o.items() if not isinstance(v, (dict, list, tuple))}
                            for o in view["open_orders"]],
        })
    return {"accounts": accounts, "money": venue.money_identity()}


def _print_state(state: dict) -> None:
    print(f"{'account':>8} {'wallet balance':>20} {'available':>20} {'positions':>9} {'open orders':>11}")
    for a in state["accounts"]:
        print(f"{a['account_id']:>8} {a['wallet_balance']:>20} {a['available_balance']:>20} "
              f"{len(a['positions']):>9} {len(a['open_orders']):>11}")
        for p in a["positions"]:
            print("         position " + " ".join(f"{k}={v}" for k, v in p.items()))
        for o in a["open_orders"]:
            print("         order    " + " ".join(f"{k}={v}" for k, v in o.items()))


def replay_main(argv: list[str]) -> int:
    from exchange.engine.replay import replay

    ap = argparse.ArgumentParser(prog="paperex replay",
                                 description="Re-execute a journal on a fresh venue.")
    ap.add_argument("journal", help="journal directory (or the --data-dir of paperex serve)")
    ap.add_argument("--verify", action="store_true",
                    help="check every command produces exactly its journaled events")
    ap.add_argument("--until-seq", type=int, help="stop after this seq and print the state")
    ap.add_argument("--until-time", type=_parse_time, help="stop at this time (ms or ISO 8601) and print the state")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = ap.parse_args(argv)
    journal = existing_journal(args.journal, "paperex replay")
    if journal is None:
        return 2
    last_report = [time.monotonic()]

    def progress(n: int) -> None:
        now = time.monotonic()
        if now - last_report[0] > 1.0:
            print(f"  ... {n:,} commands", file=sys.stderr)
            last_report[0] = now

    try:
        result = replay(journal, verify=args.verify, until_seq=args.until_seq,
                        until_time=args.until_time, progress=progress)
    except (JournalError, ValueError) as exc:
        print(f"paperex replay: {exc}", file=sys.stderr)
        return 2
    digest = result.venue.state_digest()
    rate = result.commands / result.elapsed_s if result.elapsed_s > 0 else 0.0
    summary = {
        "journal": str(journal), "commands": result.commands, "events": result.events,
        "first_seq": 1 if result.commands else None, "last_seq": result.last_seq,
        "first_time": _iso(result.first_ts), "last_time": _iso(result.last_ts),
        "elapsed_s": round(result.elapsed_s, 3), "commands_per_s": round(rate),
        "state_digest": digest, "verified": None, "divergence": None, "torn_tail": result.torn_tail,
    }
    print(f"journal      {journal}")
    print(f"commands     {result.commands:,} (seq 1..{result.last_seq}), events {result.events:,}")
    print(f"time range   {summary['first_time']} .. {summary['last_time']}")
    print(f"throughput   {rate:,.0f} commands/s ({result.elapsed_s:.3f} s)")
    print(f"state digest {digest}")
    if "history" in result.extra:
        from exchange.engine.history import digest as history_digest, expand
        hseq, hts, hcmd = result.extra["history"]
        instruments = {s: st.spec.instrument for s, st in result.venue.symbols.items()}
        summary["history"] = {"seq": hseq, "seed": hcmd.seed, "span_ms": hcmd.span_ms, "until": _iso(hts),
                              "anchors": hcmd.anchors, "digest": history_digest(expand(hcmd, hts, instruments))}
        h = summary["history"]
        print(f"history      seq {hseq}: seed {h['seed']}, {h['span_ms'] // 60_000:,} minutes before "
              f"{h['until']}, digest {h['digest']}")
    if result.torn_tail:
        print(f"note: {result.torn_tail}")
    code = 0
    if args.verify:
        if result.divergence is None:
            summary["verified"] = True
            print("verify       OK: every command produced exactly its journaled events")
        else:
            summary["verified"] = False
            summary["divergence"] = {"seq": result.divergence.seq, "journaled": result.divergence.journaled,
                                     "produced": result.divergence.produced}
            print(f"verify       FAILED at {result.divergence}", file=sys.stderr)
            code = 1
    if args.until_seq is not None or args.until_time is not None:
        state = state_view(result.venue)
        summary["state"] = state
        print(f"state after seq {result.last_seq} ({_iso(result.last_ts)}):")
        _print_state(state)
    if args.json:
        print(json.dumps(summary, default=str))
    return code


def export_main(argv: list[str]) -> int:
    from exchange.engine.export import export

    ap = argparse.ArgumentParser(prog="paperex export",
                                 description="Export a journal to SQLite (again: appends only what is new).")
    ap.add_argument("journal", help="journal directory (or the --data-dir of paperex serve)")
    ap.add_argument("db", help="SQLite database file to create or extend")
    args = ap.parse_args(argv)
    journal = existing_journal(args.journal, "paperex export")
    if journal is None:
        return 2
    t0 = time.perf_counter()
    try:
        summary = export(journal, args.db, progress=lambda seq: print(f"  ... seq {seq:,}", file=sys.stderr))
    except (JournalError, ValueError) as exc:
        print(f"paperex export: {exc}", file=sys.stderr)
        return 2
    took = time.perf_counter() - t0
    print(f"exported {summary['records']:,} records (seq {summary['from_seq']}..{summary['last_seq']}) "
          f"into {args.db} in {took:.2f} s")
    for table, n in sorted(summary["rows"].items()):
        print(f"  {table:<24} +{n:,} rows")
    return 0


class ProgressBar:
    """A progress bar on stderr for a long job over bytes: redrawn in place on a
    terminal, a line every few seconds otherwise (CI logs)."""

    def __init__(self, label: str, stream=None, every_s: float = 0.2) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every_s = every_s if self.tty else 5.0
        self.t0 = time.monotonic()
        self.last = -1e9

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and done < total:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 30)
        rate = done / max(now - self.t0, 1e-9) / 1e6
        line = (f"{self.label} [{bar:<30}] {frac * 100:5.1f}% "
                f"{done / 1e6:,.1f}/{total / 1e6:,.1f} MB {rate:,.0f} MB/s")
        if self.tty:
            print("\r" + line, end="\n" if done >= total else "", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)


def _snapshot_dir(journal: Path) -> Path:
    return journal.parent / "snapshots"


def _check(journal: Path, as_json: bool) -> int:
    from exchange.journal.check import check_journal
    from exchange.engine.snapshots import list_snapshots, snapshots_ahead

    report = check_journal(journal, ProgressBar("checking journal"))
    segs = sorted(journal.glob("*.journal"))
    end = (segs[-1].name, segs[-1].stat().st_size) if segs and report.error is None else None
    if report.torn is not None and end is not None:
        end = (Path(report.torn.file).name, report.torn.offset)
    ahead = (snapshots_ahead(_snapshot_dir(journal), report.last_seq, end)
             if report.error is None else [])
    print(f"journal      {journal}")
    print(f"segments     {report.segments:,} ({report.bytes / 1e6:,.1f} MB), "
          f"records {report.records:,}, last good seq {report.last_seq}")
    print(f"snapshots    {len(list_snapshots(_snapshot_dir(journal)))} in {_snapshot_dir(journal)}")
    code = 0
    if report.error is not None:
        print(f"CORRUPT      {report.error}", file=sys.stderr)
        code = 1
    elif ahead:
        for p in ahead:
            print(f"CORRUPT      snapshot {p} is ahead of the journal (last good seq "
                  f"{report.last_seq}): the journal lost acknowledged records; "
                  f"`paperex journal repair {journal}` sets it aside", file=sys.stderr)
        code = 1
    elif report.torn is not None:
        print(f"torn tail    {report.torn.file} at byte offset {report.torn.offset}: "
              f"{report.torn.cut_bytes} bytes ({report.torn.reason}) - an unfinished last "
              f"write; start-up cuts it (keeping the bytes in a side file)")
    if code == 0:
        print("check        OK: every record of every segment is intact")
    if as_json:
        err = report.error
        print(json.dumps({
            "journal": str(journal), "ok": code == 0, "segments": report.segments,
            "records": report.records, "bytes": report.bytes, "last_seq": report.last_seq,
            "torn_tail": None if report.torn is None else {
                "file": report.torn.file, "offset": report.torn.offset,
                "bytes": report.torn.cut_bytes, "reason": report.torn.reason},
            "corruption": None if err is None else {
                "file": err.file, "offset": err.offset, "last_seq": err.last_seq,
                "reason": err.reason},
            "snapshots_ahead": [str(p) for p in ahead],
        }))
    return code


def _repair(journal: Path, as_json: bool) -> int:
    from exchange.journal.check import repair_journal
    from exchange.engine.snapshots import set_aside, snapshots_ahead

    report = repair_journal(journal, ProgressBar("checking journal"))
    aside = set_aside(snapshots_ahead(_snapshot_dir(journal), report.last_seq, report.end),
                      report.last_seq)
    print(f"journal      {journal}")
    if report.problem:
        print(f"found        {report.problem}")
    if report.cut is not None:
        print(f"truncated    {report.cut[0]} at byte offset {report.cut[1]}")
    for p in report.kept:
        print(f"kept         removed bytes in {p}")
    for p in aside:
        print(f"set aside    snapshot ahead of the journal, now {p}")
    if not (report.problem or report.kept or aside):
        print("repair       nothing to do: the journal is intact")
    print(f"last seq     {report.last_seq}")
    if as_json:
        print(json.dumps({"journal": str(journal), "last_seq": report.last_seq,
                          "cut": report.cut, "kept": [str(p) for p in report.kept],
                          "snapshots_set_aside": [str(p) for p in aside],
                          "problem": report.problem}))
    return 0


def journal_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="paperex journal",
        description="Verify a journal fully (check) or, on your explicit request, truncate "
                    "it to its last good seq (repair).")
    sub = ap.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("check", "verify every CRC of every segment (and the snapshots against it); "
                                 "exit 1 on corruption"),
                       ("repair", "truncate to the last good seq, keeping the removed bytes in a "
                                  "side file, and set aside snapshots ahead of it")):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("dir", help="journal directory (or the --data-dir of paperex serve)")
        p.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = ap.parse_args(argv)
    journal = existing_journal(args.dir, f"paperex journal {args.action}")
    if journal is None:
        return 2
    try:
        return (_check if args.action == "check" else _repair)(journal, args.json)
    except JournalError as exc:
        print(f"paperex journal {args.action}: {exc}", file=sys.stderr)
        return 2
