"""uvicorn's server, waking once a second while idle instead of ten times.

uvicorn's main loop wakes every 100 ms: to refresh the `Date` header, which changes once a
second, and to see whether it was asked to stop. Those wakes are the front's largest idle cost
besides Ray's own threads (`scripts/bench server-idle`). This loop refreshes the header once a
second and stops at once when told to (a signal, or `stop()`), so nothing waits on the longer
tick.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

TICK_SECONDS = 1.0
# uvicorn's `on_tick` refreshes the header when its counter is a multiple of ten (ten 100 ms ticks).
TICKS_PER_SECOND = 10


class QuietServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + TICKS_PER_SECOND) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._wake_up()

    def stop(self) -> None:
        """Shut down gracefully, as on SIGTERM; callable from any thread."""
        self.should_exit = True
        self._wake_up()

    def _wake_up(self) -> None:
        if self._loop is None or self._wake is None:
            return  # not serving yet: `on_tick` sees `should_exit` on its first call
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing left to wake
            self._loop.call_soon_threadsafe(self._wake.set)


def serve(config: uvicorn.Config) -> None:
    """`uvicorn.run` for a single process, with `QuietServer`: exits 3, as uvicorn does, when the
    app fails to start."""
    server = QuietServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)
