"""Helpers for tests/faults (imported by name: the test directories are not packages)."""
from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from exchange.journal import JournalReader
from exchange.engine.replay import replay
from exchange.contract.commands import InjectFault, command_from_record

SYMBOL = "BTCUSDT"


async def control(session: aiohttp.ClientSession, base: str, method: str, path: str, body: Any = None):
    async with session.request(method, base + path, json=body) as r:
        return r.status, await r.json(content_type=None)


async def configure(session, base: str, config: dict) -> dict:
    status, body = await control(session, base, "POST", "/paperex/v1/faults", config)
    assert status == 200, body
    return body


async def new_account(session, base: str, balance: str = "100000") -> tuple[str, str, int]:
    status, body = await control(session, base, "POST", "/paperex/v1/accounts", {"balance": balance})
    assert status == 200, body
    return body["apiKey"], body["secretKey"], body["accountId"]


async def market(session, base: str, price: str = "50000") -> None:
    status, body = await control(session, base, "POST", "/paperex/v1/index", {"symbol": SYMBOL, "price": price})
    assert status == 200, body


def fault_records(journal_dir) -> list[tuple[int, InjectFault]]:
    out = []
    for rec in JournalReader(journal_dir).records():
        if rec.kind == InjectFault.KIND:
            out.append((rec.seq, command_from_record([rec.kind, rec.payload])))
    return out


async def stop_and_verify(srv) -> list[tuple[int, InjectFault]]:
    """Stop the server; the journal replays (verify) to the live state digest.  Returns the faults."""
    digest = srv.runtime.venue.state_digest()
    journal = srv.runtime.data_dir / "journal"
    seq = srv.runtime.sequencer.seq
    await srv.stop()
    if seq == 0:
        return []
    result = replay(journal, verify=True)
    assert result.divergence is None, str(result.divergence)
    assert result.venue.state_digest() == digest
    return fault_records(journal)


async def eventually(pred, timeout: float = 5.0, step: float = 0.02):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert loop.time() < end, "timed out"
        await asyncio.sleep(step)
