"""Any permutation and duplication of a message's statuses ends in the same state."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from factories import World, make_sent_messages, make_world, status_update
from mostrador.channels.base import ProviderError
from mostrador.messages.inbound import inbound
from mostrador.messages.status import fold_statuses
from mostrador.models import Message, MessageStatus
from mostrador.runtime import Runtime

WEBHOOK_STATUSES = [
    MessageStatus.sent,
    MessageStatus.delivered,
    MessageStatus.read,
    MessageStatus.failed,
    MessageStatus.played,
]


def fold_incrementally(order: list[MessageStatus]) -> MessageStatus:
    current = MessageStatus.sent
    seen: list[MessageStatus] = []
    for status in order:
        seen.append(status)
        current = fold_statuses(current, seen)
    return current


@given(st.lists(st.sampled_from(WEBHOOK_STATUSES), min_size=1, max_size=8), st.randoms())
def test_fold_is_order_and_duplicate_independent(statuses: list[MessageStatus], rnd: random.Random) -> None:
    shuffled = statuses[:]
    rnd.shuffle(shuffled)
    duplicated = shuffled + [rnd.choice(statuses) for _ in range(3)]
    assert (
        fold_incrementally(statuses)
        == fold_incrementally(duplicated)
        == fold_statuses(MessageStatus.sent, set(statuses))
    )


def test_failed_after_delivered_does_not_undo_delivery() -> None:
    assert fold_statuses(MessageStatus.sent, [MessageStatus.delivered, MessageStatus.failed]) is MessageStatus.delivered
    assert fold_statuses(MessageStatus.sent, [MessageStatus.failed]) is MessageStatus.failed
    assert fold_statuses(MessageStatus.sent, [MessageStatus.read, MessageStatus.delivered]) is MessageStatus.read


SEQUENCE = ["sent", "delivered", "read", "failed"]
ORDERS = random.Random(7).sample(list(itertools.permutations(SEQUENCE)), 6)


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "-".join(o))
async def test_database_state_is_the_same_for_any_arrival_order(order: tuple[str, ...], runtime: Runtime) -> None:
    world = await make_world(runtime)
    [message] = await make_sent_messages(runtime, world, ["wamid.race"])
    arrivals = [*order, order[0], order[-1]]  # Meta's retries duplicate some
    for status in arrivals:
        update = status_update(
            world,
            "wamid.race",
            status,
            errors=(ProviderError(code=131026, title="Message undeliverable"),) if status == "failed" else (),
            pricing={"billable": False, "pricing_model": "PMP", "category": "service"}
            if status == "delivered"
            else None,
        )
        async with runtime.unit_of_work() as session:
            assert await inbound.apply_status(session, world.inbox, update) is not None
    async with runtime.unit_of_work() as session:
        stored = await session.get(Message, message.id)
    assert stored is not None
    assert stored.status is MessageStatus.read
    assert stored.error_code is None  # a failure after delivery (another device) is kept in the timeline only
    assert stored.pricing == {"billable": False, "pricing_model": "PMP", "category": "service"}


async def test_a_message_loaded_in_the_session_sees_the_status_it_was_given(runtime: Runtime) -> None:
    """Receipts are written as plain rows; an entity of the same message in the session must not go stale."""
    world = await make_world(runtime)
    [message] = await make_sent_messages(runtime, world, ["wamid.loaded"])
    async with runtime.unit_of_work() as session:
        loaded = await session.get(Message, message.id)
        assert loaded is not None
        assert loaded.status is MessageStatus.sent
        update = status_update(world, "wamid.loaded", "read")
        assert await inbound.apply_status(session, world.inbox, update) == message.id
        assert loaded.status is MessageStatus.read
        assert loaded not in session.dirty  # already stored: nothing left to flush


EXAMPLES = 25
AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def receipt(world: World, wamid: str, status: MessageStatus) -> object:
    """The webhook Meta would send for this status: each status has its own time, price and error."""
    rank = WEBHOOK_STATUSES.index(status)
    return status_update(
        world,
        wamid,
        status.value,
        timestamp=AT + timedelta(seconds=rank),
        errors=(ProviderError(code=131026, title="Message undeliverable"),) if status is MessageStatus.failed else (),
        pricing={"billable": True, "pricing_model": "PMP", "category": "utility", "rank": rank},
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seen=st.sets(st.sampled_from(WEBHOOK_STATUSES), min_size=1),
    data=st.data(),
)
async def test_stored_state_is_the_same_for_any_order_duplication_and_batching(
    seen: set[MessageStatus], data: st.DataObject, runtime: Runtime
) -> None:
    """The statuses Meta sends for a message, in any order, some twice, one by one or in batches of any size,
    leave the row exactly as the same statuses applied once in their natural order."""
    pool: tuple[World, list[int]] | None = getattr(runtime, "_race_pool", None)
    if pool is None:  # two messages per example, and plenty for the runs a failure's shrinking adds
        world = await make_world(runtime)
        wamids = [f"wamid.race{n}" for n in range(400)]
        pool = (world, [m.id for m in await make_sent_messages(runtime, world, wamids)])
        runtime._race_pool = pool  # type: ignore[attr-defined]
    world, free = pool
    reference, raced = free.pop(), free.pop()
    natural = sorted(seen, key=WEBHOOK_STATUSES.index)
    arrivals = data.draw(st.permutations(natural + data.draw(st.lists(st.sampled_from(natural), max_size=4))))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(arrivals) - 1)), max_size=3)))
    batches = [
        arrivals[start:end] for start, end in itertools.pairwise([0, *cuts, len(arrivals)]) if arrivals[start:end]
    ]
    async with runtime.unit_of_work() as session:
        wamid_of = dict(
            (
                await session.execute(
                    select(Message.id, Message.provider_message_id).where(Message.id.in_([reference, raced]))
                )
            ).all()
        )
    for status in natural:
        async with runtime.unit_of_work() as session:
            await inbound.apply_status(session, world.inbox, receipt(world, wamid_of[reference], status))
    for batch in batches:
        async with runtime.unit_of_work() as session:
            updates = [receipt(world, wamid_of[raced], status) for status in batch]
            if len(updates) == 1:
                await inbound.apply_status(session, world.inbox, updates[0])
            else:
                await inbound.apply_statuses(session, world.inbox, updates)
    async with runtime.unit_of_work() as session:
        rows = {
            m.id: m
            for m in (await session.execute(select(Message).where(Message.id.in_([reference, raced])))).scalars()
        }

    def state(message: Message) -> tuple[object, ...]:
        return (message.status, message.error_code, message.error_title, message.pricing, message.provider_timestamp)

    assert state(rows[raced]) == state(rows[reference])
    assert rows[raced].status is fold_statuses(MessageStatus.sent, seen)
