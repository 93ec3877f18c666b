from __future__ import annotations

from sqlalchemy import or_

from mostrador.kit.repository import RepositoryBase
from mostrador.models import CannedResponse


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CannedResponseRepository(RepositoryBase[CannedResponse]):
    model = CannedResponse

    async def list_by_code(self, account_id: int) -> list[CannedResponse]:
        return await self.all(self.scoped_statement(account_id).order_by(CannedResponse.short_code))

    async def get_by_code(self, account_id: int, short_code: str) -> CannedResponse | None:
        return await self.one_or_none(self.scoped_statement(account_id).where(CannedResponse.short_code == short_code))

    async def search(self, account_id: int, query: str, *, limit: int) -> list[CannedResponse]:
        pattern = _like_escape(query.strip().lower())
        statement = self.scoped_statement(account_id).where(
            or_(
                CannedResponse.short_code.like(f"{pattern}%", escape="\\"),
                CannedResponse.content.ilike(f"%{pattern}%", escape="\\"),
            )
        )
        return await self.all(statement.order_by(CannedResponse.short_code).limit(limit))

    async def delete(self, response: CannedResponse) -> None:
        await self.session.delete(response)
        await self.session.flush()
