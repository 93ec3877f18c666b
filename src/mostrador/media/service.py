"""Media files. Inbound: fetch from the provider in a job, check limits and type, store content-addressed.
Outbound: check what an agent attached against the channel's rules (by its bytes, never by what the browser
said), store it content-addressed with its Attachment row; delivery uploads it to the provider."""

from __future__ import annotations

import hashlib
import mimetypes
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import (
    ChannelCapabilities,
    ChannelPermanentError,
    ChannelRetriableError,
    MediaBlob,
    MediaKind,
)
from mostrador.inboxes.adapters import capabilities_for, open_adapter
from mostrador.logging import get_logger
from mostrador.media.errors import EmptyMedia, MediaTooLarge, MediaTypeRefused
from mostrador.media.repository import AttachmentRepository
from mostrador.media.sniff import codec, compatible, is_animated, real_type, sniff
from mostrador.media.store import MediaStore, content_key
from mostrador.models import Attachment, AttachmentState, Inbox, Message
from mostrador.realtime import RealtimeEvent, publish
from mostrador.runtime import Runtime
from mostrador.worker import enqueue
from mostrador.worker.registry import backoff_seconds

log = get_logger(__name__)

MAX_FETCH_ATTEMPTS = 6
MAX_FILENAME = 240  # WhatsApp shows a document's name; longer ones are refused


@dataclass(frozen=True)
class MediaFile:
    """A file an agent attached: its bytes, its name and the type the browser declared (a hint, never trusted)."""

    content: bytes
    filename: str = ""
    declared_type: str | None = None


@dataclass(frozen=True)
class CheckedMedia:
    """A file the channel accepts: its kind, its real mime type (from its bytes) and a safe file name."""

    kind: MediaKind
    mime_type: str
    filename: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def safe_filename(name: str, fallback: str) -> str:
    """The last path segment without control characters, at most MAX_FILENAME characters (extension kept)."""
    cleaned = "".join(ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if unicodedata.category(ch)[0] != "C")
    cleaned = " ".join(cleaned.split()).strip(". ")
    if not cleaned:
        return fallback
    if len(cleaned) > MAX_FILENAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:MAX_FILENAME]
    return cleaned


class MediaService:
    def check_outbound(
        self, capabilities: ChannelCapabilities, file: MediaFile, *, kinds: Collection[MediaKind] | None = None
    ) -> CheckedMedia:
        """Whether the channel takes this file (of one of ``kinds``): its real type, kind, codec and size."""
        if not file.content:
            raise EmptyMedia()
        mime = real_type(file.content, file.filename, file.declared_type)
        if mime is None:
            raise MediaTypeRefused("the file type could not be recognised from its content", mime_type=None)
        kind = capabilities.media_kind_for(mime, kinds)
        rule = capabilities.media_rule(kind) if kind is not None else None
        if kind is None or rule is None:
            raise MediaTypeRefused(f"{mime} files cannot be sent here", mime_type=mime)
        required = rule.codecs_for(mime)
        if required and codec(file.content, mime) not in required:
            raise MediaTypeRefused(f"{mime} files must use the {' or '.join(sorted(required))} codec", mime_type=mime)
        limit = rule.limit(animated=is_animated(file.content, mime))
        if len(file.content) > limit:
            raise MediaTooLarge(kind, limit, len(file.content))
        extension = mimetypes.guess_extension(mime) or ".bin"
        filename = safe_filename(file.filename, f"{kind.value}{extension}")
        return CheckedMedia(kind=kind, mime_type=mime, filename=filename, content=file.content)

    async def attach_outbound(
        self, session: AsyncSession, store: MediaStore, message: Message, media: CheckedMedia
    ) -> Attachment:
        """Keep the file (content-addressed) and its row; delivery uploads it and records the provider's id.

        The bytes are written before the transaction commits: if it rolls back, an unreferenced file stays in the
        store (the same file sent again reuses it), never a row without its file.
        """
        key = content_key(message.account_id, media.content, mimetypes.guess_extension(media.mime_type) or ".bin")
        if not await store.exists(key):
            await store.put(key, media.content)
        attachment = Attachment(
            account_id=message.account_id,
            message_id=message.id,
            kind=media.kind.value,
            mime_type=media.mime_type,
            filename=media.filename,
            size=media.size,
            sha256=media.sha256,
            storage_key=key,
            state=AttachmentState.stored,
        )
        return await AttachmentRepository.from_session(session).add(attachment)

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
