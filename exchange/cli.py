"""The ``paperex`` command line: one entry point, a subcommand per job."""
from __future__ import annotations

import argparse
import os
import runpy
import sys

from exchange import __version__

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


def _replay(rest: list[str]) -> int:
    from exchange.engine.offline import replay_main
    return replay_main(rest)


def _export(rest: list[str]) -> int:
    from exchange.engine.offline import export_main
    return export_main(rest)


def _journal(rest: list[str]) -> int:
    from exchange.engine.offline import journal_main
    return journal_main(rest)


def _serve(rest: list[str]) -> int:
    from exchange.serve import add_arguments, main as serve_main
    parser = argparse.ArgumentParser(prog="paperex serve",
                                     description="Run the exchange: Binance USD-M REST + websockets + control API.")
    add_arguments(parser)
    from exchange.journal import JournalError
    try:
        return serve_main(parser.parse_args(rest))
    except JournalError as exc:  # a damaged data dir is an answer, not a traceback
        print(f"paperex serve: {exc}", file=sys.stderr)
        return 2


def _view(rest: list[str]) -> int:
    from exchange.view import main as view_main
    return view_main(rest)


def _calibrate(rest: list[str]) -> int:
    from exchange.flow.calibration.run import main as calibrate_main
    return calibrate_main(rest)


# subcommand -> (help, handler taking the remaining arguments); each handler
# parses its own options so `paperex COMMAND --help` shows them
COMMANDS = {
    "bench-matching": ("benchmark the matching engine", _bench_matching),
    "replay": ("re-execute a journal (--verify, --until-seq, --until-time, --json)", _replay),
    "export": ("export a journal to SQLite", _export),
    "journal": ("check a journal fully, or repair it (truncate to the last good seq)", _journal),
    "calibrate": ("run a synthetic scenario per seed and compare it with recorded cascades", _calibrate),
    "serve": ("run the exchange (Binance USD-M REST + websockets + control API + dashboard)", _serve),
    "view": ("open a finished run's journal in the dashboard, read-only, with a time slider", _view),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paperex", description="Paper-trading exchange for USDT-margined perpetuals.")
    parser.add_argument("--version", action="version", version=f"paperex {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return COMMANDS[args.command][1](rest)


if __name__ == "__main__":
    sys.exit(main())
