from __future__ import annotations

from fastapi import APIRouter, status

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.exceptions import Forbidden
from mostrador.kit.ids import Id
from mostrador.labels.schemas import LabelCreate, LabelRead, LabelUpdate
from mostrador.labels.service import label as label_service
from mostrador.models import Label, User
from mostrador.users.service import can_administer

router = APIRouter(prefix="/labels", tags=["labels"], responses=ERROR_RESPONSES)


def _admin(user: User) -> None:
    if not can_administer(user):
        raise Forbidden("only admins can change labels", code="role_required")


@router.get("", response_model=list[LabelRead])
async def list_labels(user: ApiUser, session: SessionDep) -> list[Label]:
    return await label_service.list(session, user.account_id)


@router.post("", response_model=LabelRead, status_code=status.HTTP_201_CREATED)
async def create_label(data: LabelCreate, user: ApiUser, session: SessionDep) -> Label:
    _admin(user)
    return await label_service.create(session, user.account_id, data)


@router.patch("/{label_id}", response_model=LabelRead)
async def update_label(label_id: Id, data: LabelUpdate, user: ApiUser, session: SessionDep) -> Label:
    _admin(user)
    return await label_service.update(session, user.account_id, label_id, data)


@router.delete("/{label_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_label(label_id: Id, user: ApiUser, session: SessionDep) -> None:
    _admin(user)
    await label_service.delete(session, user.account_id, label_id)
