from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from mostrador.kit.db.upsert import dialect_insert
from mostrador.kit.repository import RepositoryBase
from mostrador.kit.tenancy import scoped
from mostrador.kit.time import as_utc
from mostrador.messages.status import TimelineEntry, TrackedMessage
from mostrador.models import Direction, Message, MessageStatus, MessageStatusEvent


class MessageRepository(RepositoryBase[Message]):
    model = Message

    async def by_provider_id(self, account_id: int, inbox_id: int, provider_message_id: str) -> Message | None:
        statement = scoped(select(Message), Message, account_id).where(
            Message.inbox_id == inbox_id, Message.provider_message_id == provider_message_id
        )
        return await self.one_or_none(statement)

    async def ids_by_provider_id(
        self, account_id: int, inbox_id: int, provider_message_ids: Collection[str]
    ) -> dict[str, int]:
        """The ids of the messages with these wamids that are recorded (only the two columns: this runs for every
        batch of customer messages)."""
        statement = scoped(select(Message.provider_message_id, Message.id), Message, account_id).where(
            Message.inbox_id == inbox_id, self.one_of(Message.provider_message_id, provider_message_ids)
        )
        return {str(wamid): int(id_) for wamid, id_ in await self.session.execute(statement)}

    async def insert_new(self, rows: Sequence[dict[str, object]]) -> dict[str, int]:
        """Insert inbound messages in one statement; the new ones' ids by wamid (a wamid recorded meanwhile by a
        concurrent job is skipped). Plain rows back, not entities: this runs for every customer message."""
        statement = (
            dialect_insert(self.session, _MESSAGES)
            .on_conflict_do_nothing()
            .returning(_MESSAGES.c.id, _MESSAGES.c.provider_message_id)
        )
        return {str(wamid): int(id_) for id_, wamid in await self.session.execute(statement, rows)}

    async def set_reply_to(self, pairs: Sequence[tuple[int, int]]) -> None:
        """(message id, id of the message it quotes), for quotes of a message inserted in the same batch."""
        if pairs:
            await self.session.execute(_SET_REPLY_TO, [{"_id": id_, "_reply_to_id": quoted} for id_, quoted in pairs])

    async def postpone_held_slots(
        self, account_id: int, inbox_id: int, seconds: float, *, conversation_id: int | None = None
    ) -> int:
        """Deferred sends of a number (or of one conversation) that hold a rate-limit slot go ``seconds`` later,
        keeping their spacing; how many. Locked in id order, as every locker of messages does."""
        statement = scoped(select(Message.id, Message.send_slot_at), Message, account_id).where(
            Message.inbox_id == inbox_id, Message.status == MessageStatus.queued, Message.send_slot_at.is_not(None)
        )
        if conversation_id is not None:
            statement = statement.where(Message.conversation_id == conversation_id)
        rows = (await self.session.execute(statement.order_by(Message.id).with_for_update())).all()
        later = timedelta(seconds=seconds)
        slots = [{"_id": id_, "_slot": as_utc(slot) + later} for id_, slot in rows if slot is not None]
        if slots:
            await self.session.execute(_POSTPONE, slots)
        return len(slots)

    async def tracked_for_update(
        self, account_id: int, inbox_id: int, provider_message_ids: Collection[str]
    ) -> dict[str, TrackedMessage]:
        """The status columns of these wamids' messages, locked in id order (every locker takes the same order,
        so no deadlock between batches). Plain rows, not entities: receipts are most of our traffic."""
        statement = (
            scoped(select(Message.provider_message_id, *_TRACKED), Message, account_id)
            .where(Message.inbox_id == inbox_id, self.one_of(Message.provider_message_id, provider_message_ids))
            .order_by(Message.id)
            .with_for_update()
        )
        return {str(row[0]): TrackedMessage(*row[1:]) for row in await self.session.execute(statement)}

    async def adopt_provider_id(self, account_id: int, key: str, provider_message_id: str) -> TrackedMessage | None:
        """Our send's answer was lost, but Meta accepted it: the message sent with this idempotency key takes
        the wamid (unless it has one already), so it is not sent again."""
        statement = (
            scoped(select(*_TRACKED), Message, account_id)
            .where(Message.idempotency_key == key, Message.provider_message_id.is_(None))
            .with_for_update()
        )
        row = (await self.session.execute(statement)).one_or_none()
        if row is None:
            return None
        tracked = TrackedMessage(*row)
        await self.session.execute(
            update(Message).where(Message.id == tracked.id).values(provider_message_id=provider_message_id)
        )
        return tracked

    async def save_folded(self, messages: Sequence[TrackedMessage]) -> None:
        """One executemany for the lot; entities of these messages already in the session see the new values."""
        if not messages:
            return
        rows = [
            {
                "_id": m.id,
                "_status": m.status,
                "_error_code": m.error_code,
                "_error_title": m.error_title,
                "_error_detail": m.error_detail,
                "_pricing": m.pricing,
                "_provider_timestamp": m.provider_timestamp,
            }
            for m in messages
        ]
        await self.session.execute(_SAVE_FOLDED, rows)
        identity_map = self.session.sync_session.identity_map
        for message in messages:
            loaded = identity_map.get(identity_key(Message, message.id))
            if loaded is not None:
                for name in _FOLDED_NAMES:
                    set_committed_value(loaded, name, getattr(message, name))

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

    async def insert_new(self, rows: Sequence[dict[str, object]]) -> set[int]:
        """Many timeline rows in one statement; a (message, status) already there is skipped. The ids of the
        messages that got a new status."""
        table = cast(Table, MessageStatusEvent.__table__)
        statement = (
            dialect_insert(self.session, table)
            .on_conflict_do_nothing(index_elements=["message_id", "status"])
            .returning(table.c.message_id)
        )
        return set((await self.session.execute(statement, rows)).scalars())

    async def retire(self, account_id: int, message_id: int) -> list[TimelineEntry]:
        """Take a message's timeline away (its statuses no longer describe the message) and return it."""
        timeline = (await self.timelines(account_id, [message_id])).get(message_id, [])
        statement = scoped(delete(MessageStatusEvent), MessageStatusEvent, account_id)
        await self.session.execute(
            statement.where(MessageStatusEvent.message_id == message_id).execution_options(synchronize_session=False)
        )
        return timeline

    async def timelines(self, account_id: int, message_ids: Collection[int]) -> dict[int, list[TimelineEntry]]:
        """Each message's statuses in time order, as plain rows."""
        statement = (
            scoped(
                select(
                    MessageStatusEvent.message_id,
                    MessageStatusEvent.status,
                    MessageStatusEvent.occurred_at,
                    MessageStatusEvent.detail,
                ),
                MessageStatusEvent,
                account_id,
            )
            .where(self.one_of(MessageStatusEvent.message_id, message_ids))
            .order_by(MessageStatusEvent.occurred_at, MessageStatusEvent.id)
        )
        timelines: dict[int, list[TimelineEntry]] = {}
        for message_id, status, occurred_at, detail in await self.session.execute(statement):
            timelines.setdefault(message_id, []).append(TimelineEntry(status, occurred_at, detail))
        return timelines


_TRACKED = (
    Message.id,
    Message.conversation_id,
    Message.status,
    Message.error_code,
    Message.error_title,
    Message.error_detail,
    Message.pricing,
    Message.provider_timestamp,
)
_FOLDED_NAMES = ("status", "error_code", "error_title", "error_detail", "pricing", "provider_timestamp")
_MESSAGES = cast(Table, Message.__table__)
_SET_REPLY_TO = (
    update(_MESSAGES).where(_MESSAGES.c.id == bindparam("_id")).values(reply_to_id=bindparam("_reply_to_id"))
)
_POSTPONE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("_id"))
    .values(send_slot_at=bindparam("_slot"), next_attempt_at=bindparam("_slot"))
)
# Built once: the same statement for every batch of receipts (building it cost more than running it).
_SAVE_FOLDED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("_id"))
    .values({name: bindparam(f"_{name}") for name in _FOLDED_NAMES})
)
