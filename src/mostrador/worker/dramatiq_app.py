"""Dramatiq wiring for distributed mode. Actor bodies are async; they run on one event loop per process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message

from mostrador.worker.execute import execute
from mostrador.worker.gates import JobGates
from mostrador.worker.registry import ACTORS, ActorDef, JobArg, get_actor

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

T = TypeVar("T")

NAMESPACE = "mostrador"


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

    def handle(*args: JobArg, attempt: int = 1) -> None:
        outcome = loop.run(gates.run(definition, lambda: execute(runtime(), name, tuple(args), attempt)))
        if outcome.retry_in is not None:
            send_job(broker, name, tuple(args), attempt=attempt + 1, delay_s=outcome.retry_in)

    handle.__name__ = name.replace(".", "_")
    dramatiq.Actor(
        handle,
        broker=broker,
        actor_name=name,
        queue_name=definition.queue.value,
        priority=definition.queue.priority,
        options={"max_retries": 3},
    )
