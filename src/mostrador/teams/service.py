from __future__ import annotations

import builtins
from collections import defaultdict

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.exceptions import Conflict, NotFound
from mostrador.kit.db.savepoint import savepoint
from mostrador.models import Team, TeamMember, User
from mostrador.teams.repository import TeamMemberRepository, TeamRepository
from mostrador.teams.schemas import TeamCreate, TeamUpdate
from mostrador.users.repository import UserRepository


def _exists(name: str) -> Conflict:
    return Conflict(f"a team named {name!r} already exists", code="team_exists")


class TeamService:
    async def list(self, session: AsyncSession, account_id: int) -> builtins.list[Team]:
        return await TeamRepository.from_session(session).list_by_name(account_id)

    async def get(self, session: AsyncSession, account_id: int, team_id: int) -> Team:
        team = await TeamRepository.from_session(session).get(account_id, team_id)
        if team is None:
            raise NotFound(f"team {team_id} not found", code="team_not_found")
        return team

    async def _check_name_free(self, session: AsyncSession, account_id: int, name: str, *, exclude: int | None) -> None:
        existing = await TeamRepository.from_session(session).get_by_name(account_id, name)
        if existing is not None and existing.id != exclude:
            raise _exists(name)

    async def create(self, session: AsyncSession, account_id: int, data: TeamCreate) -> Team:
        await self._check_name_free(session, account_id, data.name, exclude=None)
        team = Team(account_id=account_id, name=data.name, description=data.description)
        try:
            async with savepoint(session):
                await TeamRepository.from_session(session).add(team)
        except IntegrityError:
            raise _exists(data.name) from None
        return team

    async def update(self, session: AsyncSession, account_id: int, team_id: int, data: TeamUpdate) -> Team:
        team = await self.get(session, account_id, team_id)
        if data.name is not None:
            await self._check_name_free(session, account_id, data.name, exclude=team.id)
            team.name = data.name
        if data.description is not None:
            team.description = data.description
        try:
            async with savepoint(session):
                await session.flush()
        except IntegrityError:
            raise _exists(team.name) from None
        return team

    async def delete(self, session: AsyncSession, account_id: int, team_id: int) -> None:
        team = await self.get(session, account_id, team_id)
        await TeamRepository.from_session(session).delete(team)

    async def members(self, session: AsyncSession, account_id: int, team_id: int) -> builtins.list[User]:
        await self.get(session, account_id, team_id)
        return [user for _, user in await TeamMemberRepository.from_session(session).members(account_id, team_id)]

    async def members_by_team(self, session: AsyncSession, account_id: int) -> dict[int, builtins.list[User]]:
        grouped: dict[int, builtins.list[User]] = defaultdict(list)
        for team_id, user in await TeamMemberRepository.from_session(session).members(account_id):
            grouped[team_id].append(user)
        return dict(grouped)

    async def team_ids_of(self, session: AsyncSession, account_id: int, user_id: int) -> builtins.list[int]:
        return await TeamMemberRepository.from_session(session).team_ids_of(account_id, user_id)

    async def add_member(self, session: AsyncSession, account_id: int, team_id: int, user_id: int) -> None:
        """Idempotent. The user must belong to the same account (else 404, as if it did not exist)."""
        await self.get(session, account_id, team_id)
        if await UserRepository.from_session(session).get(account_id, user_id) is None:
            raise NotFound(f"user {user_id} not found", code="user_not_found")
        repository = TeamMemberRepository.from_session(session)
        if await repository.get_member(account_id, team_id, user_id) is not None:
            return
        try:
            async with savepoint(session):
                await repository.add(TeamMember(team_id=team_id, user_id=user_id, account_id=account_id))
        except IntegrityError:
            return  # added concurrently: same outcome

    async def remove_member(self, session: AsyncSession, account_id: int, team_id: int, user_id: int) -> None:
        await self.get(session, account_id, team_id)
        repository = TeamMemberRepository.from_session(session)
        member = await repository.get_member(account_id, team_id, user_id)
        if member is not None:
            await repository.delete(member)


team = TeamService()
