"""The open conversation: full page and HTMX fragments, the composer (text, notes, templates, canned responses),
the header's actions, the contact panel, typing signals. Every route reads and acts through the services."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, Response

from mostrador.auth.dependencies import SessionDep
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.channels.base import MediaKind
from mostrador.contacts.schemas import ContactUpdate
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.schemas import ConversationUpdate
from mostrador.conversations.service import conversation as conversation_service
from mostrador.exceptions import MostradorError, NotFound
from mostrador.kit.db.savepoint import savepoint
from mostrador.kit.ids import MAX_ID, Id
from mostrador.media.errors import MediaTooLarge, MediaTypeRefused
from mostrador.media.uploads import read_upload, refuse_oversized_body
from mostrador.message_templates.service import message_template as template_service
from mostrador.messages.errors import ConsentRequired, OutsideServiceWindow
from mostrador.messages.repository import MessageRepository
from mostrador.messages.schemas import TemplateHeaderMedia, TemplateParameters
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.messages.thread import thread as thread_service
from mostrador.models import ConversationStatus, MessageTemplate, Priority, SenderKind
from mostrador.realtime.events import account_channel
from mostrador.web.deps import Shell, ShellDep, ui_router
from mostrador.web.emoji import EMOJI_GROUPS
from mostrador.web.forms import validation_errors
from mostrador.web.htmx import Toast, is_htmx
from mostrador.web.i18n import gettext
from mostrador.web.inbox_view import (
    ConversationView,
    ListFilters,
    TemplateChoice,
    conversation_view,
    default_snooze,
    human_size,
    list_view,
    local_datetime,
    template_choice,
)
from mostrador.web.templating import render, render_string, request_locale

router = ui_router()

REFRESH_THREAD = "mostrador:refresh-thread"
TYPING_TTL_S = 6
CANNED_QUERY = re.compile(r"(?:^|\s)/([\w-]{0,50})$")


def _locale(request: Request) -> str:
    return request_locale(request)[0]


def _trigger(*events: str) -> dict[str, str]:
    return {"HX-Trigger": json.dumps(dict.fromkeys(events, True))}


def _base(request: Request, shell: Shell, view: ConversationView, **extra: Any) -> dict[str, Any]:
    return {
        "view": view,
        "cid": view.conversation.id,
        "default_snooze": default_snooze(shell.account.timezone),
        "shell_inbox_names": {inbox.id: inbox.name for inbox in shell.inboxes},
        **extra,
    }


async def _view(
    request: Request, shell: Shell, session: SessionDep, conversation_id: int, *, with_thread: bool = False
) -> ConversationView:
    return await conversation_view(
        session,
        shell.user,
        shell.account,
        conversation_id,
        locale=_locale(request),
        mark_read=False,
        with_thread=with_thread,
    )


# ---------------------------------------------------------------------------------------------------------------
# reading


@router.get("/conversations/{conversation_id}", response_model=None)
async def conversation_page(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    """The whole inbox with this conversation open; for HTMX, only the centre pane and the contact panel."""
    view = await conversation_view(
        session, shell.user, shell.account, conversation_id, locale=_locale(request), mark_read=True
    )
    context = _base(request, shell, view)
    fragment = (
        is_htmx(request)
        and request.headers.get("hx-target") == "conversation"
        and request.headers.get("hx-history-restore-request") != "true"
    )
    if fragment:
        pane = render_string(request, "conversation/_pane.html", context)
        panel = render_string(request, "conversation/_contact.html", context)
        html = f'{pane}<div id="contact-panel" hx-swap-oob="innerHTML">{panel}</div>'
        return HTMLResponse(html)
    filters = ListFilters.from_request(request)
    listing = await list_view(session, shell.user, filters, shell.inboxes)
    return render(
        request, "inbox/index.html", {**context, "filters": filters, "list": listing, "current_id": conversation_id}
    )


@router.get("/conversations/{conversation_id}/messages", response_model=None)
async def conversation_messages(
    request: Request,
    conversation_id: Id,
    shell: ShellDep,
    session: SessionDep,
    before: Id | None = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    """Older history (``before``: the oldest id on screen) or what came after ``after`` (live updates)."""
    conversation = await conversation_service.get(session, shell.account.id, conversation_id)
    if after is not None:
        # The agent is looking at the conversation: what arrives while it is open is read.
        await conversation_service.mark_read(session, conversation)
        items = await thread_service.newer(session, conversation, after_id=after, locale=_locale(request))
        return render(request, "conversation/_newer.html", {"items": items, "after": after, "cid": conversation.id})
    page = await thread_service.page(session, conversation, before_id=before, locale=_locale(request))
    return render(request, "conversation/_thread.html", {"page": page, "cid": conversation.id})


@router.get("/conversations/{conversation_id}/messages/{message_id}", response_model=None)
async def conversation_message(
    request: Request, conversation_id: Id, message_id: Id, shell: ShellDep, session: SessionDep
) -> Response:
    conversation = await conversation_service.get(session, shell.account.id, conversation_id)
    item = await thread_service.one(session, conversation, message_id, locale=_locale(request))
    return render(request, "conversation/_message.html", {"item": item, "cid": conversation.id})


@router.get("/conversations/{conversation_id}/header", response_model=None)
async def conversation_header(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    view = await _view(request, shell, session, conversation_id)
    return render(request, "conversation/_header.html", _base(request, shell, view))


@router.get("/conversations/{conversation_id}/composer", response_model=None)
async def conversation_composer(
    request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep
) -> Response:
    view = await _view(request, shell, session, conversation_id)
    return render(request, "conversation/_composer.html", _base(request, shell, view))


# ---------------------------------------------------------------------------------------------------------------
# sending


def _media_kind_label(kind: MediaKind | None) -> str:
    labels = {
        MediaKind.IMAGE: gettext("photos"),
        MediaKind.VIDEO: gettext("videos"),
        MediaKind.AUDIO: gettext("audio files"),
        MediaKind.DOCUMENT: gettext("documents"),
        MediaKind.STICKER: gettext("stickers"),
    }
    return labels.get(kind, gettext("files")) if kind is not None else gettext("files")


def _send_error(error: MostradorError) -> str:
    if isinstance(error, OutsideServiceWindow):
        return gettext("The 24 h window is closed: you can only send an approved template")
    if isinstance(error, ConsentRequired):
        return gettext("This customer stopped marketing messages: send a utility template instead.")
    if isinstance(error, MediaTooLarge):
        return gettext("The file is too large: WhatsApp takes %(kind)s of %(size)s at most.") % {
            "kind": _media_kind_label(error.kind),
            "size": human_size(error.limit),
        }
    if isinstance(error, MediaTypeRefused):
        return gettext(
            "WhatsApp does not accept this type of file. Send a JPG or PNG photo, an MP4 video, an audio file "
            "(AAC, AMR, MP3, M4A or OGG Opus), a PDF, Word, Excel, PowerPoint or text document, or a WEBP sticker."
        )
    if error.code == "media_empty":
        return gettext("The file is empty.")
    if error.code == "caption_not_allowed":
        return gettext("Audio files and stickers cannot carry text: send the text as a separate message.")
    if error.code == "caption_too_long":
        return gettext("The caption is too long for WhatsApp (1,024 characters at most).")
    if error.code == "text_too_long":
        return gettext("The message is too long for WhatsApp (4,096 characters at most).")
    if error.code == "reply_target_not_found":
        return gettext("The message you were replying to is not in this conversation.")
    if error.code == "template_header_media":
        return gettext("Add the template's header: upload a file of the right type or paste a link to it.")
    if error.code == "template_unsupported":
        return gettext("This template cannot be sent from Mostrador yet.")
    if error.code in ("template_params", "template_not_found", "template_not_approved"):
        return (
            gettext("Fill in every variable of the template.")
            if error.code == "template_params"
            else gettext("This template cannot be sent: it is not approved for this number.")
        )
    return gettext("The message could not be sent. Try again in a moment.")


def _reply_to(raw: object) -> int | None:
    value = str(raw or "").strip()
    return int(value) if value.isdigit() and int(value) <= MAX_ID else None


def _uploaded(value: object) -> UploadFile | None:
    """The form's file, if the agent chose one (an empty file input still sends a nameless part)."""
    if isinstance(value, UploadFile) and (value.filename or value.size):
        return value
    return None


