from __future__ import annotations

from sqlalchemy import select

from mostrador.kit.repository import RepositoryBase
from mostrador.models import ChannelKind, Inbox


class InboxRepository(RepositoryBase[Inbox]):
    model = Inbox

    async def get_by_channel_key(self, kind: ChannelKind, key: str) -> Inbox | None:
        """Webhook routing happens before the tenant is known: the channel key is globally unique."""
        return await self.one_or_none(select(Inbox).where(Inbox.channel_kind == kind, Inbox.channel_key == key))

    async def by_business_account(self, business_account_id: str) -> list[Inbox]:
        return await self.all(select(Inbox).where(Inbox.business_account_id == business_account_id))
