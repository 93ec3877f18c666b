from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.schemas import (
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    ConversationUpdate,
    View,
)
from mostrador.conversations.service import conversation as conversation_service
from mostrador.exceptions import NotFound
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.ids import MAX_ID, Id
from mostrador.messages.repository import MessageRepository
from mostrador.messages.schemas import MessageIn, MessageRead, NoteIn, TemplateMessageIn, TextMessageIn
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import ConversationStatus, Message, SenderKind

router = APIRouter(prefix="/conversations", tags=["conversations"], responses=ERROR_RESPONSES)


@router.get("", response_model=ConversationPage)
async def list_conversations(
    user: ApiUser,
    session: SessionDep,
    status: ConversationStatus | None = None,
    inbox_id: Id | None = None,
    view: View = View.all,
    assignee_id: Id | None = None,
    team_id: Id | None = None,
    label_id: Id | None = None,
    contact_id: Id | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search in message text")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> ConversationPage:
    """Newest activity first, paginated with ``cursor`` = the previous page's ``next_cursor``."""
    filters = ConversationFilters(
        status=status,
        inbox_id=inbox_id,
        view=view,
        assignee_id=assignee_id,
        team_id=team_id,
        label_id=label_id,
        contact_id=contact_id,
        q=q,
    )
    return await conversation_service.page(session, user, filters, cursor=cursor, limit=limit)


@router.get("/{conversation_id}", response_model=ConversationRead)
async def get_conversation(conversation_id: Id, user: ApiUser, session: SessionDep) -> ConversationRead:
    found = await conversation_service.get(session, user.account_id, conversation_id)
    return await conversation_service.read_one(session, found)


@router.post("/{conversation_id}/read", response_model=ConversationRead)
async def read_conversation(conversation_id: Id, user: ApiUser, session: SessionDep) -> ConversationRead:
    """Mark the conversation read: clears the unread count and sends the customer a read receipt."""
    found = await conversation_service.get(session, user.account_id, conversation_id)
    await conversation_service.mark_read(session, found)
    return await conversation_service.read_one(session, found)


@router.patch("/{conversation_id}", response_model=ConversationRead)
async def update_conversation(
    conversation_id: Id, data: ConversationUpdate, user: ApiUser, session: SessionDep
) -> ConversationRead:
    """Change status (open, pending, snoozed + snoozed_until, resolved), assignee, team, priority or labels."""
    found = await conversation_service.get(session, user.account_id, conversation_id)
    await conversation_service.update(session, user, found, data)
    return await conversation_service.read_one(session, found)


@router.get("/{conversation_id}/messages", response_model=list[MessageRead])
async def list_messages(
    conversation_id: Id,
    user: ApiUser,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only messages with an id below this one")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[Message]:
    """The newest ``limit`` messages (older than ``before``), oldest first."""
    found = await conversation_service.get(session, user.account_id, conversation_id)
    return await MessageRepository.from_session(session).page_for_conversation(
        user.account_id, found.id, before_id=before, limit=limit
    )


@router.post(
    "/{conversation_id}/messages",
    response_model=MessageRead,
    status_code=201,
    responses={409: {"description": "Outside the 24 h window (send a template) or no consent"}},
)
async def send_message(conversation_id: Id, data: MessageIn, user: ApiUser, session: SessionDep) -> Message:
    """Send text or a template to the customer, or add a private note (never sent)."""
    found = await conversation_service.get(session, user.account_id, conversation_id)
    if isinstance(data, NoteIn):
        return await message_service.add_note(session, found, user, data.text)
    inbox = await inbox_service.get(session, user.account_id, found.inbox_id)
    contact = await contact_service.get(session, user.account_id, found.contact_id)
    sender = Sender(kind=SenderKind.agent, user=user)
    if isinstance(data, TextMessageIn):
        return await message_service.send_text(
            session,
            inbox,
            found,
            contact,
            sender,
            data.text,
            reply_to_id=data.reply_to_message_id,
            preview_url=data.preview_url,
        )
    assert isinstance(data, TemplateMessageIn)
    return await message_service.send_template(session, inbox, found, contact, sender, data.template)


@router.post("/{conversation_id}/messages/{message_id}/resend", response_model=MessageRead)
async def resend_message(conversation_id: Id, message_id: Id, user: ApiUser, session: SessionDep) -> Message:
    """Send a failed message again."""
    found = await conversation_service.get(session, user.account_id, conversation_id)
    failed = await MessageRepository.from_session(session).get(user.account_id, message_id)
    if failed is None or failed.conversation_id != found.id:
        raise NotFound(f"message {message_id} not found in this conversation", code="message_not_found")
    inbox = await inbox_service.get(session, user.account_id, found.inbox_id)
    contact = await contact_service.get(session, user.account_id, found.contact_id)
    return await message_service.resend(session, inbox, found, contact, failed)
