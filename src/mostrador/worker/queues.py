from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    """Live customer traffic never waits behind bulk work: lower priority number runs first."""

    inbound = "inbound"
    agent = "agent"
    bulk = "bulk"
    housekeeping = "housekeeping"

    @property
    def priority(self) -> int:
        return {"inbound": 0, "agent": 10, "bulk": 50, "housekeeping": 90}[self.value]

    @property
    def yields_to_traffic(self) -> bool:
        """Background queues get the small share of the embedded runner's time while requests are in flight;
        customer messages and agents' sends, what people are waiting for, the large one."""
        return self in (Queue.bulk, Queue.housekeeping)
