from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.api_errors import ERROR_RESPONSES, ErrorResponse
from mostrador.auth.dependencies import ApiUser, RuntimeDep, SessionDep
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.exceptions import Unprocessable
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.ids import Id
from mostrador.media.uploads import read_upload
from mostrador.messages.schemas import MessageRead, StartConversationIn, TemplateParameters
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import Contact, Conversation, Inbox, Message, SenderKind

router = APIRouter(prefix="/messages", tags=["messages"], responses=ERROR_RESPONSES)
# Sending a file into a conversation: multipart, so it lives apart from the JSON ``POST /conversations/{id}/messages``.
conversation_router = APIRouter(prefix="/conversations", tags=["conversations"], responses=ERROR_RESPONSES)


@router.post("", response_model=MessageRead, status_code=201)
async def start_conversation(data: StartConversationIn, user: ApiUser, session: SessionDep) -> Message:
    """Business-initiated: send an approved template to a phone number (creating the contact if needed)."""
    return await message_service.start_with_template(session, user, data)


HEADER_FILE_RESPONSES: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorResponse, "description": "No consent, or a marketing template to someone who opted out"},
    413: {"model": ErrorResponse, "description": "The header file is larger than the channel accepts for its kind"},
    415: {"model": ErrorResponse, "description": "Not a file this template's header takes (image, video, document)"},
}
TEMPLATE_FORM_FIELD = (
    'The template as in the JSON routes, e.g. {"name": "nueva_coleccion", "language": "es", "body": ["Ana"]}; '
    "without header_media (the file is the header)"
)


def template_from_form(raw: str) -> TemplateParameters:
    """The ``template`` field of a multipart request: TemplateParameters as JSON, the file being its header."""
    try:
        params = TemplateParameters.model_validate_json(raw)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'template'}: {error['msg']}"
            for error in invalid.errors()
        )
        raise Unprocessable(f"template: {problems}"[:500], code="invalid_template") from None
    if params.header_media is not None:
        raise Unprocessable("send the header as header_file or as template.header_media, not both", code="two_headers")
    return params


async def conversation_parts(
    session: AsyncSession, account_id: int, conversation_id: int
) -> tuple[Conversation, Inbox, Contact]:
    """The conversation (404 unless it is this account's) with its inbox and customer, to send into it."""
    found = await conversation_service.get(session, account_id, conversation_id)
    inbox = await inbox_service.get(session, account_id, found.inbox_id)
    contact = await contact_service.get(session, account_id, found.contact_id)
    return found, inbox, contact


@router.post("/template", response_model=MessageRead, status_code=201, responses=HEADER_FILE_RESPONSES)
async def start_conversation_with_header_file(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    runtime: RuntimeDep,
    inbox_id: Annotated[Id, Form()],
    to: Annotated[str, Form(min_length=3, max_length=40, examples=["+5215512345678"])],
    template: Annotated[str, Form(max_length=20_000, description=TEMPLATE_FORM_FIELD)],
    header_file: Annotated[UploadFile, File(description="The header's image (jpeg/png), video (mp4) or document")],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Message:
    """``POST /messages`` for a template whose header is a file you upload (multipart/form-data): a shipping
    notice with the parcel's photo, an invoice as a PDF. The file is kept and sent by the delivery job, with its
    retries, exactly as the agents' template picker does."""
    data = StartConversationIn(inbox_id=inbox_id, to=to, name=name, template=template_from_form(template))
    upload = await read_upload(request, header_file, runtime.settings.media_max_bytes)
    return await message_service.start_with_template(session, user, data, header_file=upload, store=runtime.media)


@conversation_router.post(
    "/{conversation_id}/messages/template",
    response_model=MessageRead,
    status_code=201,
    responses=HEADER_FILE_RESPONSES,
)
async def send_template_with_header_file(
    request: Request,
    conversation_id: Id,
    user: ApiUser,
    session: SessionDep,
    runtime: RuntimeDep,
    template: Annotated[str, Form(max_length=20_000, description=TEMPLATE_FORM_FIELD)],
    header_file: Annotated[UploadFile, File(description="The header's image (jpeg/png), video (mp4) or document")],
) -> Message:
    """Send a template whose header is a file you upload (multipart/form-data); templates with a text header or
    none, or a header by link, go through the JSON ``POST /conversations/{id}/messages``."""
    params = template_from_form(template)
    found, inbox, contact = await conversation_parts(session, user.account_id, conversation_id)
    upload = await read_upload(request, header_file, runtime.settings.media_max_bytes)
    return await message_service.send_template(
        session,
        inbox,
        found,
        contact,
        Sender(kind=SenderKind.agent, user=user),
        params,
        header_file=upload,
        store=runtime.media,
    )


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
    found, inbox, contact = await conversation_parts(session, user.account_id, conversation_id)
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
