from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mostrador.kit.db.base import Base, IdMixin, StrEnumType, TimestampMixin
from mostrador.models.account import Account
from mostrador.models.enums import Availability, Role


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 20))
    locale: Mapped[str | None] = mapped_column(String(10), default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    availability: Mapped[Availability] = mapped_column(StrEnumType(Availability, 20), default=Availability.offline)
    max_open_conversations: Mapped[int] = mapped_column(default=10)
    session_version: Mapped[int] = mapped_column(default=1)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    account: Mapped[Account] = relationship(lazy="raise")
