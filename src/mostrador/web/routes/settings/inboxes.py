from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import RuntimeDep, SessionDep
from mostrador.exceptions import Conflict
from mostrador.inboxes.schemas import WhatsAppInboxCreate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.web.deps import AdminAgent, ShellDep, SupervisorAgent, ui_router
from mostrador.web.forms import domain_message, parse, read_form
from mostrador.web.htmx import hx_redirect
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


@router.get("/{inbox_id}", response_model=None)
async def inbox_detail(
    request: Request, inbox_id: int, _user: AdminAgent, session: SessionDep, shell: ShellDep, runtime: RuntimeDep
) -> Response:
    found = await inbox_service.get(session, shell.account.id, inbox_id)
    context = {
        "section": "inboxes",
        "inbox": found,
        "created": request.query_params.get("created") == "1",
        "webhook_url": webhook_url(runtime),
        "verify_token": runtime.settings.wa_verify_token,
    }
    return render(request, "settings/inbox_detail.html", context)
