from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.accounts.service import account as account_service
from mostrador.conversations.activity import activity_text
from mostrador.conversations.queue import offer_capacity
from mostrador.conversations.repository import LOAD_STATUSES, ConversationRepository
from mostrador.conversations.schemas import (
    ContactSummary,
    ConversationFilters,
    ConversationPage,
    ConversationRead,
    ConversationUpdate,
    LabelSummary,
)
from mostrador.conversations.window import window_expiry, window_state
from mostrador.exceptions import NotFound, Unprocessable
from mostrador.inboxes.adapters import capabilities_for
from mostrador.inboxes.repository import InboxRepository
from mostrador.kit.db.savepoint import savepoint
from mostrador.kit.pagination import decode_cursor, encode_cursor
from mostrador.kit.tenancy import scoped
from mostrador.kit.time import utc_now
from mostrador.models import (
    Account,
    Availability,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Inbox,
    Label,
    Message,
    MessageStatus,
    SenderKind,
    Team,
    User,
)
from mostrador.realtime import RealtimeEvent, publish
from mostrador.worker import enqueue

PREVIEW_LENGTH = 200


class _AgentPool:
    """Online agents of an account around one locked inbox row: who gets the next conversation, round robin."""

    def __init__(self, inbox: Inbox, agents: list[User], load: dict[int, int]) -> None:
        self.inbox = inbox
        self.agents = agents
        self.load = load

    def room(self) -> int:
        return sum(max(0, agent.max_open_conversations - self.load.get(agent.id, 0)) for agent in self.agents)

    def take(self) -> User | None:
        """The next agent after the inbox's last one with a free place (counted as taken), or None."""
        last = self.inbox.last_assigned_user_id or 0
        ordered = [a for a in self.agents if a.id > last] + [a for a in self.agents if a.id <= last]
        for agent in ordered:
            if self.load.get(agent.id, 0) < agent.max_open_conversations:
                self.load[agent.id] = self.load.get(agent.id, 0) + 1
                self.inbox.last_assigned_user_id = agent.id
                return agent
        return None


