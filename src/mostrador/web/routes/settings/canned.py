from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import SessionDep
from mostrador.canned_responses.schemas import CannedResponseCreate, CannedResponseUpdate
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.exceptions import Conflict
from mostrador.kit.ids import Id
from mostrador.web.deps import AdminAgent, ShellDep, SupervisorAgent, ui_router
from mostrador.web.forms import domain_message, parse, read_form
from mostrador.web.i18n import gettext
from mostrador.web.routes.settings.common import page, saved

router = ui_router(prefix="/settings/canned-responses")
TEMPLATE = "settings/canned.html"
URL = "/settings/canned-responses"


def _context(session: SessionDep, shell: ShellDep) -> Any:
    async def build() -> dict[str, Any]:
        return {
            "section": "canned",
            "responses": await canned_service.list(session, shell.account.id),
            "create_values": {},
            "create_errors": {},
            "row_errors": {},
        }

    return build


@router.get("", response_model=None)
async def canned_page(request: Request, _user: SupervisorAgent, session: SessionDep, shell: ShellDep) -> Response:
    return await page(request, TEMPLATE, _context(session, shell))


@router.post("", response_model=None)
async def create_canned(request: Request, _user: AdminAgent, session: SessionDep, shell: ShellDep) -> Response:
    form = await read_form(request)
    data, errors = parse(CannedResponseCreate, form)
    if data is not None:
        try:
            await canned_service.create(session, shell.account.id, data)
        except Conflict as error:
            errors = {"short_code": domain_message(error)}
    if errors or data is None:
        extra = {"create_values": form, "create_errors": errors}
        return await page(request, TEMPLATE, _context(session, shell), extra=extra, status_code=422)
    message = gettext("Canned response /%(code)s created.") % {"code": data.short_code}
    return await saved(request, URL, TEMPLATE, _context(session, shell), message)


@router.post("/{response_id}", response_model=None)
async def update_canned(
    request: Request, response_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    form = await read_form(request)
    data, errors = parse(CannedResponseUpdate, form)
    if data is not None:
        try:
            await canned_service.update(session, shell.account.id, response_id, data)
        except Conflict as error:
            errors = {"short_code": domain_message(error)}
    if errors:
        extra = {"row_errors": {response_id: errors}}
        return await page(request, TEMPLATE, _context(session, shell), extra=extra, status_code=422)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Changes saved."))


@router.post("/{response_id}/delete", response_model=None)
async def delete_canned(
    request: Request, response_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    await canned_service.delete(session, shell.account.id, response_id)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Canned response deleted."))
