"""Media files. Inbound: fetch from the provider in a job (size refused before and during the download, type
sniffed from the bytes, transient failures retried with backoff), store content-addressed with its SHA-256.
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
    ChannelError,
    ChannelMediaTooLarge,
    ChannelRetriableError,
    MediaKind,
    MediaRule,
)
from mostrador.inboxes.adapters import capabilities_for, open_adapter
from mostrador.logging import get_logger
from mostrador.media.errors import EmptyMedia, MediaTooLarge, MediaTypeRefused
from mostrador.media.repository import AttachmentRepository
from mostrador.media.sniff import (
    CONTAINERS,
    ISO_MEDIA,
    claimed_type,
    codec,
    compatible,
    is_animated,
    real_type,
    recognisable,
    sniff,
)
from mostrador.media.store import MediaStore, content_key
from mostrador.models import Attachment, AttachmentState, Inbox, Message
from mostrador.realtime import RealtimeEvent, publish
from mostrador.runtime import Runtime
from mostrador.worker import enqueue

log = get_logger(__name__)

MAX_FETCH_ATTEMPTS = 6
FETCH_BACKOFF_CAP_S = 300.0
MAX_FILENAME = 240  # WhatsApp shows a document's name; longer ones are refused
# Kinds whose every accepted type has magic bytes we know (JPEG, PNG, WebP): content that sniffs as nothing is
# refused. Audio and video come in more framings than we sniff, and documents may be plain text or CSV: there
# only bytes that are recognisably something else than declared are refused, so a customer's file is not lost
# to a gap in our signatures.
STRICT_KINDS = frozenset({MediaKind.IMAGE.value, MediaKind.STICKER.value})


def retry_delay(attempts: int, error: ChannelRetriableError) -> float:
    """Seconds before the next try after ``attempts`` failed ones: the error's own backoff (doubling from its
    base delay, as delivery's), capped."""
    return min(error.retry_in(attempts - 1), FETCH_BACKOFF_CAP_S)


@dataclass(frozen=True)
class _Claim:
    """What one download attempt needs, read in the claiming transaction."""

    account_id: int
    media_id: str
    kind: str
    declared_type: str | None
    rule: MediaRule | None
    limit: int
    attempts: int
    inbox: Inbox


@dataclass(frozen=True)
class _Fetched:
    content: bytes
    mime_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class _Refused:
    reason: str


def _too_large(claim: _Claim, size: int | None) -> str:
    if size is not None:
        return f"too large: the {claim.kind} is {size} bytes, the limit is {claim.limit} bytes (not downloaded)"
    return f"too large: the {claim.kind} is over the {claim.limit} bytes limit (download stopped)"


