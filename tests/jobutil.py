"""Holding the embedded job runner while a test sets up what a job will find."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend


@asynccontextmanager
async def runner_held(runtime: Runtime) -> AsyncIterator[InProcessJobBackend]:
    """Jobs queued inside the block wait and run after it: the runner starts a job as soon as it is queued, so a
    test that changes state the job depends on, or reads the state before it, would race it."""
    jobs = runtime.jobs
    assert isinstance(jobs, InProcessJobBackend)
    await jobs.aclose()
    try:
        yield jobs
    finally:
        await jobs.start()
