"""The inbox home: the app shell with the conversation list, the open conversation and the contact panel."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.responses import Response

from mostrador.models import ConversationStatus
from mostrador.web.deps import ShellDep, ui_router
from mostrador.web.templating import render

router = ui_router()

VIEWS = ("mine", "unassigned", "all")


@dataclass(frozen=True)
class ListFilters:
    """The list's query string: /?view=mine|unassigned|all&inbox=&status=&label=&team="""

    view: str = "mine"
    inbox_id: int | None = None
    status: ConversationStatus = ConversationStatus.open
    label_id: int | None = None
    team_id: int | None = None

    @classmethod
    def from_request(cls, request: Request) -> ListFilters:
        params = request.query_params

        def as_id(name: str) -> int | None:
            value = params.get(name, "")
            return int(value) if value.isdigit() and len(value) < 19 else None

        view = params.get("view", "mine")
        status = params.get("status", "open")
        return cls(
            view=view if view in VIEWS else "mine",
            inbox_id=as_id("inbox"),
            status=ConversationStatus(status) if status in ConversationStatus.__members__ else ConversationStatus.open,
            label_id=as_id("label"),
            team_id=as_id("team"),
        )


@router.get("/", response_model=None)
async def inbox_home(request: Request, shell: ShellDep) -> Response:
    return render(request, "inbox/index.html", {"filters": ListFilters.from_request(request)})
