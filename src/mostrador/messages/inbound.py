"""Inbound: record a customer's message and apply delivery statuses, idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import ChannelCapabilities, InboundMessage, MessageType, StatusUpdate
from mostrador.contacts.service import ChannelIdentity
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.time import utc_now
from mostrador.logging import get_logger
from mostrador.messages.repository import MessageRepository, MessageStatusEventRepository
from mostrador.messages.status import TrackedMessage, fold_message
from mostrador.models import (
    Attachment,
    Conversation,
    Direction,
    Inbox,
    MessageStatus,
    SenderKind,
)
from mostrador.realtime import RealtimeEvent, publish
from mostrador.worker import enqueue

log = get_logger(__name__)

MEDIA_TYPES = frozenset(
    {MessageType.IMAGE, MessageType.AUDIO, MessageType.VIDEO, MessageType.DOCUMENT, MessageType.STICKER}
)

PREVIEW_ICONS: dict[str, str] = {
    "image": "📷",
    "audio": "🎤",
    "video": "🎥",
    "document": "📄",
    "sticker": "💟",
    "location": "📍",
    "contacts": "👤",
    "order": "🛒",
    "reaction": "👍",
    "unsupported": "⚠️",
    "unknown": "⚠️",
    "template": "📋",
}


def preview_text(message_type: str, text: str | None) -> str:
    icon = PREVIEW_ICONS.get(message_type)
    body = (text or "").strip().replace("\n", " ")
    if icon and body:
        return f"{icon} {body}"
    return body or icon or ""


STATUS_MAP: dict[str, MessageStatus] = {
    "sent": MessageStatus.sent,
    "delivered": MessageStatus.delivered,
    "read": MessageStatus.read,
    "played": MessageStatus.played,
    "failed": MessageStatus.failed,
}


class InboundService:
    async def record_message(
        self, session: AsyncSession, inbox: Inbox, event: InboundMessage, capabilities: ChannelCapabilities
    ) -> int | None:
        """Store one customer message; its id, None when this wamid was already recorded."""
        return (await self.record_messages(session, inbox, [event], capabilities))[0]

    async def record_messages(
        self,
        session: AsyncSession,
        inbox: Inbox,
        events: Sequence[InboundMessage],
        capabilities: ChannelCapabilities,
    ) -> list[int | None]:
        """Store customer messages of one inbox in arrival order: their ids, None for a wamid recorded before (or
        twice here).

        Set-based: one lookup each for known wamids, senders, open conversations and quoted messages, one
        multi-row insert, whatever the number of messages. A wamid a concurrent job inserts first is skipped by
        the insert itself (``ON CONFLICT DO NOTHING``), so no savepoint per message.
        """
        repository = MessageRepository.from_session(session)
        wamids = {event.provider_message_id for event in events}
        seen = set(await repository.ids_by_provider_id(inbox.account_id, inbox.id, wamids))
        fresh: list[InboundMessage] = []
        for event in events:
            if event.provider_message_id not in seen:
                seen.add(event.provider_message_id)
                fresh.append(event)
        if not fresh:
            return [None] * len(events)
        for event in fresh:  # first, so a message from the new number in this batch finds them there
            if (new_number := _changed_number(event)) is not None:
                moving = await contact_service.resolve_identity(session, inbox, _identity(event))
                if not await contact_service.change_number(session, inbox, moving, new_number):
                    log.warning("contact.number_taken", contact_id=moving.id, new_wa_id=new_number)
        identities = [_identity(event) for event in fresh]
        contacts = await contact_service.resolve_identities(session, inbox, identities)
        conversations = await conversation_service.route_inbound_many(session, inbox, list(contacts.values()))
        targets = {target for target in map(_target_provider_id, fresh) if target}
        quoted_ids = await repository.ids_by_provider_id(inbox.account_id, inbox.id, targets) if targets else {}
        rows = [
            _message_row(
                inbox,
                event,
                conversations[contacts[identity].id],
                quoted_ids.get(_target_provider_id(event) or ""),
            )
            for event, identity in zip(fresh, identities, strict=True)
        ]
        inserted = await repository.insert_new(rows)
        attachments: list[Attachment] = []
        quoting: list[tuple[int, int]] = []
        created: list[tuple[int, int]] = []  # (message, conversation)
        for event, identity, row in zip(fresh, identities, rows, strict=True):
            message_id = inserted.get(event.provider_message_id)
            if message_id is None:
                continue  # recorded by a concurrent job between our lookup and our insert
            conversation = conversations[contacts[identity].id]
            created.append((message_id, conversation.id))
            quoted_here = inserted.get(str(row["reply_to_provider_id"] or ""))
            if row["reply_to_id"] is None and quoted_here is not None and quoted_here < message_id:
                quoting.append((message_id, quoted_here))  # it quotes a message just before it, in this batch
            content = row["content"]
            if event.message_type in MEDIA_TYPES and isinstance(content, dict) and content.get("media_id"):
                attachments.append(_attachment(inbox.account_id, message_id, event.message_type.value, content))
            if event.message_type not in (MessageType.REACTION, MessageType.SYSTEM):
                conversation_service.note_customer_message(
                    conversation,
                    at=event.timestamp or utc_now(),
                    preview=preview_text(event.message_type.value, event.text),
                    reply_window=capabilities.reply_window,
                )
        await repository.set_reply_to(quoting)
        session.add_all(attachments)
        await session.flush()
        for attachment in attachments:
            enqueue(session, "media.fetch", attachment.id)
        for message_id, conversation_id in sorted(created):
            self._announce(session, inbox, message_id, conversation_id)
        return [inserted.pop(event.provider_message_id, None) for event in events]

    def _announce(self, session: AsyncSession, inbox: Inbox, message_id: int, conversation_id: int) -> None:
        publish(
            session,
            RealtimeEvent(
                inbox.account_id,
                "message.created",
                {
                    "conversation_id": conversation_id,
                    "message_id": message_id,
                    "inbox_id": inbox.id,
                    "direction": Direction.inbound.value,
                },
            ),
        )

    async def apply_status(self, session: AsyncSession, inbox: Inbox, update: StatusUpdate) -> int | None:
        """Record one status in the timeline and fold the message state; the message's id, None if the wamid
        is unknown."""
        return (await self.apply_statuses(session, inbox, [update]))[0]

    async def apply_statuses(
        self, session: AsyncSession, inbox: Inbox, updates: Sequence[StatusUpdate]
    ) -> list[int | None]:
        """Record statuses of one inbox in the timeline and fold each message's state, in a handful of queries
        whatever their number; per update the message's id, None for a wamid not known (it changes nothing).

        The same result in any order and with any repeats: the state is folded from the set of statuses.
        """
        repository = MessageRepository.from_session(session)
        wanted = {update.provider_message_id for update in updates if update.status.value in STATUS_MAP}
        found = await repository.tracked_for_update(inbox.account_id, inbox.id, wanted) if wanted else {}
        # Rare (a send whose answer was lost): this lock comes after the batch's, outside their id order; a deadlock
        # it caused would only send the batch to the one-by-one path (webhooks.process), which retries.
        for update in updates:
            if update.provider_message_id in wanted and update.provider_message_id not in found:
                key = update.biz_opaque_callback_data
                adopted = (
                    await repository.adopt_provider_id(inbox.account_id, key, update.provider_message_id)
                    if key
                    else None
                )
                if adopted is not None:
                    found[update.provider_message_id] = adopted
        rows: dict[tuple[int, MessageStatus], dict[str, object]] = {}
        results: list[int | None] = []
        for update in updates:
            status = STATUS_MAP.get(update.status.value)
            message = found.get(update.provider_message_id) if status is not None else None
            results.append(None if message is None else message.id)
            if message is not None and status is not None:
                rows.setdefault((message.id, status), _timeline_row(inbox.account_id, message.id, status, update))
        if not rows:
            return results
        timeline = MessageStatusEventRepository.from_session(session)
        changed = await timeline.insert_new(list(rows.values()))
        if not changed:
            return results  # every (wamid, status) was already applied
        timelines = await timeline.timelines(inbox.account_id, changed)
        folded = sorted((m for m in found.values() if m.id in changed), key=lambda m: m.id)
        for message in folded:
            fold_message(message, timelines.get(message.id, []))
        await repository.save_folded(folded)
        for message in folded:
            self._announce_status(session, inbox.account_id, message)
        return results

    def _announce_status(self, session: AsyncSession, account_id: int, message: TrackedMessage) -> None:
        publish(
            session,
            RealtimeEvent(
                account_id,
                "message.status",
                {"conversation_id": message.conversation_id, "message_id": message.id, "status": message.status.value},
            ),
        )


def _identity(event: InboundMessage) -> ChannelIdentity:
    return ChannelIdentity(
        wa_id=event.sender.wa_id or None,
        bsuid=event.sender.user_id or None,
        name=event.sender.profile_name or "",
        username=event.sender.username,
    )


def _changed_number(event: InboundMessage) -> str | None:
    """The customer's new number when this is WhatsApp's note that they changed it."""
    if event.message_type is not MessageType.SYSTEM or event.content.get("type") != "user_changed_number":
        return None
    new = event.content.get("new_wa_id")
    return new if isinstance(new, str) and new and new != event.sender.wa_id else None


def _target_provider_id(event: InboundMessage) -> str | None:
    """The message this one quotes, or reacts to."""
    if event.message_type is MessageType.REACTION:
        return str(event.content.get("message_id") or "") or None
    return event.reply_to_provider_id


def _message_row(
    inbox: Inbox, event: InboundMessage, conversation: Conversation, reply_to_id: int | None
) -> dict[str, object]:
    content = dict(event.content)
    if event.forwarded or event.frequently_forwarded:
        content["forwarded"] = True
        content["frequently_forwarded"] = event.frequently_forwarded
    if event.referral:
        content["referral"] = event.referral
    if event.referred_product:
        content["referred_product"] = event.referred_product
    if event.identity:  # the security notification: the customer's identity key changed (hash, acknowledged)
        content["identity"] = event.identity
    if event.errors:
        content["errors"] = [
            {"code": e.code, "title": e.title, "details": e.details or e.message} for e in event.errors
        ]
    return {
        "account_id": inbox.account_id,
        "inbox_id": inbox.id,
        "conversation_id": conversation.id,
        "direction": Direction.inbound,
        "sender_kind": SenderKind.contact,
        "type": event.message_type.value,
        "text": event.text or "",
        "content": content,
        "reply_to_id": reply_to_id,
        "reply_to_provider_id": _target_provider_id(event),
        "provider_message_id": event.provider_message_id,
        "status": MessageStatus.received,
        "provider_timestamp": event.timestamp,
    }


def _attachment(account_id: int, message_id: int, kind: str, content: dict[str, Any]) -> Attachment:
    return Attachment(
        account_id=account_id,
        message_id=message_id,
        kind=kind,
        provider_media_id=str(content["media_id"]),
        mime_type=_str_or_none(content.get("mime_type")),
        filename=_str_or_none(content.get("filename")),
        sha256=_str_or_none(content.get("sha256")),
    )


def _timeline_row(account_id: int, message_id: int, status: MessageStatus, update: StatusUpdate) -> dict[str, object]:
    detail: dict[str, object] = {}
    if update.errors:
        detail["errors"] = [
            {"code": e.code, "title": e.title, "details": e.details or e.message} for e in update.errors
        ]
    if update.pricing:
        detail["pricing"] = update.pricing
    if update.conversation:
        detail["conversation"] = update.conversation
    return {
        "account_id": account_id,
        "message_id": message_id,
        "status": status,
        "occurred_at": update.timestamp or utc_now(),
        "recorded_at": utc_now(),
        "detail": detail,
    }


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


inbound = InboundService()
