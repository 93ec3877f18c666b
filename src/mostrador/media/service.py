"""Inbound media: fetch from the provider in a job, check limits and type, store content-addressed."""

from __future__ import annotations

import hashlib
import mimetypes
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import ChannelPermanentError, ChannelRetriableError, MediaBlob
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
    async def fetch(self, runtime: Runtime, attachment_id: int) -> None:
        """Claim, download (no transaction open), then store and record."""
        async with runtime.unit_of_work(write=True) as session:
            attachment = await session.get(Attachment, attachment_id)
            if (
                attachment is None
                or attachment.state is not AttachmentState.pending
                or not attachment.provider_media_id
            ):
                return
            message = await session.get(Message, attachment.message_id)
            inbox = await session.get(Inbox, message.inbox_id) if message else None
            if message is None or inbox is None:
                return
            attachment.attempts += 1
            media_id, attempts = attachment.provider_media_id, attachment.attempts
        outcome: MediaBlob | ChannelRetriableError | ChannelPermanentError
        try:
            async with open_adapter(runtime, inbox) as adapter:
                outcome = await adapter.fetch_media(media_id)
        except (ChannelRetriableError, ChannelPermanentError) as error:
            outcome = error
        key: str | None = None
        if isinstance(outcome, MediaBlob):
            problem = self._check(runtime, inbox, attachment, outcome)
            if problem is None:
                key = self._key(attachment, outcome)
                await runtime.media.put(key, outcome.content)
        async with runtime.unit_of_work(write=True) as session:
            attachment = await session.get(Attachment, attachment_id)
            message = await session.get(Message, attachment.message_id) if attachment else None
            if attachment is None or message is None or attachment.state is not AttachmentState.pending:
                return
            if isinstance(outcome, ChannelRetriableError):
                if attempts >= MAX_FETCH_ATTEMPTS:
                    self._failed(session, attachment, message, f"{outcome.title}: {outcome.details or ''}")
                else:
                    attachment.error = outcome.title
                    enqueue(session, "media.fetch", attachment.id, delay_s=backoff_seconds(attempts, base=2.0))
            elif isinstance(outcome, ChannelPermanentError):
                self._failed(session, attachment, message, f"{outcome.title}: {outcome.details or ''}")
            elif key is None:
                self._failed(session, attachment, message, self._check(runtime, inbox, attachment, outcome) or "")
            else:
                self._stored(session, attachment, message, outcome, key)

    def _check(self, runtime: Runtime, inbox: Inbox, attachment: Attachment, blob: MediaBlob) -> str | None:
        """Why this file must not be kept, or None."""
        limit = runtime.settings.media_max_bytes
        rule = capabilities_for(inbox.channel_kind).media_rule(attachment.kind)
        if rule is not None:
            limit = min(limit, max(rule.max_bytes, 1))
        if len(blob.content) > limit:
            return f"file too large ({len(blob.content)} bytes > {limit})"
        declared = attachment.mime_type or blob.mime_type
        sniffed = sniff(blob.content)
        if not compatible(declared, sniffed):
            return f"content is {sniffed}, not the declared {declared}"
        return None

    def _mime(self, attachment: Attachment, blob: MediaBlob) -> str:
        declared = attachment.mime_type or blob.mime_type
        return (declared or sniff(blob.content) or "application/octet-stream").split(";", 1)[0].strip()

    def _key(self, attachment: Attachment, blob: MediaBlob) -> str:
        extension = mimetypes.guess_extension(self._mime(attachment, blob)) or ".bin"
        return content_key(attachment.account_id, blob.content, extension)

    def _stored(
        self, session: AsyncSession, attachment: Attachment, message: Message, blob: MediaBlob, key: str
    ) -> None:
        digest = hashlib.sha256(blob.content).hexdigest()
        if attachment.sha256 and attachment.sha256 != digest:
            log.info("media.sha256_differs", attachment_id=attachment.id)  # Meta's sha256 is of the original file
        attachment.storage_key = key
        attachment.size = len(blob.content)
        attachment.sha256 = digest
        attachment.mime_type = self._mime(attachment, blob)
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
