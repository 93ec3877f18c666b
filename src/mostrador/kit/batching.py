"""Group commit: many concurrent callers, one transaction per batch, each caller answered after the commit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


class Batcher(Generic[I, O]):
    """``submit`` waits for the batch its item went into; ``handle`` gets up to ``max_batch`` items at once.

    A batch starts as soon as a slot is free (``max_in_flight`` batches at a time), so under light load a caller
    waits for one transaction only; under heavy load the batches grow and the commit cost is shared, and the
    next batch fills and starts while the previous one commits and answers.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[I]], Awaitable[Sequence[O]]],
        *,
        max_batch: int = 500,
        max_in_flight: int = 2,
    ) -> None:
        self._handle = handle
        self._max_batch = max_batch
        self._slots = asyncio.Semaphore(max_in_flight)
        self._queue: asyncio.Queue[tuple[I, asyncio.Future[O]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._batches: set[asyncio.Task[None]] = set()

    async def submit(self, item: I) -> O:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="batcher")
        future: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            task = asyncio.create_task(self._run_batch(batch), name="batch")
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _run_batch(self, batch: list[tuple[I, asyncio.Future[O]]]) -> None:
        try:
            live = [(item, future) for item, future in batch if not future.cancelled()]
            if not live:
                return
            try:
                results = await self._handle([item for item, _ in live])
            except Exception as error:
                for _, future in live:
                    if not future.done():
                        future.set_exception(error)
                return
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        tasks = [task for task in (self._task, *self._batches) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
