"""Auto-assignment per inbox: round robin among online agents, each up to their capacity; the unassigned queue
when everyone is full, drained oldest first as soon as capacity appears; nothing when the inbox has it switched
off."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from factories import World, make_user, make_world
from mostrador.contacts.schemas import ContactCreate
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.schemas import ConversationFilters, ConversationUpdate
from mostrador.conversations.service import conversation as conversation_service
from mostrador.inboxes.schemas import InboxUpdate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.time import utc_now
from mostrador.models import Availability, Conversation, ConversationStatus, Message, Role, User
from mostrador.realtime.events import account_channel
from mostrador.runtime import Runtime
from mostrador.users.schemas import UserUpdate
from mostrador.users.service import user as user_service
from mostrador.worker.backends import InProcessJobBackend
from mostrador.worker.sweeper import sweep_once


async def agent(runtime: Runtime, world: World, name: str, availability: Availability, capacity: int) -> User:
    user = await make_user(runtime, world.account, f"{name.lower()}@casaolivo.example", Role.agent, name=name)
    async with runtime.unit_of_work() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.availability = availability
        stored.max_open_conversations = capacity
    return user


async def assignees(runtime: Runtime) -> list[int | None]:
    """Who has each conversation, oldest first."""
    async with runtime.unit_of_work() as session:
        return list((await session.execute(select(Conversation.assignee_id).order_by(Conversation.id))).scalars())


async def activity_lines(runtime: Runtime) -> list[str]:
    async with runtime.unit_of_work() as session:
        return list(
            (await session.execute(select(Message.text).where(Message.type == "activity").order_by(Message.id)))
            .scalars()
            .all()
        )


async def new_conversations(runtime: Runtime, world: World, count: int, start: int = 0) -> list[int | None]:
    """``count`` customers write for the first time; returns who each conversation went to."""
    assignees: list[int | None] = []
    for i in range(start, start + count):
        async with runtime.unit_of_work() as session:
            contact = await contact_service.create(session, world.account.id, ContactCreate(phone=f"+3460010{i:04d}"))
            inbox = await inbox_service.get(session, world.account.id, world.inbox.id)
            conversation = await conversation_service.route_inbound(session, inbox, contact)
            assignees.append(conversation.assignee_id)
    return assignees


async def test_round_robin_among_online_agents_up_to_capacity_then_queue(
    runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    world = await make_world(runtime)  # its admin is offline, like every new user
    ana = await agent(runtime, world, "Ana", Availability.online, capacity=2)
    beto = await agent(runtime, world, "Beto", Availability.online, capacity=1)
    await agent(runtime, world, "Carla", Availability.busy, capacity=10)
    await agent(runtime, world, "Dario", Availability.offline, capacity=10)

    assert await new_conversations(runtime, world, 5) == [ana.id, beto.id, ana.id, None, None]

    assert await activity_lines(runtime) == [
        "Asignada automáticamente a Ana",
        "Asignada automáticamente a Beto",
        "Asignada automáticamente a Ana",
    ]

    # resolving frees a place: the oldest waiting conversation takes it (after commit, through the job queue)
    async with runtime.unit_of_work() as session:
        page = await conversation_service.page(
            session, world.admin, ConversationFilters(assignee_id=beto.id), cursor=None, limit=10
        )
        done = await conversation_service.get(session, world.account.id, page.items[0].id)
        await conversation_service.set_status(session, world.admin, done, ConversationStatus.resolved)
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, beto.id, ana.id, beto.id, None]
    assert (await activity_lines(runtime))[-1] == "Asignada automáticamente a Beto"
    # nobody has room now: the next new conversation waits too
    assert await new_conversations(runtime, world, 1, start=10) == [None]


async def test_conversations_opened_together_share_the_round_robin_and_capacity(runtime: Runtime) -> None:
    """A batch of first-time customers (one webhook job) is assigned exactly as if they came one by one."""
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.online, capacity=2)
    beto = await agent(runtime, world, "Beto", Availability.online, capacity=1)
    async with runtime.unit_of_work() as session:
        contacts = [
            await contact_service.create(session, world.account.id, ContactCreate(phone=f"+3460020{i:04d}"))
            for i in range(5)
        ]
        inbox = await inbox_service.get(session, world.account.id, world.inbox.id)
        routed = await conversation_service.route_inbound_many(session, inbox, contacts)
    assert [routed[contact.id].assignee_id for contact in contacts] == [ana.id, beto.id, ana.id, None, None]
    assert [routed[contact.id].display_id for contact in contacts] == [1, 2, 3, 4, 5]
    assert await activity_lines(runtime) == [
        "Asignada automáticamente a Ana",
        "Asignada automáticamente a Beto",
        "Asignada automáticamente a Ana",
    ]
    async with runtime.unit_of_work() as session:  # routing again finds the same conversations
        again = await conversation_service.route_inbound_many(session, inbox, contacts)
    assert {c: conversation.id for c, conversation in again.items()} == {
        c: conversation.id for c, conversation in routed.items()
    }


async def test_switched_off_inbox_leaves_everything_unassigned(runtime: Runtime) -> None:
    world = await make_world(runtime)
    await agent(runtime, world, "Ana", Availability.online, capacity=5)
    async with runtime.unit_of_work() as session:
        await inbox_service.update(session, world.account.id, world.inbox.id, InboxUpdate(auto_assign=False))
    assert await new_conversations(runtime, world, 2) == [None, None]


async def test_nobody_online_means_the_queue(runtime: Runtime) -> None:
    world = await make_world(runtime)
    await agent(runtime, world, "Ana", Availability.offline, capacity=5)
    assert await new_conversations(runtime, world, 2) == [None, None]


async def go_online(runtime: Runtime, user: User) -> None:
    """The availability switch, as the agent flips it (through the service, so capacity is offered)."""
    async with runtime.unit_of_work() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        await user_service.set_availability(session, stored, Availability.online)


async def conversation_ids(runtime: Runtime) -> list[int]:
    async with runtime.unit_of_work() as session:
        return list((await session.execute(select(Conversation.id).order_by(Conversation.id))).scalars())


async def test_an_agent_coming_online_takes_the_oldest_waiting_conversations(
    runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.offline, capacity=2)
    beto = await agent(runtime, world, "Beto", Availability.offline, capacity=5)
    assert await new_conversations(runtime, world, 3) == [None, None, None]

    await go_online(runtime, ana)
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, ana.id, None]  # oldest first, up to her capacity
    assert await activity_lines(runtime) == ["Asignada automáticamente a Ana"] * 2

    await go_online(runtime, beto)
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, ana.id, beto.id]

    # going online again (already online) or busy changes nothing and rings nothing
    await go_online(runtime, beto)
    await jobs.drain()
    assert len(await activity_lines(runtime)) == 3


async def test_snoozing_and_reassigning_away_free_a_place(runtime: Runtime, jobs: InProcessJobBackend) -> None:
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.online, capacity=1)
    assert await new_conversations(runtime, world, 3) == [ana.id, None, None]
    first, second, _third = await conversation_ids(runtime)

    # a snoozed conversation waits for a date, not for Ana: her place goes to the oldest waiting one
    async with runtime.unit_of_work() as session:
        snoozed = await conversation_service.get(session, world.account.id, first)
        later = utc_now() + timedelta(days=1)
        await conversation_service.set_status(
            session, world.admin, snoozed, ConversationStatus.snoozed, snoozed_until=later
        )
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, ana.id, None]

    # the admin takes the second one from her: the third comes to Ana
    async with runtime.unit_of_work() as session:
        taken = await conversation_service.get(session, world.account.id, second)
        await conversation_service.update(session, world.admin, taken, ConversationUpdate(assignee_id=world.admin.id))
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, world.admin.id, ana.id]


async def test_raising_an_agents_capacity_drains_the_queue(runtime: Runtime, jobs: InProcessJobBackend) -> None:
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.online, capacity=1)
    assert await new_conversations(runtime, world, 3) == [ana.id, None, None]
    async with runtime.unit_of_work() as session:
        await user_service.update(session, world.account.id, ana.id, UserUpdate(max_open_conversations=3))
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, ana.id, ana.id]


async def test_the_queue_waits_while_the_inbox_is_switched_off_and_drains_when_on(
    runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.offline, capacity=5)
    async with runtime.unit_of_work() as session:
        await inbox_service.update(session, world.account.id, world.inbox.id, InboxUpdate(auto_assign=False))
    assert await new_conversations(runtime, world, 2) == [None, None]
    await go_online(runtime, ana)
    await jobs.drain()
    assert await assignees(runtime) == [None, None]
    async with runtime.unit_of_work() as session:
        await inbox_service.update(session, world.account.id, world.inbox.id, InboxUpdate(auto_assign=True))
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, ana.id]


async def test_a_drained_assignment_is_announced_like_a_new_one(runtime: Runtime, jobs: InProcessJobBackend) -> None:
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.offline, capacity=5)
    await new_conversations(runtime, world, 1)
    [cid] = await conversation_ids(runtime)
    seen: list[dict[str, Any]] = []
    subscription = runtime.pubsub.subscribe(account_channel(world.account.id))
    first = asyncio.ensure_future(anext(subscription))
    await asyncio.sleep(0)  # the subscription is registered once the generator runs

    await go_online(runtime, ana)
    await jobs.drain()
    seen.append(await asyncio.wait_for(first, 2))
    seen.append(await asyncio.wait_for(anext(subscription), 2))
    await subscription.aclose()  # type: ignore[attr-defined]
    assert {"type": "conversation.updated", "conversation_id": cid, "assignee_id": ana.id}.items() <= next(
        event for event in seen if event["type"] == "conversation.updated"
    ).items()
    created = next(event for event in seen if event["type"] == "message.created")
    assert created["conversation_id"] == cid
    async with runtime.unit_of_work() as session:
        line = await session.get(Message, created["message_id"])
        assert line is not None and line.type == "activity" and line.text == "Asignada automáticamente a Ana"


async def test_the_sweeper_rings_again_when_a_doorbell_was_lost(runtime: Runtime, jobs: InProcessJobBackend) -> None:
    world = await make_world(runtime)
    assert await new_conversations(runtime, world, 2) == [None, None]
    ana = await agent(runtime, world, "Ana", Availability.online, capacity=1)  # set in the database: no doorbell
    await jobs.drain()
    assert await assignees(runtime) == [None, None]
    counts = await sweep_once(runtime, stale_after_s=0)
    assert counts["assignment"] == 1
    await jobs.drain()
    assert await assignees(runtime) == [ana.id, None]
    # Ana is full now: the sweeper has nothing to ring for
    assert (await sweep_once(runtime, stale_after_s=0))["assignment"] == 0


async def test_concurrent_drains_never_give_an_agent_more_than_her_capacity(runtime: Runtime) -> None:
    world = await make_world(runtime)
    ana = await agent(runtime, world, "Ana", Availability.offline, capacity=2)
    await new_conversations(runtime, world, 5)
    await agent(runtime, world, "Beto", Availability.online, capacity=1)
    async with runtime.unit_of_work() as session:
        stored = await session.get(User, ana.id)
        assert stored is not None
        stored.availability = Availability.online

    async def drain_once() -> int:
        async with runtime.unit_of_work(write=True) as session:
            return await conversation_service.assign_waiting(session, world.inbox.id)

    results = await asyncio.gather(*(drain_once() for _ in range(4)))
    assert sum(results) == 3
    taken = [assignee for assignee in await assignees(runtime) if assignee is not None]
    assert sorted(taken.count(user) for user in set(taken)) == [1, 2]
    assert len(await activity_lines(runtime)) == 3


async def test_a_snoozed_conversation_reopens_when_its_time_comes(runtime: Runtime, jobs: InProcessJobBackend) -> None:
    """Not only when the customer writes: the sweeper wakes it, with an activity line and a live update."""
    world = await make_world(runtime)
    async with runtime.unit_of_work() as session:
        contact = await contact_service.create(session, world.account.id, ContactCreate(phone="+34600300001"))
        inbox = await inbox_service.get(session, world.account.id, world.inbox.id)
        conversation = await conversation_service.route_inbound(session, inbox, contact)
        admin = await session.get(User, world.admin.id)
        assert admin is not None
        await conversation_service.set_status(
            session, admin, conversation, ConversationStatus.snoozed, snoozed_until=utc_now() + timedelta(hours=2)
        )
    channel = runtime.pubsub.subscribe(account_channel(world.account.id))
    first_event = asyncio.ensure_future(anext(channel))
    await asyncio.sleep(0)

    assert (await sweep_once(runtime))["snoozes"] == 0  # not yet
    async with runtime.unit_of_work() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None and stored.status is ConversationStatus.snoozed
        stored.snoozed_until = utc_now() - timedelta(seconds=1)  # two hours later
    assert (await sweep_once(runtime))["snoozes"] == 1

    async with runtime.unit_of_work() as session:
        woke = await session.get(Conversation, conversation.id)
        assert woke is not None
        assert (woke.status, woke.snoozed_until) == (ConversationStatus.open, None)
    assert (await activity_lines(runtime))[-1] == "Terminó el aplazamiento: la conversación vuelve a estar abierta"
    events = [await asyncio.wait_for(first_event, 5)]
    while not any(e.get("type") == "conversation.updated" for e in events):
        events.append(await asyncio.wait_for(anext(channel), 5))
    assert {"conversation_id": conversation.id, "status": "open"}.items() <= events[-1].items()
    assert (await sweep_once(runtime))["snoozes"] == 0  # woken once
