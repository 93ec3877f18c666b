from __future__ import annotations

from fastapi import APIRouter

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.messages.schemas import MessageRead, StartConversationIn
from mostrador.messages.service import message as message_service
from mostrador.models import Message

router = APIRouter(prefix="/messages", tags=["messages"], responses=ERROR_RESPONSES)


@router.post("", response_model=MessageRead, status_code=201)
async def start_conversation(data: StartConversationIn, user: ApiUser, session: SessionDep) -> Message:
    """Business-initiated: send an approved template to a phone number (creating the contact if needed)."""
    return await message_service.start_with_template(session, user, data)
