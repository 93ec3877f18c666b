from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import ChannelPermanentError, ChannelRetriableError
from mostrador.inboxes.adapters import capabilities_for, open_adapter
from mostrador.logging import get_logger
from mostrador.messages.delivery import delivery
from mostrador.messages.repository import MessageRepository
from mostrador.models import Conversation, Inbox
from mostrador.worker import JobContext, Queue, RetryLater, actor
from mostrador.worker.sweeper import sweep

log = get_logger(__name__)


@actor("messages.deliver", queue=Queue.agent, max_retries=3, transactional=False)
async def deliver_message(ctx: JobContext, message_id: int) -> None:
    await delivery.deliver(ctx.runtime, int(message_id))


@actor("messages.read_receipt", queue=Queue.agent, max_retries=3, transactional=False)
async def send_read_receipt(ctx: JobContext, conversation_id: int) -> None:
    """Tell the customer we read them: mark their latest message read (blue ticks on their phone)."""
    async with ctx.runtime.unit_of_work() as session:
        conversation = await session.get(Conversation, int(conversation_id))
        inbox = await session.get(Inbox, conversation.inbox_id) if conversation else None
        latest = (
            await MessageRepository.from_session(session).latest_inbound_with_provider_id(
                conversation.account_id, conversation.id
            )
            if conversation
            else None
        )
    if inbox is None or latest is None or latest.provider_message_id is None:
        return
    if not capabilities_for(inbox.channel_kind).supports_read_receipts:
        return
    try:
        async with open_adapter(ctx.runtime, inbox) as adapter:
            await adapter.mark_read(latest.provider_message_id)
    except ChannelRetriableError as error:
        raise RetryLater(max(2.0, float(error.defer_seconds or 0)), error.title) from error
    except ChannelPermanentError as error:  # e.g. a message older than 30 days: nothing to retry
        log.info("read_receipt.refused", conversation_id=conversation_id, code=error.code)


@sweep("messages")
async def sweep_messages(session: AsyncSession, stale_before: datetime) -> int:
    return await delivery.sweep(session, stale_before)
