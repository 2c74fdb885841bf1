"""Layer 6 - ``paperex view DIR``: a finished run's journal in the dashboard, read-only."""
from __future__ import annotations

import argparse
import asyncio
import sys

from exchange.engine.offline import existing_journal
from exchange.serve import until_signalled


async def _serve(journal, host: str, port: int) -> int:
    from exchange.gateway.dashboard.offline import serve_view
    stop = asyncio.Event()
    runner = await serve_view(journal, host, port, stop)
    bound = port
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            bound = server.sockets[0].getsockname()[1]
    print(f"paperex view: {journal} (read-only) on http://{host}:{bound}/  (Ctrl-C stops)", flush=True)
    await until_signalled(stop)
    await runner.cleanup()
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="paperex view",
                                 description="Open a finished run's journal in the dashboard, read-only, "
                                             "with a time slider (the state of replay --until-time).")
    ap.add_argument("journal", help="journal directory (or the --data-dir of paperex serve)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8801)
    args = ap.parse_args(argv)
    journal = existing_journal(args.journal, "paperex view")
    if journal is None:
        return 2
    from exchange.journal import JournalError
    try:
        return asyncio.run(_serve(journal, args.host, args.port))
    except (OSError, ValueError, JournalError) as exc:
        print(f"paperex view: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 0
