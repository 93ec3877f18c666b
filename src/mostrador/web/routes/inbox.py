"""The inbox home: the app shell with the conversation list; list fragments for paging and live updates."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import HTMLResponse, Response

from mostrador.auth.dependencies import SessionDep
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.ids import Id
from mostrador.web.deps import ShellDep, ui_router
from mostrador.web.htmx import is_htmx
from mostrador.web.inbox_view import ListFilters, agent_names, list_view
from mostrador.web.templating import render

router = ui_router()

# Kept importable from here: other modules and tests read the list's filters through this name.
__all__ = ["ListFilters", "router"]


def _list_fragment_requested(request: Request) -> bool:
    return (
        is_htmx(request)
        and request.headers.get("hx-target") == "conversation-list"
        and request.headers.get("hx-history-restore-request") != "true"
    )


@router.get("/", response_model=None)
async def inbox_home(request: Request, shell: ShellDep, session: SessionDep) -> Response:
    filters = ListFilters.from_request(request)
    view = await list_view(session, shell.user, filters, shell.inboxes)
    context = {"filters": filters, "list": view, "view": None, "current_id": None}
    if _list_fragment_requested(request):
        return render(request, "inbox/_list.html", context)
    return render(request, "inbox/index.html", context)


@router.get("/inbox/rows", response_model=None)
async def inbox_rows(request: Request, shell: ShellDep, session: SessionDep, cursor: str | None = None) -> Response:
    """One page of rows (keyset: ``cursor`` is the previous page's ``next_cursor``) and the next page's loader."""
    filters = ListFilters.from_request(request)
    view = await list_view(session, shell.user, filters, shell.inboxes, cursor=cursor or None)
    return render(request, "inbox/_rows.html", {"filters": filters, "list": view, "current_id": None})


@router.get("/inbox/row/{conversation_id}", response_model=None)
async def inbox_row(request: Request, conversation_id: Id, shell: ShellDep, session: SessionDep) -> Response:
    """One row for a live update; empty when the conversation no longer belongs in this list."""
    filters = ListFilters.from_request(request)
    found = await conversation_service.get(session, shell.account.id, conversation_id)
    item = await conversation_service.read_one(session, found)
    if not filters.matches(item, shell.user.id):
        return HTMLResponse("")
    return render(
        request,
        "inbox/_row.html",
        {
            "filters": filters,
            "item": item,
            "agent_names": await agent_names(session, shell.account.id),
            "inbox_names": {inbox.id: inbox.name for inbox in shell.inboxes},
            "current_id": None,
        },
    )
