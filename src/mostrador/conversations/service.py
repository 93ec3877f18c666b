from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.accounts.service import account as account_service
from mostrador.conversations.repository import ConversationRepository
from mostrador.conversations.window import window_expiry
from mostrador.kit.time import utc_now
from mostrador.models import Contact, Conversation, ConversationStatus, Inbox

PREVIEW_LENGTH = 200


class ConversationService:
    async def route_inbound(self, session: AsyncSession, inbox: Inbox, contact: Contact) -> Conversation:
        """The contact's active conversation in this inbox, or a new one (a resolved one is never reused)."""
        repository = ConversationRepository.from_session(session)
        for _attempt in range(3):
            existing = await repository.active_for(inbox.account_id, inbox.id, contact.id)
            if existing is not None:
                return existing
            try:
                async with session.begin_nested():
                    return await self._open(session, inbox, contact)
            except IntegrityError:
                continue  # a concurrent job opened it; read it back
        existing = await repository.active_for(inbox.account_id, inbox.id, contact.id)
        if existing is None:
            raise RuntimeError("could not open or find the active conversation")
        return existing

    async def _open(self, session: AsyncSession, inbox: Inbox, contact: Contact) -> Conversation:
        number = await account_service.next_conversation_number(session, inbox.account_id)
        conversation = Conversation(
            account_id=inbox.account_id,
            display_id=number,
            inbox_id=inbox.id,
            contact_id=contact.id,
            status=ConversationStatus.open,
            last_activity_at=utc_now(),
        )
        session.add(conversation)
        await session.flush()
        return conversation

    def note_customer_message(
        self, conversation: Conversation, *, at: datetime, preview: str, reply_window: timedelta | None
    ) -> None:
        """Every inbound customer message refreshes the service window (never moves it backwards)."""
        if conversation.last_customer_message_at is None or at > conversation.last_customer_message_at:
            conversation.last_customer_message_at = at
            conversation.window_expires_at = window_expiry(at, reply_window)
        conversation.last_activity_at = max(conversation.last_activity_at, at)
        conversation.last_message_preview = preview[:PREVIEW_LENGTH]
        conversation.unread_count += 1
        if conversation.status is ConversationStatus.snoozed:
            conversation.status = ConversationStatus.open
            conversation.snoozed_until = None

    def note_outbound_message(self, conversation: Conversation, *, at: datetime, preview: str) -> None:
        conversation.last_activity_at = max(conversation.last_activity_at, at)
        conversation.last_message_preview = preview[:PREVIEW_LENGTH]


conversation = ConversationService()
