from __future__ import annotations

from sqlalchemy import func

from mostrador.kit.repository import RepositoryBase
from mostrador.models import Label


class LabelRepository(RepositoryBase[Label]):
    model = Label

    async def list_by_name(self, account_id: int) -> list[Label]:
        return await self.all(self.scoped_statement(account_id).order_by(func.lower(Label.name), Label.id))

    async def get_by_name(self, account_id: int, name: str) -> Label | None:
        statement = self.scoped_statement(account_id).where(func.lower(Label.name) == name.lower())
        return await self.one_or_none(statement.limit(1))

    async def delete(self, label: Label) -> None:
        await self.session.delete(label)
        await self.session.flush()
