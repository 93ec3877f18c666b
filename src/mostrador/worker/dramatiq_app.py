"""Dramatiq wiring for distributed mode. Actor bodies are async; they run on one event loop per process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message

from mostrador.worker.execute import Outcome, execute
from mostrador.worker.gates import JobGates
from mostrador.worker.queues import Queue
from mostrador.worker.registry import ACTORS, ActorDef, JobArg, get_actor

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

T = TypeVar("T")

NAMESPACE = "mostrador"
# A Dramatiq thread is held for as long as its job runs, including while the job waits for its gate. With one pool
# for every queue, receipts waiting for the background gate took all the threads and customers' messages waited for
# a free one (bench/realtime_latency.py, distributed, 500 events/s: webhook stored → applied grew to 10 s within
# seconds of the load starting). Background queues get a pool of their own, big enough for jobs to wait at the gate
# and merge there (worker/gates.py): with 2 threads receipts fell behind at 1,000 events/s, with 4 they kept up.
BACKGROUND_THREADS = 4


def build_broker(redis_url: str, *, namespace: str = NAMESPACE) -> RedisBroker:
    broker = RedisBroker(url=redis_url, namespace=namespace)  # type: ignore[no-untyped-call]
    for queue in {definition.queue.value for definition in ACTORS.values()}:
        broker.declare_queue(queue)
    return broker


def send_job(broker: RedisBroker, name: str, args: tuple[JobArg, ...], *, attempt: int, delay_s: float) -> None:
    definition = get_actor(name)
    message: Message[Any] = Message(
        queue_name=definition.queue.value,
        actor_name=name,
        args=args,
        kwargs={"attempt": attempt},
        options={},
    )
    delay_ms = int(delay_s * 1000)
    broker.enqueue(message, delay=delay_ms if delay_ms > 0 else None)


def build_workers(broker: RedisBroker, *, threads: int, idle_poll_ms: int) -> list[dramatiq.Worker]:
    """Two pools: ``threads`` for live queues (customers' messages, agents' sends), a small one for background."""
    live = {queue.value for queue in Queue if not queue.yields_to_traffic}
    background = {queue.value for queue in Queue if queue.yields_to_traffic}
    # Each pool registers a middleware of the same class on the shared broker, which Dramatiq warns about; the two
    # only ever add consumers for their own queues.
    broker_log = logging.getLogger(f"dramatiq.broker.{type(broker).__name__}")
    level = broker_log.level
    broker_log.setLevel(logging.ERROR)
    try:
        return [
            _started(dramatiq.Worker(broker, queues=live, worker_threads=threads, worker_timeout=idle_poll_ms)),
            _started(
                dramatiq.Worker(
                    broker, queues=background, worker_threads=BACKGROUND_THREADS, worker_timeout=idle_poll_ms
                )
            ),
        ]
    finally:
        broker_log.setLevel(level)


def _started(worker: dramatiq.Worker) -> dramatiq.Worker:
    worker.start()
    return worker


class LoopThread:
    """A private event loop in a thread: Dramatiq's worker threads hand it coroutines and wait."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="mostrador-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def run_in_loop(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def register_actors(broker: RedisBroker, runtime: Callable[[], Runtime], loop: LoopThread, gates: JobGates) -> None:
    for definition in ACTORS.values():
        _register(broker, definition, runtime, loop, gates)


def _register(
    broker: RedisBroker, definition: ActorDef, runtime: Callable[[], Runtime], loop: LoopThread, gates: JobGates
) -> None:
    name = definition.name

    async def run(batch: tuple[JobArg, ...], attempt: int) -> tuple[tuple[JobArg, ...], Outcome]:
        return batch, await execute(runtime(), name, batch, attempt)

    def handle(*args: JobArg, attempt: int = 1) -> None:
        # Batches that joined a job waiting for its turn are not among those returned: that job applies them.
        for batch, outcome in loop.run(
            gates.run_cut(definition, tuple(args), lambda batch: run(batch, attempt), attempt=attempt)
        ):
            if outcome.retry_in is not None:
                send_job(broker, name, batch, attempt=attempt + 1, delay_s=outcome.retry_in)

    handle.__name__ = name.replace(".", "_")
    dramatiq.Actor(
        handle,
        broker=broker,
        actor_name=name,
        queue_name=definition.queue.value,
        priority=definition.queue.priority,
        options={"max_retries": 3},
    )
