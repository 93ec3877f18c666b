from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import joinedload

from mostrador.conversations.schemas import ConversationFilters, View
from mostrador.kit.repository import RepositoryBase
from mostrador.kit.tenancy import scoped
from mostrador.messages.search import matching_conversation_ids
from mostrador.models import Conversation, ConversationLabel, ConversationStatus, Inbox, Label

# What counts against an agent's capacity: conversations still in their hands. Snoozed ones wait for a date
# and resolved ones are done, so neither takes a place.
LOAD_STATUSES = (ConversationStatus.open, ConversationStatus.pending)


class ConversationRepository(RepositoryBase[Conversation]):
    model = Conversation

    async def active_for(self, account_id: int, inbox_id: int, contact_id: int) -> Conversation | None:
        statement = scoped(select(Conversation), Conversation, account_id).where(
            Conversation.inbox_id == inbox_id,
            Conversation.contact_id == contact_id,
            Conversation.status != ConversationStatus.resolved,
        )
        return await self.one_or_none(statement)

    async def active_for_contacts_for_update(
        self, account_id: int, inbox_id: int, contact_ids: Sequence[int]
    ) -> list[Conversation]:
        """Locked in id order, the order every batch of inbound messages takes them in (no deadlock between two)."""
        statement = (
            scoped(select(Conversation), Conversation, account_id)
            .where(
                Conversation.inbox_id == inbox_id,
                self.one_of(Conversation.contact_id, contact_ids),
                Conversation.status != ConversationStatus.resolved,
            )
            .order_by(Conversation.id)
            .with_for_update()
        )
        return await self.all(statement)

    async def get_with_contact(self, account_id: int, conversation_id: int) -> Conversation | None:
        statement = (
            scoped(select(Conversation), Conversation, account_id)
            .where(Conversation.id == conversation_id)
            .options(joinedload(Conversation.contact))
        )
        return await self.one_or_none(statement)

    async def page(
        self,
        account_id: int,
        user_id: int,
        filters: ConversationFilters,
        *,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> list[Conversation]:
        """Newest activity first; keyset on (last_activity_at, id)."""
        statement = (
            scoped(select(Conversation), Conversation, account_id)
            .options(joinedload(Conversation.contact))
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(limit)
        )
        if filters.status is not None:
            statement = statement.where(Conversation.status == filters.status)
        if filters.inbox_id is not None:
            statement = statement.where(Conversation.inbox_id == filters.inbox_id)
        if filters.view is View.mine:
            statement = statement.where(Conversation.assignee_id == user_id)
        elif filters.view is View.unassigned:
            statement = statement.where(Conversation.assignee_id.is_(None))
        if filters.assignee_id is not None:
            statement = statement.where(Conversation.assignee_id == filters.assignee_id)
        if filters.team_id is not None:
            statement = statement.where(Conversation.team_id == filters.team_id)
        if filters.contact_id is not None:
            statement = statement.where(Conversation.contact_id == filters.contact_id)
        if filters.label_id is not None:
            statement = statement.where(
                Conversation.id.in_(
                    select(ConversationLabel.conversation_id).where(ConversationLabel.label_id == filters.label_id)
                )
            )
        if filters.q:
            statement = statement.where(
                Conversation.id.in_(matching_conversation_ids(self.session, account_id, filters.q))
            )
        if after is not None:
            at, last_id = after
            statement = statement.where(
                or_(
                    Conversation.last_activity_at < at,
                    and_(Conversation.last_activity_at == at, Conversation.id < last_id),
                )
            )
        return list((await self.session.execute(statement)).unique().scalars())

    async def labels_for(self, account_id: int, conversation_ids: Sequence[int]) -> dict[int, list[Label]]:
        if not conversation_ids:
            return {}
        statement = (
            scoped(select(ConversationLabel.conversation_id, Label), Label, account_id)
            .join(ConversationLabel, ConversationLabel.label_id == Label.id)
            .where(self.one_of(ConversationLabel.conversation_id, conversation_ids))
            .order_by(Label.name)
        )
        found: dict[int, list[Label]] = {}
        for conversation_id, label in (await self.session.execute(statement)).all():
            found.setdefault(conversation_id, []).append(label)
        return found

    async def labels_by_name(self, account_id: int, names: Sequence[str]) -> list[Label]:
        if not names:
            return []
        return list(
            (
                await self.session.execute(scoped(select(Label), Label, account_id).where(Label.name.in_(list(names))))
            ).scalars()
        )

    async def set_labels(self, account_id: int, conversation_id: int, label_ids: Sequence[int]) -> None:
        await self.session.execute(
            delete(ConversationLabel).where(ConversationLabel.conversation_id == conversation_id)
        )
        for label_id in label_ids:
            self.session.add(
                ConversationLabel(conversation_id=conversation_id, label_id=label_id, account_id=account_id)
            )
        await self.session.flush()

    async def open_count_by_assignee(self, account_id: int, user_ids: Sequence[int]) -> dict[int, int]:
        statement = (
            scoped(select(Conversation.assignee_id, func.count()), Conversation, account_id)
            .where(self.one_of(Conversation.assignee_id, user_ids), Conversation.status.in_(LOAD_STATUSES))
            .group_by(Conversation.assignee_id)
        )
        return {int(uid): int(n) for uid, n in (await self.session.execute(statement)).all() if uid is not None}

    async def waiting_for_update(self, account_id: int, inbox_id: int, *, limit: int) -> list[Conversation]:
        """The inbox's queue (open, nobody assigned), oldest first, row-locked for assignment.

        SKIP LOCKED: a conversation another transaction is writing (a customer's message, an agent's own
        assignment) is left for the next drain rather than waited for while we hold the inbox lock. NO KEY
        UPDATE, like the inbox lock, so inserting messages that reference these rows is not blocked.
        """
        statement = (
            scoped(select(Conversation), Conversation, account_id)
            .where(
                Conversation.inbox_id == inbox_id,
                Conversation.status == ConversationStatus.open,
                Conversation.assignee_id.is_(None),
            )
            .order_by(Conversation.created_at, Conversation.id)
            .limit(limit)
            .with_for_update(skip_locked=True, key_share=True)
        )
        return list((await self.session.execute(statement)).scalars())

    async def inboxes_with_waiting(self, account_id: int) -> list[int]:
        """Inboxes of the account that assign automatically and have conversations waiting for an agent."""
        statement = (
            scoped(select(Conversation.inbox_id), Conversation, account_id)
            .join(Inbox, Inbox.id == Conversation.inbox_id)
            .where(
                Inbox.auto_assign.is_(True),
                Conversation.status == ConversationStatus.open,
                Conversation.assignee_id.is_(None),
            )
            .distinct()
            .order_by(Conversation.inbox_id)
        )
        return [int(inbox_id) for inbox_id in (await self.session.execute(statement)).scalars()]

    async def snoozed_until_before_for_update(self, moment: datetime, *, limit: int = 500) -> list[Conversation]:
        """Snoozed conversations whose time has come, every account (the sweeper's question), locked."""
        statement = (
            select(Conversation)
            .where(Conversation.status == ConversationStatus.snoozed, Conversation.snoozed_until <= moment)
            .order_by(Conversation.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(statement)).scalars())

    async def accounts_with_waiting(self, created_before: datetime) -> list[int]:
        """Every account with a conversation waiting since before ``created_before`` (the sweeper's question)."""
        statement = (
            select(Conversation.account_id)
            .join(Inbox, Inbox.id == Conversation.inbox_id)
            .where(
                Inbox.auto_assign.is_(True),
                Conversation.status == ConversationStatus.open,
                Conversation.assignee_id.is_(None),
                Conversation.created_at < created_before,
            )
            .distinct()
            .order_by(Conversation.account_id)
            .limit(500)
        )
        return [int(account_id) for account_id in (await self.session.execute(statement)).scalars()]
