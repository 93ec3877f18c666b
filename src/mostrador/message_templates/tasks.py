from __future__ import annotations

from mostrador.channels.base import ChannelPermanentError, ChannelRetriableError
from mostrador.inboxes.adapters import open_adapter
from mostrador.logging import get_logger
from mostrador.message_templates.service import upsert_from_provider
from mostrador.models import Inbox
from mostrador.worker import JobContext, Queue, RetryLater, actor

log = get_logger(__name__)


@actor("templates.sync", queue=Queue.housekeeping, max_retries=5, transactional=False)
async def sync_templates(ctx: JobContext, inbox_id: int) -> None:
    async with ctx.runtime.unit_of_work() as session:
        inbox = await session.get(Inbox, int(inbox_id))
    if inbox is None:
        return
    try:
        async with open_adapter(ctx.runtime, inbox) as adapter:
            items = await adapter.sync_templates()
    except ChannelRetriableError as error:
        raise RetryLater(max(5.0, float(error.defer_seconds or 0)), error.title) from error
    except ChannelPermanentError as error:
        log.warning("templates.sync_failed", inbox_id=inbox.id, code=error.code, title=error.title)
        return
    async with ctx.runtime.unit_of_work(write=True) as session:
        current = await session.get(Inbox, inbox.id)
        if current is not None:
            await upsert_from_provider(session, current, items)
