from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, StrEnumType
from mostrador.kit.time import utc_now
from mostrador.models.enums import MessageStatus


class MessageStatusEvent(IdMixin, Base):
    """The status timeline of one message; unique per status so duplicates are absorbed."""

    __tablename__ = "message_status_events"
    __table_args__ = (UniqueConstraint("message_id", "status"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    status: Mapped[MessageStatus] = mapped_column(StrEnumType(MessageStatus, 20))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
