"""Realtime: the /events stream carries the account's events (in memory and across processes through Redis),
ends with `reconnect` after its lifetime, stops when the browser leaves; typing signals are published, not stored."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from fastapi import FastAPI
from inboxhelpers import Desk, event_stream, htmx, inbound
from redis.asyncio import Redis
from sqlalchemy import func, select

from mostrador.models import Conversation, Message
from mostrador.realtime import sse
from mostrador.realtime.events import account_channel
from mostrador.realtime.pubsub import MemoryPubSub, PubSub, RedisPubSub
from mostrador.runtime import Runtime
from testenv import REDIS_URL


async def never() -> bool:
    return False


async def collect(pubsub: PubSub, account_id: int, publish: list[tuple[int, dict]], **kwargs) -> list:  # type: ignore[type-arg,no-untyped-def]
    ready = asyncio.Event()
    stream = event_stream(pubsub, account_id, is_disconnected=never, subscribed=ready, poll_s=0.05, **kwargs)
    events = [await anext(stream)]
    pending = asyncio.ensure_future(anext(stream))
    await ready.wait()
    await asyncio.sleep(0.2)  # Redis confirms the subscription asynchronously
    for target, message in publish:
        await pubsub.publish(account_channel(target), message)
    events.append(await asyncio.wait_for(pending, 5))
    await stream.aclose()
    return events


async def test_published_event_reaches_the_stream_and_private_fields_stay() -> None:
    events = await collect(
        MemoryPubSub(),
        5,
        [
            (5, {"type": "internal.thing", "conversation_id": 1}),
            (5, {"type": "message.created", "conversation_id": 3, "message_id": 8, "text": "secreto"}),
        ],
    )
    assert events[0].event == "ready" and events[0].retry == sse.RETRY_MS
    assert events[1].event == "rt"
    assert events[1].data == '{"type":"message.created","conversation_id":3,"message_id":8}'


@pytest.mark.redis
async def test_events_cross_serve_processes_through_redis() -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:rt:"
    process_a = RedisPubSub(Redis.from_url(REDIS_URL), prefix=prefix)  # the browser's serve process
    process_b = RedisPubSub(Redis.from_url(REDIS_URL), prefix=prefix)  # where the event happens
    try:
        ready = asyncio.Event()
        stream = event_stream(process_a, 9, is_disconnected=never, subscribed=ready, poll_s=0.05)
        assert (await anext(stream)).event == "ready"
        pending = asyncio.ensure_future(anext(stream))
        for _ in range(50):  # wait until process A's subscription is live on the Redis server
            if (await process_b._redis.pubsub_numsub(prefix + account_channel(9)))[0][1]:
                break
            await asyncio.sleep(0.05)
        await process_b.publish(account_channel(9), {"type": "conversation.updated", "conversation_id": 4})
        event = await asyncio.wait_for(pending, 5)
        assert event.event == "rt" and '"conversation_id":4' in event.data
        await stream.aclose()
    finally:
        await process_a.aclose()
        await process_b.aclose()


@pytest.mark.redis
@pytest.mark.parametrize("transport", ["memory", "redis"])
async def test_a_unit_of_works_events_go_out_together_and_in_order(transport: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:rt:"
    pubsub: PubSub = MemoryPubSub() if transport == "memory" else RedisPubSub(Redis.from_url(REDIS_URL), prefix=prefix)
    try:
        subscription = pubsub.subscribe(account_channel(3))
        first = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(0.2)  # Redis confirms the subscription asynchronously
        await pubsub.publish_many(
            [
                (account_channel(3), {"type": "message.status", "message_id": 1}),
                (account_channel(4), {"type": "message.status", "message_id": 2}),  # another account's
                (account_channel(3), {"type": "message.status", "message_id": 3}),
                (account_channel(3), {"type": "message.created", "message_id": 4}),
            ]
        )
        seen = [await asyncio.wait_for(first, 5)]
        seen += [await asyncio.wait_for(anext(subscription), 5) for _ in range(2)]
        assert [message["message_id"] for message in seen] == [1, 3, 4]
        await subscription.aclose()  # type: ignore[attr-defined]
    finally:
        await pubsub.aclose()


async def test_events_waiting_together_leave_in_one_batch() -> None:
    pubsub = MemoryPubSub()
    ready = asyncio.Event()
    batches = sse.event_batches(pubsub, 6, is_disconnected=never, subscribed=ready, poll_s=0.05)
    assert [event.event for event in await anext(batches)] == ["ready"]
    pending = asyncio.ensure_future(anext(batches))
    await ready.wait()
    await pubsub.publish_many(
        [(account_channel(6), {"type": "message.status", "message_id": n, "status": "read"}) for n in range(3)]
        + [(account_channel(6), {"type": "internal.thing"})]  # not for browsers: dropped from the batch
    )
    batch = await asyncio.wait_for(pending, 5)
    assert [json.loads(str(event.data))["message_id"] for event in batch] == [0, 1, 2]
    await batches.aclose()
    await asyncio.sleep(0)
    assert pubsub.subscriber_count(account_channel(6)) == 0


async def test_stream_ends_with_reconnect_after_its_lifetime() -> None:
    stream = event_stream(MemoryPubSub(), 1, is_disconnected=never, max_lifetime_s=0.2, poll_s=0.05)
    names = [event.event async for event in stream]
    assert names == ["ready", "reconnect"]


async def test_stream_stops_when_the_browser_leaves() -> None:
    pubsub = MemoryPubSub()
    left = False

    async def disconnected() -> bool:
        return left

    stream = event_stream(pubsub, 1, is_disconnected=disconnected, poll_s=0.05)
    assert (await anext(stream)).event == "ready"
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.1)
    assert pubsub.subscriber_count(account_channel(1)) == 1
    left = True
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, 2)
    await asyncio.sleep(0.05)
    assert pubsub.subscriber_count(account_channel(1)) == 0  # unsubscribed


async def test_events_endpoint_streams_for_the_signed_in_agent(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse, "MAX_LIFETIME_S", 0.6)
    runtime = desk.w.runtime
    assert isinstance(runtime.pubsub, MemoryPubSub)
    channel = account_channel(desk.w.world.account.id)

    async def publish_when_subscribed() -> None:
        for _ in range(100):
            if runtime.pubsub.subscriber_count(channel):  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.01)
        await runtime.pubsub.publish(channel, {"type": "conversation.created", "conversation_id": 77})

    publisher = asyncio.create_task(publish_when_subscribed())
    response = await desk.client.get("/events")
    await publisher
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    body = response.text
    assert "event: ready" in body and "retry: 2000" in body
    assert "event: rt" in body and '"conversation_id":77' in body
    assert body.rstrip().endswith("event: reconnect\r\ndata:") or "event: reconnect" in body


async def test_events_endpoint_needs_a_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get("/events")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_typing_is_published_to_the_account_and_not_stored(desk: Desk, runtime: Runtime) -> None:
    await inbound(desk.w, "text", "Hola")
    async with runtime.unit_of_work() as session:
        cid = (await session.execute(select(Conversation.id))).scalar_one()
        before = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    ready = asyncio.Event()
    stream = event_stream(runtime.pubsub, desk.w.world.account.id, is_disconnected=never, subscribed=ready)
    await anext(stream)
    pending = asyncio.ensure_future(anext(stream))
    await ready.wait()
    response = await desk.client.post(f"/conversations/{cid}/typing", headers=htmx(desk.token))
    assert response.status_code == 204
    event = await asyncio.wait_for(pending, 2)
    assert event.event == "rt"
    assert f'"type":"typing","conversation_id":{cid}' in event.data
    assert f'"user_id":{desk.w.world.admin.id}' in event.data and '"ttl":6' in event.data
    await stream.aclose()
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == before


async def test_new_message_event_reaches_an_open_stream(desk: Desk, runtime: Runtime) -> None:
    """End to end inside the server: a customer writes → after commit → the agent's stream gets it."""
    ready = asyncio.Event()
    stream = event_stream(runtime.pubsub, desk.w.world.account.id, is_disconnected=never, subscribed=ready)
    await anext(stream)
    seen: list[str] = []

    async def read() -> None:
        async for event in stream:
            seen.append(str(event.data))
            if '"type":"message.created"' in str(event.data):
                return

    reader = asyncio.create_task(read())
    await ready.wait()
    await inbound(desk.w, "text", "¿Hay alguien?")
    await asyncio.wait_for(reader, 5)
    assert any('"direction":"inbound"' in data for data in seen)
    await stream.aclose()


