from __future__ import annotations

from fastapi import APIRouter

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.inboxes.schemas import InboxRead
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.ids import Id
from mostrador.models import Inbox

router = APIRouter(prefix="/inboxes", tags=["inboxes"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[InboxRead])
async def list_inboxes(user: ApiUser, session: SessionDep) -> list[Inbox]:
    """The account's inboxes (one per connected WhatsApp number)."""
    return await inbox_service.list_for_account(session, user.account_id)


@router.get("/{inbox_id}", response_model=InboxRead)
async def get_inbox(inbox_id: Id, user: ApiUser, session: SessionDep) -> Inbox:
    return await inbox_service.get(session, user.account_id, inbox_id)
