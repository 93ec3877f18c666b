"""Group commit: concurrent callers share batches, each gets its own answer, failures stay in their batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from mostrador.kit.batching import Batcher


async def test_concurrent_callers_share_batches_and_get_their_own_answers() -> None:
    batches: list[list[int]] = []

    async def handle(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(handle, max_in_flight=1)
    answers = await asyncio.gather(*(batcher.submit(n) for n in range(50)))
    await batcher.aclose()

    assert answers == [n * 10 for n in range(50)]
    assert sorted(n for batch in batches for n in batch) == list(range(50))
    assert len(batches) < 50


async def test_at_most_max_in_flight_batches_run_and_the_next_one_fills_meanwhile() -> None:
    running = 0
    most = 0
    sizes: list[int] = []

    async def handle(items: Sequence[int]) -> list[None]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        sizes.append(len(items))
        await asyncio.sleep(0.02)
        running -= 1
        return [None] * len(items)

    batcher: Batcher[int, None] = Batcher(handle, max_in_flight=2)
    callers: list[asyncio.Future[None]] = []
    for wave in range(8):  # callers keep arriving while batches run
        callers += [asyncio.ensure_future(batcher.submit(wave * 10 + n)) for n in range(10)]
        await asyncio.sleep(0.005)
    await asyncio.gather(*callers)
    await batcher.aclose()
    assert most == 2
    assert sum(sizes) == 80
    assert max(sizes) > 1


async def test_a_failing_batch_fails_only_its_own_callers() -> None:
    async def handle(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("disk full")
        return list(items)

    batcher: Batcher[int, int] = Batcher(handle, max_in_flight=1)
    with pytest.raises(RuntimeError, match="disk full"):
        await batcher.submit(13)
    assert await batcher.submit(7) == 7  # the batcher survives
    await batcher.aclose()


async def test_a_cancelled_caller_is_left_out_of_its_batch() -> None:
    seen: list[int] = []
    gate = asyncio.Event()

    async def handle(items: Sequence[int]) -> list[int]:
        seen.extend(items)
        await gate.wait()
        return list(items)

    batcher: Batcher[int, int] = Batcher(handle, max_in_flight=1)
    first = asyncio.ensure_future(batcher.submit(1))  # occupies the only slot
    await asyncio.sleep(0.01)
    doomed = asyncio.ensure_future(batcher.submit(2))
    kept = asyncio.ensure_future(batcher.submit(3))
    await asyncio.sleep(0.01)
    doomed.cancel()
    gate.set()
    assert await first == 1
    assert await kept == 3
    await batcher.aclose()
    assert seen == [1, 3]


async def test_closing_cancels_waiting_and_running_callers_instead_of_leaving_them_hanging() -> None:
    gate = asyncio.Event()

    async def handle(items: Sequence[int]) -> list[int]:
        await gate.wait()
        return list(items)

    batcher: Batcher[int, int] = Batcher(handle, max_in_flight=1)
    running = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.01)
    waiting = asyncio.ensure_future(batcher.submit(2))  # no free slot: waits for the next batch
    await asyncio.sleep(0.01)
    await batcher.aclose()
    _done, pending = await asyncio.wait({running, waiting}, timeout=1)
    assert not pending
    assert running.cancelled() and waiting.cancelled()


async def test_callers_arriving_together_share_one_batch() -> None:
    sizes: list[int] = []

    async def handle(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        return list(items)

    batcher: Batcher[int, int] = Batcher(handle, max_in_flight=2)
    assert await asyncio.gather(*(batcher.submit(n) for n in range(30))) == list(range(30))
    await batcher.aclose()
    assert sizes == [30]  # they arrived in one turn of the loop: one batch, not one per slot


async def test_a_second_batch_overlaps_the_first_only_once_enough_callers_wait() -> None:
    gate = asyncio.Event()
    sizes: list[int] = []

    async def handle(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        await gate.wait()
        return list(items)

    batcher: Batcher[int, int] = Batcher(handle, max_in_flight=2, overlap_at=3)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0.01)
    assert sizes == [1]  # nothing ran: the first caller starts at once
    two = [asyncio.ensure_future(batcher.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0.01)
    assert sizes == [1]  # two waiting callers do not earn a second transaction
    third = asyncio.ensure_future(batcher.submit(3))
    await asyncio.sleep(0.01)
    assert sizes == [1, 3]  # three do
    late = asyncio.ensure_future(batcher.submit(4))
    await asyncio.sleep(0.01)
    assert sizes == [1, 3]  # both slots are taken
    gate.set()
    assert await asyncio.gather(first, *two, third, late) == [0, 1, 2, 3, 4]
    assert sizes == [1, 3, 1]  # a freed slot takes whoever waited, however few
    await batcher.aclose()
