"""The doorbell of the unassigned queue: capacity appeared somewhere in an account, so its waiting conversations
may get an agent. Kept free of domain imports so users, inboxes and conversations can all ring it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.worker import enqueue

ASSIGN_WAITING = "conversations.assign_waiting"
_OFFERED_KEY = "mostrador.capacity_offered"


def offer_capacity(session: AsyncSession, account_id: int) -> None:
    """An agent came online, freed a place or got more: drain the account's queue after commit (a job)."""
    offered: set[int] = session.info.setdefault(_OFFERED_KEY, set())
    if account_id not in offered:  # one doorbell per account and unit of work is enough
        offered.add(account_id)
        enqueue(session, ASSIGN_WAITING, account_id)
