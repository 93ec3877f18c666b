from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, StrEnumType, TimestampMixin
from mostrador.models.enums import Direction, MessageStatus, SenderKind


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Idempotency: a wamid is recorded once per inbox, however often Meta delivers it.
        UniqueConstraint("inbox_id", "provider_message_id"),
        UniqueConstraint("account_id", "idempotency_key"),
        # Opening a conversation reads the newest N by (conversation_id, id): same cost at 10 or 50,000 messages.
        Index(None, "conversation_id", "id"),
        # The sweeper looks for outbound rows left queued.
        Index(None, "status", "next_attempt_at"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction, 10))
    sender_kind: Mapped[SenderKind] = mapped_column(StrEnumType(SenderKind, 10))
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    # text, image, audio, video, document, sticker, location, contacts, interactive, button, reaction,
    # order, system, template, note, activity, unsupported, ...
    type: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_private: Mapped[bool] = mapped_column(default=False)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), default=None)
    reply_to_provider_id: Mapped[str | None] = mapped_column(String(200), default=None)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[MessageStatus] = mapped_column(StrEnumType(MessageStatus, 20))
    error_code: Mapped[int | None] = mapped_column(default=None)
    error_title: Mapped[str | None] = mapped_column(String(300), default=None)
    error_detail: Mapped[str | None] = mapped_column(Text, default=None)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    # The rate limiters' slot booked for this message when its send was deferred: the next attempt uses it
    # instead of booking another (which would push the message back for ever).
    send_slot_at: Mapped[datetime | None] = mapped_column(default=None)
    provider_timestamp: Mapped[datetime | None] = mapped_column(default=None)
