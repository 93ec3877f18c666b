from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, TimestampMixin


class MessageTemplate(IdMixin, TimestampMixin, Base):
    """A WhatsApp message template of one inbox's business account, as Meta reports it."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("inbox_id", "name", "language"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    provider_template_id: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30), default="UTILITY")
    status: Mapped[str] = mapped_column(String(30), default="PENDING")
    parameter_format: Mapped[str] = mapped_column(String(20), default="POSITIONAL")
    components: Mapped[list[Any]] = mapped_column(default=list)
    quality: Mapped[str | None] = mapped_column(String(20), default=None)
    rejected_reason: Mapped[str | None] = mapped_column(String(200), default=None)
