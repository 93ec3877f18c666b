"""How many transactional jobs a `mostrador worker` runs at once on its event loop.

Dramatiq's threads all hand their jobs to one event loop. Network jobs (sends, media downloads) gain from many at
once; transactional ones do not: eight of them interleaved on one loop each held their transaction longer, and a
batch of eight customer messages took ~220 ms instead of a few (bench/realtime_latency.py, distributed, 380
events/s: p50 313 ms with 8 at once, 199 ms with 4 threads in all). Background work (receipts) gets its own,
smaller gate, so customers' messages never queue behind it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mostrador.worker.registry import ActorDef

T = TypeVar("T")

BACKGROUND_WRITERS = 1


class JobGates:
    def __init__(self, live_writers: int, background_writers: int = BACKGROUND_WRITERS) -> None:
        self._live = asyncio.Semaphore(live_writers)
        self._background = asyncio.Semaphore(background_writers)

    def gate_for(self, definition: ActorDef) -> asyncio.Semaphore | None:
        if not definition.transactional:
            return None
        return self._background if definition.queue.yields_to_traffic else self._live

    async def run(self, definition: ActorDef, job: Callable[[], Awaitable[T]]) -> T:
        gate = self.gate_for(definition)
        if gate is None:
            return await job()
        async with gate:
            return await job()
