from __future__ import annotations

from fastapi import APIRouter, Query, status

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.canned_responses.schemas import CannedResponseCreate, CannedResponseRead, CannedResponseUpdate
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.exceptions import Forbidden
from mostrador.kit.ids import Id
from mostrador.models import CannedResponse, User
from mostrador.users.service import can_administer

router = APIRouter(prefix="/canned-responses", tags=["canned responses"], responses=ERROR_RESPONSES)


def _admin(user: User) -> None:
    if not can_administer(user):
        raise Forbidden("only admins can change canned responses", code="role_required")


@router.get("", response_model=list[CannedResponseRead])
async def list_canned_responses(
    user: ApiUser, session: SessionDep, q: str | None = Query(default=None, max_length=100)
) -> list[CannedResponse]:
    """All canned responses, or those matching ``q`` (short-code prefix or content)."""
    if q:
        return await canned_service.search(session, user.account_id, q)
    return await canned_service.list(session, user.account_id)


@router.post("", response_model=CannedResponseRead, status_code=status.HTTP_201_CREATED)
async def create_canned_response(data: CannedResponseCreate, user: ApiUser, session: SessionDep) -> CannedResponse:
    _admin(user)
    return await canned_service.create(session, user.account_id, data)


@router.patch("/{response_id}", response_model=CannedResponseRead)
async def update_canned_response(
    response_id: Id, data: CannedResponseUpdate, user: ApiUser, session: SessionDep
) -> CannedResponse:
    _admin(user)
    return await canned_service.update(session, user.account_id, response_id, data)


@router.delete("/{response_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_canned_response(response_id: Id, user: ApiUser, session: SessionDep) -> None:
    _admin(user)
    await canned_service.delete(session, user.account_id, response_id)