@router.post("/conversations/{conversation_id}/messages", response_model=None)
async def send_message(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    mode = "note" if form.get("mode") == "note" else "reply"
    text = str(form.get("text") or "").strip()
    reply_raw = str(form.get("reply_to_message_id") or "").strip()
    reply_to = int(reply_raw) if reply_raw.isdigit() and len(reply_raw) < 19 else None
    conversation = await conversation_service.get(session, shell.account.id, conversation_id)
    error: str | None = None
    if not text:
        error = gettext("Write a message first.")
    elif mode == "note":
        await message_service.add_note(session, conversation, shell.user, text[:20000])
    else:
        inbox_view = await _view(request, shell, session, conversation_id)
        try:
            async with savepoint(session):
                await message_service.send_text(
                    session,
                    inbox_view.inbox,
                    conversation,
                    inbox_view.contact,
                    Sender(kind=SenderKind.agent, user=shell.user),
                    text,
                    reply_to_id=reply_to,
                )
        except MostradorError as failure:
            error = _send_error(failure)
    view = await _view(request, shell, session, conversation_id)
    context = _base(request, shell, view, composer_mode=mode)
    if error:
        context.update(composer_error=error, composer_text=text)
        return render(request, "conversation/_composer.html", context, status_code=422)
    return render(request, "conversation/_composer.html", context, headers=_trigger(REFRESH_THREAD))


@router.post("/conversations/{conversation_id}/attachments", response_model=None)
async def send_attachment(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    """The composer with a file: the file goes to the customer, the text is its caption."""
    conversation = await conversation_service.get(session, shell.account.id, conversation_id)
    runtime = request.app.state.runtime
    error: str | None = None
    status_code = 422
    caption = ""
    try:
        refuse_oversized_body(request, runtime.settings.media_max_bytes)
        form = await request.form()
        caption = str(form.get("text") or "")
        upload = _uploaded(form.get("file"))
        if upload is None:
            error = gettext("Choose a file to send.")
        else:
            file = await read_upload(request, upload, runtime.settings.media_max_bytes)
            view = await _view(request, shell, session, conversation_id)
            async with savepoint(session):
                await message_service.send_media(
                    session,
                    view.inbox,
                    conversation,
                    view.contact,
                    Sender(kind=SenderKind.agent, user=shell.user),
                    file,
                    store=runtime.media,
                    caption=caption,
                    reply_to_id=_reply_to(form.get("reply_to_message_id")),
                )
    except MostradorError as failure:
        error, status_code = _send_error(failure), failure.status_code
    view = await _view(request, shell, session, conversation_id)
    context = _base(request, shell, view, composer_mode="reply")
    if error:
        context.update(composer_error=error, composer_text=caption.strip())
        return render(request, "conversation/_composer.html", context, status_code=status_code)
    return render(request, "conversation/_composer.html", context, headers=_trigger(REFRESH_THREAD))


@router.post("/conversations/{conversation_id}/messages/{message_id}/resend", response_model=None)
async def resend_message(
    request: Request, conversation_id: Id, message_id: Id, shell: ShellDep, session: SessionDep
) -> Response:
    view = await _view(request, shell, session, conversation_id)
    failed = await MessageRepository.from_session(session).get(shell.account.id, message_id)
    if failed is None or failed.conversation_id != view.conversation.id:
        raise NotFound(f"message {message_id} not found in this conversation", code="message_not_found")
    toasts: list[Toast] = []
    try:
        async with savepoint(session):
            await message_service.resend(session, view.inbox, view.conversation, view.contact, failed)
        toasts.append(Toast(gettext("Sending again…"), "info"))
    except MostradorError as error:
        toasts.append(Toast(_send_error(error), "error"))
    item = await thread_service.one(session, view.conversation, message_id, locale=_locale(request))
    return render(request, "conversation/_message.html", {"item": item, "cid": view.conversation.id}, toasts=toasts)


# ---------------------------------------------------------------------------------------------------------------
# templates


async def _chosen_template(view: ConversationView, raw_id: str) -> MessageTemplate | None:
    template_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 19 else None
    return next((t for t in view.templates if t.id == template_id), None)


def _template_parameters(choice: TemplateChoice, values: dict[str, str]) -> TemplateParameters:
    """The agent's inputs as TemplateParameters (render's preview mode shows what is still empty as {{name}})."""
    spec = choice.spec
    body = {name: values.get(f"body.{name}", "").strip() for name in spec.body_variables}
    header = {name: values.get(f"header.{name}", "").strip() for name in spec.header_variables}
    buttons: list[str | None] = [values.get(f"button.{b.index}", "").strip() or None for b in spec.buttons]
    while buttons and buttons[-1] is None:
        buttons.pop()
    link = values.get("header_link", "").strip()
    return TemplateParameters(
        name=choice.template.name,
        language=choice.template.language,
        body=body if spec.named else list(body.values()),
        header=header if spec.named else list(header.values()),
        header_media=TemplateHeaderMedia(link=link) if link and spec.header_media else None,
        buttons=buttons,
    )


def _invalid_template(error: ValidationError) -> str:
    if any(item.get("loc", ())[:1] == ("link",) for item in error.errors()):
        return gettext("The header link must be a web address (https://…).")
    return gettext("Fill in every variable of the template.")


async def _form_values(request: Request) -> dict[str, str]:
    if request.method == "GET":
        return dict(request.query_params)
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _preview(
    request: Request, session: SessionDep, view: ConversationView, choice: TemplateChoice, values: dict[str, str]
) -> dict[str, Any]:
    """The preview partial's context: the rendered template, or why it cannot be rendered."""
    try:
        rendered = await template_service.render(
            session, view.inbox, _template_parameters(choice, values), preview=True
        )
    except MostradorError as error:
        return {"preview_error": _send_error(error), "preview_text": ""}
    except ValidationError as invalid:
        return {"preview_error": _invalid_template(invalid), "preview_text": ""}
    return {"preview": rendered, "preview_text": rendered.text}


@router.get("/conversations/{conversation_id}/template-form", response_model=None)
async def template_form(
    request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep, template_id: str = ""
) -> Response:
    view = await _view(request, shell, session, conversation_id)
    template = await _chosen_template(view, template_id)
    if template is None:
        return HTMLResponse("")
    choice = template_choice(template, view.capabilities)
    preview = await _preview(request, session, view, choice, {})
    return render(request, "conversation/_template_form.html", _base(request, shell, view, choice=choice, **preview))


@router.get("/conversations/{conversation_id}/template-preview", response_model=None)
async def template_preview(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    """The rendered template with what has been typed so far; nothing is sent."""
    view = await _view(request, shell, session, conversation_id)
    values = await _form_values(request)
    template = await _chosen_template(view, values.get("template_id", ""))
    if template is None:
        return HTMLResponse("")
    choice = template_choice(template, view.capabilities)
    preview = await _preview(request, session, view, choice, values)
    return render(request, "conversation/_template_preview.html", _base(request, shell, view, choice=choice, **preview))


@router.post("/conversations/{conversation_id}/template", response_model=None)
async def send_template(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    view = await _view(request, shell, session, conversation_id)
    runtime = request.app.state.runtime
    error: str | None = None
    status_code = 422
    choice: TemplateChoice | None = None
    values: dict[str, str] = {}
    try:
        refuse_oversized_body(request, runtime.settings.media_max_bytes)
        form = await request.form()
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        template = await _chosen_template(view, values.get("template_id", ""))
        if template is None:
            error = gettext("Choose an approved template.")
        else:
            choice = template_choice(template, view.capabilities)
            params = _template_parameters(choice, values)
            upload = _uploaded(form.get("header_file")) if choice.header_media else None
            header_file = await read_upload(request, upload, runtime.settings.media_max_bytes) if upload else None
            async with savepoint(session):
                await message_service.send_template(
                    session,
                    view.inbox,
                    view.conversation,
                    view.contact,
                    Sender(kind=SenderKind.agent, user=shell.user),
                    params,
                    header_file=header_file,
                    store=runtime.media,
                )
    except MostradorError as failure:
        error, status_code = _send_error(failure), failure.status_code
    except ValidationError as invalid:
        error = _invalid_template(invalid)
    view = await _view(request, shell, session, conversation_id)
    context = _base(request, shell, view, composer_mode="template")
    if error:
        context.update(composer_error=error, chosen_template=choice, template_values=values)
        if choice is not None:
            context.update(await _preview(request, session, view, choice, values))
        return render(request, "conversation/_composer.html", context, status_code=status_code)
    return render(request, "conversation/_composer.html", context, headers=_trigger(REFRESH_THREAD))


# ---------------------------------------------------------------------------------------------------------------
# canned responses, typing


@router.get("/conversations/{conversation_id}/canned", response_model=None)
async def canned_suggestions(
    request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep, text: str = ""
) -> Response:
    """Suggestions while the agent types ``/code`` at the end of the composer's text."""
    await conversation_service.get(session, shell.account.id, conversation_id)
    match = CANNED_QUERY.search(text[-60:])
    if match is None:
        return HTMLResponse("")
    query = match.group(1)
    responses = await canned_service.search(session, shell.account.id, query, limit=8)
    return render(request, "conversation/_canned.html", {"responses": responses, "query": query})


@router.get("/emoji", response_model=None)
async def emoji_panel(request: Request, shell: ShellDep) -> Response:
    """The composer's emoji picker, fetched the first time an agent opens it (the same for every conversation)."""
    return render(request, "conversation/_emoji.html", {"emoji_groups": EMOJI_GROUPS})


@router.post("/conversations/{conversation_id}/typing", response_model=None)
async def typing(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    """Tell the other agents with this conversation open that someone is replying (never stored)."""
    conversation = await conversation_service.get(session, shell.account.id, conversation_id)
    runtime = request.app.state.runtime
    await runtime.pubsub.publish(
        account_channel(shell.account.id),
        {
            "type": "typing",
            "conversation_id": conversation.id,
            "user_id": shell.user.id,
            "name": shell.user.name,
            "ttl": TYPING_TTL_S,
        },
    )
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------------------------
# header actions: each one goes through conversation.update (activity line + realtime event)


def _action_error(error: MostradorError) -> str:
    if error.code == "snooze_time":
        return gettext("Choose a moment in the future to snooze until.")
    if error.code == "already_open":
        return gettext("This customer already has an open conversation in this inbox; continue there.")
    if error.code in ("agent_not_found", "team_not_found", "label_not_found"):
        return gettext("That option no longer exists; reload the page.")
    return gettext("That could not be saved. Check the data and try again.")


async def _apply(
    request: Request, shell: Shell, session: SessionDep, conversation_id: int, data: ConversationUpdate | None
) -> Response:
    conversation = await conversation_service.get(session, shell.account.id, conversation_id)
    toasts: list[Toast] = []
    changed = False
    if data is None:
        toasts.append(Toast(gettext("That could not be saved. Check the data and try again."), "error"))
    else:
        try:
            async with savepoint(session):
                await conversation_service.update(session, shell.user, conversation, data)
            changed = True
        except MostradorError as error:
            toasts.append(Toast(_action_error(error), "error"))
    view = await _view(request, shell, session, conversation_id)
    headers = _trigger(REFRESH_THREAD) if changed else {}
    return render(request, "conversation/_header.html", _base(request, shell, view), headers=headers, toasts=toasts)


def _id_change(field: str, value: object) -> ConversationUpdate | None:
    """An empty choice clears ``field`` (unassign, no team); an id sets it; anything else is refused (None)."""
    raw = str(value or "").strip()
    try:
        return ConversationUpdate.model_validate({field: raw or None})
    except ValidationError:
        return None


@router.post("/conversations/{conversation_id}/assign", response_model=None)
async def assign(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    return await _apply(request, shell, session, conversation_id, _id_change("assignee_id", form.get("assignee_id")))


@router.post("/conversations/{conversation_id}/team", response_model=None)
async def set_team(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    return await _apply(request, shell, session, conversation_id, _id_change("team_id", form.get("team_id")))


@router.post("/conversations/{conversation_id}/priority", response_model=None)
async def set_priority(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    raw = str(form.get("priority") or "")
    data = ConversationUpdate(priority=Priority(raw)) if raw in Priority.__members__ else None
    return await _apply(request, shell, session, conversation_id, data)


@router.post("/conversations/{conversation_id}/labels", response_model=None)
async def set_labels(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    names = [str(value) for value in form.getlist("labels") if isinstance(value, str)]
    return await _apply(request, shell, session, conversation_id, ConversationUpdate(labels=names))


@router.post("/conversations/{conversation_id}/status", response_model=None)
async def set_status(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    raw = str(form.get("status") or "")
    allowed = (ConversationStatus.open.value, ConversationStatus.pending.value, ConversationStatus.resolved.value)
    data = ConversationUpdate(status=ConversationStatus(raw)) if raw in allowed else None
    return await _apply(request, shell, session, conversation_id, data)


@router.post("/conversations/{conversation_id}/snooze", response_model=None)
async def snooze(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    until = local_datetime(str(form.get("until") or ""), shell.account.timezone)
    try:
        data = ConversationUpdate(status=ConversationStatus.snoozed, snoozed_until=until) if until else None
    except ValidationError:  # a moment that does not fit in UTC (year 9999 west of Greenwich)
        data = None
    return await _apply(request, shell, session, conversation_id, data)


# ---------------------------------------------------------------------------------------------------------------
# the contact panel


@router.get("/conversations/{conversation_id}/contact", response_model=None)
async def contact_panel(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    """The panel alone: re-fetched when a colleague (or the API) changes this contact."""
    view = await _view(request, shell, session, conversation_id)
    return render(request, "conversation/_contact.html", _base(request, shell, view))


@router.post("/conversations/{conversation_id}/contact", response_model=None)
async def update_contact(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    form = await request.form()
    view = await _view(request, shell, session, conversation_id)
    contact = view.contact
    keys = [str(k).strip() for k in form.getlist("attr_key")]
    values = [str(v).strip() for v in form.getlist("attr_value")]
    submitted: dict[str, str | int | float | bool | None] = {}
    for key, value in zip(keys, values, strict=False):
        if key:
            submitted[key[:60]] = value[:500] or None
    attributes: dict[str, str | int | float | bool | None] = dict.fromkeys(contact.custom_attributes)
    attributes.update(submitted)
    language = str(form.get("language") or "")
    fields: dict[str, object] = {
        "name": str(form.get("name") or "").strip(),
        "language": language or None,
        "custom_attributes": attributes,
    }
    if "email" in form:  # a form without the field leaves the e-mail as it is
        fields["email"] = str(form.get("email") or "").strip() or None
    errors: dict[str, str] = {}
    try:
        data = ContactUpdate.model_validate(fields)
    except ValidationError as error:
        errors = validation_errors(error)
    else:
        await contact_service.update(session, contact, data)
    # Re-read: past conversations and labels are part of the panel.
    view = await _view(request, shell, session, conversation_id)
    context = _base(request, shell, view, contact_saved=not errors, contact_errors=errors)
    return render(request, "conversation/_contact.html", context, status_code=422 if errors else 200)
