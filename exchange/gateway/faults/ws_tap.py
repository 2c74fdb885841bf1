"""The websocket tap: faults and latency applied to outgoing websocket messages, per
connection, order preserved."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Optional

from exchange.gateway.faults.rules import _EVENT

log = logging.getLogger("paperex.faults")


class WsTap:
    """Sits in front of one connection's queue while faults or the ws latency model are
    on: each message waits for its sampled delivery time (never before the previous
    message's: order is preserved), and a firing rule drops or delays the connection.
    Delivery times are venue time (``VenueTime``): event time plus the sampled delay in
    integer ms under a virtual clock, ``loop.time()`` seconds under the wall clock."""

    __slots__ = ("inj", "conn", "pending", "last_due", "task", "detached")

    def __init__(self, inj, conn) -> None:
        self.inj = inj
        self.conn = conn
        self.pending: deque = deque()
        self.last_due = 0.0
        self.task: Optional[asyncio.Task] = None
        self.detached = False

    def push(self, conn, data: bytes) -> None:
        inj = self.inj
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:          # outside the server's loop: nothing to wait with
            conn.enqueue(data)
            return
        lat = inj.ws_latency
        vt = inj.venue_time
        if vt is not None and vt.virtual:
            due = vt.now_ms()
            if lat is not None and not self.detached:
                due += vt.ms_int(lat.sample_ms())
        else:
            due = loop.time()
            if lat is not None and not self.detached:
                due += lat.sample_ms() / 1000.0
        if due < self.last_due:
            due = self.last_due
        self.last_due = due
        rule = inj.match_ws(conn, data) if inj.ws_rules and not self.detached else None
        if len(self.pending) >= conn.limit:
            self.pending.clear()
            conn.kill(1008, b"slow consumer")
            return
        self.pending.append((due, data, rule))
        if self.task is None:
            self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        conn = self.conn
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                due, data, rule = self.pending.popleft()
                if rule is not None:
                    if not await self.inj.ws_fault(rule, conn, data):
                        self.pending.clear()
                        return
                vt = self.inj.venue_time
                if vt is not None and vt.virtual:
                    if due > vt.now_ms() and await vt.until(due, wall_fallback=True):
                        vt.done()
                else:
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                if conn.closing:
                    self.pending.clear()
                    return
                conn.enqueue(data)
        except asyncio.CancelledError:
            self.pending.clear()
        except Exception:  # never let a tap take a connection's delivery down silently
            log.exception("websocket tap failed")
            self.pending.clear()
        finally:
            self.task = None
            if self.detached and not self.pending and conn.tap is self:
                conn.tap = None

    def detach(self) -> None:
        self.detached = True
        if self.task is None and self.conn.tap is self:
            self.conn.tap = None



def _event_name(data: bytes) -> Optional[bytes]:
    m = _EVENT.search(data, 0, 400)
    return m.group(1) if m else None


def _abort(conn) -> None:
    """Cut the TCP connection without a websocket close frame."""
    conn.closing = True
    conn.queue.clear()
    ws = conn.ws
    transport = None
    req = getattr(ws, "_req", None)
    if req is not None:
        transport = req.transport
    if transport is None:
        writer = getattr(ws, "_writer", None)
        transport = getattr(writer, "transport", None)
    if transport is not None:
        transport.abort()
