"""Fan-out from committed results only (ARCHITECTURE.md rule 7): the user data stream is
built from the committed events, never from the venue's state."""
from __future__ import annotations

import json
from decimal import Decimal

import aiohttp

from exchange.contract import codes as C
from exchange.contract.commands import CancelOrder, NewOrder, SetIndexPrice


async def _updates(ws, n: int) -> list[dict]:
    """The next ``n`` ORDER_TRADE_UPDATE payloads."""
    out = []
    while len(out) < n:
        msg = await ws.receive(timeout=10)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if data.get("e") == "ORDER_TRADE_UPDATE":
            out.append(data["o"])
    return out


async def test_churn_past_history_bound_under_deferred_commits(api, server, session):
    seqr = server.runtime.sequencer
    venue = server.runtime.venue
    trader = await api.new_account()
    aid = trader.account_id
    st, lk = await trader.keyed("POST", "/fapi/v1/listenKey")
    assert st == 200
    inst = server.runtime.instruments["BTCUSDT"]
    px = int(Decimal("49000") / inst.tick_size)          # rests below the mark (index 50000)
    lots = int(Decimal("0.010") / inst.step_size)
    venue.history_limit = 4            # closed orders the venue keeps for queries
    n = 40
    async with session.ws_connect(server.ws_url + f"/ws/{lk['listenKey']}") as ws:
        # one synchronous stretch, as a replay source runs: groups applied and deferred,
        # then one commit; by then the venue has forgotten all but the last few orders
        seqr.execute([SetIndexPrice("BTCUSDT", int(Decimal("50000") / inst.tick_size))], defer=True)
        oids = []
        for i in range(n):
            res = seqr.execute([NewOrder(aid, "BTCUSDT", C.BUY, C.LIMIT, C.GTC, lots + i, px + i,
                                         client_order_id=f"churn-{i}")], defer=True)
            oids.append(res[-1].events[0].order_id)
            seqr.execute([CancelOrder(aid, "BTCUSDT", oids[-1])], defer=True)
        assert venue.order(aid, "BTCUSDT", order_id=oids[0]) is None     # gone from the venue
        seqr.commit()
        got = await _updates(ws, 2 * n)
    want = [(x, f"churn-{i}", str(oids[i])) for i in range(n) for x in ("NEW", "CANCELED")]
    assert [(o["x"], o["c"], str(o["i"])) for o in got] == want
    f = server.gateway.formats["BTCUSDT"]
    for i in range(n):
        for o in got[2 * i: 2 * i + 2]:
            assert o["q"] == f.qty(lots + i) and o["p"] == f.price(px + i)
            assert o["S"] == "BUY" and o["o"] == "LIMIT" and o["f"] == "GTC" and o["z"] == f.qty(0)
