from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from mostrador.api_errors import ERROR_RESPONSES, ErrorResponse
from mostrador.auth.dependencies import ApiUser, RuntimeDep, SessionDep
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.ids import Id
from mostrador.media.uploads import read_upload
from mostrador.messages.schemas import MessageRead, StartConversationIn
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import Message, SenderKind

router = APIRouter(prefix="/messages", tags=["messages"], responses=ERROR_RESPONSES)
# Sending a file into a conversation: multipart, so it lives apart from the JSON ``POST /conversations/{id}/messages``.
conversation_router = APIRouter(prefix="/conversations", tags=["conversations"], responses=ERROR_RESPONSES)


@router.post("", response_model=MessageRead, status_code=201)
async def start_conversation(data: StartConversationIn, user: ApiUser, session: SessionDep) -> Message:
    """Business-initiated: send an approved template to a phone number (creating the contact if needed)."""
    return await message_service.start_with_template(session, user, data)


@conversation_router.post(
    "/{conversation_id}/messages/media",
    response_model=MessageRead,
    status_code=201,
    responses={
        409: {"model": ErrorResponse, "description": "Outside the 24 h window: only a template can be sent"},
        413: {"model": ErrorResponse, "description": "The file is larger than the channel accepts for its kind"},
        415: {"model": ErrorResponse, "description": "The channel does not accept this type of file"},
    },
)
async def send_media(
    request: Request,
    conversation_id: Id,
    file: Annotated[UploadFile, File(description="Image, video, audio, document or sticker")],
    user: ApiUser,
    session: SessionDep,
    runtime: RuntimeDep,
    caption: Annotated[str, Form(max_length=4096, description="Images, videos and documents only")] = "",
    reply_to_message_id: Annotated[Id | None, Form()] = None,
) -> Message:
    """Send a file to the customer (multipart/form-data). Its type is read from its bytes, not from the upload's
    declared type; WhatsApp's limits: image jpeg/png 5 MB, video mp4/3gpp 16 MB, audio aac/amr/mpeg/mp4/ogg (Opus)
    16 MB, document (pdf, text, Office) 100 MB, sticker webp 100 KB (500 KB animated)."""
    found = await conversation_service.get(session, user.account_id, conversation_id)
    inbox = await inbox_service.get(session, user.account_id, found.inbox_id)
    contact = await contact_service.get(session, user.account_id, found.contact_id)
    upload = await read_upload(request, file, runtime.settings.media_max_bytes)
    return await message_service.send_media(
        session,
        inbox,
        found,
        contact,
        Sender(kind=SenderKind.agent, user=user),
        upload,
        store=runtime.media,
        caption=caption,
        reply_to_id=reply_to_message_id,
    )
