from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, TimestampMixin


class Account(IdMixin, TimestampMixin, Base):
    """A business. Every other row belongs to exactly one account."""

    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10), default="es")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Madrid")
    next_conversation_number: Mapped[int] = mapped_column(default=1)
