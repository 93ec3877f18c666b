"""Actors: ``@actor("domain.verb")`` on ``async def fn(ctx, *args)``. Each job runs in its own unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.worker.queues import Queue

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

JobArg = int | str | None


@dataclass(frozen=True)
class JobContext:
    runtime: Runtime
    # The job's unit of work; None for actors declared ``transactional=False``, which wait on the network and
    # so open their own short units of work around it (no transaction is ever held across an HTTP call).
    session_or_none: AsyncSession | None
    attempt: int

    @property
    def session(self) -> AsyncSession:
        if self.session_or_none is None:
            raise RuntimeError("this actor is not transactional; open runtime.unit_of_work(write=True)")
        return self.session_or_none


ActorFn = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class ActorDef:
    name: str
    fn: ActorFn
    queue: Queue
    max_retries: int
    transactional: bool = True
    # Args are row ids the actor takes as a set: jobs waiting in the embedded queue merge into one, up to this
    # many ids (0: never). Many tiny jobs cost the event loop more in per-job overhead than in their work.
    coalesce: int = 0


class RetryLater(Exception):
    """Raised by an actor to be run again after ``defer_seconds`` (counts as an attempt)."""

    def __init__(self, defer_seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {defer_seconds:.1f}s")
        self.defer_seconds = defer_seconds


ACTORS: dict[str, ActorDef] = {}


def actor(
    name: str,
    *,
    queue: Queue = Queue.agent,
    max_retries: int = 8,
    transactional: bool = True,
    coalesce: int = 0,
) -> Callable[[ActorFn], ActorFn]:
    def register(fn: ActorFn) -> ActorFn:
        if name in ACTORS and ACTORS[name].fn is not fn:
            raise RuntimeError(f"actor {name!r} is defined twice")
        ACTORS[name] = ActorDef(
            name=name,
            fn=fn,
            queue=queue,
            max_retries=max_retries,
            transactional=transactional,
            coalesce=coalesce,
        )
        return fn

    return register


def get_actor(name: str) -> ActorDef:
    try:
        return ACTORS[name]
    except KeyError:
        raise LookupError(f"unknown actor {name!r}; is its tasks module imported?") from None


def backoff_seconds(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    return float(min(cap, base * (2 ** max(0, attempt - 1))))
