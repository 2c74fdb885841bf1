"""A bot (clients.UsdmClient) survives each REST fault kind with nothing lost: after the run
every order it believes open is open (and nothing else is), `replay --verify` passes on the
journal, and the journal holds the InjectFault records."""
from __future__ import annotations

import pytest

from faultbot import bot_on_user_stream
from faulthelpers import configure, eventually, market, new_account, stop_and_verify

KINDS = ["-1001", "-1007", "-1008", "429", "418", "502", "503", "latency", "listen_key_expire"]


@pytest.mark.parametrize("kind", KINDS)
async def test_bot_survives(server, session, kind):
    base = server.rest_url
    key, secret, aid = await new_account(session, base)
    await market(session, base)
    rule = {"id": "k", "path": "/fapi/v1/*", "kind": kind, "probability": 0.35, "account": aid}
    if kind == "latency":
        rule["ms"] = 20
    if kind in ("429", "418"):
        rule["retry_after"] = 1
    await configure(session, base, {"seed": 2026, "rules": [rule]})
    events = []
    async with bot_on_user_stream(key, secret, base, events, reconnect_max_delay=0.1) as (bot, us):
        await bot.run(n=12)
        await bot.check()
        if kind == "listen_key_expire":
            await eventually(lambda: any(e.get("e") == "listenKeyExpired" for e in events))
            await eventually(lambda: us.reconnects >= 1 and us.connected.is_set())
    if kind in ("-1007", "503"):
        assert bot.reconciled > 0
    faults = await stop_and_verify(server)
    assert faults and {f.kind for _, f in faults} == {kind}
    assert all(f.account_id == aid and f.rule_id == "k" for _, f in faults)
    if kind in ("-1007", "503"):
        assert {f.detail[-1] for _, f in faults} == {"0", "1"}      # executed=0 and executed=1 both
