"""Customer messages of many bodies are recorded set-based in one job: the same rows as one body at a time."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random

import pytest
from sqlalchemy import func, select

from dbutil import count_queries
from factories import World, make_world
from mostrador.contacts.repository import ContactIdentityRepository
from mostrador.messages.inbound import inbound
from mostrador.models import (
    Attachment,
    ChannelKind,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.realtime.events import take_pending_events
from mostrador.runtime import Runtime
from mostrador.webhooks.repository import insert_many_if_new
from mostrador.webhooks.service import webhook_intake
from mostrador.worker.enqueue import take_pending_jobs

CUSTOMERS = ["34600000001", "34600000002", "5215512345678", "5491155550000"]


def customer_body(phone_number_id: str, messages: list[dict[str, object]], nonce: int) -> str:
    senders = sorted({str(m["from"]) for m in messages})
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "34910000000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": f"Cliente {wa_id[-2:]}"}, "wa_id": wa_id} for wa_id in senders],
        "messages": messages,
    }
    payload = {
        "object": "whatsapp_business_account",
        "id": nonce,
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload)


def random_messages(rnd: random.Random, count: int) -> list[list[dict[str, object]]]:
    """Texts, replies and reactions to earlier messages, photos, forwarded notes, Meta's retries; 1-2 per body."""
    sent: list[str] = []
    messages: list[dict[str, object]] = []
    for index in range(count):
        wa_id = rnd.choice(CUSTOMERS)
        wamid = f"wamid.in.{index}"
        kind = rnd.choice(["text", "text", "reply", "reaction", "image", "forwarded"]) if sent else "text"
        message: dict[str, object] = {"from": wa_id, "id": wamid, "timestamp": str(1_763_880_000 + index)}
        if kind == "reaction":
            message |= {"type": "reaction", "reaction": {"message_id": rnd.choice(sent), "emoji": "👍"}}
        elif kind == "image":
            message |= {
                "type": "image",
                "image": {"id": f"media-{index}", "mime_type": "image/jpeg", "sha256": "abc", "caption": "foto"},
            }
        else:
            message |= {"type": "text", "text": {"body": f"mensaje {index} *importante*"}}
            if kind == "reply":
                message["context"] = {"from": "34910000000", "id": rnd.choice(sent)}
            if kind == "forwarded":
                message["context"] = {"forwarded": True}
        sent.append(wamid)
        messages.append(message)
    messages += rnd.sample(messages, k=3)  # Meta's retries of a message, in another body
    grouped: list[list[dict[str, object]]] = []
    while messages:
        take = rnd.choice([1, 1, 1, 2])
        grouped.append(messages[:take])
        messages = messages[take:]
    return grouped


async def store(runtime: Runtime, bodies: list[str]) -> list[int]:
    items = [(hashlib.sha256(text.encode()).hexdigest(), text) for text in bodies]
    created = await insert_many_if_new(runtime.db, ChannelKind.WHATSAPP, items)  # no doorbell: tests process
    return [created[key] for key, _text in items]


