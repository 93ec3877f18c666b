"""What the agent's conversation view shows: a page of messages with their attachments, quoted replies,
reactions, edits, deletions and authors, loaded in a fixed number of queries whatever the conversation's length.

A customer's edit or deletion arrives as a message of its own ("edit" / "revoke", naming the original's wamid).
Like a reaction, it is shown on the message it changes (the new text with "edited", or "deleted") rather than as
a bubble; only when the original is not in this conversation does it stand on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.exceptions import NotFound
from mostrador.kit.repository import RepositoryBase
from mostrador.kit.tenancy import scoped
from mostrador.messages.errors import human_reason
from mostrador.messages.repository import MessageRepository
from mostrador.models import Attachment, Conversation, Direction, Message, User

PAGE_SIZE = 50
NEWER_LIMIT = 200
REACTION = "reaction"
EDIT = "edit"
REVOKE = "revoke"
CORRECTIONS = (EDIT, REVOKE)


@dataclass(frozen=True)
class Reaction:
    emoji: str
    from_customer: bool


@dataclass
class ThreadItem:
    message: Message
    attachment: Attachment | None = None
    reply_to: Message | None = None
    reactions: list[Reaction] = field(default_factory=list)
    author: str | None = None
    error_reason: str | None = None
    edited: Message | None = None  # the customer's latest edit: its text replaces the original's
    deleted: bool = False  # the customer deleted it for everyone

    @property
    def id(self) -> int:
        return self.message.id


@dataclass
class ThreadPage:
    items: list[ThreadItem]
    has_older: bool
    oldest_id: int | None

    @property
    def newest_id(self) -> int | None:
        return max((item.id for item in self.items), default=None)


class ThreadRepository(RepositoryBase[Message]):
    model = Message

    async def newer(self, account_id: int, conversation_id: int, after_id: int, limit: int) -> list[Message]:
        statement = (
            self.scoped_statement(account_id)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.id)
            .limit(limit)
        )
        return await self.all(statement)

    async def by_ids(self, account_id: int, ids: Sequence[int]) -> list[Message]:
        if not ids:
            return []
        return await self.all(self.scoped_statement(account_id).where(Message.id.in_(list(ids))))

    async def annotations(self, account_id: int, conversation_id: int, ids: Sequence[int]) -> list[Message]:
        """Reactions to these messages, and every edit and deletion in the conversation (they name their
        original by wamid, matched by the caller; there are few)."""
        if not ids:
            return []
        statement = (
            self.scoped_statement(account_id)
            .where(
                Message.conversation_id == conversation_id,
                or_(
                    (Message.type == REACTION) & Message.reply_to_id.in_(list(ids)),
                    Message.type.in_(CORRECTIONS),
                ),
            )
            .order_by(Message.id)
        )
        return await self.all(statement)

    async def inbound_by_provider_ids(self, conversation: Conversation, wamids: Sequence[str]) -> list[Message]:
        """The customer's messages with these wamids in this conversation (uses (inbox_id, provider_message_id))."""
        if not wamids:
            return []
        statement = self.scoped_statement(conversation.account_id).where(
            Message.inbox_id == conversation.inbox_id,
            Message.provider_message_id.in_(list(wamids)),
            Message.conversation_id == conversation.id,
            Message.direction == Direction.inbound,
        )
        return await self.all(statement)

    async def attachments_for(self, account_id: int, message_ids: Sequence[int]) -> dict[int, Attachment]:
        if not message_ids:
            return {}
        statement = scoped(select(Attachment), Attachment, account_id).where(
            Attachment.message_id.in_(list(message_ids))
        )
        return {a.message_id: a for a in (await self.session.execute(statement)).scalars()}

    async def user_names(self, account_id: int, user_ids: Sequence[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        statement = scoped(select(User.id, User.name), User, account_id).where(User.id.in_(list(user_ids)))
        return {int(uid): str(name) for uid, name in (await self.session.execute(statement)).all()}

    async def attachment(self, account_id: int, attachment_id: int) -> Attachment | None:
        statement = scoped(select(Attachment), Attachment, account_id).where(Attachment.id == attachment_id)
        return (await self.session.execute(statement)).scalar_one_or_none()


class ThreadService:
    async def page(
        self,
        session: AsyncSession,
        conversation: Conversation,
        *,
        before_id: int | None = None,
        limit: int = PAGE_SIZE,
        locale: str = "es",
    ) -> ThreadPage:
        """The newest ``limit`` messages (older than ``before_id``), oldest first."""
        rows = await MessageRepository.from_session(session).page_for_conversation(
            conversation.account_id, conversation.id, before_id=before_id, limit=limit + 1
        )
        has_older = len(rows) > limit
        rows = rows[-limit:] if has_older else rows
        oldest = rows[0].id if rows else None
        items = await self._items(session, conversation, rows, locale=locale)
        return ThreadPage(items=items, has_older=has_older, oldest_id=oldest)

    async def newer(
        self, session: AsyncSession, conversation: Conversation, *, after_id: int, locale: str = "es"
    ) -> list[ThreadItem]:
        """Messages after ``after_id``; a new reaction, edit or deletion comes back as its (re-rendered) target."""
        repository = ThreadRepository.from_session(session)
        rows = await repository.newer(conversation.account_id, conversation.id, after_id, NEWER_LIMIT)
        targets = {row.reply_to_id for row in rows if row.type == REACTION and row.reply_to_id is not None}
        present = {row.id for row in rows}
        extra = await repository.by_ids(conversation.account_id, sorted(targets - present))
        extra = [m for m in extra if m.conversation_id == conversation.id]
        corrected = sorted({original for row in rows if (original := _original_wamid(row))})
        extra += [m for m in await repository.inbound_by_provider_ids(conversation, corrected) if m.id not in present]
        return await self._items(session, conversation, [*sorted(extra, key=lambda m: m.id), *rows], locale=locale)

    async def one(
        self, session: AsyncSession, conversation: Conversation, message_id: int, *, locale: str = "es"
    ) -> ThreadItem:
        found = await MessageRepository.from_session(session).get(conversation.account_id, message_id)
        if found is None or found.conversation_id != conversation.id:
            raise NotFound(f"message {message_id} not found in this conversation", code="message_not_found")
        if found.type == REACTION and found.reply_to_id is not None:
            return await self.one(session, conversation, found.reply_to_id, locale=locale)
        original = _original_wamid(found)
        if original:
            targets = await ThreadRepository.from_session(session).inbound_by_provider_ids(conversation, [original])
            if targets:
                return await self.one(session, conversation, targets[0].id, locale=locale)
        items = await self._items(session, conversation, [found], locale=locale)
        return items[0]

    async def attachment(self, session: AsyncSession, account_id: int, attachment_id: int) -> Attachment:
        found = await ThreadRepository.from_session(session).attachment(account_id, attachment_id)
        if found is None:
            raise NotFound(f"attachment {attachment_id} not found", code="attachment_not_found")
        return found

    async def _items(
        self, session: AsyncSession, conversation: Conversation, rows: Sequence[Message], *, locale: str
    ) -> list[ThreadItem]:
        """Five queries at most, whatever the number of rows: attachments, reactions with edits and deletions,
        quoted targets, authors, and (only when an edit or deletion is among the rows) the originals it names."""
        account_id = conversation.account_id
        repository = ThreadRepository.from_session(session)
        ids = [row.id for row in rows if row.type != REACTION]
        attachments = await repository.attachments_for(account_id, ids)
        annotations = await repository.annotations(account_id, conversation.id, ids)
        reactions = [row for row in annotations if row.type == REACTION]
        corrections: dict[str, list[Message]] = {}
        for row in annotations:
            if original := _original_wamid(row):
                corrections.setdefault(original, []).append(row)
        # An edit or deletion is shown on its original when the original is in this conversation.
        on_page = {
            row.provider_message_id for row in rows if row.direction is Direction.inbound and row.provider_message_id
        }
        named = sorted({wamid for row in rows if (wamid := _original_wamid(row)) and wamid not in on_page})
        known_originals = on_page | {
            m.provider_message_id for m in await repository.inbound_by_provider_ids(conversation, named)
        }
        shown = [
            row
            for row in rows
            if row.type != REACTION and not ((wamid := _original_wamid(row)) and wamid in known_originals)
        ]
        known = {row.id: row for row in rows}
        missing = sorted({r.reply_to_id for r in shown if r.reply_to_id and r.reply_to_id not in known})
        for quoted in await repository.by_ids(account_id, missing):
            known[quoted.id] = quoted
        authors = await repository.user_names(
            account_id, sorted({r.sender_user_id for r in shown if r.sender_user_id is not None})
        )
        latest: dict[int, dict[bool, Message]] = {}
        for reaction in sorted(reactions, key=_arrival):  # the customer's last word wins, whatever Meta's order
            if reaction.reply_to_id is not None:
                latest.setdefault(reaction.reply_to_id, {})[reaction.direction is Direction.inbound] = reaction
        items: list[ThreadItem] = []
        for row in shown:
            by_side = latest.get(row.id, {})
            row_reactions = [
                Reaction(emoji=str(r.content.get("emoji")), from_customer=side)
                for side, r in sorted(by_side.items())
                if r.content.get("emoji")
            ]
            changes = (
                corrections.get(row.provider_message_id, [])
                if row.direction is Direction.inbound and row.provider_message_id
                else []
            )
            edits = sorted((c for c in changes if c.type == EDIT), key=_arrival)
            reason = None
            if row.error_code is not None or row.error_title:
                reason = human_reason(row.error_code, row.error_title, row.error_detail, locale)
            items.append(
                ThreadItem(
                    message=row,
                    attachment=attachments.get(row.id),
                    reply_to=known.get(row.reply_to_id) if row.reply_to_id else None,
                    reactions=row_reactions,
                    author=authors.get(row.sender_user_id) if row.sender_user_id else None,
                    error_reason=reason,
                    edited=edits[-1] if edits else None,
                    deleted=any(c.type == REVOKE for c in changes),
                )
            )
        return items


def _original_wamid(message: Message) -> str | None:
    """The wamid an edit or deletion names; None for any other message."""
    if message.type not in CORRECTIONS or message.direction is not Direction.inbound:
        return None
    original = (message.content or {}).get("original_message_id")
    return original if isinstance(original, str) and original else None


def _arrival(message: Message) -> tuple[float, int]:
    """When the customer made the change (Meta may deliver two edits, or a reaction and its removal, out of
    order), then our order."""
    return (message.provider_timestamp.timestamp() if message.provider_timestamp else 0.0, message.id)


thread = ThreadService()
