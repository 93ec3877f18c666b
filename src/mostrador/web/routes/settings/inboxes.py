from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from mostrador.auth.dependencies import RuntimeDep, SessionDep
from mostrador.exceptions import Conflict
from mostrador.inboxes.schemas import InboxUpdate, WhatsAppInboxCreate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.ids import Id
from mostrador.models import Inbox
from mostrador.web.deps import AdminAgent, ShellDep, SupervisorAgent, ui_router
from mostrador.web.forms import domain_message, parse, read_form
from mostrador.web.htmx import Toast, hx_redirect, is_htmx
from mostrador.web.i18n import gettext
from mostrador.web.routes.settings.common import page
from mostrador.web.templating import render

router = ui_router(prefix="/settings/inboxes")
FIELDS = ("name", "phone_number_id", "waba_id", "access_token", "display_phone_number")


def webhook_url(runtime: RuntimeDep) -> str:
    return f"{runtime.settings.resolved_public_url}/webhooks/whatsapp"


@router.get("", response_model=None)
async def inboxes_page(request: Request, _user: SupervisorAgent, session: SessionDep, shell: ShellDep) -> Response:
    async def build() -> dict[str, Any]:
        return {"section": "inboxes", "inboxes": await inbox_service.list_for_account(session, shell.account.id)}

    return await page(request, "settings/inboxes.html", build)


@router.get("/new", response_model=None)
async def new_inbox_page(request: Request, _user: AdminAgent, shell: ShellDep) -> Response:
    return render(request, "settings/inbox_new.html", {"section": "inboxes", "values": {}, "errors": {}})


@router.post("", response_model=None)
async def create_inbox(
    request: Request, _user: AdminAgent, session: SessionDep, shell: ShellDep, runtime: RuntimeDep
) -> Response:
    form = await read_form(request)
    values = {name: form.get(name, "").strip() for name in FIELDS}
    data, errors = parse(WhatsAppInboxCreate, values)
    if data is not None:
        try:
            created = await inbox_service.create_whatsapp(
                session, shell.account, data, secret_key=runtime.settings.resolved_secret_key
            )
        except Conflict as error:
            errors = {"phone_number_id": domain_message(error)}
        else:
            return hx_redirect(request, f"/settings/inboxes/{created.id}?created=1")
    values.pop("access_token")  # never echo a credential back into the page
    context = {"section": "inboxes", "values": values, "errors": errors}
    return render(request, "settings/inbox_new.html", context, status_code=422)


def _detail_context(request: Request, inbox: Inbox, runtime: RuntimeDep, **extra: Any) -> dict[str, Any]:
    return {
        "section": "inboxes",
        "inbox": inbox,
        "created": request.query_params.get("created") == "1",
        "webhook_url": webhook_url(runtime),
        "verify_token": runtime.settings.wa_verify_token,
        "default_throughput": f"{runtime.settings.wa_throughput_mps:g}",
        "values": {"name": inbox.name, "throughput_mps": f"{inbox.throughput_mps:g}" if inbox.throughput_mps else ""},
        "errors": {},
        **extra,
    }


@router.get("/{inbox_id}", response_model=None)
async def inbox_detail(
    request: Request, inbox_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep, runtime: RuntimeDep
) -> Response:
    found = await inbox_service.get(session, shell.account.id, inbox_id)
    return render(request, "settings/inbox_detail.html", _detail_context(request, found, runtime))


@router.post("/{inbox_id}", response_model=None)
async def update_inbox(
    request: Request, inbox_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep, runtime: RuntimeDep
) -> Response:
    """Name, auto-assignment and the number's throughput. An unticked checkbox is not sent at all, so its absence
    means "off"; an empty throughput means the server's default."""
    found = await inbox_service.get(session, shell.account.id, inbox_id)
    form = await read_form(request)
    values = {"name": form.get("name", "").strip(), "throughput_mps": form.get("throughput_mps", "").strip()}
    fields = {**values, "throughput_mps": values["throughput_mps"] or None, "auto_assign": "auto_assign" in form}
    data, errors = parse(InboxUpdate, fields)
    if data is None:
        context = _detail_context(request, found, runtime, values=values, errors=errors)
        return render(request, "settings/inbox_detail.html", context, status_code=422)
    await inbox_service.update(session, shell.account.id, found.id, data)
    if not is_htmx(request):
        return RedirectResponse(f"/settings/inboxes/{found.id}", status_code=303)
    context = _detail_context(request, found, runtime)
    return render(request, "settings/inbox_detail.html", context, toasts=[Toast(gettext("Changes saved."))])
