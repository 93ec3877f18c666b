from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_PENDING_KEY = "mostrador.pending_events"


@dataclass(frozen=True)
class RealtimeEvent:
    """``type`` is e.g. ``message.created``; ``data`` is small and JSON-serialisable."""

    account_id: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def channel(self) -> str:
        return account_channel(self.account_id)


def account_channel(account_id: int) -> str:
    return f"account:{account_id}"


def publish(session: AsyncSession, event: RealtimeEvent) -> None:
    events: list[RealtimeEvent] = session.info.setdefault(_PENDING_KEY, [])
    events.append(event)


def take_pending_events(session: AsyncSession) -> list[RealtimeEvent]:
    events: list[RealtimeEvent] = session.info.pop(_PENDING_KEY, [])
    return events


def drop_pending_events(session: AsyncSession) -> None:
    session.info.pop(_PENDING_KEY, None)