def _channel_reason(error: ChannelError) -> str:
    detail = f" ({error.details})" if error.details else ""
    return f"download failed: {error.title}{detail} [code {error.code}]"


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
        """Claim, download (no transaction open), then store and record.

        Whatever happens the attachment ends ``stored`` or ``failed`` with a reason the inbox shows: a file refused
        (too large, wrong type) or a permanent provider error fails at once; a temporary one is tried again later
        (exponential backoff, through the job queue) and fails after ``MAX_FETCH_ATTEMPTS`` tries.
        """
        claim = await self._claim(runtime, attachment_id)
        if claim is None:
            return
        outcome = await self._download(runtime, claim)
        key: str | None = None
        if isinstance(outcome, _Fetched):
            extension = mimetypes.guess_extension(outcome.mime_type) or ".bin"
            key = content_key(claim.account_id, outcome.content, extension)
            if not await runtime.media.exists(key):
                await runtime.media.put(key, outcome.content)
        async with runtime.unit_of_work(write=True) as session:
            attachment = await session.get(Attachment, attachment_id)
            message = await session.get(Message, attachment.message_id) if attachment else None
            if attachment is None or message is None or attachment.state is not AttachmentState.pending:
                return
            if isinstance(outcome, _Fetched):
                assert key is not None
                self._stored(session, attachment, message, outcome, key)
            elif isinstance(outcome, _Refused):
                self._failed(session, attachment, message, outcome.reason)
            elif isinstance(outcome, ChannelRetriableError):
                reason = _channel_reason(outcome)
                if claim.attempts >= MAX_FETCH_ATTEMPTS:
                    self._failed(session, attachment, message, f"gave up after {claim.attempts} attempts: {reason}")
                else:
                    attachment.error = f"attempt {claim.attempts} of {MAX_FETCH_ATTEMPTS} failed: {reason}"
                    delay = retry_delay(claim.attempts, outcome)
                    log.info("media.fetch_retry", attachment_id=attachment.id, attempt=claim.attempts, retry_in=delay)
                    enqueue(session, "media.fetch", attachment.id, delay_s=delay)
            else:
                self._failed(session, attachment, message, _channel_reason(outcome))

    async def _claim(self, runtime: Runtime, attachment_id: int) -> _Claim | None:
        """Count the attempt and read what the download needs; None when there is nothing (more) to do."""
        async with runtime.unit_of_work(write=True) as session:
            attachment = await session.get(Attachment, attachment_id)
            if (
                attachment is None
                or attachment.state is not AttachmentState.pending
                or not attachment.provider_media_id
            ):
                return None
            message = await session.get(Message, attachment.message_id)
            inbox = await session.get(Inbox, message.inbox_id) if message else None
            if message is None or inbox is None:
                return None
            if attachment.attempts >= MAX_FETCH_ATTEMPTS:
                # Earlier tries crashed (the job gave up, the sweeper rang again): no endless retries.
                last = f": {attachment.error}" if attachment.error else ""
                self._failed(session, attachment, message, f"gave up after {attachment.attempts} attempts{last}")
                return None
            attachment.attempts += 1
            rule = capabilities_for(inbox.channel_kind).media_rule(attachment.kind)
            limit = runtime.settings.media_max_bytes
            if rule is not None:
                limit = min(limit, max(rule.max_bytes, 1))
            return _Claim(
                account_id=attachment.account_id,
                media_id=attachment.provider_media_id,
                kind=attachment.kind,
                declared_type=attachment.mime_type,
                rule=rule,
                limit=limit,
                attempts=attachment.attempts,
                inbox=inbox,
            )

    async def _download(self, runtime: Runtime, claim: _Claim) -> _Fetched | _Refused | ChannelError:
        """The file, checked; or why it is refused; or the provider's error. The adapter refuses a file over the
        limit from its declared size before downloading it, or stops the download once it passes the limit."""
        try:
            async with open_adapter(runtime, claim.inbox) as adapter:
                blob = await adapter.fetch_media(claim.media_id, max_bytes=claim.limit)
        except ChannelMediaTooLarge as error:
            return _Refused(_too_large(claim, error.size))
        except ChannelError as error:
            return error
        return self._check_inbound(claim, blob.content, blob.mime_type)

    def _check_inbound(self, claim: _Claim, content: bytes, provider_type: str | None) -> _Fetched | _Refused:
        """The bytes decide the type: refused when they are not what was declared, or not a type of the kind."""
        if not content:
            return _Refused("empty file: the download had no content")
        declared = claimed_type(claim.declared_type) or claimed_type(provider_type)
        sniffed = sniff(content)
        strict = claim.kind in STRICT_KINDS  # images and stickers: every accepted type has magic bytes we know
        if sniffed is None:
            if strict or (declared is not None and recognisable(declared)):
                return _Refused(f"type mismatch: the content is not {declared or 'a known ' + claim.kind + ' format'}")
            return _Fetched(content, declared or "application/octet-stream")
        # Zip and OLE files hold many formats (epub, odt, apk, …): a document declared as a type with no magic bytes
        # of its own may well be one of them.
        container_member = not strict and sniffed in CONTAINERS and not recognisable(declared or "")
        if declared is not None and not compatible(declared, sniffed) and not container_member:
            return _Refused(f"type mismatch: the content is {sniffed}, not the declared {declared}")
        same_container = declared in ISO_MEDIA and sniffed in ISO_MEDIA  # e.g. audio/mp4 whose brand says video
        accepted_as = declared if declared is not None and same_container else sniffed
        if strict and claim.rule is not None and not claim.rule.allows(accepted_as):
            return _Refused(f"type not accepted: {sniffed} is not accepted as {claim.kind}")
        if declared is not None and (declared == sniffed or sniffed in CONTAINERS or same_container):
            return _Fetched(content, declared)  # as precise or more (a .docx is a zip, an .m4a an MP4)
        return _Fetched(content, sniffed)

    def _stored(
        self, session: AsyncSession, attachment: Attachment, message: Message, fetched: _Fetched, key: str
    ) -> None:
        digest = fetched.sha256
        if attachment.sha256 and attachment.sha256 != digest:
            log.info("media.sha256_differs", attachment_id=attachment.id)  # Meta's sha256 is of the original file
        attachment.storage_key = key
        attachment.size = len(fetched.content)
        attachment.sha256 = digest
        attachment.mime_type = fetched.mime_type
        attachment.state = AttachmentState.stored
        attachment.error = None
        self._announce(session, message)

    def _failed(self, session: AsyncSession, attachment: Attachment, message: Message, reason: str) -> None:
        log.info("media.fetch_failed", attachment_id=attachment.id, reason=reason)
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
