from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mostrador.kit.db.base import Base, IdMixin, StrEnumType
from mostrador.kit.time import utc_now
from mostrador.models.enums import ChannelKind, WebhookEventState


class WebhookEvent(IdMixin, Base):
    """A received webhook body, stored before it is acknowledged; processed later, idempotently."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("channel_kind", "provider_key"),
        Index(None, "state", "received_at"),
    )

    # Unknown until the body is routed to an inbox.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), default=None)
    channel_kind: Mapped[ChannelKind] = mapped_column(StrEnumType(ChannelKind, 20))
    # SHA-256 of the raw body: Meta's retries of the same notification are absorbed here.
    provider_key: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[WebhookEventState] = mapped_column(
        StrEnumType(WebhookEventState, 20), default=WebhookEventState.received
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    event_count: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
