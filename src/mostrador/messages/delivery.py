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

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import ChannelPermanentError, ChannelRetriableError, Recipient, SendResult
from mostrador.channels.base import OutboundMessage as ChannelMessage
from mostrador.inboxes.adapters import open_adapter, stored_outbound
from mostrador.kit.time import utc_now
from mostrador.logging import get_logger
from mostrador.models import Contact, Conversation, Inbox, Message, MessageStatus
from mostrador.realtime import RealtimeEvent, publish
from mostrador.runtime import Runtime
from mostrador.worker import enqueue

log = get_logger(__name__)

MAX_SEND_ATTEMPTS = 8
AMBIGUOUS_GRACE = timedelta(seconds=60)
# Waiting longer than this for a rate-limit slot frees the worker: the job is re-rung at the slot instead.
MAX_INLINE_WAIT_S = 10.0


def _ambiguous(error: ChannelRetriableError) -> bool:
    """True when the request may have reached Meta (so a blind retry could send twice)."""
    cause = error.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return isinstance(cause, httpx.TransportError)


@dataclass(frozen=True)
class _Claim:
    message_id: int
    inbox: Inbox
    outbound: ChannelMessage
    wait: float


class Delivery:
    """Three short steps, never a transaction held across the HTTP call: claim, send, record."""

    async def deliver(self, runtime: Runtime, message_id: int) -> None:
        async with runtime.unit_of_work(write=True) as session:
            claim = await self._claim(runtime, session, message_id)
        if claim is None:
            return
        if claim.wait > 0:
            await runtime.sleep(claim.wait)
        outcome: SendResult | ChannelRetriableError | ChannelPermanentError
        try:
            async with open_adapter(runtime, claim.inbox) as adapter:
                outcome = await adapter.send(claim.outbound)
        except (ChannelRetriableError, ChannelPermanentError) as error:
            outcome = error
        async with runtime.unit_of_work(write=True) as session:
            message = (
                await session.execute(select(Message).where(Message.id == claim.message_id).with_for_update())
            ).scalar_one_or_none()
            if message is None:
                return
            if isinstance(outcome, ChannelRetriableError):
                await self._retriable(session, message, outcome)
            elif isinstance(outcome, ChannelPermanentError):
                self._fail(session, message, outcome.code, outcome.title, outcome.details or "")
            else:
                self._sent(session, message, outcome)

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
        delay = await runtime.throughput.reserve(inbox.channel_key)
        pair_key = runtime.pair_rate.pair_key(inbox.channel_key, recipient.wa_id or recipient.user_id or "")
        pair_delay = await runtime.pair_rate.reserve(pair_key)
        wait = max(delay, pair_delay)
        if wait > MAX_INLINE_WAIT_S:
            message.next_attempt_at = utc_now() + timedelta(seconds=wait)
            enqueue(session, "messages.deliver", message.id, delay_s=wait)
            return None
        # From this commit on, a crash leaves the row "sending"; the sweeper resolves it after the grace period.
        message.status = MessageStatus.sending
        message.attempts += 1
        message.next_attempt_at = utc_now() + AMBIGUOUS_GRACE
        outbound = ChannelMessage(
            to=recipient,
            body=stored_outbound(message.content),
            reply_to=message.reply_to_provider_id,
            biz_opaque_callback_data=message.idempotency_key,
            idempotency_key=message.idempotency_key,
        )
        return _Claim(message_id=message.id, inbox=inbox, outbound=outbound, wait=wait)

    def _sent(self, session: AsyncSession, message: Message, result: SendResult) -> None:
        message.provider_message_id = message.provider_message_id or result.provider_message_id
        if message.status in (MessageStatus.sending, MessageStatus.queued):
            message.status = MessageStatus.sent
        message.next_attempt_at = None
        if result.message_status:
            message.content = {**message.content, "message_status": result.message_status}
        self._announce(session, message)

    async def _retriable(self, session: AsyncSession, message: Message, error: ChannelRetriableError) -> None:
        if _ambiguous(error):
            # Leave it "sending": a status with our key may still prove it arrived (see module docstring).
            message.error_title = error.title
            message.error_detail = f"waiting to confirm delivery: {error.details or error.title}"
            log.warning("deliver.ambiguous", message_id=message.id, error=error.title)
            return
        if message.attempts >= MAX_SEND_ATTEMPTS:
            self._fail(session, message, error.code, error.title, error.details or "")
            return
        defer = max(1.0, float(error.defer_seconds or 0))
        message.status = MessageStatus.queued
        message.next_attempt_at = utc_now() + timedelta(seconds=defer)
        enqueue(session, "messages.deliver", message.id, delay_s=defer)
        log.info("deliver.retry", message_id=message.id, code=error.code, defer=defer)

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
