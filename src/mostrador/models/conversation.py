from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mostrador.kit.db.base import Base, IdMixin, StrEnumType, TimestampMixin
from mostrador.models.contact import Contact
from mostrador.models.enums import ConversationStatus, Priority
from mostrador.models.inbox import Inbox
from mostrador.models.user import User


class Conversation(IdMixin, TimestampMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("account_id", "display_id"),
        # The inbox list: newest activity first, filtered by status / assignee, keyset on (last_activity_at, id).
        Index(None, "account_id", "status", "last_activity_at", "id"),
        # No status filter (the API default, search): the same keyset without sorting the whole account.
        Index(None, "account_id", "last_activity_at", "id"),
        Index(None, "account_id", "assignee_id", "status", "last_activity_at"),
        Index(None, "contact_id", "inbox_id", "status"),
        # At most one active (not resolved) conversation per contact and inbox; concurrent inbound jobs race here.
        Index(
            "uq_conversations_active_contact",
            "inbox_id",
            "contact_id",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    display_id: Mapped[int]
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[ConversationStatus] = mapped_column(
        StrEnumType(ConversationStatus, 20), default=ConversationStatus.open
    )
    priority: Mapped[Priority] = mapped_column(StrEnumType(Priority, 20), default=Priority.none)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    snoozed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_customer_message_at: Mapped[datetime | None] = mapped_column(default=None)
    window_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_activity_at: Mapped[datetime]
    last_message_preview: Mapped[str] = mapped_column(String(200), default="")
    unread_count: Mapped[int] = mapped_column(default=0)

    contact: Mapped[Contact] = relationship(lazy="raise")
    inbox: Mapped[Inbox] = relationship(lazy="raise")
    assignee: Mapped[User | None] = relationship(lazy="raise")
