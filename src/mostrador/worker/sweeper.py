"""Re-rings work whose doorbell was lost: rows still waiting after ``stale_after`` get their job again.

Each domain registers a sweep that finds its own waiting rows and enqueues them; handlers are idempotent,
so ringing twice is harmless.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.db import SQLITE_STATISTICS_EVERY_S
from mostrador.kit.time import utc_now
from mostrador.logging import get_logger

if TYPE_CHECKING:
    from mostrador.runtime import Runtime

log = get_logger(__name__)

SweepFn = Callable[[AsyncSession, datetime], Awaitable[int]]
SWEEPS: dict[str, SweepFn] = {}


def sweep(name: str) -> Callable[[SweepFn], SweepFn]:
    def register(fn: SweepFn) -> SweepFn:
        SWEEPS[name] = fn
        return fn

    return register


async def sweep_once(runtime: Runtime, *, stale_after_s: float | None = None) -> dict[str, int]:
    stale_after = stale_after_s if stale_after_s is not None else runtime.settings.sweeper_stale_after_s
    stale_before = utc_now() - timedelta(seconds=stale_after)
    counts: dict[str, int] = {}
    for name, fn in SWEEPS.items():
        async with runtime.unit_of_work(write=True) as session:
            counts[name] = await fn(session, stale_before)
    if any(counts.values()):
        log.info("sweeper.rerang", **counts)
    return counts


async def run_sweeper(runtime: Runtime) -> None:
    analyzed = -math.inf
    while True:
        if time.monotonic() - analyzed >= SQLITE_STATISTICS_EVERY_S:
            try:
                await runtime.db.refresh_statistics()
            except Exception as error:
                log.error("sweeper.statistics_failed", error=repr(error))
            analyzed = time.monotonic()
        await asyncio.sleep(runtime.settings.sweeper_interval_s)
        try:
            await sweep_once(runtime)
        except Exception as error:
            log.error("sweeper.failed", error=repr(error))
