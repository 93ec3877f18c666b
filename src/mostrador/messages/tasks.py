from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.messages.delivery import delivery
from mostrador.worker import JobContext, Queue, actor
from mostrador.worker.sweeper import sweep


@actor("messages.deliver", queue=Queue.agent, max_retries=3, transactional=False)
async def deliver_message(ctx: JobContext, message_id: int) -> None:
    await delivery.deliver(ctx.runtime, int(message_id))


@sweep("messages")
async def sweep_messages(session: AsyncSession, stale_before: datetime) -> int:
    return await delivery.sweep(session, stale_before)
