"""Running one job: the same code under the in-process runner and under Dramatiq."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mostrador.logging import correlation_id, get_logger, new_correlation_id
from mostrador.worker.registry import JobArg, JobContext, RetryLater, backoff_seconds, get_actor

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

log = get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    done: bool
    retry_in: float | None = None


async def execute(runtime: Runtime, name: str, args: tuple[JobArg, ...], attempt: int) -> Outcome:
    definition = get_actor(name)
    token = correlation_id.set(new_correlation_id())
    try:
        if definition.transactional:
            async with runtime.unit_of_work(write=True, priority=definition.queue.priority) as session:
                await definition.fn(JobContext(runtime=runtime, session_or_none=session, attempt=attempt), *args)
        else:
            await definition.fn(JobContext(runtime=runtime, session_or_none=None, attempt=attempt), *args)
        return Outcome(done=True)
    except RetryLater as retry:
        if attempt >= definition.max_retries:
            log.warning("job.gave_up", actor=name, args=args, attempt=attempt, reason=str(retry))
            return Outcome(done=False)
        return Outcome(done=False, retry_in=retry.defer_seconds)
    except Exception as error:
        if attempt >= definition.max_retries:
            log.error("job.gave_up", actor=name, args=args, attempt=attempt, error=repr(error))
            return Outcome(done=False)
        delay = backoff_seconds(attempt)
        log.warning("job.failed", actor=name, args=args, attempt=attempt, error=repr(error), retry_in=delay)
        return Outcome(done=False, retry_in=delay)
    finally:
        correlation_id.reset(token)
