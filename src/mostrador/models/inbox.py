from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, StrEnumType, TimestampMixin
from mostrador.models.enums import ChannelKind


class Inbox(IdMixin, TimestampMixin, Base):
    """A channel instance (one WhatsApp business number). Its credentials are encrypted at rest."""

    __tablename__ = "inboxes"
    __table_args__ = (UniqueConstraint("channel_kind", "channel_key"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    channel_kind: Mapped[ChannelKind] = mapped_column(StrEnumType(ChannelKind, 20))
    # How webhooks are routed here: the WhatsApp phone_number_id.
    channel_key: Mapped[str] = mapped_column(String(100))
    # The WhatsApp Business Account id: template and account webhooks are addressed to it.
    business_account_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    display_phone_number: Mapped[str] = mapped_column(String(32), default="")
    config_encrypted: Mapped[str] = mapped_column(Text)
    auto_assign: Mapped[bool] = mapped_column(default=True)
    quality_rating: Mapped[str | None] = mapped_column(String(20), default=None)
    messaging_limit: Mapped[str | None] = mapped_column(String(40), default=None)
    account_status: Mapped[str | None] = mapped_column(String(200), default=None)
    # Messages per second Meta allows this number: 1,000 after a throughput upgrade, 20 for a coexistence
    # number; None: the server's default (MOSTRADOR_WA_THROUGHPUT_MPS, 80).
    throughput_mps: Mapped[float | None] = mapped_column(default=None)
    last_assigned_user_id: Mapped[int | None] = mapped_column(default=None)