async def state_of(runtime: Runtime, world: World) -> dict[str, object]:
    """Everything a customer message leaves behind, keyed by what does not depend on insertion order (and not
    ``last_activity_at``: a new conversation starts it at the clock's time)."""
    async with runtime.unit_of_work() as session:
        contacts = {
            c.id: (c.wa_id, c.name, c.phone_e164)
            for c in (await session.execute(select(Contact).where(Contact.account_id == world.account.id))).scalars()
        }
        conversations = {
            c.id: c
            for c in (
                await session.execute(select(Conversation).where(Conversation.inbox_id == world.inbox.id))
            ).scalars()
        }
        messages = list(
            (
                await session.execute(select(Message).where(Message.inbox_id == world.inbox.id).order_by(Message.id))
            ).scalars()
        )
        wamid_of = {m.id: m.provider_message_id for m in messages}
        attachments = (
            await session.execute(select(Attachment).where(Attachment.account_id == world.account.id))
        ).scalars()
        return {
            "messages": [
                (
                    m.provider_message_id,
                    contacts[conversations[m.conversation_id].contact_id][0],
                    m.type,
                    m.text,
                    m.content,
                    wamid_of.get(m.reply_to_id) if m.reply_to_id else None,
                    m.reply_to_provider_id,
                    m.status,
                )
                for m in messages
            ],
            "conversations": sorted(
                (
                    contacts[c.contact_id],
                    c.unread_count,
                    c.last_message_preview,
                    c.last_customer_message_at,
                    c.window_expires_at,
                    c.status,
                )
                for c in conversations.values()
            ),
            "display_ids": sorted(c.display_id for c in conversations.values()),
            "attachments": sorted((wamid_of[a.message_id], a.kind, a.provider_media_id) for a in attachments),
        }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_batch_of_customer_messages_ends_as_one_body_at_a_time(seed: int, runtime: Runtime) -> None:
    one_by_one = await make_world(runtime, suffix="a", phone_number_id="1001")
    batched = await make_world(runtime, suffix="b", phone_number_id="1002")
    bodies = random_messages(random.Random(seed), 24)

    for nonce, messages in enumerate(bodies):
        [event_id] = await store(runtime, [customer_body("1001", messages, nonce)])
        async with runtime.unit_of_work(write=True) as session:
            await webhook_intake.process(session, event_id)
    ids = await store(runtime, [customer_body("1002", messages, nonce) for nonce, messages in enumerate(bodies)])
    first, second = ids[: len(ids) // 2], ids[len(ids) // 2 :]  # two jobs: the second finds the first's rows
    reports = []
    for part in (first, second):
        async with runtime.unit_of_work(write=True) as session:
            reports.append(await webhook_intake.process_messages(session, part))

    assert [report.handed_over for report in reports] == [[], []]
    assert sum(report.handled for report in reports) == len(bodies)
    expected, got = await state_of(runtime, one_by_one), await state_of(runtime, batched)
    assert got == expected
    assert got["display_ids"] == list(range(1, len(got["conversations"]) + 1))  # type: ignore[arg-type]
    assert len(got["messages"]) == len({m["id"] for messages in bodies for m in messages})  # type: ignore[arg-type]
    stored = await store_rows(runtime, ids)
    assert {row.state for row in stored} == {WebhookEventState.handled}
    assert sum(row.event_count for row in stored) == sum(len(messages) for messages in bodies)


async def store_rows(runtime: Runtime, ids: list[int]) -> list[WebhookEvent]:
    async with runtime.unit_of_work() as session:
        return list((await session.execute(select(WebhookEvent).where(WebhookEvent.id.in_(ids)))).scalars())


async def test_a_batch_enqueues_media_downloads_and_announces_each_message(runtime: Runtime) -> None:
    world = await make_world(runtime)
    phone = world.inbox.channel_key
    photo = {"type": "image", "image": {"id": "media-1", "mime_type": "image/jpeg", "sha256": "abc"}}
    ids = await store(
        runtime,
        [
            customer_body(phone, [{"from": CUSTOMERS[0], "id": "wamid.a", "timestamp": "1763880000", **photo}], 1),
            customer_body(
                phone,
                [
                    {
                        "from": CUSTOMERS[1],
                        "id": "wamid.b",
                        "timestamp": "1763880001",
                        "type": "text",
                        "text": {"body": "Hola"},
                    }
                ],
                2,
            ),
        ],
    )
    async with runtime.db.sessionmaker() as session:
        report = await webhook_intake.process_messages(session, ids)
        jobs = take_pending_jobs(session)
        events = take_pending_events(session)
        await session.commit()

    assert report.handled == 2
    async with runtime.unit_of_work() as session:
        attachment = (await session.execute(select(Attachment))).scalar_one()
        messages = {m.provider_message_id: m for m in (await session.execute(select(Message))).scalars()}
    assert [job.args for job in jobs if job.actor == "media.fetch"] == [(attachment.id,)]
    assert attachment.message_id == messages["wamid.a"].id
    created = [event.data for event in events if event.type == "message.created"]
    assert created == [
        {
            "conversation_id": messages[wamid].conversation_id,
            "message_id": messages[wamid].id,
            "inbox_id": world.inbox.id,
            "direction": "inbound",
        }
        for wamid in ("wamid.a", "wamid.b")
    ]


async def test_a_failing_batch_hands_every_body_over_and_records_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(runtime)
    phone = world.inbox.channel_key
    ids = await store(
        runtime,
        [
            customer_body(
                phone,
                [
                    {
                        "from": wa_id,
                        "id": f"wamid.f{n}",
                        "timestamp": "1763880000",
                        "type": "text",
                        "text": {"body": "x"},
                    }
                ],
                n,
            )
            for n, wa_id in enumerate(CUSTOMERS[:2])
        ],
    )
    original = inbound.record_messages

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        await original(*args, **kwargs)  # writes, then fails: the savepoint must undo the writes
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inbound, "record_messages", broken)
    async with runtime.db.sessionmaker() as session:
        report = await webhook_intake.process_messages(session, ids)
        jobs = take_pending_jobs(session)
        events = take_pending_events(session)
        await session.commit()

    assert (report.handled, sorted(report.handed_over)) == (0, sorted(ids))
    assert sorted(job.args for job in jobs) == sorted((i,) for i in ids)  # only the hand-overs: no media, no queue
    assert [job.actor for job in jobs] == ["webhooks.process"] * len(ids)
    assert events == []  # nobody hears of messages or conversations the savepoint took back
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(Conversation))).scalar_one() == 0
    assert {row.state for row in await store_rows(runtime, ids)} == {WebhookEventState.received}


