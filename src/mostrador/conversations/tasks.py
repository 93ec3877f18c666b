from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.conversations.queue import ASSIGN_WAITING
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.time import utc_now
from mostrador.worker import JobContext, Queue, actor
from mostrador.worker.sweeper import sweep


@actor(ASSIGN_WAITING, queue=Queue.agent, max_retries=5, transactional=False)
async def assign_waiting(ctx: JobContext, account_id: int) -> None:
    """Capacity appeared in an account: give its waiting conversations to online agents with room.

    One short unit of work per inbox, each holding only that inbox's row lock (the lock a new conversation's
    assignment takes), so the drain never holds two inbox locks at once.
    """
    async with ctx.runtime.unit_of_work() as session:
        inbox_ids = await conversation_service.inboxes_with_waiting(session, int(account_id))
    for inbox_id in inbox_ids:
        async with ctx.runtime.unit_of_work(write=True) as session:
            await conversation_service.assign_waiting(session, inbox_id)


@sweep("assignment")
async def sweep_assignment(session: AsyncSession, stale_before: datetime) -> int:
    return await conversation_service.sweep_waiting(session, stale_before)


@sweep("snoozes")
async def wake_snoozed(session: AsyncSession, _stale_before: datetime) -> int:
    """Snoozed conversations reopen when their time comes (within one sweeper interval), not only when the
    customer writes."""
    return await conversation_service.wake_snoozed(session, utc_now())
