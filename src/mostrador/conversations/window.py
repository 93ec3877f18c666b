"""The customer-service window, decided in one place for every caller (UI, API, bots, broadcasts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mostrador.kit.time import utc_now
from mostrador.models import Conversation


@dataclass(frozen=True)
class WindowState:
    open: bool
    expires_at: datetime | None

    def remaining(self, now: datetime | None = None) -> timedelta:
        if self.expires_at is None:
            return timedelta(0)
        return max(timedelta(0), self.expires_at - (now or utc_now()))


def window_expiry(last_customer_message_at: datetime | None, reply_window: timedelta | None) -> datetime | None:
    if reply_window is None or last_customer_message_at is None:
        return None
    return last_customer_message_at + reply_window


def window_state(
    conversation: Conversation, reply_window: timedelta | None, now: datetime | None = None
) -> WindowState:
    """A channel without a reply window (e.g. e-mail) is always open."""
    if reply_window is None:
        return WindowState(open=True, expires_at=None)
    expires = conversation.window_expires_at
    return WindowState(open=expires is not None and expires > (now or utc_now()), expires_at=expires)
