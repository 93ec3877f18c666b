from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import SessionDep
from mostrador.exceptions import Conflict
from mostrador.kit.ids import Id
from mostrador.teams.schemas import TeamCreate, TeamUpdate
from mostrador.teams.service import team as team_service
from mostrador.users.service import user as user_service
from mostrador.web.deps import AdminAgent, ShellDep, SupervisorAgent, ui_router
from mostrador.web.forms import domain_message, parse, read_form
from mostrador.web.i18n import gettext
from mostrador.web.routes.settings.common import form_id, page, saved

router = ui_router(prefix="/settings/teams")
TEMPLATE = "settings/teams.html"
URL = "/settings/teams"


def _context(session: SessionDep, shell: ShellDep) -> Any:
    async def build() -> dict[str, Any]:
        account_id = shell.account.id
        return {
            "section": "teams",
            "teams": await team_service.list(session, account_id),
            "members": await team_service.members_by_team(session, account_id),
            "agents": [a for a in await user_service.list(session, account_id) if a.is_active],
            "create_values": {},
            "create_errors": {},
            "row_errors": {},
        }

    return build


@router.get("", response_model=None)
async def teams_page(request: Request, _user: SupervisorAgent, session: SessionDep, shell: ShellDep) -> Response:
    return await page(request, TEMPLATE, _context(session, shell))


async def _invalid(request: Request, session: SessionDep, shell: ShellDep, extra: dict[str, Any]) -> Response:
    return await page(request, TEMPLATE, _context(session, shell), extra=extra, status_code=422)


@router.post("", response_model=None)
async def create_team(request: Request, _user: AdminAgent, session: SessionDep, shell: ShellDep) -> Response:
    form = await read_form(request)
    data, errors = parse(TeamCreate, form)
    if data is not None:
        try:
            await team_service.create(session, shell.account.id, data)
        except Conflict as error:
            errors = {"name": domain_message(error)}
    if errors or data is None:
        return await _invalid(request, session, shell, {"create_values": form, "create_errors": errors})
    message = gettext("Team %(name)s created.") % {"name": data.name}
    return await saved(request, URL, TEMPLATE, _context(session, shell), message)


@router.post("/{team_id}", response_model=None)
async def rename_team(
    request: Request, team_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    form = await read_form(request)
    data, errors = parse(TeamUpdate, form)
    if data is not None:
        try:
            await team_service.update(session, shell.account.id, team_id, data)
        except Conflict as error:
            errors = {"name": domain_message(error)}
    if errors:
        return await _invalid(request, session, shell, {"row_errors": {team_id: errors}})
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Changes saved."))


@router.post("/{team_id}/delete", response_model=None)
async def delete_team(
    request: Request, team_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    await team_service.delete(session, shell.account.id, team_id)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Team deleted."))


@router.post("/{team_id}/members", response_model=None)
async def add_member(
    request: Request, team_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    form = await read_form(request)
    user_id = form_id(form.get("user_id"))
    if user_id is None:
        return await _invalid(
            request, session, shell, {"row_errors": {team_id: {"user_id": gettext("Choose an agent.")}}}
        )
    await team_service.add_member(session, shell.account.id, team_id, user_id)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Member added."))


@router.post("/{team_id}/members/{user_id}/remove", response_model=None)
async def remove_member(
    request: Request, team_id: Id, user_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    await team_service.remove_member(session, shell.account.id, team_id, user_id)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Member removed."))
