"""worker/gates.py: a `mostrador worker` runs few transactional jobs at once, background ones apart."""

from __future__ import annotations

import asyncio

from mostrador.worker.gates import JobGates
from mostrador.worker.queues import Queue
from mostrador.worker.registry import ActorDef


def definition(name: str, queue: Queue, *, transactional: bool = True) -> ActorDef:
    async def body(ctx: object, *args: object) -> None:
        return None

    return ActorDef(name=name, fn=body, queue=queue, max_retries=0, transactional=transactional)  # type: ignore[arg-type]


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
        asyncio.create_task(gates.run(d, lambda d=d: job(d.name)))  # type: ignore[misc]
        for d in [background] * 3 + [live] * 5 + [network] * 6
    ]
    await asyncio.sleep(0.05)
    # a customer's message is not held back by the receipts waiting for their gate
    assert running == {"t.live": 2, "t.receipts": 1, "t.send": 6}
    release.set()
    done = await asyncio.gather(*tasks)
    assert sorted(done) == sorted(["t.receipts"] * 3 + ["t.live"] * 5 + ["t.send"] * 6)
    assert most == {"t.live": 2, "t.receipts": 1, "t.send": 6}
