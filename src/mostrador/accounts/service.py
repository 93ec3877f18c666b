from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.models import Account


class AccountService:
    async def create(
        self, session: AsyncSession, *, name: str, locale: str = "es", timezone: str = "Europe/Madrid"
    ) -> Account:
        account = Account(name=name, locale=locale, timezone=timezone)
        session.add(account)
        await session.flush()
        return account

    async def get(self, session: AsyncSession, account_id: int) -> Account | None:
        return await session.get(Account, account_id)

    async def first(self, session: AsyncSession) -> Account | None:
        return (await session.execute(select(Account).order_by(Account.id).limit(1))).scalar_one_or_none()

    async def next_conversation_number(self, session: AsyncSession, account_id: int) -> int:
        """Per-account display numbers (#1, #2, …); the UPDATE … RETURNING holds the row lock."""
        result = await session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(next_conversation_number=Account.next_conversation_number + 1)
            .returning(Account.next_conversation_number)
        )
        return int(result.scalar_one()) - 1


account = AccountService()
