from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.webhooks.service import MESSAGES_PER_JOB, RECEIPTS_PER_JOB, webhook_intake
from mostrador.worker import JobContext, Queue, actor
from mostrador.worker.sweeper import sweep


@actor("webhooks.process", queue=Queue.inbound, max_retries=2)
async def process_webhook_events(ctx: JobContext, *event_ids: int) -> None:
    # Retries are scheduled by the service itself, recorded on the row, so they survive restarts.
    await webhook_intake.process_many(ctx.session, [int(event_id) for event_id in event_ids])


@actor("webhooks.process_messages", queue=Queue.inbound, max_retries=2, coalesce=MESSAGES_PER_JOB)
async def process_messages(ctx: JobContext, *event_ids: int) -> None:
    """Bodies with customer messages only, many per job and set-based; anything else goes to webhooks.process."""
    await webhook_intake.process_messages(ctx.session, [int(event_id) for event_id in event_ids])


@actor("webhooks.process_receipts", queue=Queue.bulk, max_retries=2, coalesce=RECEIPTS_PER_JOB)
async def process_receipts(ctx: JobContext, *event_ids: int) -> None:
    """Bodies with delivery statuses only, many per job and set-based, after any customer message waiting."""
    await webhook_intake.process_receipts(ctx.session, [int(event_id) for event_id in event_ids])


@sweep("webhooks")
async def sweep_webhook_events(session: AsyncSession, stale_before: datetime) -> int:
    return await webhook_intake.sweep(session, stale_before)
