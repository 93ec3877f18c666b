"""A SAVEPOINT that also takes back what was collected for after the commit while it was open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """``session.begin_nested()``; on rollback the lists in ``session.info`` (the outboxes: pending jobs and
    real-time events, sent after commit) lose what was appended inside, so no doorbell rings and no screen hears
    of rows that were never committed."""
    marks = {key: len(value) for key, value in session.info.items() if isinstance(value, list)}
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        for key, value in list(session.info.items()):
            if isinstance(value, list):
                del value[marks.get(key, 0) :]
        raise
