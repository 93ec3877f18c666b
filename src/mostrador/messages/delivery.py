"""Delivering a queued message: claim, rate-limit, send, record; retriable failures back off.

Idempotency: each row carries an ``idempotency_key`` sent to Meta as ``biz_opaque_callback_data`` and echoed
in every status webhook. If an attempt may have reached Meta but its answer was lost (a timeout after the
request left), the row stays ``sending`` for a grace period; a status carrying the key adopts the wamid
(see inbound.apply_status) and nothing is resent. Only when no status arrives within the grace period is the
message sent again. What is *not* guaranteed: a status delayed by Meta beyond the grace period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import (
    ChannelAdapter,
    ChannelPermanentError,
    ChannelRetriableError,
    Recipient,
    SendResult,
    Throttle,
)
from mostrador.channels.base import OutboundMessage as ChannelMessage
from mostrador.inboxes.adapters import (
    awaits_upload,
    capabilities_for,
    open_adapter,
    stored_outbound,
    uploaded_media,
    with_media_id,
    without_media_id,
)
from mostrador.kit.time import as_utc, utc_now
from mostrador.logging import get_logger
from mostrador.media.repository import AttachmentRepository
from mostrador.messages.repository import MessageRepository
from mostrador.models import Contact, Conversation, Inbox, Message, MessageStatus
from mostrador.realtime import RealtimeEvent, publish
from mostrador.runtime import Runtime
from mostrador.worker import enqueue

log = get_logger(__name__)

MAX_SEND_ATTEMPTS = 8
AMBIGUOUS_GRACE = timedelta(seconds=60)
# A claim that must upload a file first (up to 100 MB) waits this much longer before the sweeper takes it over.
UPLOAD_GRACE = timedelta(minutes=10)
# An uploaded file's id is used until this long before the provider drops it; then the file is uploaded again.
UPLOAD_EXPIRY_MARGIN = timedelta(days=1)
# Waiting longer than this for a rate-limit slot frees the worker: the job is re-rung at the slot instead.
MAX_INLINE_WAIT_S = 10.0


def _ambiguous(error: ChannelRetriableError) -> bool:
    """True when the request may have reached Meta (so a blind retry could send twice)."""
    cause = error.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return isinstance(cause, httpx.TransportError)


@dataclass(frozen=True)
class _Upload:
    """The message's file, to upload before sending."""

    attachment_id: int
    storage_key: str
    mime_type: str
    filename: str


@dataclass(frozen=True)
class _Claim:
    message_id: int
    attempt: int
    inbox: Inbox
    recipient: Recipient
    reply_to: str | None
    key: str | None
    content: dict[str, Any]
    wait: float
    upload: _Upload | None = None

    def outbound(self, media_id: str | None = None) -> ChannelMessage:
        content = with_media_id(self.content, media_id, utc_now()) if media_id is not None else self.content
        return ChannelMessage(
            to=self.recipient,
            body=stored_outbound(content),
            reply_to=self.reply_to,
            biz_opaque_callback_data=self.key,
            idempotency_key=self.key,
        )


def _pair_key(runtime: Runtime, inbox: Inbox, recipient: Recipient) -> str:
    return runtime.pair_rate.pair_key(inbox.channel_key, recipient.wa_id or recipient.user_id or "")


class _FileMissing(Exception):
    """The message's file is no longer in the media store: nothing to upload, ever."""


class _Superseded(Exception):
    """Another attempt took the message over while this one uploaded its file; that one sends it."""


