"""Turns at SQLite's single writer for our own writers, by priority: the webhook intake, then customer
messages, agents' sends, background work."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# The intake's group commit: a webhook sender waits for it (about a millisecond of writing).
INTAKE = -1
# Turns handed to the intake in a row while a job waits; then the first job goes, so jobs progress under any
# intake load.
INTAKE_IN_A_ROW = 2


class WriterTurns:
    """A lock whose waiters go lowest priority number first, first come first served within one.

    A processing job can hold the writer for tens of milliseconds and nobody waits on it; a plain FIFO lock put
    each intake batch behind every queued job (117 webhooks/s acknowledged with 16 job runners queued on it), and
    a customer's message behind every batch of delivery receipts (seconds in bench/realtime_latency.py).
    """

    def __init__(self) -> None:
        self._held = False
        self._intake_streak = 0
        self._order = itertools.count()
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []

    def locked(self) -> bool:
        return self._held

    async def acquire(self, priority: int = 0) -> None:
        if not self._held and not self._waiting:
            self._took(priority)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the turn was handed to us as we were cancelled: pass it on
            raise
        self._took(priority)

    def _took(self, priority: int) -> None:
        self._held = True
        self._intake_streak = self._intake_streak + 1 if priority == INTAKE else 0

    def release(self) -> None:
        """Hand the turn to the next waiter (it stays held), or free it."""
        self._waiting = [entry for entry in self._waiting if not entry[2].done()]  # cancelled waiters leave
        heapq.heapify(self._waiting)
        if not self._waiting:
            self._held = False
            self._intake_streak = 0
            return
        entry = self._waiting[0]
        if entry[0] == INTAKE and self._intake_streak >= INTAKE_IN_A_ROW:
            jobs = [e for e in self._waiting if e[0] != INTAKE]
            if jobs:
                entry = min(jobs)
        self._waiting.remove(entry)
        heapq.heapify(self._waiting)
        entry[2].set_result(None)

    @asynccontextmanager
    async def turn(self, priority: int = 0) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
