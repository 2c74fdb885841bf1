"""LocalOrderBook: snapshot + depth diffs per the futures sync rule (spec §9.4)."""
import asyncio
import random
from decimal import Decimal

import pytest

from clients.orderbook import LocalOrderBook

TICK = Decimal("0.01")


class BookSim:
    """A server-side book that emits Binance-style diff events: ids jump by 1-3 per update, each
    event batches several updates (U = first id, u = last id, pu = previous event's u), and the
    REST snapshot reflects updates not yet emitted (so the first usable event straddles it)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        for i in range(40):
            self.bids[Decimal(9900 - i) * TICK] = Decimal(self.rng.randint(1, 500)) / 100
            self.asks[Decimal(10001 + i) * TICK] = Decimal(self.rng.randint(1, 500)) / 100
        self.update_id = 5_000_000
        self.last_u = self.update_id
        self.pending: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        self.pending_U = None
        self.events = 0

    def mutate(self) -> None:
        self.update_id += self.rng.randint(1, 3)
        if self.pending_U is None:
            self.pending_U = self.update_id
        side = self.rng.choice("ba")
        if side == "b":
            price, book = Decimal(self.rng.randint(9850, 10000)) * TICK, self.bids
        else:
            price, book = Decimal(self.rng.randint(10001, 10150)) * TICK, self.asks
        qty = Decimal(0) if self.rng.random() < 0.3 else Decimal(self.rng.randint(1, 900)) / 100
        if qty:
            book[price] = qty
        else:
            book.pop(price, None)             # removing a missing level is normal
        self.pending[side][price] = qty

    def flush(self) -> dict:
        ev = {"e": "depthUpdate", "E": 1789478303000 + self.events, "T": 1789478303000 + self.events,
              "s": "BTCUSDT", "U": self.pending_U, "u": self.update_id, "pu": self.last_u,
              "b": [[str(p), str(q)] for p, q in self.pending["b"].items()],
              "a": [[str(p), str(q)] for p, q in self.pending["a"].items()]}
        self.last_u = self.update_id
        self.pending = {"b": {}, "a": {}}
        self.pending_U = None
        self.events += 1
        return ev

    def snapshot(self) -> dict:
        return {"lastUpdateId": self.update_id, "E": 1, "T": 1,
                "bids": [[str(p), str(self.bids[p])] for p in sorted(self.bids, reverse=True)],
                "asks": [[str(p), str(self.asks[p])] for p in sorted(self.asks)]}

    def levels(self):
        return (sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))


def serve_book(fake, sim: BookSim, *, ticks: int = 120, drop_event_at: int = -1, drop_socket_at: int = -1,
               stale_first_snapshot: bool = False):
    """Wire the sim into the fake server; returns an Event set when all ticks were emitted."""
    done = asyncio.Event()
    clients: list = []
    gate = asyncio.Event()                    # the test opens it once the client book is synced
    state = {"started": False, "stale": sim.snapshot() if stale_first_snapshot else None, "gate": gate}

    async def generator():
        for t in range(ticks):
            if t in (drop_event_at, drop_socket_at):
                await asyncio.wait_for(gate.wait(), 10)
            for _ in range(sim.rng.randint(1, 4)):
                sim.mutate()
            ev = sim.flush()
            if t == drop_event_at:
                continue                      # the client never sees this event: pu gap
            for ws in list(clients):
                if t == drop_socket_at:
                    await ws.close()
                    continue
                try:
                    await ws.send_json({"stream": "btcusdt@depth@100ms", "data": ev})
                except (ConnectionError, RuntimeError):
                    pass
            await asyncio.sleep(0.002)
        done.set()

    async def handler(ws, request):
        assert request.path == "/public/stream" and request.query["streams"] == "btcusdt@depth@100ms"
        clients.append(ws)
        if not state["started"]:
            state["started"] = True
            state["task"] = asyncio.create_task(generator())
        try:
            async for _ in ws:
                pass
        finally:
            clients.remove(ws)

    def depth(params):
        assert params["symbol"] == "BTCUSDT" and params["limit"] == "1000"
        if state["stale"] is not None:
            snap, state["stale"] = state["stale"], None
            return snap
        return sim.snapshot()

    fake.ws_handler = handler
    fake.depth_handler = depth
    return done, state


async def finish(book: LocalOrderBook, sim: BookSim, done: asyncio.Event):
    await asyncio.wait_for(done.wait(), 10)
    await book.wait_for_update_id(sim.last_u, timeout=5)
    assert book.synced and book.last_update_id == sim.last_u
    bids, asks = sim.levels()
    assert book.bids == bids
    assert book.asks == asks
    assert book.best_bid == bids[0] and book.best_ask == asks[0]
    assert book.mid_price == (bids[0][0] + asks[0][0]) / 2
    tb, ta = book.top(5)
    assert tb == bids[:5] and ta == asks[:5]


async def test_book_rebuilds_exactly(fake, client):
    sim = BookSim(seed=1)
    done, _ = serve_book(fake, sim)
    updates = []
    async with LocalOrderBook(client, "BTCUSDT", on_update=lambda b: updates.append(b.last_update_id)) as book:
        await book.wait_synced(timeout=5)
        await finish(book, sim, done)
        assert book.snapshots == 1 and book.resyncs == 0 and book.gaps == 0
        assert updates == sorted(updates) and updates[-1] == sim.last_u
    assert len(fake.calls("GET", "/fapi/v1/depth")) == 1


@pytest.mark.parametrize("seed", [2, 3])
async def test_book_resyncs_on_gap(fake, client, seed):
    sim = BookSim(seed=seed)
    done, state = serve_book(fake, sim, ticks=150, drop_event_at=60)
    async with client.order_book("BTCUSDT") as book:
        await book.wait_synced(timeout=5)
        state["gate"].set()
        await finish(book, sim, done)
        assert book.gaps == 1 and book.resyncs == 1 and book.snapshots == 2
    assert len(fake.calls("GET", "/fapi/v1/depth")) == 2


async def test_book_resyncs_after_socket_drop(fake, client):
    sim = BookSim(seed=4)
    done, state = serve_book(fake, sim, ticks=150, drop_socket_at=50)
    async with LocalOrderBook(client, "BTCUSDT") as book:
        await book.wait_synced(timeout=5)
        state["gate"].set()
        await finish(book, sim, done)
        assert book.resyncs >= 1 and book.gaps >= 1
        assert book._stream.reconnects >= 1


async def test_book_rejects_snapshot_older_than_first_event(fake, client):
    """A snapshot that predates the first buffered event (U > lastUpdateId) is refetched."""
    sim = BookSim(seed=5)
    for _ in range(10):                        # the stale snapshot is 10 events behind the stream
        sim.mutate()
        sim.flush()
    sim_snap_first = sim.snapshot()
    for _ in range(3):
        sim.mutate()
    sim.flush()                                # lost: emitted before the client connected
    done, state = serve_book(fake, sim, ticks=80)
    state["stale"] = sim_snap_first
    async with LocalOrderBook(client, "BTCUSDT") as book:
        await finish(book, sim, done)
        assert book.resyncs == 1 and book.gaps == 0 and book.snapshots == 2


async def test_book_surfaces_fatal_snapshot_error(fake, client):
    from clients.errors import BinanceAPIError
    from usdm_fake import Reply

    async def handler(ws, request):
        await ws.send_json({"stream": "xxxusdt@depth@100ms", "data": {
            "e": "depthUpdate", "E": 1, "T": 1, "s": "XXXUSDT", "U": 1, "u": 2, "pu": 0, "b": [], "a": []}})
        async for _ in ws:
            pass

    fake.ws_handler = handler
    fake.set("GET", "/fapi/v1/depth", Reply(400, {"code": -1121, "msg": "Invalid symbol."}))
    async with LocalOrderBook(client, "XXXUSDT") as book:
        with pytest.raises(BinanceAPIError) as ei:
            await book.wait_synced(timeout=5)
        assert ei.value.code == -1121
