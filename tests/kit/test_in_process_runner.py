"""The embedded job runner: doorbells of coalescing actors merge while they wait; writers and network jobs
run in separate lanes; the duty cycle holds jobs back only when the process is short of CPU."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from factories import make_account
from mostrador.kit.asgi import TrafficGauge
from mostrador.models import Label
from mostrador.runtime import Runtime
from mostrador.worker import JobContext, Queue, actor
from mostrador.worker.backends import COALESCE_WINDOW_S, DramatiqJobBackend, InProcessJobBackend
from mostrador.worker.duty import SUSTAINED_S, WINDOW_S, DutyCycle
from mostrador.worker.enqueue import PendingJob

CALLS: list[tuple[str, tuple[object, ...]]] = []
GATE: dict[str, asyncio.Event] = {}


@actor("test.merge_ids", queue=Queue.inbound, transactional=False, coalesce=5)
async def merge_ids(ctx: JobContext, *ids: int) -> None:
    CALLS.append(("merge", ids))
    await GATE["merge"].wait()


@actor("test.fetch", queue=Queue.inbound, transactional=False)
async def fetch(ctx: JobContext, *ids: int) -> None:
    CALLS.append(("fetch", ids))


@actor("test.write", queue=Queue.inbound)
async def write(ctx: JobContext, *ids: int) -> None:
    CALLS.append(("write", ids))
    await GATE["write"].wait()


@actor("test.label_then_wait", queue=Queue.inbound)
async def label_then_wait(ctx: JobContext, account_id: int) -> None:
    ctx.session.add(Label(account_id=account_id, name="en curso"))
    await ctx.session.flush()  # inside its transaction, holding SQLite's write lock
    CALLS.append(("label", (account_id,)))
    await GATE["write"].wait()


@actor("test.background", queue=Queue.bulk)
async def background(ctx: JobContext, *ids: int) -> None:
    CALLS.append(("background", ids))


@pytest.fixture
def runner(runtime: Runtime) -> InProcessJobBackend:
    CALLS.clear()
    GATE.clear()
    GATE.update(merge=asyncio.Event(), write=asyncio.Event())
    return InProcessJobBackend(lambda: runtime, concurrency=1, writer_concurrency=1)


async def test_waiting_doorbells_merge_up_to_the_actors_limit(runner: InProcessJobBackend) -> None:
    await runner.start()
    try:
        await runner.send([PendingJob("test.merge_ids", (1,))])
        await asyncio.sleep(0.05)  # taken: the only network runner is busy with it
        await runner.send([PendingJob("test.merge_ids", (n,)) for n in range(2, 9)])
        GATE["merge"].set()
        await runner.drain(timeout=5)
    finally:
        await runner.aclose()
    assert CALLS == [("merge", (1,)), ("merge", (2, 3, 4, 5, 6)), ("merge", (7, 8))]


async def test_network_jobs_do_not_wait_for_a_busy_writer(runner: InProcessJobBackend) -> None:
    await runner.start()
    try:
        await runner.send([PendingJob("test.write", (1,)), PendingJob("test.write", (2,))])
        await asyncio.sleep(0.05)
        await runner.send([PendingJob("test.fetch", (3,))])
        await asyncio.sleep(0.05)
        assert CALLS == [("write", (1,)), ("fetch", (3,))]  # the second write waits for the writer lane
        GATE["write"].set()
        await runner.drain(timeout=5)
    finally:
        await runner.aclose()
    assert CALLS[-1] == ("write", (2,))


async def test_stopping_lets_a_job_inside_its_transaction_finish(runner: InProcessJobBackend, runtime: Runtime) -> None:
    """Cancelling it there would drop its aiosqlite connection with the write lock held: every later writer
    would then fail with "database is locked" until the garbage collector closed it."""
    account = await make_account(runtime)
    await runner.start()
    await runner.send([PendingJob("test.label_then_wait", (account.id,))])
    for _ in range(100):
        if CALLS:
            break
        await asyncio.sleep(0.01)
    assert [("label", (account.id,))] == CALLS
    stopping = asyncio.create_task(runner.aclose())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waits for the job instead of cancelling it
    GATE["write"].set()
    await asyncio.wait_for(stopping, timeout=5)
    async with runtime.unit_of_work(write=True) as session:  # the writer's lock is free again
        session.add(Label(account_id=account.id, name="después"))
    async with runtime.unit_of_work() as session:
        names = set((await session.execute(select(Label.name))).scalars())
        assert names == {"en curso", "después"}
        assert await session.scalar(select(func.count()).select_from(Label)) == 2


async def test_a_job_waiting_for_its_share_leaves_the_runner_to_a_customers_message(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    CALLS.clear()
    GATE.clear()
    GATE.update(write=asyncio.Event())
    GATE["write"].set()
    traffic = TrafficGauge(burst=1)
    traffic.in_flight = 5  # a burst of webhooks in flight
    runner = InProcessJobBackend(
        lambda: runtime, concurrency=1, writer_concurrency=1, yield_to=traffic, busy_share=0.3, live_share=0.7
    )
    allowed = {"background": False}

    def wait_s(share: float, now: float | None = None, sustained: bool = False) -> float:
        return 0.0 if share > 0.5 or allowed["background"] else 30.0  # receipts: not before 30 s

    monkeypatch.setattr(runner._duty, "wait_s", wait_s)
    await runner.start()
    try:
        await runner.send([PendingJob("test.background", (1,))])
        await asyncio.sleep(0.05)  # the only writer runner has looked at it: not its turn
        await runner.send([PendingJob("test.write", (2,))])
        for _ in range(50):
            if CALLS:
                break
            await asyncio.sleep(0.01)
        assert CALLS == [("write", (2,))]  # at once, not after the receipts' 30 s
        allowed["background"] = True
        await runner.drain(timeout=5)  # within one duty window
    finally:
        await runner.aclose()
    assert CALLS == [("write", (2,)), ("background", (1,))]


def test_the_duty_cycle_holds_jobs_back_only_when_the_process_is_short_of_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    duty = DutyCycle()
    duty.record(10.0, 10.0 + WINDOW_S * 0.9)  # jobs used 90 % of the last window
    monkeypatch.setattr(duty, "saturated", lambda now=None, over=None: False)
    assert duty.wait_s(0.3, now=10.0 + WINDOW_S) == 0.0
    monkeypatch.setattr(duty, "saturated", lambda now=None, over=None: True)
    assert duty.wait_s(0.3, now=10.0 + WINDOW_S) > 0.0  # background work waits
    assert duty.wait_s(0.95, now=10.0 + WINDOW_S) == 0.0  # a live job's larger share still has room
    assert duty.wait_s(0.3, now=10.0 + 3 * WINDOW_S) == 0.0  # the window has moved on


def test_customers_messages_wait_only_for_a_sustained_shortage_of_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = {"now": 0.0}
    monkeypatch.setattr("mostrador.worker.duty.time.process_time", lambda: cpu["now"])
    duty = DutyCycle()
    start = duty._cpu[0][0]
    for step in range(1, 9):  # 0.8 s at 10 % of a core
        cpu["now"] += 0.01
        duty.saturated(now=start + step * 0.1)
    cpu["now"] += 0.2  # then a burst: 0.2 s of CPU in 0.2 s
    burst_end = start + 1.0
    assert duty.saturated(now=burst_end)  # over the last window: short of CPU
    assert not duty.saturated(now=burst_end, over=SUSTAINED_S)  # over the last second: 28 %
    duty.record(burst_end - 0.1, burst_end)  # jobs used half the window
    assert duty.wait_s(0.3, now=burst_end) > 0  # receipts wait for the burst to pass
    assert duty.wait_s(0.3, now=burst_end, sustained=True) == 0.0  # a customer's message does not


async def test_distributed_doorbells_of_coalescing_actors_travel_together(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(
        "mostrador.worker.backends.send_job",
        lambda _broker, actor, args, attempt, delay_s: sent.append((actor, args)),
    )
    backend = DramatiqJobBackend(broker=None)
    await backend.send([PendingJob("test.merge_ids", (1,)), PendingJob("test.fetch", (9,))])
    assert sent == [("test.merge_ids", (1,)), ("test.fetch", (9,))]  # after a quiet spell: at once
    await backend.send([PendingJob("test.merge_ids", (n,)) for n in range(2, 5)])
    await backend.send([PendingJob("test.merge_ids", (n,)) for n in range(5, 9)])
    assert len(sent) == 2  # within the window: held
    await asyncio.sleep(COALESCE_WINDOW_S * 3)
    # together, in one message however large the actor's batch (5): the worker cuts it
    assert sent[2:] == [("test.merge_ids", (2, 3, 4, 5, 6, 7, 8))]
    await backend.send([PendingJob("test.merge_ids", (10,))])  # a quiet window has passed: at once again
    assert sent[-1] == ("test.merge_ids", (10,))
    monkeypatch.setattr("mostrador.worker.backends.DOORBELL_MAX_ARGS", 4)
    await backend.send([PendingJob("test.merge_ids", tuple(range(20, 30)))])
    await asyncio.sleep(COALESCE_WINDOW_S * 3)
    assert sent[-3:] == [
        ("test.merge_ids", (20, 21, 22, 23)),
        ("test.merge_ids", (24, 25, 26, 27)),
        ("test.merge_ids", (28, 29)),
    ]
    await backend.send([PendingJob("test.merge_ids", (11,))])
    await backend.aclose()  # shutting down rings what is still held
    assert sent[-1] == ("test.merge_ids", (11,))
