"""Jobs are collected on the session and sent only after it commits; a rollback drops them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.worker.registry import JobArg

_PENDING_KEY = "mostrador.pending_jobs"


@dataclass(frozen=True)
class PendingJob:
    actor: str
    args: tuple[JobArg, ...]
    delay_s: float = 0.0


def enqueue(session: AsyncSession, actor_name: str, *args: JobArg, delay_s: float = 0.0) -> None:
    jobs: list[PendingJob] = session.info.setdefault(_PENDING_KEY, [])
    jobs.append(PendingJob(actor_name, args, delay_s))


def take_pending_jobs(session: AsyncSession) -> list[PendingJob]:
    jobs: list[PendingJob] = session.info.pop(_PENDING_KEY, [])
    return jobs


def drop_pending_jobs(session: AsyncSession) -> None:
    session.info.pop(_PENDING_KEY, None)
