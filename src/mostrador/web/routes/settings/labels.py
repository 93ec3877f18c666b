from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import SessionDep
from mostrador.exceptions import Conflict
from mostrador.kit.ids import Id
from mostrador.labels.schemas import DEFAULT_COLOR, LabelCreate, LabelUpdate
from mostrador.labels.service import label as label_service
from mostrador.web.deps import AdminAgent, ShellDep, SupervisorAgent, ui_router
from mostrador.web.forms import domain_message, parse, read_form
from mostrador.web.i18n import gettext
from mostrador.web.routes.settings.common import page, saved

router = ui_router(prefix="/settings/labels")
TEMPLATE = "settings/labels.html"
URL = "/settings/labels"


def _context(session: SessionDep, shell: ShellDep) -> Any:
    async def build() -> dict[str, Any]:
        return {
            "section": "labels",
            "labels": await label_service.list(session, shell.account.id),
            "default_color": DEFAULT_COLOR,
            "create_values": {},
            "create_errors": {},
            "row_errors": {},
        }

    return build


@router.get("", response_model=None)
async def labels_page(request: Request, _user: SupervisorAgent, session: SessionDep, shell: ShellDep) -> Response:
    return await page(request, TEMPLATE, _context(session, shell))


@router.post("", response_model=None)
async def create_label(request: Request, _user: AdminAgent, session: SessionDep, shell: ShellDep) -> Response:
    form = await read_form(request)
    data, errors = parse(LabelCreate, form)
    if data is not None:
        try:
            await label_service.create(session, shell.account.id, data)
        except Conflict as error:
            errors = {"name": domain_message(error)}
    if errors or data is None:
        extra = {"create_values": form, "create_errors": errors}
        return await page(request, TEMPLATE, _context(session, shell), extra=extra, status_code=422)
    message = gettext("Label %(name)s created.") % {"name": data.name}
    return await saved(request, URL, TEMPLATE, _context(session, shell), message)


@router.post("/{label_id}", response_model=None)
async def update_label(
    request: Request, label_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    form = await read_form(request)
    data, errors = parse(LabelUpdate, form)
    if data is not None:
        try:
            await label_service.update(session, shell.account.id, label_id, data)
        except Conflict as error:
            errors = {"name": domain_message(error)}
    if errors:
        extra = {"row_errors": {label_id: errors}}
        return await page(request, TEMPLATE, _context(session, shell), extra=extra, status_code=422)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Changes saved."))


@router.post("/{label_id}/delete", response_model=None)
async def delete_label(
    request: Request, label_id: Id, _user: AdminAgent, session: SessionDep, shell: ShellDep
) -> Response:
    await label_service.delete(session, shell.account.id, label_id)
    return await saved(request, URL, TEMPLATE, _context(session, shell), gettext("Label deleted."))