async def test_bodies_that_are_not_only_customer_messages_go_to_the_per_body_path(runtime: Runtime) -> None:
    world = await make_world(runtime)
    phone = world.inbox.channel_key
    text = {"from": CUSTOMERS[0], "id": "wamid.plain", "timestamp": "1763880000", "type": "text", "text": {"body": "a"}}
    mixed = json.loads(customer_body(phone, [dict(text, id="wamid.mixed")], 2))
    mixed["entry"][0]["changes"][0]["value"]["statuses"] = [
        {"id": "wamid.out", "status": "read", "timestamp": "1763880001", "recipient_id": CUSTOMERS[0]}
    ]
    ids = await store(
        runtime,
        [
            customer_body(phone, [text], 1),
            json.dumps(mixed),
            customer_body("999999", [dict(text, id="wamid.nowhere")], 3),
        ],
    )
    async with runtime.unit_of_work(write=True) as session:
        report = await webhook_intake.process_messages(session, ids)
    assert report.handled == 1
    assert sorted(report.handed_over) == sorted(ids[1:])


async def test_batch_queries_do_not_grow_with_the_number_of_messages(runtime: Runtime) -> None:
    world = await make_world(runtime)
    phone = world.inbox.channel_key

    async def batch(count: int, round_: str, first_customer: int = 0) -> int:
        bodies = [
            customer_body(
                phone,
                [
                    {
                        "from": f"3460000{first_customer + n:04d}",
                        "id": f"wamid.{round_}.{n}",
                        "timestamp": "1763880000",
                        "type": "text",
                        "text": {"body": "¿sigue abierta la tienda?"},
                    }
                ],
                n,
            )
            for n in range(count)
        ]
        ids = await store(runtime, bodies)
        with count_queries(runtime) as counter:
            async with runtime.unit_of_work(write=True) as session:
                report = await webhook_intake.process_messages(session, ids)
        assert report.handled == count
        return counter.count

    # Customers writing for the first time: contacts, their identities and conversations opened, on SQLite too
    # (where the unit of work's flush would insert those one row per statement).
    new_small = await batch(5, "first-few", first_customer=100)
    new_large = await batch(40, "first")
    assert new_large == new_small, (new_small, new_large)
    small = await batch(5, "again")  # returning customers with open conversations
    large = await batch(40, "third")
    assert large == small, (small, large)
    assert small <= 12


