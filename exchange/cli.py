"""The ``paperex`` command line: one entry point, a subcommand per job."""
from __future__ import annotations

import argparse
import os
import runpy
import sys

from . import __version__

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")


def _bench_matching(rest: list[str]) -> int:
    path = os.path.join(SCRIPTS, "bench_matching.py")
    if not os.path.exists(path):
        print("paperex: scripts/bench_matching.py is only in a source checkout", file=sys.stderr)
        return 2
    sys.argv = [path] + rest
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paperex", description="Paper-trading exchange for USDT-margined perpetuals.")
    parser.add_argument("--version", action="version", version=f"paperex {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("bench-matching", help="benchmark the matching engine (options: see --help of the script)",
                   add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench-matching":
        return _bench_matching(rest)
    parser.print_help()
    return 0 if args.command is None else 2


if __name__ == "__main__":
    sys.exit(main())
