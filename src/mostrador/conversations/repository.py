from __future__ import annotations

from sqlalchemy import select

from mostrador.kit.repository import RepositoryBase
from mostrador.kit.tenancy import scoped
from mostrador.models import Conversation, ConversationStatus


class ConversationRepository(RepositoryBase[Conversation]):
    model = Conversation

    async def active_for(self, account_id: int, inbox_id: int, contact_id: int) -> Conversation | None:
        statement = scoped(select(Conversation), Conversation, account_id).where(
            Conversation.inbox_id == inbox_id,
            Conversation.contact_id == contact_id,
            Conversation.status != ConversationStatus.resolved,
        )
        return await self.one_or_none(statement)

    async def latest_for(self, account_id: int, inbox_id: int, contact_id: int) -> Conversation | None:
        statement = (
            scoped(select(Conversation), Conversation, account_id)
            .where(Conversation.inbox_id == inbox_id, Conversation.contact_id == contact_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        return await self.one_or_none(statement)
