"""Where enqueued jobs go: an in-process asyncio runner (embedded) or Dramatiq on Redis (distributed)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mostrador.kit.asgi import TrafficGauge
from mostrador.logging import get_logger
from mostrador.worker.dramatiq_app import send_job
from mostrador.worker.enqueue import PendingJob
from mostrador.worker.execute import execute
from mostrador.worker.registry import get_actor

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

log = get_logger(__name__)


class JobBackend(Protocol):
    async def send(self, jobs: Sequence[PendingJob]) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


class InProcessJobBackend:
    """A priority queue drained by a few asyncio tasks; rows in the database stay the source of truth."""

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        *,
        concurrency: int = 4,
        yield_to: TrafficGauge | None = None,
        busy_share: float = 1.0,
    ) -> None:
        self._runtime = runtime
        self._concurrency = concurrency
        self._yield_to = yield_to
        self._busy_share = busy_share
        self._queue: asyncio.PriorityQueue[tuple[int, int, PendingJob, int]] = asyncio.PriorityQueue()
        self._counter = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._delayed: set[asyncio.TimerHandle] = set()
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._work(), name=f"job-worker-{i}") for i in range(self._concurrency)]

    async def aclose(self) -> None:
        for handle in self._delayed:
            handle.cancel()
        self._delayed.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def send(self, jobs: Sequence[PendingJob]) -> None:
        for job in jobs:
            self._put(job, attempt=1, delay=job.delay_s)

    def _put(self, job: PendingJob, *, attempt: int, delay: float) -> None:
        self._idle.clear()
        priority = get_actor(job.actor).queue.priority
        item = (priority, next(self._counter), job, attempt)
        if delay <= 0:
            self._queue.put_nowait(item)
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._delayed.discard(handle)
            self._queue.put_nowait(item)

        handle = loop.call_later(delay, fire)
        self._delayed.add(handle)

    async def _work(self) -> None:
        while True:
            _priority, _seq, job, attempt = await self._queue.get()
            self._running += 1
            started = time.monotonic()
            try:
                outcome = await execute(self._runtime(), job.actor, job.args, attempt)
                if outcome.retry_in is not None:
                    self._put(job, attempt=attempt + 1, delay=outcome.retry_in)
            except Exception as error:  # the runner itself must survive anything a job does
                log.error("job.crashed", actor=job.actor, error=repr(error))
            finally:
                self._running -= 1
                self._queue.task_done()
                if self._running == 0 and self._queue.empty() and not self._delayed:
                    self._idle.set()
            await self._yield_to_traffic(time.monotonic() - started)

    async def _yield_to_traffic(self, spent: float) -> None:
        """Duty cycle while requests are in flight: live traffic first, stored work right after."""
        if self._yield_to is None or self._busy_share >= 1.0 or not self._yield_to.busy():
            return
        await asyncio.sleep(spent * self._concurrency * (1 - self._busy_share) / self._busy_share)

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a test helper, not an API
        """Tests: wait until every job, including retries already scheduled, has run."""
        await asyncio.wait_for(self._idle.wait(), timeout)


class DramatiqJobBackend:
    """Sends "row X is waiting" messages to Dramatiq; ``mostrador worker`` processes them."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def send(self, jobs: Sequence[PendingJob]) -> None:
        if jobs:
            await asyncio.to_thread(self._send_sync, list(jobs))

    def _send_sync(self, jobs: list[PendingJob]) -> None:
        for job in jobs:
            send_job(self._broker, job.actor, job.args, attempt=1, delay_s=job.delay_s)
