"""Status folding: the message's state is a pure function of the *set* of statuses seen.

Order and duplicates therefore cannot matter: ``read`` before ``delivered`` ends in ``read``; a ``failed``
that follows a ``delivered`` (multi-device) is kept in the timeline but does not undo the delivery.
"""

from __future__ import annotations

from collections.abc import Iterable

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