class ConversationService:
    # -- reading ---------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, account_id: int, conversation_id: int) -> Conversation:
        found = await ConversationRepository.from_session(session).get_with_contact(account_id, conversation_id)
        if found is None:
            raise NotFound(f"conversation {conversation_id} not found", code="conversation_not_found")
        return found

    async def page(
        self, session: AsyncSession, user: User, filters: ConversationFilters, *, cursor: str | None, limit: int
    ) -> ConversationPage:
        repository = ConversationRepository.from_session(session)
        rows = await repository.page(
            user.account_id, user.id, filters, after=decode_cursor(cursor) if cursor else None, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        labels = await repository.labels_for(user.account_id, [row.id for row in rows])
        windows = await self._reply_windows(session, user.account_id)
        items = [self.read(row, labels.get(row.id, []), windows.get(row.inbox_id)) for row in rows]
        next_cursor = encode_cursor(rows[-1].last_activity_at, rows[-1].id) if more and rows else None
        return ConversationPage(items=items, next_cursor=next_cursor)

    async def read_one(self, session: AsyncSession, conversation: Conversation) -> ConversationRead:
        labels = await ConversationRepository.from_session(session).labels_for(
            conversation.account_id, [conversation.id]
        )
        windows = await self._reply_windows(session, conversation.account_id)
        return self.read(conversation, labels.get(conversation.id, []), windows.get(conversation.inbox_id))

    async def _reply_windows(self, session: AsyncSession, account_id: int) -> dict[int, timedelta | None]:
        inboxes = await InboxRepository.from_session(session).list_for_account(account_id)
        return {inbox.id: capabilities_for(inbox.channel_kind).reply_window for inbox in inboxes}

    def read(self, conversation: Conversation, labels: list[Label], reply_window: timedelta | None) -> ConversationRead:
        state = window_state(conversation, reply_window)
        return ConversationRead(
            id=conversation.id,
            display_id=conversation.display_id,
            inbox_id=conversation.inbox_id,
            contact=ContactSummary.model_validate(conversation.contact),
            status=conversation.status,
            priority=conversation.priority,
            assignee_id=conversation.assignee_id,
            team_id=conversation.team_id,
            labels=[LabelSummary.model_validate(label) for label in labels],
            unread_count=conversation.unread_count,
            last_message_preview=conversation.last_message_preview,
            last_activity_at=conversation.last_activity_at,
            window_expires_at=conversation.window_expires_at,
            window_open=state.open,
            snoozed_until=conversation.snoozed_until,
            created_at=conversation.created_at,
        )

    # -- inbound routing -------------------------------------------------------------------------

    async def route_inbound(self, session: AsyncSession, inbox: Inbox, contact: Contact) -> Conversation:
        """The contact's active conversation in this inbox, or a new one (a resolved one is never reused)."""
        repository = ConversationRepository.from_session(session)
        for _attempt in range(3):
            existing = await repository.active_for(inbox.account_id, inbox.id, contact.id)
            if existing is not None:
                return existing
            try:
                async with savepoint(session):
                    return await self._open(session, inbox, contact)
            except IntegrityError:
                continue  # a concurrent job opened it; read it back
        existing = await repository.active_for(inbox.account_id, inbox.id, contact.id)
        if existing is None:
            raise RuntimeError("could not open or find the active conversation")
        return existing

    async def route_inbound_many(
        self, session: AsyncSession, inbox: Inbox, contacts: Sequence[Contact]
    ) -> dict[int, Conversation]:
        """``route_inbound`` for many contacts, by contact id: the active ones in one locked query, the others
        opened together (one number reservation, one insert, one assignment pool)."""
        by_id = {contact.id: contact for contact in contacts}
        active = await ConversationRepository.from_session(session).active_for_contacts_for_update(
            inbox.account_id, inbox.id, sorted(by_id)
        )
        routed = {conversation.contact_id: conversation for conversation in active}
        missing = [by_id[contact_id] for contact_id in sorted(by_id) if contact_id not in routed]
        if not missing:
            return routed
        try:
            async with savepoint(session):
                routed.update(await self._open_many(session, inbox, missing))
        except IntegrityError:
            # A concurrent job opened one of them first: one by one, each reads back what is there.
            for contact in missing:
                routed[contact.id] = await self.route_inbound(session, inbox, contact)
        return routed

    async def open_for_outbound(self, session: AsyncSession, inbox: Inbox, contact: Contact) -> Conversation:
        """Business-initiated: reuse the active conversation or open one (used by template starts)."""
        return await self.route_inbound(session, inbox, contact)

    async def _open(self, session: AsyncSession, inbox: Inbox, contact: Contact) -> Conversation:
        return (await self._open_many(session, inbox, [contact]))[contact.id]

    async def _open_many(
        self, session: AsyncSession, inbox: Inbox, contacts: Sequence[Contact]
    ) -> dict[int, Conversation]:
        numbers = await account_service.next_conversation_numbers(session, inbox.account_id, len(contacts))
        now = utc_now()
        rows = [
            {
                "account_id": inbox.account_id,
                "display_id": number,
                "inbox_id": inbox.id,
                "contact_id": contact.id,
                "status": ConversationStatus.open,
                "last_activity_at": now,
            }
            for contact, number in zip(contacts, numbers, strict=True)
        ]
        # One multi-row INSERT … RETURNING (the unit of work's flush takes a statement per row on SQLite).
        inserted = {c.contact_id: c for c in await session.scalars(insert(Conversation).returning(Conversation), rows)}
        opened = {contact.id: inserted[contact.id] for contact in contacts}
        if inbox.auto_assign:
            pool = await self._pool(session, inbox.id)
            for conversation in opened.values():
                await self._auto_assign(session, pool, conversation)
        for conversation in opened.values():
            publish(
                session, RealtimeEvent(inbox.account_id, "conversation.created", {"conversation_id": conversation.id})
            )
        return opened

    async def _auto_assign(self, session: AsyncSession, pool: _AgentPool | None, conversation: Conversation) -> None:
        """Round robin among online agents under their capacity; the queue (unassigned) when all are full."""
        agent = pool.take() if pool is not None else None
        if agent is not None:
            conversation.assignee_id = agent.id
            await session.flush()
            await self._activity(session, conversation, "auto_assigned", None, target=agent.name)

    async def _pool(self, session: AsyncSession, inbox_id: int) -> _AgentPool | None:
        """The inbox row locked for assignment, with its online agents and their load; None if nobody is online."""
        # FOR NO KEY UPDATE: compatible with the KEY SHARE locks that inserting rows referencing this inbox takes
        # (contact identities, conversations); a plain FOR UPDATE deadlocks two first-time customers on PostgreSQL.
        locked = (
            await session.execute(select(Inbox).where(Inbox.id == inbox_id).with_for_update(key_share=True))
        ).scalar_one_or_none()
        if locked is None:
            return None
        agents = list(
            (
                await session.execute(
                    scoped(select(User), User, locked.account_id)
                    .where(User.is_active.is_(True), User.availability == Availability.online)
                    .order_by(User.id)
                )
            ).scalars()
        )
        if not agents:
            return None
        load = await ConversationRepository.from_session(session).open_count_by_assignee(
            locked.account_id, [agent.id for agent in agents]
        )
        return _AgentPool(locked, agents, load)

    # -- the queue: waiting conversations get an agent when capacity appears ----------------------------------

    async def inboxes_with_waiting(self, session: AsyncSession, account_id: int) -> list[int]:
        return await ConversationRepository.from_session(session).inboxes_with_waiting(account_id)

    async def assign_waiting(self, session: AsyncSession, inbox_id: int) -> int:
        """Give waiting conversations of one inbox (oldest first) to online agents with room; how many got one.

        Holds the same inbox row lock as the assignment of a new conversation, so the two never hand out the
        same place twice; idempotent, so ringing twice is harmless.
        """
        pool = await self._pool(session, inbox_id)
        if pool is None or not pool.inbox.auto_assign or pool.room() <= 0:
            return 0
        repository = ConversationRepository.from_session(session)
        waiting = await repository.waiting_for_update(pool.inbox.account_id, pool.inbox.id, limit=pool.room())
        assigned = 0
        for conversation in waiting:
            agent = pool.take()
            if agent is None:
                break
            conversation.assignee_id = agent.id
            await session.flush()
            await self._activity(session, conversation, "auto_assigned", None, target=agent.name)
            self._changed(session, conversation, "assigned")
            assigned += 1
        return assigned

    async def sweep_waiting(self, session: AsyncSession, stale_before: datetime) -> int:
        """Re-ring accounts whose queue waits while an online agent has room (a doorbell was lost)."""
        repository = ConversationRepository.from_session(session)
        rung = 0
        for account_id in await repository.accounts_with_waiting(stale_before):
            agents = list(
                (
                    await session.execute(
                        scoped(select(User), User, account_id).where(
                            User.is_active.is_(True), User.availability == Availability.online
                        )
                    )
                ).scalars()
            )
            load = await repository.open_count_by_assignee(account_id, [agent.id for agent in agents])
            if any(load.get(agent.id, 0) < agent.max_open_conversations for agent in agents):
                offer_capacity(session, account_id)
                rung += 1
        return rung

    def note_customer_message(
        self, conversation: Conversation, *, at: datetime, preview: str, reply_window: timedelta | None
    ) -> None:
        """Every inbound customer message refreshes the service window (never moves it backwards)."""
        if conversation.last_customer_message_at is None or at > conversation.last_customer_message_at:
            conversation.last_customer_message_at = at
            conversation.window_expires_at = window_expiry(at, reply_window)
        conversation.last_activity_at = max(conversation.last_activity_at, at)
        conversation.last_message_preview = preview[:PREVIEW_LENGTH]
        conversation.unread_count += 1
        if conversation.status is ConversationStatus.snoozed:
            conversation.status = ConversationStatus.open
            conversation.snoozed_until = None

    def note_outbound_message(self, conversation: Conversation, *, at: datetime, preview: str) -> None:
        conversation.last_activity_at = max(conversation.last_activity_at, at)
        conversation.last_message_preview = preview[:PREVIEW_LENGTH]

    # -- agent actions ---------------------------------------------------------------------------

    async def mark_read(self, session: AsyncSession, conversation: Conversation) -> None:
        if conversation.unread_count:
            conversation.unread_count = 0
            await session.flush()
            self._changed(session, conversation, "read")
            enqueue(session, "messages.read_receipt", conversation.id)  # the customer sees blue ticks

    async def update(
        self, session: AsyncSession, actor: User, conversation: Conversation, data: ConversationUpdate
    ) -> Conversation:
        fields = data.model_fields_set
        if "assignee_id" in fields and data.assignee_id != conversation.assignee_id:
            await self.assign(session, actor, conversation, data.assignee_id)
        if "team_id" in fields and data.team_id != conversation.team_id:
            await self.set_team(session, actor, conversation, data.team_id)
        if "priority" in fields and data.priority is not None and data.priority != conversation.priority:
            conversation.priority = data.priority
            await self._activity(session, conversation, "priority", actor, target=data.priority.value)
        if "labels" in fields and data.labels is not None:
            await self.set_labels(session, actor, conversation, data.labels)
        resnooze = data.status is ConversationStatus.snoozed and data.snoozed_until != conversation.snoozed_until
        if "status" in fields and data.status is not None and (data.status != conversation.status or resnooze):
            await self.set_status(session, actor, conversation, data.status, snoozed_until=data.snoozed_until)
        await session.flush()
        self._changed(session, conversation, "updated")
        return conversation

    async def assign(self, session: AsyncSession, actor: User, conversation: Conversation, user_id: int | None) -> None:
        previous = conversation.assignee_id
        if user_id is None:
            conversation.assignee_id = None
            await self._activity(session, conversation, "unassigned", actor)
        else:
            assignee = (
                await session.execute(
                    scoped(select(User), User, conversation.account_id).where(
                        User.id == user_id, User.is_active.is_(True)
                    )
                )
            ).scalar_one_or_none()
            if assignee is None:
                raise NotFound(f"agent {user_id} not found in this account", code="agent_not_found")
            conversation.assignee_id = assignee.id
            await self._activity(session, conversation, "assigned", actor, target=assignee.name)
        handed_over = previous is not None and previous != conversation.assignee_id
        if handed_over and conversation.status in LOAD_STATUSES:
            offer_capacity(session, conversation.account_id)  # the previous assignee has a place free
        elif conversation.assignee_id is None and conversation.status is ConversationStatus.open:
            offer_capacity(session, conversation.account_id)  # back in the queue

    async def set_team(
        self, session: AsyncSession, actor: User, conversation: Conversation, team_id: int | None
    ) -> None:
        team = None
        if team_id is not None:
            team = (
                await session.execute(scoped(select(Team), Team, conversation.account_id).where(Team.id == team_id))
            ).scalar_one_or_none()
            if team is None:
                raise NotFound(f"team {team_id} not found in this account", code="team_not_found")
        conversation.team_id = team.id if team else None
        await self._activity(session, conversation, "team", actor, target=team.name if team else "—")

    async def set_labels(
        self, session: AsyncSession, actor: User, conversation: Conversation, names: list[str]
    ) -> None:
        repository = ConversationRepository.from_session(session)
        wanted = sorted({name.strip() for name in names if name.strip()})
        labels = await repository.labels_by_name(conversation.account_id, wanted)
        unknown = sorted(set(wanted) - {label.name for label in labels})
        if unknown:
            raise Unprocessable(f"unknown labels: {', '.join(unknown)}; create them first", code="label_not_found")
        await repository.set_labels(conversation.account_id, conversation.id, [label.id for label in labels])
        await self._activity(session, conversation, "labels", actor, target=", ".join(wanted) or "—")

    async def set_status(
        self,
        session: AsyncSession,
        actor: User,
        conversation: Conversation,
        status: ConversationStatus,
        *,
        snoozed_until: datetime | None = None,
    ) -> None:
        if status is ConversationStatus.snoozed:
            if snoozed_until is None or snoozed_until <= utc_now():
                raise Unprocessable("snoozing needs a snoozed_until in the future", code="snooze_time")
            conversation.snoozed_until = snoozed_until
        else:
            conversation.snoozed_until = None
        if status is not ConversationStatus.resolved and conversation.status is ConversationStatus.resolved:
            other = await ConversationRepository.from_session(session).active_for(
                conversation.account_id, conversation.inbox_id, conversation.contact_id
            )
            if other is not None and other.id != conversation.id:
                raise Unprocessable(
                    f"this customer already has an open conversation (#{other.display_id}) in this inbox",
                    code="already_open",
                )
        frees_a_place = conversation.status in LOAD_STATUSES and status not in LOAD_STATUSES
        conversation.status = status
        if conversation.assignee_id is not None and frees_a_place:
            offer_capacity(session, conversation.account_id)
        elif conversation.assignee_id is None and status is ConversationStatus.open:
            offer_capacity(session, conversation.account_id)  # reopened into the queue
        target = snoozed_until.isoformat(timespec="minutes") if snoozed_until else ""
        await self._activity(session, conversation, f"status.{status.value}", actor, target=target)

    async def wake_snoozed(self, session: AsyncSession, now: datetime) -> int:
        """Reopen the snoozed conversations whose time has come (the sweeper calls this); how many woke."""
        due = await ConversationRepository.from_session(session).snoozed_until_before_for_update(now)
        for conversation in due:
            conversation.status = ConversationStatus.open
            conversation.snoozed_until = None
            if conversation.assignee_id is None:
                offer_capacity(session, conversation.account_id)  # back in the queue
            await self._activity(session, conversation, "snooze_ended", None)
            self._changed(session, conversation, "status")
        return len(due)

    async def _activity(
        self, session: AsyncSession, conversation: Conversation, kind: str, actor: User | None, *, target: str = ""
    ) -> Message:
        account = await session.get(Account, conversation.account_id)
        locale = account.locale if account else "es"
        text = activity_text(kind, locale, actor=actor.name if actor else "Mostrador", target=target)
        message = Message(
            account_id=conversation.account_id,
            inbox_id=conversation.inbox_id,
            conversation_id=conversation.id,
            direction=Direction.outbound,
            sender_kind=SenderKind.system,
            sender_user_id=actor.id if actor else None,
            type="activity",
            text=text,
            content={"activity": kind, "target": target},
            is_private=True,
            status=MessageStatus.sent,
        )
        session.add(message)
        await session.flush()
        publish(
            session,
            RealtimeEvent(
                conversation.account_id,
                "message.created",
                {"conversation_id": conversation.id, "message_id": message.id, "inbox_id": conversation.inbox_id},
            ),
        )
        return message

    def _changed(self, session: AsyncSession, conversation: Conversation, what: str) -> None:
        publish(
            session,
            RealtimeEvent(
                conversation.account_id,
                "conversation.updated",
                {
                    "conversation_id": conversation.id,
                    "what": what,
                    "status": conversation.status.value,
                    "assignee_id": conversation.assignee_id,
                },
            ),
        )


conversation = ConversationService()
