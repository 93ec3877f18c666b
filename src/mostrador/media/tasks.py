from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.media.service import media
from mostrador.worker import JobContext, Queue, actor
from mostrador.worker.sweeper import sweep


@actor("media.fetch", queue=Queue.inbound, max_retries=2, transactional=False)
async def fetch_media(ctx: JobContext, attachment_id: int) -> None:
    await media.fetch(ctx.runtime, int(attachment_id))


@sweep("media")
async def sweep_media(session: AsyncSession, stale_before: datetime) -> int:
    return await media.sweep(session, stale_before)
