"""Units of work: jobs and events leave only after commit; SQLite writers hold their turn until commit only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mostrador.models import Account
from mostrador.realtime import RealtimeEvent, publish
from mostrador.runtime import Runtime
from mostrador.worker import enqueue
from mostrador.worker.enqueue import PendingJob


async def test_jobs_and_events_are_sent_after_commit_and_outside_the_writers_turn(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, bool]] = []

    async def after_commit(jobs: list[PendingJob], events: list[RealtimeEvent]) -> None:
        lock = runtime.db.write_lock
        seen.append((len(jobs), len(events), lock is not None and lock.locked()))

    monkeypatch.setattr(runtime, "after_commit", after_commit)
    async with runtime.unit_of_work(write=True) as session:
        enqueue(session, "webhooks.process", 1)
        publish(session, RealtimeEvent(1, "message.created", {"conversation_id": 1}))
    assert seen == [(1, 1, False)]  # another writer may go while we ring doorbells


async def test_a_rolled_back_unit_of_work_sends_nothing_and_frees_the_turn(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[object] = []

    async def after_commit(jobs: list[PendingJob], events: list[RealtimeEvent]) -> None:
        sent.append((jobs, events))

    monkeypatch.setattr(runtime, "after_commit", after_commit)
    with pytest.raises(RuntimeError):
        async with runtime.unit_of_work(write=True) as session:
            enqueue(session, "webhooks.process", 1)
            raise RuntimeError("boom")
    assert sent == []
    assert runtime.db.write_lock is None or not runtime.db.write_lock.locked()


async def test_a_released_savepoint_commits_nothing_until_the_unit_of_work_does(runtime: Runtime) -> None:
    """SQLite's driver opens no transaction before a SAVEPOINT, and releasing the outermost one would commit it:
    a job that wrote in a savepoint and then failed would leave its writes behind."""
    with pytest.raises(RuntimeError):
        async with runtime.unit_of_work(write=True) as session:
            await session.execute(select(Account.id))  # a read first, as every job does
            async with session.begin_nested():
                session.add(Account(name="Efímera"))
                await session.flush()
            raise RuntimeError("the job fails after its savepoint was released")
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(Account.name))).scalars().all() == []


async def test_the_webhook_intake_commits_to_disk_before_answering(runtime: Runtime) -> None:
    """The intake's own connections wait for the disk on every commit, so a 200 survives a power cut: SQLite's
    synchronous=FULL (the other connections keep NORMAL), PostgreSQL's synchronous_commit=on."""
    async with runtime.db.intake.driver() as driver:
        if runtime.db.is_sqlite:
            cursor = await driver.execute("PRAGMA synchronous")
            assert (await cursor.fetchone())[0] == 2  # FULL
        else:
            assert await driver.fetchval("SHOW synchronous_commit") == "on"
