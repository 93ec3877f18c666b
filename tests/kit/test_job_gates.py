"""worker/gates.py: a `mostrador worker` runs few transactional jobs at once, background ones apart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from mostrador.worker.gates import JobGates
from mostrador.worker.queues import Queue
from mostrador.worker.registry import ActorDef


def definition(name: str, queue: Queue, *, transactional: bool = True, coalesce: int = 0) -> ActorDef:
    async def body(ctx: object, *args: object) -> None:
        return None

    return ActorDef(
        name=name,
        fn=body,  # type: ignore[arg-type]
        queue=queue,
        max_retries=0,
        transactional=transactional,
        coalesce=coalesce,
    )


async def test_at_most_n_live_writers_one_background_and_network_jobs_unbounded() -> None:
    gates = JobGates(live_writers=2)
    live = definition("t.live", Queue.inbound)
    background = definition("t.receipts", Queue.bulk)
    network = definition("t.send", Queue.agent, transactional=False)
    running = {"t.live": 0, "t.receipts": 0, "t.send": 0}
    most = dict(running)
    release = asyncio.Event()

    async def job(name: str) -> str:
        running[name] += 1
        most[name] = max(most[name], running[name])
        await release.wait()
        running[name] -= 1
        return name

    tasks = [
        asyncio.create_task(gates.run(d, (), lambda _args, d=d: job(d.name)))  # type: ignore[misc]
        for d in [background] * 3 + [live] * 5 + [network] * 6
    ]
    await asyncio.sleep(0.05)
    # a customer's message is not held back by the receipts waiting for their gate
    assert running == {"t.live": 2, "t.receipts": 1, "t.send": 6}
    release.set()
    done = await asyncio.gather(*tasks)
    assert sorted(done) == sorted(["t.receipts"] * 3 + ["t.live"] * 5 + ["t.send"] * 6)
    assert most == {"t.live": 2, "t.receipts": 1, "t.send": 6}


async def test_jobs_of_a_coalescing_actor_waiting_for_the_gate_merge_but_retries_do_not() -> None:
    gates = JobGates(live_writers=1)
    batch_actor = definition("t.messages", Queue.inbound, coalesce=6)
    other = definition("t.other", Queue.inbound)
    release = asyncio.Event()
    ran: list[tuple[str, tuple[object, ...]]] = []

    def job(name: str) -> Callable[[tuple[object, ...]], Awaitable[tuple[object, ...]]]:
        async def run(args: tuple[object, ...]) -> tuple[object, ...]:
            ran.append((name, args))
            await release.wait()
            return args

        return run

    holder = asyncio.create_task(gates.run(other, (0,), job("t.other")))
    await asyncio.sleep(0.01)  # the gate is taken: what follows waits
    first = asyncio.create_task(gates.run(batch_actor, (1, 2), job("t.messages")))
    await asyncio.sleep(0)
    joined = [asyncio.create_task(gates.run(batch_actor, (n,), job("t.messages"))) for n in (3, 4, 5)]
    retry = asyncio.create_task(gates.run(batch_actor, (9,), job("t.messages"), attempt=2))
    await asyncio.sleep(0.01)
    # (1, 2) waits at the gate and 3, 4 and 5 join it
    assert [task.done() for task in joined] == [True, True, True]
    assert [task.result() for task in joined] == [None, None, None]  # applied by the waiting job
    assert not retry.done()  # there is room for one more, but a retry never merges: it keeps its own backoff
    release.set()
    assert await first == (1, 2, 3, 4, 5)
    assert await retry == (9,)
    await holder
    assert ran == [("t.other", (0,)), ("t.messages", (1, 2, 3, 4, 5)), ("t.messages", (9,))]


async def test_a_job_that_would_pass_the_limit_starts_the_next_batch() -> None:
    gates = JobGates(live_writers=1)
    batch_actor = definition("t.messages", Queue.inbound, coalesce=3)
    release = asyncio.Event()

    async def hold(_args: tuple[object, ...]) -> tuple[object, ...]:
        await release.wait()
        return ()

    async def echo(args: tuple[object, ...]) -> tuple[object, ...]:
        return args

    holder = asyncio.create_task(gates.run(definition("t.other", Queue.inbound), (), hold))
    await asyncio.sleep(0.01)
    tasks = [asyncio.create_task(gates.run(batch_actor, args, echo)) for args in [(1, 2), (3,), (4, 5), (6,), (7, 8)]]
    await asyncio.sleep(0.01)
    release.set()
    await holder
    results = await asyncio.gather(*tasks)
    assert results == [(1, 2, 3), None, (4, 5, 6), None, (7, 8)]


async def test_nothing_merges_when_the_gate_is_free() -> None:
    gates = JobGates(live_writers=2)
    batch_actor = definition("t.messages", Queue.inbound, coalesce=50)

    async def echo(args: tuple[object, ...]) -> tuple[object, ...]:
        await asyncio.sleep(0.01)
        return args

    results = await asyncio.gather(*(gates.run(batch_actor, (n,), echo) for n in (1, 2)))
    assert results == [(1,), (2,)]  # both ran at once, each with its own args


async def test_a_doorbell_larger_than_the_actors_batch_is_cut_into_jobs_that_go_through_the_gate() -> None:
    gates = JobGates(live_writers=2)
    batch_actor = definition("t.messages", Queue.inbound, coalesce=3)
    running = 0
    most = 0
    ran: list[tuple[object, ...]] = []

    async def job(args: tuple[object, ...]) -> tuple[object, ...]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        ran.append(args)
        await asyncio.sleep(0.01)
        running -= 1
        return args

    results = await gates.run_cut(batch_actor, (1, 2, 3, 4, 5, 6, 7, 8), job)
    assert sorted(results) == [(1, 2, 3), (4, 5, 6), (7, 8)]  # every id applied once, at most 3 per job
    assert sorted(ran) == sorted(results)
    assert most == 2  # the cut jobs still wait for the gate like separate doorbells
    # a retry keeps its batch whole: it is the batch a job ran before
    assert await gates.run_cut(batch_actor, (1, 2, 3, 4), job, attempt=2) == [(1, 2, 3, 4)]


async def test_a_cut_doorbell_waits_for_every_job_before_raising_the_first_error() -> None:
    gates = JobGates(live_writers=4)
    batch_actor = definition("t.messages", Queue.inbound, coalesce=2)
    finished: list[tuple[object, ...]] = []

    async def job(args: tuple[object, ...]) -> tuple[object, ...]:
        if args == (1, 2):
            raise RuntimeError("boom")
        await asyncio.sleep(0.01)
        finished.append(args)
        return args

    with pytest.raises(RuntimeError, match="boom"):
        await gates.run_cut(batch_actor, (1, 2, 3, 4, 5), job)
    assert sorted(finished) == [(3, 4), (5,)]  # the others ran to the end, not abandoned mid-transaction