async def test_concurrent_batches_with_the_same_new_customers_do_not_deadlock(runtime: Runtime) -> None:
    world = await make_world(runtime)
    phone = world.inbox.channel_key

    def bodies(order: list[str], round_: str) -> list[str]:
        return [
            customer_body(
                phone,
                [
                    {
                        "from": wa_id,
                        "id": f"wamid.{round_}.{wa_id}",
                        "timestamp": "1763880000",
                        "type": "text",
                        "text": {"body": "hola"},
                    }
                ],
                0,
            )
            for wa_id in order
        ]

    first = await store(runtime, bodies(CUSTOMERS, "x"))
    second = await store(runtime, bodies(CUSTOMERS[::-1], "y"))

    async def run(ids: list[int]) -> list[int]:
        async with runtime.unit_of_work(write=True) as session:
            return (await webhook_intake.process_messages(session, ids)).handed_over

    handed = await asyncio.wait_for(asyncio.gather(run(first), run(second)), timeout=20)
    assert handed == [[], []]  # neither batch failed (a deadlock would have handed its bodies over)
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 8
        assert (await session.execute(select(func.count()).select_from(Conversation))).scalar_one() == 4
        assert (await session.execute(select(func.count()).select_from(Contact))).scalar_one() == 4


async def test_a_sender_created_meanwhile_by_another_job_is_read_back(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another job commits the same customer between our lookup and our insert: the batch's insert conflicts,
    its savepoint takes our rows back, and the customer is resolved one by one to the other job's contact."""
    world = await make_world(runtime)
    wa_id = CUSTOMERS[0]
    async with runtime.unit_of_work() as session:  # the other job's work, already committed
        theirs = Contact(account_id=world.account.id, name="Cliente", wa_id=None)
        session.add(theirs)
        await session.flush()
        session.add(
            ContactIdentity(account_id=world.account.id, inbox_id=world.inbox.id, contact_id=theirs.id, source_id=wa_id)
        )
    lookup = ContactIdentityRepository.find
    calls = 0

    async def not_yet_committed_at_our_first_lookup(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return [] if calls == 1 else await lookup(self, *args, **kwargs)

    monkeypatch.setattr(ContactIdentityRepository, "find", not_yet_committed_at_our_first_lookup)
    body = customer_body(
        world.inbox.channel_key,
        [{"from": wa_id, "id": "wamid.meanwhile", "timestamp": "1763880000", "type": "text", "text": {"body": "hola"}}],
        0,
    )
    ids = await store(runtime, [body])
    async with runtime.unit_of_work(write=True) as session:
        report = await webhook_intake.process_messages(session, ids)
    assert report.handled == 1 and calls >= 2
    async with runtime.unit_of_work() as session:
        stored = {contact.id for contact in (await session.execute(select(Contact))).scalars()}
        message = (await session.execute(select(Message))).scalar_one()
        conversation = await session.get(Conversation, message.conversation_id)
    assert stored == {theirs.id}  # no second contact for the same customer
    assert conversation is not None and conversation.contact_id == theirs.id


async def test_a_nul_character_in_a_body_is_dropped_not_retried_forever(runtime: Runtime) -> None:
    """Valid JSON that PostgreSQL cannot store as text or JSON (\\u0000); both paths apply it without the NUL."""
    world = await make_world(runtime)
    phone = world.inbox.channel_key
    texts = [
        {
            "from": CUSTOMERS[0],
            "id": f"wamid.nul{n}",
            "timestamp": "1763880000",
            "type": "text",
            "text": {"body": "a\0b"},
        }
        for n in range(2)
    ]
    batched, one_by_one = await store(
        runtime, [customer_body(phone, [texts[0]], 1), customer_body(phone, [texts[1]], 2)]
    )
    assert "\\u0000" in json.dumps(texts[0])  # what Meta's JSON would carry
    async with runtime.unit_of_work(write=True) as session:
        report = await webhook_intake.process_messages(session, [batched])
    async with runtime.unit_of_work(write=True) as session:
        await webhook_intake.process(session, one_by_one)
    assert report.handled == 1
    async with runtime.unit_of_work() as session:
        stored = (
            await session.execute(select(Message.text).where(Message.provider_message_id.like("wamid.nul%")))
        ).all()
        states = (
            await session.execute(select(WebhookEvent.state).where(WebhookEvent.id.in_([batched, one_by_one])))
        ).all()
    assert sorted(text for (text,) in stored) == ["ab", "ab"]
    assert [state for (state,) in states] == [WebhookEventState.handled, WebhookEventState.handled]