class Delivery:
    """Three short steps, never a transaction held across the HTTP call: claim, send, record."""

    async def deliver(self, runtime: Runtime, message_id: int) -> None:
        async with runtime.unit_of_work(write=True) as session:
            claim = await self._claim(runtime, session, message_id)
        if claim is None:
            return
        if claim.wait > 0:
            await runtime.sleep(claim.wait)
        outcome: SendResult | ChannelRetriableError | ChannelPermanentError | _FileMissing
        sending = False  # an error before the send (the upload) can never have reached the customer
        try:
            async with open_adapter(runtime, claim.inbox) as adapter:
                media_id = await self._upload(runtime, adapter, claim) if claim.upload is not None else None
                sending = True
                outcome = await adapter.send(claim.outbound(media_id))
        except (ChannelRetriableError, ChannelPermanentError, _FileMissing) as error:
            outcome = error
        except _Superseded:
            log.info("deliver.superseded", message_id=claim.message_id)
            return
        cooldown: tuple[Throttle, float] | None = None
        if isinstance(outcome, ChannelRetriableError) and outcome.throttle is not None:
            cooldown = (outcome.throttle, outcome.retry_in(claim.attempt - 1))
            await self._cool_down(runtime, claim, *cooldown)
        async with runtime.unit_of_work(write=True) as session:
            message = (
                await session.execute(select(Message).where(Message.id == claim.message_id).with_for_update())
            ).scalar_one_or_none()
            if message is None:
                return
            if cooldown is not None:
                # Sends already holding a slot never ask the limiter again: they move back with the cooldown.
                throttle, seconds = cooldown
                await MessageRepository.from_session(session).postpone_held_slots(
                    message.account_id,
                    message.inbox_id,
                    seconds,
                    conversation_id=message.conversation_id if throttle is Throttle.RECIPIENT else None,
                )
            if isinstance(outcome, ChannelRetriableError):
                await self._retriable(session, message, outcome, may_have_arrived=sending)
            elif isinstance(outcome, ChannelPermanentError):
                self._fail(session, message, outcome.code, outcome.title, outcome.details or "")
            elif isinstance(outcome, _FileMissing):
                self._fail(session, message, None, "The attached file is missing from the media store", str(outcome))
            else:
                self._sent(session, message, outcome)

    async def _upload(self, runtime: Runtime, adapter: ChannelAdapter, claim: _Claim) -> str:
        """Upload the file, then record its media id (and restart the grace period) before anything is sent."""
        upload = claim.upload
        assert upload is not None
        try:
            data = await runtime.media.get(upload.storage_key)
        except OSError as error:
            raise _FileMissing(upload.storage_key) from error
        media_id = await adapter.upload_media(data, upload.mime_type, upload.filename)
        current = True
        async with runtime.unit_of_work(write=True) as session:
            # The message's lock first: it orders two attempts' records, so the second sees the first's id.
            message = (
                await session.execute(select(Message).where(Message.id == claim.message_id).with_for_update())
            ).scalar_one_or_none()
            attachment = await AttachmentRepository.from_session(session).get_unscoped(upload.attachment_id)
            if attachment is not None:
                if attachment.provider_media_id is None:
                    attachment.provider_media_id = media_id  # kept even if this attempt stops: the file is uploaded
                else:
                    media_id = attachment.provider_media_id  # another attempt's upload came first: one id for all
            current = (
                message is not None and message.status is MessageStatus.sending and message.attempts == claim.attempt
            )
            if message is not None and current:
                if awaits_upload(message.content):
                    message.content = with_media_id(message.content, media_id, utc_now())
                message.next_attempt_at = utc_now() + AMBIGUOUS_GRACE
        if not current:
            raise _Superseded()
        return media_id

    def _too_old(self, inbox: Inbox, uploaded_at: datetime) -> bool:
        """Whether the provider will soon have dropped a file we uploaded then (Meta: after 30 days)."""
        lifetime = capabilities_for(inbox.channel_kind).uploaded_media_lifetime
        return lifetime is not None and utc_now() - uploaded_at >= lifetime - UPLOAD_EXPIRY_MARGIN

    async def _claim(self, runtime: Runtime, session: AsyncSession, message_id: int) -> _Claim | None:
        message = (
            await session.execute(select(Message).where(Message.id == message_id).with_for_update())
        ).scalar_one_or_none()
        if message is None or message.status is not MessageStatus.queued:
            return None
        inbox = await session.get(Inbox, message.inbox_id)
        conversation = await session.get(Conversation, message.conversation_id)
        contact = await session.get(Contact, conversation.contact_id) if conversation else None
        if inbox is None or conversation is None or contact is None:
            self._fail(session, message, None, "Conversation or inbox deleted", "")
            return None
        recipient = Recipient(wa_id=contact.wa_id or None, user_id=contact.bsuid or None)
        now = utc_now()
        if message.send_slot_at is not None:  # booked when this send was deferred: the slot is this message's
            wait = max(0.0, (as_utc(message.send_slot_at) - now).total_seconds())
        else:
            # Every process reads the number's limit from its row, so they all pace it alike.
            limit = runtime.throughput.limit_for_tier(inbox.throughput_mps) if inbox.throughput_mps else None
            runtime.throughput.set_limit(inbox.channel_key, limit)
            wait = max(
                await runtime.throughput.reserve(inbox.channel_key),
                await runtime.pair_rate.reserve(_pair_key(runtime, inbox, recipient)),
            )
        if wait > MAX_INLINE_WAIT_S:
            message.send_slot_at = message.next_attempt_at = now + timedelta(seconds=wait)
            enqueue(session, "messages.deliver", message.id, delay_s=wait)
            return None
        message.send_slot_at = None
        upload: _Upload | None = None
        uploaded = uploaded_media(message.content)
        expired = uploaded[0] if uploaded and self._too_old(inbox, uploaded[1]) else None
        if expired is not None:  # a resend weeks later: the file goes up again from our store
            message.content = without_media_id(message.content, expired)
        if awaits_upload(message.content):
            attachment = await AttachmentRepository.from_session(session).for_message(message.account_id, message.id)
            if attachment is None or not attachment.storage_key:
                self._fail(session, message, None, "The attached file is missing", "")
                return None
            uploaded_at = attachment.updated_at  # written with the id (the row changes no more after)
            if attachment.provider_media_id == expired or self._too_old(inbox, uploaded_at):
                attachment.provider_media_id = None  # sending that id would fail at Meta: "media not found"
            if attachment.provider_media_id:  # uploaded by an earlier attempt
                message.content = with_media_id(message.content, attachment.provider_media_id, uploaded_at)
            else:
                upload = _Upload(
                    attachment_id=attachment.id,
                    storage_key=attachment.storage_key,
                    mime_type=attachment.mime_type or "application/octet-stream",
                    filename=attachment.filename or f"{attachment.kind}-{attachment.id}",
                )
        # From this commit on, a crash leaves the row "sending"; the sweeper resolves it after the grace period.
        message.status = MessageStatus.sending
        message.attempts += 1
        message.next_attempt_at = utc_now() + AMBIGUOUS_GRACE + (UPLOAD_GRACE if upload else timedelta(0))
        return _Claim(
            message_id=message.id,
            attempt=message.attempts,
            inbox=inbox,
            recipient=recipient,
            reply_to=message.reply_to_provider_id,
            key=message.idempotency_key,
            content=dict(message.content),
            wait=wait,
            upload=upload,
        )

    def _sent(self, session: AsyncSession, message: Message, result: SendResult) -> None:
        message.provider_message_id = message.provider_message_id or result.provider_message_id
        if message.status in (MessageStatus.sending, MessageStatus.queued):
            message.status = MessageStatus.sent
        message.next_attempt_at = None
        if result.message_status:
            message.content = {**message.content, "message_status": result.message_status}
        self._announce(session, message)

    async def _retriable(
        self, session: AsyncSession, message: Message, error: ChannelRetriableError, *, may_have_arrived: bool = True
    ) -> None:
        if may_have_arrived and _ambiguous(error):
            # Leave it "sending": a status with our key may still prove it arrived (see module docstring).
            message.error_title = error.title
            message.error_detail = f"waiting to confirm delivery: {error.details or error.title}"
            log.warning("deliver.ambiguous", message_id=message.id, error=error.title)
            return
        if message.attempts >= MAX_SEND_ATTEMPTS:
            self._fail(session, message, error.code, error.title, error.details or "")
            return
        defer = max(1.0, error.retry_in(message.attempts - 1))
        message.status = MessageStatus.queued
        message.next_attempt_at = utc_now() + timedelta(seconds=defer)
        enqueue(session, "messages.deliver", message.id, delay_s=defer)
        log.info("deliver.retry", message_id=message.id, code=error.code, defer=defer)

    async def _cool_down(self, runtime: Runtime, claim: _Claim, throttle: Throttle, seconds: float) -> None:
        """The provider says we went over its limit although ours let the send go (another app on the number,
        a lower tier than configured): nothing more goes on that limit until the retry is due."""
        if throttle is Throttle.SENDER:
            await runtime.throughput.cooldown(claim.inbox.channel_key, seconds)
        else:
            await runtime.pair_rate.cooldown(_pair_key(runtime, claim.inbox, claim.recipient), seconds)
        log.warning("deliver.throttled", message_id=claim.message_id, limit=throttle.value, seconds=seconds)

    def _fail(self, session: AsyncSession, message: Message, code: int | None, title: str, detail: str) -> None:
        message.status = MessageStatus.failed
        message.error_code = code
        message.error_title = title[:300]
        message.error_detail = detail
        message.next_attempt_at = None
        self._announce(session, message)

    def _announce(self, session: AsyncSession, message: Message) -> None:
        publish(
            session,
            RealtimeEvent(
                message.account_id,
                "message.status",
                {"conversation_id": message.conversation_id, "message_id": message.id, "status": message.status.value},
            ),
        )

    async def sweep(self, session: AsyncSession, stale_before: datetime) -> int:
        """Queued rows whose doorbell was lost, and unconfirmed sends past their grace period."""
        now = utc_now()
        rows = (
            await session.execute(
                select(Message)
                .where(
                    or_(
                        (Message.status == MessageStatus.queued) & (Message.next_attempt_at < stale_before),
                        (Message.status == MessageStatus.sending) & (Message.next_attempt_at < now),
                    )
                )
                .order_by(Message.id)
                .limit(500)
            )
        ).scalars()
        count = 0
        for row in rows:
            if row.status is MessageStatus.sending:
                if row.provider_message_id is not None:
                    row.status = MessageStatus.sent
                    row.next_attempt_at = None
                    continue
                row.status = MessageStatus.queued
            row.next_attempt_at = now
            enqueue(session, "messages.deliver", row.id)
            count += 1
        return count


delivery = Delivery()
