from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select

from mostrador.kit.repository import RepositoryBase
from mostrador.kit.tenancy import scoped
from mostrador.models import Direction, Message, MessageStatusEvent


class MessageRepository(RepositoryBase[Message]):
    model = Message

    async def by_provider_id(self, account_id: int, inbox_id: int, provider_message_id: str) -> Message | None:
        statement = scoped(select(Message), Message, account_id).where(
            Message.inbox_id == inbox_id, Message.provider_message_id == provider_message_id
        )
        return await self.one_or_none(statement)

    async def by_provider_ids(
        self, account_id: int, inbox_id: int, provider_message_ids: Collection[str]
    ) -> list[Message]:
        statement = scoped(select(Message), Message, account_id).where(
            Message.inbox_id == inbox_id, self.one_of(Message.provider_message_id, provider_message_ids)
        )
        return list((await self.session.execute(statement)).scalars())

    async def by_provider_id_for_update(
        self, account_id: int, inbox_id: int, provider_message_id: str
    ) -> Message | None:
        """Locked (PostgreSQL) so concurrent status jobs fold one message one after the other."""
        statement = (
            scoped(select(Message), Message, account_id)
            .where(Message.inbox_id == inbox_id, Message.provider_message_id == provider_message_id)
            .with_for_update()
        )
        return await self.one_or_none(statement)

    async def by_provider_ids_for_update(
        self, account_id: int, inbox_id: int, provider_message_ids: Collection[str]
    ) -> list[Message]:
        """Many at once, locked in id order (every locker takes the same order, so no deadlock between batches)."""
        statement = (
            scoped(select(Message), Message, account_id)
            .where(Message.inbox_id == inbox_id, self.one_of(Message.provider_message_id, provider_message_ids))
            .order_by(Message.id)
            .with_for_update()
        )
        return list((await self.session.execute(statement)).scalars())

    async def by_idempotency_key(self, account_id: int, key: str) -> Message | None:
        statement = scoped(select(Message), Message, account_id).where(Message.idempotency_key == key)
        return await self.one_or_none(statement)

    async def page_for_conversation(
        self, account_id: int, conversation_id: int, *, before_id: int | None, limit: int
    ) -> list[Message]:
        """The newest ``limit`` messages older than ``before_id``, oldest first; uses (conversation_id, id)."""
        statement = (
            scoped(select(Message), Message, account_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            statement = statement.where(Message.id < before_id)
        rows = list((await self.session.execute(statement)).scalars())
        rows.reverse()
        return rows

    async def latest_inbound_with_provider_id(self, account_id: int, conversation_id: int) -> Message | None:
        statement = (
            scoped(select(Message), Message, account_id)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.inbound,
                Message.provider_message_id.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return await self.one_or_none(statement)

    async def get_unscoped(self, message_id: int) -> Message | None:
        """Jobs carry only ids; the row itself says which account it belongs to."""
        return await self.one_or_none(select(Message).where(Message.id == message_id))


class MessageStatusEventRepository(RepositoryBase[MessageStatusEvent]):
    model = MessageStatusEvent

    async def for_message(self, account_id: int, message_id: int) -> Sequence[MessageStatusEvent]:
        statement = (
            scoped(select(MessageStatusEvent), MessageStatusEvent, account_id)
            .where(MessageStatusEvent.message_id == message_id)
            .order_by(MessageStatusEvent.occurred_at, MessageStatusEvent.id)
        )
        return await self.all(statement)

    async def for_messages(self, account_id: int, message_ids: Collection[int]) -> dict[int, list[MessageStatusEvent]]:
        statement = (
            scoped(select(MessageStatusEvent), MessageStatusEvent, account_id)
            .where(self.one_of(MessageStatusEvent.message_id, message_ids))
            .order_by(MessageStatusEvent.occurred_at, MessageStatusEvent.id)
        )
        timelines: dict[int, list[MessageStatusEvent]] = {}
        for event in await self.all(statement):
            timelines.setdefault(event.message_id, []).append(event)
        return timelines
