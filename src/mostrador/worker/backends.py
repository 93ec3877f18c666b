"""Where enqueued jobs go: an in-process asyncio runner (embedded) or Dramatiq on Redis (distributed)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mostrador.kit.asgi import TrafficGauge
from mostrador.logging import get_logger
from mostrador.worker.dramatiq_app import send_job
from mostrador.worker.duty import WINDOW_S, DutyCycle
from mostrador.worker.enqueue import PendingJob
from mostrador.worker.execute import execute
from mostrador.worker.merging import WaitingBatches
from mostrador.worker.queues import Queue
from mostrador.worker.registry import JobArg, get_actor

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

log = get_logger(__name__)

# How long stopping waits for running jobs before it cancels them (a job is one transaction: well under this).
STOP_GRACE_S = 10.0


class JobBackend(Protocol):
    async def send(self, jobs: Sequence[PendingJob]) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(eq=False)
class _Entry:
    actor: str
    args: list[JobArg]


class InProcessJobBackend:
    """Priority queues drained by asyncio tasks; rows in the database stay the source of truth.

    Two lanes: jobs that write in one transaction, and jobs that wait on the network (sends, downloads) and
    open short transactions of their own. With SQLite's single writer, more than a couple of transactional
    jobs in flight only queue on the writer turn, and they take doorbells out of the queue where they would have
    merged (measured: 16 runners held tiny jobs of 1-3 customer messages, each waiting its turn).
    """

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        *,
        concurrency: int = 4,
        writer_concurrency: int | None = None,
        yield_to: TrafficGauge | None = None,
        busy_share: float = 1.0,
        live_share: float = 1.0,
    ) -> None:
        self._runtime = runtime
        self._concurrency = concurrency
        self._writer_concurrency = writer_concurrency or concurrency
        self._yield_to = yield_to
        self._busy_share = busy_share
        self._live_share = live_share
        self._duty = DutyCycle()
        # Keyed by "the actor is transactional".
        self._lanes: dict[bool, asyncio.PriorityQueue[tuple[int, int, _Entry, int]]] = {
            True: asyncio.PriorityQueue(),
            False: asyncio.PriorityQueue(),
        }
        # Per coalescing actor, its job still waiting in the queue, which new doorbells join.
        self._waiting = WaitingBatches()
        # Set when a job is put in the lane: a runner letting a job wait for its turn looks again at once.
        self._arrived: dict[bool, asyncio.Event] = {True: asyncio.Event(), False: asyncio.Event()}
        self._counter = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_job: set[asyncio.Task[Any]] = set()  # runners inside a job: stopping lets them finish
        self._closing = False
        self._delayed: set[asyncio.TimerHandle] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._work(True), name=f"job-writer-{i}") for i in range(self._writer_concurrency)
            ] + [asyncio.create_task(self._work(False), name=f"job-worker-{i}") for i in range(self._concurrency)]

    async def aclose(self) -> None:
        """Stop taking jobs and let the running ones finish (up to STOP_GRACE_S). Cancelling a job inside its
        transaction is not safe on SQLite: the cancelled aiosqlite connection is dropped, not closed, and keeps
        the write lock until it is garbage collected, so every later writer fails with "database is locked"."""
        self._closing = True
        for handle in self._delayed:
            handle.cancel()
        self._delayed.clear()
        for task in self._tasks:
            if task not in self._in_job:
                task.cancel()
        if self._tasks:
            _done, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE_S)
            for task in late:
                log.warning("jobs.stop_cancelled", task=task.get_name())
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._closing = False

    async def send(self, jobs: Sequence[PendingJob]) -> None:
        for job in jobs:
            self._put(job, attempt=1, delay=job.delay_s)

    def _put(self, job: PendingJob, *, attempt: int, delay: float) -> None:
        if self._closing:
            return  # its rows are committed: the sweeper rings them again after the restart
        self._idle.clear()
        definition = get_actor(job.actor)
        merging = bool(definition.coalesce) and attempt == 1
        if merging and delay <= 0 and self._waiting.join(definition, job.args):
            return
        entry = _Entry(job.actor, list(job.args))
        item = (definition.queue.priority, next(self._counter), entry, attempt)
        lane, arrived = self._lanes[definition.transactional], self._arrived[definition.transactional]
        if delay <= 0:
            if merging:
                self._waiting.open(definition, entry.args)
            lane.put_nowait(item)
            arrived.set()
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._delayed.discard(handle)
            lane.put_nowait(item)
            arrived.set()

        handle = loop.call_later(delay, fire)
        self._delayed.add(handle)

    async def _work(self, transactional: bool) -> None:
        lane, arrived = self._lanes[transactional], self._arrived[transactional]
        runner = asyncio.current_task()
        assert runner is not None
        while not self._closing:
            arrived.clear()  # whatever is put from now on wakes the runners waiting below
            item = await lane.get()
            _priority, _seq, entry, attempt = item
            wait = self._turn_wait(get_actor(entry.actor).queue)
            if wait > 0:
                # Not its turn yet: back in its place, and this runner free for a job that arrives meanwhile (a
                # customer's message must not wait behind receipts that wait for their share: 2 writer runners
                # both holding receipts put customers' messages 200 ms late at 500 events/s).
                lane.put_nowait(item)
                lane.task_done()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), min(wait, WINDOW_S))
                continue
            self._waiting.taken(get_actor(entry.actor), entry.args)
            job = PendingJob(entry.actor, tuple(entry.args))
            self._in_job.add(runner)
            try:
                started = time.monotonic()
                outcome = await execute(self._runtime(), job.actor, job.args, attempt)
                self._duty.record(started, time.monotonic())
                if outcome.retry_in is not None:
                    self._put(job, attempt=attempt + 1, delay=outcome.retry_in)
            except Exception as error:  # the runner itself must survive anything a job does
                log.error("job.crashed", actor=job.actor, error=repr(error))
            finally:
                self._in_job.discard(runner)
                lane.task_done()
                if not self._in_job and not self._delayed and all(q.empty() for q in self._lanes.values()):
                    self._idle.set()

    def _turn_wait(self, queue: Queue) -> float:
        """While requests are in flight, how long until jobs have used less than this queue's share of the loop
        (0: now): customer messages and agents' sends have a large share, background work (receipts, sync) a
        small one."""
        background = queue.yields_to_traffic
        share = self._busy_share if background else self._live_share
        if self._yield_to is None or share >= 1.0 or not self._yield_to.busy():
            return 0.0
        return self._duty.wait_s(share, sustained=not background)

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a test helper, not an API
        """Tests: wait until every job, including retries already scheduled, has run."""
        await asyncio.wait_for(self._idle.wait(), timeout)


# Doorbells of coalescing actors go to Redis at most once per this window: the first after a quiet spell at
# once, the ones that follow it together at the window's end. One tiny job per group commit cost the worker more
# in per-message overhead than the work (bench/realtime_latency.py: 20 ms gave p99 3.1 s at 900 events/s, 50 ms
# 0.7 s).
COALESCE_WINDOW_S = 0.05
# A window's doorbell of one actor is one Redis message, whatever the actor's batch size: the worker cuts it
# (JobGates.run_cut). Each Dramatiq enqueue cost the intake about 0.7 ms of CPU; one per actor and window instead
# of one per 50 bodies took about 4 % off the intake's CPU per delivery (interleaved runs of bench/intake.py's
# load). Past this many ids a window's doorbell is split anyway, so one message stays small.
DOORBELL_MAX_ARGS = 5_000


class DramatiqJobBackend:
    """Sends "row X is waiting" messages to Dramatiq; ``mostrador worker`` processes them."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker
        self._held: dict[str, list[JobArg]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._last_flush = 0.0

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        await self._flush()  # a doorbell lost here would only wait for the sweeper; ring it now

    async def send(self, jobs: Sequence[PendingJob]) -> None:
        now: list[PendingJob] = []
        for job in jobs:
            if get_actor(job.actor).coalesce and job.delay_s <= 0:
                self._held.setdefault(job.actor, []).extend(job.args)
            else:
                now.append(job)
        if self._held and self._flusher is None:
            wait = self._last_flush + COALESCE_WINDOW_S - time.monotonic()
            if wait <= 0:
                await self._flush()  # quiet until now: no reason to make this one wait
            else:
                self._flusher = asyncio.create_task(self._flush_later(wait), name="doorbell-coalescer")
        if now:
            await asyncio.to_thread(self._send_sync, now)

    async def _flush_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._flusher = None
        try:
            await self._flush()
        except Exception as error:  # the rows are committed: the sweeper re-rings them
            log.warning("jobs.send_failed", error=repr(error))

    async def _flush(self) -> None:
        held, self._held = self._held, {}
        jobs = []
        for name, args in held.items():
            jobs += [
                PendingJob(name, tuple(args[start : start + DOORBELL_MAX_ARGS]))
                for start in range(0, len(args), DOORBELL_MAX_ARGS)
            ]
        if jobs:
            self._last_flush = time.monotonic()
            await asyncio.to_thread(self._send_sync, jobs)

    def _send_sync(self, jobs: list[PendingJob]) -> None:
        for job in jobs:
            send_job(self._broker, job.actor, job.args, attempt=1, delay_s=job.delay_s)
