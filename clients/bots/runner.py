"""The command line shared by the example bots.

``python -m clients.bots.<bot> --url URL [--key K --secret S] [--symbol BTCUSDT] [--duration SECONDS]``;
each bot adds its own options.  Without a key the bot creates a paperex account
(``--balance``) through the control API.  The bot stops by itself after
``--duration`` seconds (or on Ctrl-C), cancels its orders, and prints its report
as one JSON line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Callable, Optional

from clients import UsdmClient

from clients.bots.base import create_account


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--url", default="http://127.0.0.1:8800", help="REST base URL (default paperex on :8800)")
    p.add_argument("--ws-url", default=None, help="websocket base (default: derived from --url)")
    p.add_argument("--key", default=None, help="API key (default: create a paperex account)")
    p.add_argument("--secret", default=None, help="API secret")
    p.add_argument("--balance", default="10000", help="balance of the account created without --key")
    p.add_argument("--symbol", default="BTCUSDT")
    p.add_argument("--duration", type=float, default=60.0, help="stop after this many seconds (default 60)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between steps")
    p.add_argument("--log-level", default="INFO")
    return p


async def run_bot(args, make_bot: Callable) -> dict:
    key, secret, aid = args.key, args.secret, None
    if not key:
        key, secret, aid = await create_account(args.url, args.balance)
        print(f"created paperex account {aid} (apiKey {key})", flush=True)
    elif not secret:
        raise SystemExit("--key needs --secret")
    async with UsdmClient(key, secret, base_url=args.url, ws_url=args.ws_url) as client:
        bot = make_bot(client, args)
        if aid is not None:
            bot.account_id = aid
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, bot.stop)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-unix
                pass
        return await bot.run(duration=args.duration)


def main(description: str, add_args: Optional[Callable], make_bot: Callable,
         argv: Optional[list] = None) -> int:
    p = parser(description)
    if add_args is not None:
        add_args(p)
    args = p.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    report = asyncio.run(run_bot(args, make_bot))
    print(json.dumps(report, default=str), flush=True)
    return 0
