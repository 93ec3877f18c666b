from __future__ import annotations

from fastapi import APIRouter, status

from mostrador.api_errors import ERROR_RESPONSES
from mostrador.auth.dependencies import ApiUser, SessionDep
from mostrador.exceptions import Forbidden
from mostrador.kit.ids import Id
from mostrador.models import User
from mostrador.teams.schemas import TeamCreate, TeamMemberAdd, TeamRead, TeamUpdate
from mostrador.teams.service import team as team_service
from mostrador.users.service import can_administer

router = APIRouter(prefix="/teams", tags=["teams"], responses=ERROR_RESPONSES)


def _admin(user: User) -> None:
    if not can_administer(user):
        raise Forbidden("only admins can change teams", code="role_required")


@router.get("", response_model=list[TeamRead])
async def list_teams(user: ApiUser, session: SessionDep) -> list[TeamRead]:
    members = await team_service.members_by_team(session, user.account_id)
    return [
        TeamRead(id=t.id, name=t.name, description=t.description, member_ids=[m.id for m in members.get(t.id, [])])
        for t in await team_service.list(session, user.account_id)
    ]


@router.post("", response_model=TeamRead, status_code=status.HTTP_201_CREATED)
async def create_team(data: TeamCreate, user: ApiUser, session: SessionDep) -> TeamRead:
    _admin(user)
    created = await team_service.create(session, user.account_id, data)
    return TeamRead(id=created.id, name=created.name, description=created.description)


@router.patch("/{team_id}", response_model=TeamRead)
async def update_team(team_id: Id, data: TeamUpdate, user: ApiUser, session: SessionDep) -> TeamRead:
    _admin(user)
    updated = await team_service.update(session, user.account_id, team_id, data)
    members = await team_service.members(session, user.account_id, team_id)
    member_ids = [m.id for m in members]
    return TeamRead(id=updated.id, name=updated.name, description=updated.description, member_ids=member_ids)


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_team(team_id: Id, user: ApiUser, session: SessionDep) -> None:
    _admin(user)
    await team_service.delete(session, user.account_id, team_id)


@router.post("/{team_id}/members", status_code=status.HTTP_204_NO_CONTENT)
async def add_team_member(team_id: Id, data: TeamMemberAdd, user: ApiUser, session: SessionDep) -> None:
    _admin(user)
    await team_service.add_member(session, user.account_id, team_id, data.user_id)


@router.delete("/{team_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_team_member(team_id: Id, user_id: Id, user: ApiUser, session: SessionDep) -> None:
    _admin(user)
    await team_service.remove_member(session, user.account_id, team_id, user_id)
