from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import SessionDep
from mostrador.exceptions import BadRequest, Conflict
from mostrador.kit.ids import Id
from mostrador.models import Role
from mostrador.users.schemas import UserCreate, UserUpdate
from mostrador.users.service import user as user_service
from mostrador.web.deps import AdminAgent, ShellDep, SupervisorAgent, ui_router
from mostrador.web.forms import domain_message, parse, read_form
from mostrador.web.i18n import gettext
from mostrador.web.routes.settings.common import page, saved

router = ui_router(prefix="/settings/agents")
TEMPLATE = "settings/agents.html"
URL = "/settings/agents"


def _context(request: Request, session: SessionDep, shell: ShellDep) -> Any:
    async def build() -> dict[str, Any]:
        return {
            "section": "agents",
            "agents": await user_service.list(session, shell.account.id),
            "roles": list(Role),
            "create_values": {},
            "create_errors": {},
            "row_errors": {},
        }

    return build


@router.get("", response_model=None)
async def agents_page(request: Request, _user: SupervisorAgent, session: SessionDep, shell: ShellDep) -> Response:
    return await page(request, TEMPLATE, _context(request, session, shell))


@router.post("", response_model=None)
async def create_agent(request: Request, _user: AdminAgent, session: SessionDep, shell: ShellDep) -> Response:
    form = await read_form(request)
    data, errors = parse(UserCreate, form)
    if data is not None:
        try:
            await user_service.create(session, shell.account, data)
        except Conflict as error:
            errors = {"email": domain_message(error)}
    if errors or data is None:
        values = {k: v for k, v in form.items() if k != "password"}
        extra = {"create_values": values, "create_errors": errors}
        return await page(request, TEMPLATE, _context(request, session, shell), extra=extra, status_code=422)
    message = gettext("Agent %(name)s created.") % {"name": data.name}
    return await saved(request, URL, TEMPLATE, _context(request, session, shell), message)


@router.post("/{user_id}", response_model=None)
async def update_agent(
    request: Request, user_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    form = await read_form(request)
    data, errors = parse(UserUpdate, {k: v for k, v in form.items() if v != "" or k == "name"})
    if data is not None:
        try:
            await user_service.update(session, shell.account.id, user_id, data)
        except Conflict as error:
            errors = {"__all__": domain_message(error)}
    if errors:
        extra = {"row_errors": {user_id: errors}}
        return await page(request, TEMPLATE, _context(request, session, shell), extra=extra, status_code=422)
    return await saved(request, URL, TEMPLATE, _context(request, session, shell), gettext("Changes saved."))


@router.post("/{user_id}/deactivate", response_model=None)
async def deactivate_agent(
    request: Request, user_id: Id, user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    try:
        target = await user_service.deactivate(session, user, user_id)
    except (Conflict, BadRequest) as error:
        extra = {"row_errors": {user_id: {"__all__": domain_message(error)}}}
        return await page(request, TEMPLATE, _context(request, session, shell), extra=extra, status_code=422)
    message = gettext("%(name)s can no longer sign in.") % {"name": target.name}
    return await saved(request, URL, TEMPLATE, _context(request, session, shell), message)


@router.post("/{user_id}/activate", response_model=None)
async def activate_agent(
    request: Request, user_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    target = await user_service.activate(session, shell.account.id, user_id)
    message = gettext("%(name)s can sign in again.") % {"name": target.name}
    return await saved(request, URL, TEMPLATE, _context(request, session, shell), message)
