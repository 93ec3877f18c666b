from __future__ import annotations

from sqlalchemy import func, select

from mostrador.kit.repository import RepositoryBase
from mostrador.models import ApiToken, Role, User


class UserRepository(RepositoryBase[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        return await self.one_or_none(select(User).where(func.lower(User.email) == email.lower()))

    async def get_active(self, user_id: int) -> User | None:
        return await self.one_or_none(select(User).where(User.id == user_id, User.is_active.is_(True)))

    async def list_by_name(self, account_id: int) -> list[User]:
        return await self.all(self.scoped_statement(account_id).order_by(func.lower(User.name), User.id))

    async def count_active_admins(self, account_id: int) -> int:
        statement = self.scoped_statement(account_id).where(User.role == Role.admin, User.is_active.is_(True))
        return len(await self.all(statement))


class ApiTokenRepository(RepositoryBase[ApiToken]):
    model = ApiToken

    async def get_by_hash(self, token_hash: str) -> ApiToken | None:
        return await self.one_or_none(
            select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        )
