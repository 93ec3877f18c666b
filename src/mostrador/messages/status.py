"""Status folding: the message's state is a pure function of the *set* of statuses seen.

Order and duplicates therefore cannot matter: ``read`` before ``delivered`` ends in ``read``; a ``failed``
that follows a ``delivered`` (multi-device) is kept in the timeline but does not undo the delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from mostrador.models.enums import STATUS_RANK, MessageStatus

DELIVERED_OR_BETTER = frozenset({MessageStatus.delivered, MessageStatus.read, MessageStatus.played})


def fold_statuses(current: MessageStatus, seen: Iterable[MessageStatus]) -> MessageStatus:
    statuses = set(seen)
    if not statuses:
        return current
    if MessageStatus.failed in statuses and not statuses & DELIVERED_OR_BETTER:
        return MessageStatus.failed
    candidates = [s for s in statuses | {current} if s in STATUS_RANK]
    if not candidates:
        return current
    return max(candidates, key=lambda status: STATUS_RANK[status])


class TimelineEntry(NamedTuple):
    status: MessageStatus
    occurred_at: datetime
    detail: dict[str, Any]


@dataclass(slots=True)
class TrackedMessage:
    """The columns of a message its statuses decide: all that applying receipts reads and writes."""

    id: int
    conversation_id: int
    status: MessageStatus
    error_code: int | None
    error_title: str | None
    error_detail: str | None
    pricing: dict[str, Any] | None
    provider_timestamp: datetime | None


def fold_message(message: TrackedMessage, timeline: Sequence[TimelineEntry]) -> None:
    """Set the message's status, error, price and send time from its whole timeline (in time order)."""
    base = message.status if message.status in (MessageStatus.sending, MessageStatus.queued) else MessageStatus.sent
    message.status = fold_statuses(base, [entry.status for entry in timeline])
    if message.status is MessageStatus.failed:
        failed = next(entry for entry in timeline if entry.status is MessageStatus.failed)
        errors = failed.detail.get("errors") or [{}]
        first = errors[0] if isinstance(errors, list) and errors else {}
        message.error_code = _int_or_none(first.get("code"))
        message.error_title = _str_or_none(first.get("title"))
        message.error_detail = _str_or_none(first.get("details"))
    elif message.error_code is not None and message.status in DELIVERED_OR_BETTER:
        message.error_code = message.error_title = message.error_detail = None
    priced = [entry for entry in timeline if entry.detail.get("pricing")]
    if priced:
        pricing = max(priced, key=lambda entry: (_rank(entry.status), entry.status.value)).detail["pricing"]
        message.pricing = dict(pricing) if isinstance(pricing, dict) else None
    sent_times = [entry.occurred_at for entry in timeline if entry.status is MessageStatus.sent]
    if sent_times and message.provider_timestamp is None:
        message.provider_timestamp = min(sent_times)


_PRICE_ORDER = (
    MessageStatus.failed,
    MessageStatus.sent,
    MessageStatus.delivered,
    MessageStatus.read,
    MessageStatus.played,
)


def _rank(status: MessageStatus) -> int:
    return _PRICE_ORDER.index(status) if status in _PRICE_ORDER else -1


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
