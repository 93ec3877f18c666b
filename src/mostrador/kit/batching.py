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

    A batch starts as soon as the previous one finished, so under light load a caller waits for one
    transaction only; under heavy load the batch grows and the commit cost is shared.
    """

    def __init__(self, handle: Callable[[Sequence[I]], Awaitable[Sequence[O]]], *, max_batch: int = 500) -> None:
        self._handle = handle
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[I, asyncio.Future[O]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: I) -> O:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="batcher")
        future: asyncio.Future[O] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [(item, future) for item, future in batch if not future.cancelled()]
            if not live:
                continue
            try:
                results = await self._handle([item for item, _ in live])
            except Exception as error:
                for _, future in live:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
