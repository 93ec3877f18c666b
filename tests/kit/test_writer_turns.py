"""SQLite writer turns: the intake goes before queued jobs, but jobs are never starved."""

from __future__ import annotations

import asyncio

import pytest

from mostrador.kit.writer_turns import URGENT_IN_A_ROW, WriterTurns


async def _take(turns: WriterTurns, name: str, urgent: bool, order: list[str]) -> None:
    async with turns.turn(urgent=urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_waiters_go_before_earlier_background_writers() -> None:
    turns, order = WriterTurns(), []
    await turns.acquire()
    tasks = [
        asyncio.create_task(_take(turns, "job1", False, order)),
        asyncio.create_task(_take(turns, "job2", False, order)),
    ]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(_take(turns, "intake", True, order)))
    await asyncio.sleep(0)
    turns.release()
    await asyncio.gather(*tasks)
    assert order == ["intake", "job1", "job2"]
    assert not turns.locked()


async def test_background_writers_get_a_turn_under_continuous_intake() -> None:
    turns, order = WriterTurns(), []
    await turns.acquire()
    job = asyncio.create_task(_take(turns, "job", False, order))
    intake = [asyncio.create_task(_take(turns, f"intake{i}", True, order)) for i in range(6)]
    await asyncio.sleep(0)
    turns.release()
    await asyncio.gather(job, *intake)
    assert order.index("job") == URGENT_IN_A_ROW


async def test_a_cancelled_waiter_neither_holds_nor_loses_the_turn() -> None:
    turns = WriterTurns()
    await turns.acquire()
    waiter = asyncio.create_task(turns.acquire(urgent=True))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    turns.release()
    assert not turns.locked()
    await asyncio.wait_for(turns.acquire(), timeout=1)
    assert turns.locked()
