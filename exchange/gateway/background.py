"""A component's one background loop: started once, cancelled and awaited on stop.

The stream cadences, the listen-key expiry, the dashboard feed and a competition's window
end each run one.  A loop that dies of an exception is logged when it dies (not at the
server's stop, which may be hours later), and stopping never raises: a shutdown goes on
to stop the other components."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Coroutine, Optional

log = logging.getLogger("paperex.gateway")


class BackgroundTask:
    def __init__(self, run: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._run = run
        self.name = name
        self._task: Optional[asyncio.Task] = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Start the loop on the running event loop (again after a stop; never twice)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
            self._task.add_done_callback(self._report)

    def _report(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background loop %s failed", self.name, exc_info=task.exception())

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass                    # a failure was logged when it happened (_report)
