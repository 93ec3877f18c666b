"""Bodies of one group commit are processed together, set-based: receipts in one job, customer messages in another;
anything else one body per job."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from factories import World, make_sent_messages, make_world
from mostrador.channels.whatsapp.signature import sign
from mostrador.messages.inbound import inbound
from mostrador.models import (
    ChannelKind,
    Conversation,
    Message,
    MessageStatus,
    MessageStatusEvent,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.runtime import Runtime
from mostrador.webhooks.repository import insert_many_if_new
from mostrador.webhooks.service import webhook_intake
from mostrador.worker.backends import InProcessJobBackend

SECRET = "test-app-secret"
WAMIDS = [f"wamid.batch{i}" for i in range(5)]


def status(wamid: str, name: str, ts: int, *, code: int | None = None, priced: bool = False) -> dict[str, object]:
    entry: dict[str, object] = {"id": wamid, "status": name, "timestamp": str(ts), "recipient_id": "34600000001"}
    if code is not None:
        entry["errors"] = [{"code": code, "title": "Message undeliverable", "error_data": {"details": "x"}}]
    if priced:
        entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    return entry


def body(phone_number_id: str, statuses: list[dict[str, object]], nonce: int) -> str:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "34910000000", "phone_number_id": phone_number_id},
        "statuses": statuses,
    }
    payload = {
        "object": "whatsapp_business_account",
        "id": nonce,
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload)


async def store(runtime: Runtime, bodies: list[str]) -> list[int]:
    items = [(hashlib.sha256(text.encode()).hexdigest(), text) for text in bodies]
    created = await insert_many_if_new(runtime.db, ChannelKind.WHATSAPP, items)  # no doorbell: tests process
    return [created[key] for key, _text in items]


async def state_of(runtime: Runtime, world: World) -> dict[str, tuple[object, ...]]:
    async with runtime.unit_of_work() as session:
        messages = (await session.execute(select(Message).where(Message.inbox_id == world.inbox.id))).scalars()
        result = {}
        for message in messages:
            timeline = (
                await session.execute(
                    select(MessageStatusEvent.status).where(MessageStatusEvent.message_id == message.id)
                )
            ).scalars()
            result[str(message.provider_message_id)] = (
                message.status,
                message.error_code,
                message.pricing,
                sorted(s.value for s in timeline),
            )
        return result


async def rows(runtime: Runtime, ids: list[int]) -> dict[int, WebhookEvent]:
    async with runtime.unit_of_work() as session:
        found = (await session.execute(select(WebhookEvent).where(WebhookEvent.id.in_(ids)))).scalars()
        return {row.id: row for row in found}


def random_receipts(rnd: random.Random) -> list[list[dict[str, object]]]:
    """Every message's statuses, shuffled and partly duplicated, some bodies carrying several statuses."""
    statuses = []
    for index, wamid in enumerate(WAMIDS):
        names = rnd.sample(["sent", "delivered", "read", "failed"], k=rnd.randint(1, 4))
        for offset, name in enumerate(names):
            failed = name == "failed"
            statuses.append(
                status(
                    wamid,
                    name,
                    1_763_880_000 + index * 10 + offset,
                    code=131026 if failed else None,
                    priced=name == "sent",
                )
            )
    statuses += rnd.sample(statuses, k=4)  # Meta's retries
    rnd.shuffle(statuses)
    grouped: list[list[dict[str, object]]] = []
    while statuses:
        take = rnd.choice([1, 1, 1, 2, 3])
        grouped.append(statuses[:take])
        statuses = statuses[take:]
    return grouped


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_a_batch_ends_in_the_same_state_as_one_body_at_a_time(seed: int, runtime: Runtime) -> None:
    one_by_one = await make_world(runtime, suffix="a", phone_number_id="1001")
    batched = await make_world(runtime, suffix="b", phone_number_id="1002")
    for world in (one_by_one, batched):
        await make_sent_messages(runtime, world, WAMIDS)
    receipts = random_receipts(random.Random(seed))

    for nonce, statuses in enumerate(receipts):
        [event_id] = await store(runtime, [body("1001", statuses, nonce)])
        async with runtime.unit_of_work(write=True) as session:
            await webhook_intake.process(session, event_id)
    ids = await store(runtime, [body("1002", statuses, nonce) for nonce, statuses in enumerate(receipts)])
    async with runtime.unit_of_work(write=True) as session:
        report = await webhook_intake.process_receipts(session, ids)

    assert report.handed_over == []
    assert report.handled == len(receipts)
    assert await state_of(runtime, one_by_one) == await state_of(runtime, batched)
    handled = await rows(runtime, ids)
    assert {row.state for row in handled.values()} == {WebhookEventState.handled}
    assert {row.account_id for row in handled.values()} == {batched.account.id}
    assert sum(row.event_count for row in handled.values()) == sum(len(s) for s in receipts)


