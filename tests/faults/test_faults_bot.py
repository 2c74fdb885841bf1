"""A bot (clients.UsdmClient) survives each REST fault kind with nothing lost: after the run
every order it believes open is open (and nothing else is), `replay --verify` passes on the
journal, and the journal holds the InjectFault records."""
from __future__ import annotations

import asyncio

import pytest

from clients import UsdmClient
from faultbot import FaultTolerantBot
from faulthelpers import configure, eventually, market, new_account, stop_and_verify

KINDS = ["-1001", "-1007", "-1008", "429", "418", "502", "503", "latency", "listen_key_expire"]


@pytest.mark.parametrize("kind", KINDS)
async def test_bot_survives(fserver, fsession, kind):
    base = fserver.rest_url
    key, secret, aid = await new_account(fsession, base)
    await market(fsession, base)
    rule = {"id": "k", "path": "/fapi/v1/*", "kind": kind, "probability": 0.35, "account": aid}
    if kind == "latency":
        rule["ms"] = 20
    if kind in ("429", "418"):
        rule["retry_after"] = 1
    await configure(fsession, base, {"seed": 2026, "rules": [rule]})
    events = []
    async with UsdmClient(key, secret, base_url=base, reconnect_min_delay=0.02,
                          reconnect_max_delay=0.1) as c:
        bot = FaultTolerantBot(c)
        async with c.user_stream(parse=False) as us:

            async def listen():
                async for ev in us:
                    events.append(ev)

            reader = asyncio.get_running_loop().create_task(listen())
            try:
                await asyncio.wait_for(us.connected.wait(), 5)
                await bot.run(n=12)
                await bot.check()
                if kind == "listen_key_expire":
                    await eventually(lambda: any(e.get("e") == "listenKeyExpired" for e in events))
                    await eventually(lambda: us.reconnects >= 1 and us.connected.is_set())
            finally:
                reader.cancel()
        if kind in ("-1007", "503"):
            assert bot.reconciled > 0
    faults = await stop_and_verify(fserver)
    assert faults and {f.kind for _, f in faults} == {kind}
    assert all(f.account_id == aid and f.rule_id == "k" for _, f in faults)
    if kind in ("-1007", "503"):
        assert {f.detail[-1] for _, f in faults} == {"0", "1"}      # executed=0 and executed=1 both
