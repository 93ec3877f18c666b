from __future__ import annotations

from enum import StrEnum

from mostrador.channels.base import ChannelKind

__all__ = ["ChannelKind"]


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"


class Availability(StrEnum):
    online = "online"
    busy = "busy"
    offline = "offline"


class ConversationStatus(StrEnum):
    open = "open"
    pending = "pending"
    snoozed = "snoozed"
    resolved = "resolved"


class Priority(StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class SenderKind(StrEnum):
    contact = "contact"
    agent = "agent"
    bot = "bot"
    system = "system"


class MessageStatus(StrEnum):
    """Outbound: queued → sending → sent < delivered < read (< played); failed is terminal per attempt."""

    received = "received"
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    played = "played"
    failed = "failed"


STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.queued: 0,
    MessageStatus.sending: 1,
    MessageStatus.sent: 2,
    MessageStatus.delivered: 3,
    MessageStatus.read: 4,
    MessageStatus.played: 5,
}


class WebhookEventState(StrEnum):
    received = "received"
    handled = "handled"
    failed = "failed"
    unroutable = "unroutable"


class AttachmentState(StrEnum):
    pending = "pending"
    stored = "stored"
    failed = "failed"


class TemplateStatus(StrEnum):
    pending = "PENDING"
    approved = "APPROVED"
    rejected = "REJECTED"
    paused = "PAUSED"
    disabled = "DISABLED"
    flagged = "FLAGGED"
    in_appeal = "IN_APPEAL"
    reinstated = "REINSTATED"
    pending_deletion = "PENDING_DELETION"
    deleted = "DELETED"
    archived = "ARCHIVED"
    limit_exceeded = "LIMIT_EXCEEDED"
    locked = "LOCKED"