async def test_a_batch_applied_twice_changes_nothing(runtime: Runtime) -> None:
    world = await make_world(runtime)
    await make_sent_messages(runtime, world, WAMIDS[:1])
    ids = await store(runtime, [body(world.inbox.channel_key, [status(WAMIDS[0], "read", 1_763_880_010)], 1)])
    async with runtime.unit_of_work(write=True) as session:
        assert (await webhook_intake.process_receipts(session, ids)).handled == 1
    before = await state_of(runtime, world)
    async with runtime.unit_of_work(write=True) as session:
        again = await webhook_intake.process_receipts(session, ids)
    assert (again.handled, again.handed_over) == (0, [])  # the row is no longer waiting
    assert await state_of(runtime, world) == before
    assert before[WAMIDS[0]][0] is MessageStatus.read


async def test_bodies_the_batch_cannot_take_plainly_go_to_the_per_body_path(runtime: Runtime) -> None:
    world = await make_world(runtime)
    await make_sent_messages(runtime, world, WAMIDS[:1])
    phone = world.inbox.channel_key
    known = body(phone, [status(WAMIDS[0], "delivered", 1_763_880_010)], 1)
    ahead = body(phone, [status(WAMIDS[0], "read", 1_763_880_011), status("wamid.not-yet", "sent", 1)], 2)
    unroutable = body("999999", [status(WAMIDS[0], "read", 1_763_880_012)], 3)
    not_json_shape = json.dumps({"object": "whatsapp_business_account", "entry": "nope"})
    ids = await store(runtime, [known, ahead, unroutable, not_json_shape])

    async with runtime.unit_of_work(write=True) as session:
        report = await webhook_intake.process_receipts(session, ids)

    assert report.handled == 1
    assert sorted(report.handed_over) == sorted(ids[1:])
    stored = await rows(runtime, ids)
    assert stored[ids[0]].state is WebhookEventState.handled
    assert all(stored[i].state is WebhookEventState.received and stored[i].attempts == 0 for i in ids[1:])


async def test_a_failing_batch_hands_every_body_over_and_applies_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(runtime)
    await make_sent_messages(runtime, world, WAMIDS[:2])
    phone = world.inbox.channel_key
    ids = await store(runtime, [body(phone, [status(w, "read", 1_763_880_010)], n) for n, w in enumerate(WAMIDS[:2])])
    original = inbound.apply_statuses

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        await original(*args, **kwargs)  # writes, then fails: the savepoint must undo the writes
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inbound, "apply_statuses", broken)
    async with runtime.unit_of_work(write=True) as session:
        report = await webhook_intake.process_receipts(session, ids)

    assert (report.handled, sorted(report.handed_over)) == (0, sorted(ids))
    assert {value[0] for value in (await state_of(runtime, world)).values()} == {MessageStatus.sent}
    assert {row.state for row in (await rows(runtime, ids)).values()} == {WebhookEventState.received}