async def test_contact_edits_reach_the_panels_of_other_agents(desk: Desk, runtime: Runtime) -> None:
    """Panel or API, every change to a contact is one small event (ids and a version, never the values); the
    panel fragment the browser then fetches shows the change and carries the same version."""
    await inbound(desk.w, "text", "Hola")
    async with runtime.unit_of_work() as session:
        cid, contact_id = (await session.execute(select(Conversation.id, Conversation.contact_id))).one()
    ready = asyncio.Event()
    stream = event_stream(runtime.pubsub, desk.w.world.account.id, is_disconnected=never, subscribed=ready)
    await anext(stream)
    seen: list[dict[str, object]] = []

    async def read(count: int) -> None:
        async for event in stream:
            data = json.loads(str(event.data))
            if data["type"] == "contact.updated":
                seen.append(data)
                if len(seen) == count:
                    return

    reader = asyncio.create_task(read(2))
    await ready.wait()
    saved = await desk.client.post(
        f"/conversations/{cid}/contact",
        data={
            "name": "Ana M.",
            "email": "ana@example.com",
            "language": "pt",
            "attr_key": "pedido",
            "attr_value": "A-17",
        },
        headers=htmx(desk.token, "contact-panel"),
    )
    assert saved.status_code == 200
    api = await desk.client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"name": "Ana Martínez", "custom_attributes": {"ciudad": "Sevilla"}},
        headers=desk.w.world.auth,
    )
    assert api.status_code == 200
    same = await desk.client.patch(
        f"/api/v1/contacts/{contact_id}", json={"name": "Ana Martínez"}, headers=desk.w.world.auth
    )
    assert same.status_code == 200  # nothing changed: no event
    await asyncio.wait_for(reader, 5)
    await stream.aclose()
    assert [set(event) for event in seen] == [{"type", "contact_id", "version"}] * 2
    assert all(event["contact_id"] == contact_id for event in seen) and seen[0]["version"] != seen[1]["version"]
    assert f'data-contact-version="{seen[0]["version"]}"' in saved.text  # the saver's own panel skips the refresh

    panel = await desk.client.get(f"/conversations/{cid}/contact", headers=htmx(desk.token))
    assert panel.status_code == 200 and panel.text.lstrip().startswith('<div class="contact" id="contact-details"')
    assert f'data-contact-version="{seen[1]["version"]}"' in panel.text
    assert 'value="Ana Martínez"' in panel.text and 'value="ana@example.com"' in panel.text
    assert 'value="Sevilla"' in panel.text and 'value="A-17"' in panel.text
    # the list row carries the contact's id, so the browser refreshes every row of this customer
    row = (await desk.client.get(f"/inbox/row/{cid}?view=all")).text
    assert f'data-contact-id="{contact_id}"' in row and "Ana Martínez" in row


async def test_contact_updated_events_are_forwarded_to_browsers() -> None:
    events = await collect(
        MemoryPubSub(), 5, [(5, {"type": "contact.updated", "contact_id": 9, "version": "v1", "email": "a@b.c"})]
    )
    assert events[1].data == '{"type":"contact.updated","contact_id":9,"version":"v1"}'
