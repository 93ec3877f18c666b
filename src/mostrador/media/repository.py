from __future__ import annotations

from sqlalchemy import select

from mostrador.kit.repository import RepositoryBase
from mostrador.models import Attachment


class AttachmentRepository(RepositoryBase[Attachment]):
    model = Attachment

    async def for_message(self, account_id: int, message_id: int) -> Attachment | None:
        """A message has at most one file: the customer's media, or what an agent attached."""
        statement = (
            self.scoped_statement(account_id)
            .where(Attachment.message_id == message_id)
            .order_by(Attachment.id)
            .limit(1)
        )
        return await self.one_or_none(statement)

    async def get_unscoped(self, attachment_id: int) -> Attachment | None:
        """Jobs carry only ids; the row itself says which account it belongs to."""
        return await self.one_or_none(select(Attachment).where(Attachment.id == attachment_id))
