from __future__ import annotations

from sqlalchemy import func

from mostrador.kit.repository import RepositoryBase
from mostrador.models import Team, TeamMember, User


class TeamRepository(RepositoryBase[Team]):
    model = Team

    async def list_by_name(self, account_id: int) -> list[Team]:
        return await self.all(self.scoped_statement(account_id).order_by(func.lower(Team.name), Team.id))

    async def get_by_name(self, account_id: int, name: str) -> Team | None:
        statement = self.scoped_statement(account_id).where(func.lower(Team.name) == name.lower())
        return await self.one_or_none(statement.limit(1))

    async def delete(self, team: Team) -> None:
        await self.session.delete(team)
        await self.session.flush()


class TeamMemberRepository(RepositoryBase[TeamMember]):
    model = TeamMember

    async def get_member(self, account_id: int, team_id: int, user_id: int) -> TeamMember | None:
        statement = self.scoped_statement(account_id).where(
            TeamMember.team_id == team_id, TeamMember.user_id == user_id
        )
        return await self.one_or_none(statement)

    async def members(self, account_id: int, team_id: int | None = None) -> list[tuple[int, User]]:
        """(team_id, user) pairs of the account, or of one team, ordered by the user's name."""
        statement = self.scoped_statement(account_id).join(User, User.id == TeamMember.user_id).add_columns(User)
        if team_id is not None:
            statement = statement.where(TeamMember.team_id == team_id)
        rows = await self.session.execute(statement.order_by(func.lower(User.name), User.id))
        return [(row[0].team_id, row[1]) for row in rows]

    async def team_ids_of(self, account_id: int, user_id: int) -> list[int]:
        statement = self.scoped_statement(account_id).where(TeamMember.user_id == user_id)
        return list((await self.session.execute(statement.with_only_columns(TeamMember.team_id))).scalars())

    async def delete(self, member: TeamMember) -> None:
        await self.session.delete(member)
        await self.session.flush()