async def test_concurrent_receipts_share_jobs_and_all_land(
    client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    world = await make_world(runtime)
    await make_sent_messages(runtime, world, WAMIDS)
    taken: list[tuple[object, ...]] = []
    original = jobs._put

    def spy(job, *, attempt, delay):  # type: ignore[no-untyped-def]
        if job.actor == "webhooks.process_receipts":
            taken.append(job.args)
        original(job, attempt=attempt, delay=delay)

    jobs._put = spy  # type: ignore[method-assign]
    bodies = [
        body(world.inbox.channel_key, [status(wamid, name, 1_763_880_000 + n)], n).encode()
        for n, (wamid, name) in enumerate((w, s) for w in WAMIDS for s in ("sent", "delivered", "read"))
    ]
    answers = await asyncio.gather(
        *(
            client.post("/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": sign(raw, SECRET)})
            for raw in bodies
        )
    )
    assert {answer.status_code for answer in answers} == {200}
    await jobs.drain(timeout=30)

    assert sum(len(args) for args in taken) == len(bodies)  # every body rang exactly once
    assert len(taken) < len(bodies)  # ... in fewer jobs than bodies: group commits travel together
    final = await state_of(runtime, world)
    assert {value[0] for value in final.values()} == {MessageStatus.read}
    assert {value[3] == ["delivered", "read", "sent"] for value in final.values()} == {True}
    stored = await rows(runtime, list(range(1, 10_000)))
    assert {row.state for row in stored.values()} == {WebhookEventState.handled}
    assert max(row.handled_at for row in stored.values() if row.handled_at) <= datetime.now(UTC)


def customer_body(phone_number_id: str, wamid: str, wa_id: str) -> str:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "34910000000", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Lucía"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": "1763880000", "type": "text", "text": {"body": "Hola"}}],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    )


async def test_one_failing_body_does_not_undo_the_others_of_its_job(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(runtime)
    phone = world.inbox.channel_key
    ids = await store(runtime, [customer_body(phone, f"wamid.c{n}", f"3460000001{n}") for n in range(3)])
    original = inbound.record_message

    async def flaky(session, inbox, event, capabilities):  # type: ignore[no-untyped-def]
        if event.provider_message_id == "wamid.c1":
            await original(session, inbox, event, capabilities)  # writes, then fails: its savepoint undoes them
            raise RuntimeError("database hiccup")
        return await original(session, inbox, event, capabilities)

    monkeypatch.setattr(inbound, "record_message", flaky)
    async with runtime.unit_of_work(write=True) as session:
        reports = await webhook_intake.process_many(session, ids)

    assert [report is not None for report in reports] == [True, False, True]
    stored = await rows(runtime, ids)
    assert [stored[i].state for i in ids] == [
        WebhookEventState.handled,
        WebhookEventState.received,
        WebhookEventState.handled,
    ]
    assert stored[ids[1]].attempts == 1 and "database hiccup" in (stored[ids[1]].last_error or "")
    async with runtime.unit_of_work() as session:
        recorded = (await session.execute(select(Message.provider_message_id))).scalars().all()
    assert sorted(recorded) == ["wamid.c0", "wamid.c2"]


async def test_concurrent_customer_messages_share_jobs_and_all_land(
    client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    world = await make_world(runtime)
    taken: list[tuple[object, ...]] = []
    one_by_one: list[tuple[object, ...]] = []
    original = jobs._put

    def spy(job, *, attempt, delay):  # type: ignore[no-untyped-def]
        if job.actor == "webhooks.process_messages":
            taken.append(job.args)
        elif job.actor == "webhooks.process":
            one_by_one.append(job.args)
        original(job, attempt=attempt, delay=delay)

    jobs._put = spy  # type: ignore[method-assign]
    bodies = [customer_body(world.inbox.channel_key, f"wamid.k{n}", f"34600000{n:03d}").encode() for n in range(12)]
    answers = await asyncio.gather(
        *(
            client.post("/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": sign(raw, SECRET)})
            for raw in bodies
        )
    )
    assert {answer.status_code for answer in answers} == {200}
    await jobs.drain(timeout=30)

    assert sum(len(args) for args in taken) == len(bodies)  # every body rang exactly once
    assert len(taken) < len(bodies)  # ... in fewer jobs than bodies: group commits travel together
    assert one_by_one == []  # plain customer messages never need the one-by-one path
    async with runtime.unit_of_work() as session:
        recorded = (await session.execute(select(Message.provider_message_id))).scalars().all()
        conversations = (await session.execute(select(Conversation.display_id))).scalars().all()
    assert sorted(recorded) == sorted(f"wamid.k{n}" for n in range(12))
    assert sorted(conversations) == list(range(1, 13))  # one per customer, numbered without gaps
