from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, TimestampMixin


class Contact(IdMixin, TimestampMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "account_id", "phone_e164"),
        Index(None, "account_id", "wa_id"),
        Index(None, "account_id", "bsuid"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone_e164: Mapped[str | None] = mapped_column(String(32), default=None)
    wa_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # Business-scoped user id (2026): present even when the phone number is hidden.
    bsuid: Mapped[str | None] = mapped_column(String(100), default=None)
    username: Mapped[str | None] = mapped_column(String(100), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    marketing_opt_out_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def display_name(self) -> str:
        return self.name or self.phone_e164 or self.username or self.bsuid or "?"
