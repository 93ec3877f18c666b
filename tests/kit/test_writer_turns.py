"""SQLite writer turns: the intake goes first, then jobs by their queue's priority; jobs are never starved."""

from __future__ import annotations

import asyncio

import pytest

from mostrador.kit.writer_turns import INTAKE, INTAKE_IN_A_ROW, WriterTurns


async def _take(turns: WriterTurns, name: str, priority: int, order: list[str]) -> None:
    async with turns.turn(priority):
        order.append(name)
        await asyncio.sleep(0)


async def test_the_intake_then_customer_messages_go_before_earlier_background_writers() -> None:
    turns, order = WriterTurns(), []
    await turns.acquire()
    tasks = [
        asyncio.create_task(_take(turns, "job1", 50, order)),
        asyncio.create_task(_take(turns, "job2", 50, order)),
    ]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(_take(turns, "customer message", 0, order)))
    tasks.append(asyncio.create_task(_take(turns, "intake", INTAKE, order)))
    await asyncio.sleep(0)
    turns.release()
    await asyncio.gather(*tasks)
    assert order == ["intake", "customer message", "job1", "job2"]
    assert not turns.locked()


async def test_background_writers_get_a_turn_under_continuous_intake() -> None:
    turns, order = WriterTurns(), []
    await turns.acquire()
    job = asyncio.create_task(_take(turns, "job", 50, order))
    intake = [asyncio.create_task(_take(turns, f"intake{i}", INTAKE, order)) for i in range(6)]
    await asyncio.sleep(0)
    turns.release()
    await asyncio.gather(job, *intake)
    assert order.index("job") == INTAKE_IN_A_ROW


async def test_a_cancelled_waiter_neither_holds_nor_loses_the_turn() -> None:
    turns = WriterTurns()
    await turns.acquire()
    waiter = asyncio.create_task(turns.acquire(INTAKE))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    turns.release()
    assert not turns.locked()
    await asyncio.wait_for(turns.acquire(), timeout=1)
    assert turns.locked()
