from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, StrEnumType, TimestampMixin
from mostrador.models.enums import AttachmentState


class Attachment(IdMixin, TimestampMixin, Base):
    __tablename__ = "attachments"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    provider_media_id: Mapped[str | None] = mapped_column(String(200), default=None)
    mime_type: Mapped[str | None] = mapped_column(String(100), default=None)
    filename: Mapped[str | None] = mapped_column(String(300), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    storage_key: Mapped[str | None] = mapped_column(String(300), default=None)
    state: Mapped[AttachmentState] = mapped_column(
        StrEnumType(AttachmentState, 20), default=AttachmentState.pending, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
