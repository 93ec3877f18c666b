"""Settings pages: admins change, supervisors look, agents get a 403."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from mostrador.web.deps import SupervisorAgent, ui_router
from mostrador.web.routes.settings import agents, canned, inboxes, labels, teams

router = ui_router()


@router.get("/settings", response_model=None)
async def settings_home(_user: SupervisorAgent) -> Response:
    return RedirectResponse("/settings/agents", status_code=303)


for module in (agents, teams, inboxes, labels, canned):
    router.include_router(module.router)
