"""A component's background loop: a failure is logged when it happens, stop never raises."""
from __future__ import annotations

import asyncio
import logging

from exchange.gateway.background import BackgroundTask


async def test_a_failing_loop_is_logged_at_once_and_stop_does_not_raise(caplog):
    async def broken() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("boom")

    loop = BackgroundTask(broken, "paperex-test-loop")
    with caplog.at_level(logging.ERROR, logger="paperex.gateway"):
        loop.start()
        for _ in range(5):
            await asyncio.sleep(0)
        assert "background loop paperex-test-loop failed" in caplog.text and "boom" in caplog.text
        await loop.stop()
    assert not loop.running


async def test_stop_cancels_a_running_loop_and_it_can_start_again():
    ticks: list = []

    async def ticking() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.001)

    loop = BackgroundTask(ticking, "paperex-test-ticks")
    loop.start()
    loop.start()                                  # never twice
    await asyncio.sleep(0.02)
    await loop.stop()
    n = len(ticks)
    assert n > 0 and not loop.running
    await asyncio.sleep(0.01)
    assert len(ticks) == n                        # really stopped
    loop.start()
    await asyncio.sleep(0.01)
    await loop.stop()
    assert len(ticks) > n
