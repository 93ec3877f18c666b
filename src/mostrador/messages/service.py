"""Outbound: every caller (UI, API, bots, broadcasts) sends through here. check_* refuses, do_* stores."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import MediaBody, MediaKind, OutboundBody, TextBody
from mostrador.contacts.schemas import ContactCreate
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.conversations.window import window_state
from mostrador.exceptions import NotFound, Unprocessable
from mostrador.inboxes.adapters import PENDING_MEDIA_ID, capabilities_for, render_outbound
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.time import utc_now
from mostrador.media.service import CheckedMedia, MediaFile
from mostrador.media.service import media as media_service
from mostrador.media.store import MediaStore
from mostrador.message_templates.service import HeaderUpload
from mostrador.message_templates.service import message_template as template_service
from mostrador.messages.errors import ConsentRequired, OutsideServiceWindow
from mostrador.messages.inbound import preview_text
from mostrador.messages.repository import MessageRepository, MessageStatusEventRepository
from mostrador.messages.schemas import StartConversationIn, TemplateParameters
from mostrador.models import (
    AuditEvent,
    Contact,
    Conversation,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    SenderKind,
    User,
)
from mostrador.realtime import RealtimeEvent, publish
from mostrador.worker import enqueue


@dataclass(frozen=True)
class Sender:
    kind: SenderKind
    user: User | None = None


class MessageService:
    def check_outbound(
        self, inbox: Inbox, conversation: Conversation, contact: Contact, *, is_template: bool, category: str | None
    ) -> None:
        """The one place that decides whether a message may go out now."""
        capabilities = capabilities_for(inbox.channel_kind)
        if not is_template and not window_state(conversation, capabilities.reply_window).open:
            raise OutsideServiceWindow(
                "the 24-hour customer service window is closed: only an approved template can be sent; "
                "send a template to reopen the conversation"
            )
        if is_template and category == "MARKETING" and contact.marketing_opt_out_at is not None:
            raise ConsentRequired("this customer stopped marketing messages; send a utility template or wait")
        if is_template and not capabilities.supports_templates:
            raise Unprocessable("this channel has no templates", code="templates_unsupported")

    async def send_text(
        self,
        session: AsyncSession,
        inbox: Inbox,
        conversation: Conversation,
        contact: Contact,
        sender: Sender,
        text: str,
        *,
        reply_to_id: int | None = None,
        preview_url: bool = False,
    ) -> Message:
        self.check_outbound(inbox, conversation, contact, is_template=False, category=None)
        capabilities = capabilities_for(inbox.channel_kind)
        if len(text) > capabilities.max_text_length:
            raise Unprocessable(f"text longer than {capabilities.max_text_length} characters", code="text_too_long")
        reply_to = await self._reply_target(session, conversation, reply_to_id)
        body = TextBody(text=text, preview_url=preview_url or None)
        return await self._queue(session, inbox, conversation, sender, body, "text", text, reply_to=reply_to, extra={})

    async def send_template(
        self,
        session: AsyncSession,
        inbox: Inbox,
        conversation: Conversation,
        contact: Contact,
        sender: Sender,
        params: TemplateParameters,
        *,
        header_file: MediaFile | None = None,
        store: MediaStore | None = None,
    ) -> Message:
        """``header_file``: the file of an image, video or document header, kept in ``store`` and uploaded to the
        provider by delivery (a link or an already uploaded id goes in ``params.header_media`` instead)."""
        checked: CheckedMedia | None = None
        if header_file is not None:
            capabilities = capabilities_for(inbox.channel_kind)
            checked = media_service.check_outbound(capabilities, header_file, kinds=capabilities.template_header_kinds)
        upload = HeaderUpload(kind=checked.kind, filename=checked.filename) if checked else None
        rendered = await template_service.render(session, inbox, params, header_upload=upload)
        self.check_outbound(inbox, conversation, contact, is_template=True, category=rendered.template.category)
        template: dict[str, object] = {
            "name": params.name,
            "language": params.language,
            "category": rendered.template.category,
        }
        if rendered.header_link:
            template["header_link"] = rendered.header_link
        if rendered.buttons:
            template["buttons"] = [
                {"type": b.type, "text": b.text, **({"url": b.url} if b.url else {})} for b in rendered.buttons
            ]
        message = await self._queue(
            session,
            inbox,
            conversation,
            sender,
            rendered.body,
            "template",
            rendered.text,
            reply_to=None,
            extra={"template": template},
        )
        if checked is not None:
            await media_service.attach_outbound(session, self._store(store), message, checked)
        return message

    async def send_media(
        self,
        session: AsyncSession,
        inbox: Inbox,
        conversation: Conversation,
        contact: Contact,
        sender: Sender,
        file: MediaFile,
        *,
        store: MediaStore,
        caption: str = "",
        reply_to_id: int | None = None,
    ) -> Message:
        """A photo, video, voice note, document or sticker, with a caption where the channel allows one.

        Checked by its bytes against the channel's types and size limits, kept in ``store`` with an Attachment row
        and queued; delivery uploads it to the provider once and sends it by id.
        """
        self.check_outbound(inbox, conversation, contact, is_template=False, category=None)
        capabilities = capabilities_for(inbox.channel_kind)
        media = media_service.check_outbound(capabilities, file)
        caption = caption.strip()
        if caption and media.kind not in capabilities.caption_kinds:
            raise Unprocessable(f"a {media.kind.value} cannot carry a caption", code="caption_not_allowed")
        if len(caption) > capabilities.max_caption_length:
            raise Unprocessable(
                f"caption longer than {capabilities.max_caption_length} characters", code="caption_too_long"
            )
        reply_to = await self._reply_target(session, conversation, reply_to_id)
        is_document = media.kind is MediaKind.DOCUMENT
        body = MediaBody(
            kind=media.kind,
            media_id=PENDING_MEDIA_ID,
            caption=caption or None,
            filename=media.filename if is_document else None,
        )
        extra: dict[str, object] = {"mime_type": media.mime_type, "filename": media.filename}
        if caption:
            extra["caption"] = caption
        message = await self._queue(
            session, inbox, conversation, sender, body, media.kind.value, caption, reply_to=reply_to, extra=extra
        )
        await media_service.attach_outbound(session, store, message, media)
        return message

    async def add_note(self, session: AsyncSession, conversation: Conversation, author: User, text: str) -> Message:
        """A private note: stored and shown to agents, never sent to the customer."""
        message = Message(
            account_id=conversation.account_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.id,
            direction=Direction.outbound,
            sender_kind=SenderKind.agent,
            sender_user_id=author.id,
            type="note",
            text=text,
            is_private=True,
            status=MessageStatus.sent,
        )
        session.add(message)
        await session.flush()
        self._announce(session, message)
        return message

    async def start_with_template(
        self,
        session: AsyncSession,
        user: User,
        data: StartConversationIn,
        *,
        header_file: MediaFile | None = None,
        store: MediaStore | None = None,
    ) -> Message:
        inbox = await inbox_service.get(session, user.account_id, data.inbox_id)
        contact = await contact_service.create(session, user.account_id, ContactCreate(phone=data.to, name=data.name))
        conversation = await conversation_service.open_for_outbound(session, inbox, contact)
        sender = Sender(kind=SenderKind.agent, user=user)
        return await self.send_template(
            session, inbox, conversation, contact, sender, data.template, header_file=header_file, store=store
        )

    async def resend(
        self, session: AsyncSession, inbox: Inbox, conversation: Conversation, contact: Contact, message: Message
    ) -> Message:
        """A failed message goes out again as a new attempt of the same row.

        The new attempt has a new idempotency key and, once sent, a new wamid: statuses of the failed attempt no
        longer adopt or describe the row. Its timeline is retired to an audit event (``message.resent``), so the
        new attempt's ``sent``/``failed`` are recorded and folded on their own instead of clashing with the old.
        """
        # Locked first: a status job folding this row, or a second click, waits for this resend, then sees it.
        await session.refresh(message, with_for_update=True)
        if message.status is not MessageStatus.failed:
            raise Unprocessable("only failed messages can be resent", code="not_failed")
        self.check_outbound(
            inbox,
            conversation,
            contact,
            is_template=message.type == "template",
            category=str(message.content.get("template", {}).get("category") or "") or None,
        )
        previous = await MessageStatusEventRepository.from_session(session).retire(message.account_id, message.id)
        session.add(
            AuditEvent(
                account_id=message.account_id,
                action="message.resent",
                subject_type="message",
                subject_id=message.id,
                data={
                    "provider_message_id": message.provider_message_id,
                    "error": {
                        "code": message.error_code,
                        "title": message.error_title,
                        "details": message.error_detail,
                    },
                    "timeline": [
                        {
                            "status": entry.status.value,
                            "occurred_at": entry.occurred_at.isoformat(),
                            "detail": entry.detail,
                        }
                        for entry in previous
                    ],
                },
            )
        )
        message.status = MessageStatus.queued
        message.attempts = 0  # a new attempt gets every retry, and backoff starts over
        message.send_slot_at = None
        message.error_code = message.error_title = message.error_detail = None
        message.pricing = None
        message.provider_timestamp = None
        message.next_attempt_at = utc_now()
        message.provider_message_id = None
        message.idempotency_key = uuid.uuid4().hex
        await session.flush()
        enqueue(session, "messages.deliver", message.id)
        self._announce(session, message, event="message.status")
        return message

    async def _reply_target(
        self, session: AsyncSession, conversation: Conversation, message_id: int | None
    ) -> Message | None:
        if message_id is None:
            return None
        target = await MessageRepository.from_session(session).get(conversation.account_id, message_id)
        if target is None or target.conversation_id != conversation.id:
            raise NotFound(f"message {message_id} is not in this conversation", code="reply_target_not_found")
        return target

    async def _queue(
        self,
        session: AsyncSession,
        inbox: Inbox,
        conversation: Conversation,
        sender: Sender,
        body: OutboundBody,
        message_type: str,
        text: str,
        *,
        reply_to: Message | None,
        extra: dict[str, object],
    ) -> Message:
        provider_payload = render_outbound(inbox, body)
        now = utc_now()
        message = Message(
            account_id=conversation.account_id,
            inbox_id=inbox.id,
            conversation_id=conversation.id,
            direction=Direction.outbound,
            sender_kind=sender.kind,
            sender_user_id=sender.user.id if sender.user else None,
            type=message_type,
            text=text,
            content={**extra, "provider_payload": provider_payload},
            reply_to_id=reply_to.id if reply_to else None,
            reply_to_provider_id=reply_to.provider_message_id if reply_to else None,
            idempotency_key=uuid.uuid4().hex,
            status=MessageStatus.queued,
            next_attempt_at=now,
        )
        session.add(message)
        conversation_service.note_outbound_message(conversation, at=now, preview=preview_text(message_type, text))
        if sender.kind is SenderKind.agent:
            conversation.unread_count = 0
        await session.flush()
        enqueue(session, "messages.deliver", message.id)
        self._announce(session, message)
        return message

    @staticmethod
    def _store(store: MediaStore | None) -> MediaStore:
        if store is None:
            raise ValueError("a header file needs the media store to keep it in")
        return store

    def _announce(self, session: AsyncSession, message: Message, event: str = "message.created") -> None:
        publish(
            session,
            RealtimeEvent(
                message.account_id,
                event,
                {
                    "conversation_id": message.conversation_id,
                    "message_id": message.id,
                    "inbox_id": message.inbox_id,
                    "direction": message.direction.value,
                    "status": message.status.value,
                },
            ),
        )


message = MessageService()
