"""How many transactional jobs a `mostrador worker` runs at once on its event loop.

Dramatiq's threads all hand their jobs to one event loop. Network jobs (sends, media downloads) gain from many at
once; transactional ones do not: eight of them interleaved on one loop each held their transaction longer, and a
batch of eight customer messages took ~220 ms instead of a few (bench/realtime_latency.py, distributed, 380
events/s: p50 313 ms with 8 at once, 199 ms with 4 threads in all). Background work (receipts) gets its own,
smaller gate, so customers' messages never queue behind it.

Jobs of a coalescing actor that wait for their gate merge into one, as doorbells do in the embedded runner: Redis
holds each job with the bodies of one 50 ms window, and at 500 events/s jobs of 6 customer messages each waited
for the gate while the queue grew by seconds (bench/realtime_latency.py, distributed); merged, one job applies
what arrived meanwhile. A merged job's doorbell is answered at once; if the process dies before the job runs, its
rows are still waiting and the sweeper rings them again.

A doorbell from `mostrador serve` carries every body of its window, however many (one Redis message per actor and
window: each enqueue cost the intake about 0.7 ms of CPU); the worker cuts it into jobs of the actor's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mostrador.worker.merging import WaitingBatches
from mostrador.worker.registry import ActorDef, JobArg

T = TypeVar("T")
Batch = tuple[JobArg, ...]

BACKGROUND_WRITERS = 1


class JobGates:
    def __init__(self, live_writers: int, background_writers: int = BACKGROUND_WRITERS) -> None:
        self._live = asyncio.Semaphore(live_writers)
        self._background = asyncio.Semaphore(background_writers)
        # Per coalescing actor, the args of its job waiting for the gate, which later jobs join.
        self._waiting = WaitingBatches()

    def gate_for(self, definition: ActorDef) -> asyncio.Semaphore | None:
        if not definition.transactional:
            return None
        return self._background if definition.queue.yields_to_traffic else self._live

    async def run_cut(
        self, definition: ActorDef, args: Batch, job: Callable[[Batch], Awaitable[T]], *, attempt: int = 1
    ) -> list[T]:
        """:meth:`run` for a doorbell that may carry more than one job's worth: a coalescing actor's first attempt
        is cut into batches of at most ``definition.coalesce``, which go through the gate like separate jobs.
        The results of the batches that ran (joined ones are left out); every batch is waited for before the
        first error, if any, is raised."""
        size = definition.coalesce if definition.coalesce and attempt == 1 else 0
        if not size or len(args) <= size:
            batches = [args]
        else:
            batches = [args[start : start + size] for start in range(0, len(args), size)]
        outcomes = await asyncio.gather(
            *(self.run(definition, batch, job, attempt=attempt) for batch in batches), return_exceptions=True
        )
        ran: list[T] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome is not None:
                ran.append(outcome)
        return ran

    async def run(
        self, definition: ActorDef, args: Batch, job: Callable[[Batch], Awaitable[T]], *, attempt: int = 1
    ) -> T | None:
        """Run ``job`` on ``args`` (with what merged into them) when the gate lets it; None when ``args`` joined a
        job already waiting, which applies them."""
        gate = self.gate_for(definition)
        if gate is None:
            return await job(args)
        merging = bool(definition.coalesce) and attempt == 1  # a retry keeps its own args and backoff
        if merging and self._waiting.join(definition, args):
            return None
        batch = list(args)
        if merging:
            self._waiting.open(definition, batch)
        async with gate:
            self._waiting.taken(definition, batch)
            return await job(tuple(batch))
