"""Inbound media: fetch from the provider in a job, check limits and type, store content-addressed."""

from __future__ import annotations

import hashlib
import mimetypes
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import ChannelPermanentError, ChannelRetriableError
from mostrador.inboxes.adapters import capabilities_for, open_adapter
from mostrador.logging import get_logger
from mostrador.media.sniff import compatible, sniff
from mostrador.media.store import content_key
from mostrador.models import Attachment, AttachmentState, Inbox, Message
from mostrador.realtime import RealtimeEvent, publish
from mostrador.runtime import Runtime
from mostrador.worker import enqueue
from mostrador.worker.registry import backoff_seconds

log = get_logger(__name__)

MAX_FETCH_ATTEMPTS = 6


class MediaService:
    async def fetch(self, runtime: Runtime, session: AsyncSession, attachment_id: int) -> None:
        attachment = await session.get(Attachment, attachment_id)
        if attachment is None or attachment.state is not AttachmentState.pending or not attachment.provider_media_id:
            return
        message = await session.get(Message, attachment.message_id)
        inbox = await session.get(Inbox, message.inbox_id) if message else None
        if message is None or inbox is None:
            return
        attachment.attempts += 1
        try:
            async with open_adapter(runtime, inbox) as adapter:
                blob = await adapter.fetch_media(attachment.provider_media_id)
        except ChannelRetriableError as error:
            if attachment.attempts >= MAX_FETCH_ATTEMPTS:
                self._failed(session, attachment, message, f"{error.title}: {error.details or ''}")
            else:
                attachment.error = error.title
                enqueue(session, "media.fetch", attachment.id, delay_s=backoff_seconds(attachment.attempts, base=2.0))
            return
        except ChannelPermanentError as error:
            self._failed(session, attachment, message, f"{error.title}: {error.details or ''}")
            return
        data = blob.content
        limit = runtime.settings.media_max_bytes
        rule = capabilities_for(inbox.channel_kind).media_rule(attachment.kind)
        if rule is not None:
            limit = min(limit, max(rule.max_bytes, 1))
        if len(data) > limit:
            self._failed(session, attachment, message, f"file too large ({len(data)} bytes > {limit})")
            return
        declared = attachment.mime_type or blob.mime_type
        sniffed = sniff(data)
        if not compatible(declared, sniffed):
            self._failed(session, attachment, message, f"content is {sniffed}, not the declared {declared}")
            return
        digest = hashlib.sha256(data).hexdigest()
        if attachment.sha256 and attachment.sha256 != digest:
            log.info("media.sha256_differs", attachment_id=attachment.id)  # Meta's sha256 is of the original file
        mime = (declared or sniffed or "application/octet-stream").split(";", 1)[0].strip()
        extension = mimetypes.guess_extension(mime) or ".bin"
        key = content_key(attachment.account_id, data, extension)
        await runtime.media.put(key, data)
        attachment.storage_key = key
        attachment.size = len(data)
        attachment.sha256 = digest
        attachment.mime_type = mime
        attachment.state = AttachmentState.stored
        attachment.error = None
        self._announce(session, message)

    def _failed(self, session: AsyncSession, attachment: Attachment, message: Message, reason: str) -> None:
        attachment.state = AttachmentState.failed
        attachment.error = reason[:1000]
        self._announce(session, message)

    def _announce(self, session: AsyncSession, message: Message) -> None:
        publish(
            session,
            RealtimeEvent(
                message.account_id,
                "message.updated",
                {"conversation_id": message.conversation_id, "message_id": message.id},
            ),
        )

    async def sweep(self, session: AsyncSession, stale_before: datetime) -> int:
        ids = list(
            (
                await session.execute(
                    select(Attachment.id)
                    .where(Attachment.state == AttachmentState.pending, Attachment.updated_at < stale_before)
                    .limit(500)
                )
            ).scalars()
        )
        for attachment_id in ids:
            enqueue(session, "media.fetch", attachment_id)
        return len(ids)


media = MediaService()
