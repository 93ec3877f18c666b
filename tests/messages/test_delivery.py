"""Outbound delivery: retries that back off, permanent failures with reasons, and no double sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from factories import World, make_world, status_update
from jobutil import runner_held
from mostrador.channels.base import ProviderError
from mostrador.contacts.service import ChannelIdentity
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.ratelimit import MemoryRateLimitStore
from mostrador.kit.time import as_utc, utc_now
from mostrador.messages import delivery as delivery_module
from mostrador.messages.delivery import delivery
from mostrador.messages.inbound import inbound
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import AuditEvent, Contact, Conversation, Inbox, Message, MessageStatus, SenderKind
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend


@dataclass
class ScriptedGraph:
    """Answers sends from a script: 'ok', 'timeout' (request reached Meta, answer lost), 'refused', or a code."""

    script: list[str]
    received: list[dict[str, object]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        step = self.script.pop(0) if self.script else "ok"
        if step == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content)
        self.received.append(body)
        if step == "timeout":
            raise httpx.ReadTimeout("answer lost", request=request)
        if step == "ok":
            return httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": "x", "wa_id": "x"}],
                    "messages": [{"id": f"wamid.sent{len(self.received)}"}],
                },
            )
        code = int(step)
        return httpx.Response(
            400,
            json={
                "error": {
                    "message": f"(#{code}) error",
                    "type": "OAuthException",
                    "code": code,
                    "error_data": {"details": "details"},
                }
            },
        )


async def open_conversation(runtime: Runtime, world: World) -> Message:
    async with runtime.unit_of_work() as session:
        contact = await contact_service.resolve_identity(
            session, world.inbox, ChannelIdentity("34600111222", None, "Rosa")
        )
        conversation = await conversation_service.route_inbound(session, world.inbox, contact)
        conversation.window_expires_at = utc_now() + timedelta(hours=20)
        await session.flush()
        return await message_service.send_text(
            session,
            world.inbox,
            conversation,
            contact,
            Sender(SenderKind.agent, world.admin),
            "¿Te ayudo con algo más?",
        )


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


async def stored(runtime: Runtime, message_id: int) -> Message:
    async with runtime.unit_of_work() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def test_throttled_send_backs_off_then_succeeds(
    runtime: Runtime, jobs: InProcessJobBackend, world: World
) -> None:
    graph = ScriptedGraph(["130429", "ok"])
    runtime.graph_transport = httpx.MockTransport(graph.handler)
    message = await open_conversation(runtime, world)
    await jobs.drain(timeout=30)
    final = await stored(runtime, message.id)
    assert final.status is MessageStatus.sent
    assert final.attempts == 2
    assert final.provider_message_id == "wamid.sent2"
    assert len(graph.received) == 2


async def test_permanent_error_fails_with_code_and_readable_reason(
    runtime: Runtime, jobs: InProcessJobBackend, world: World, client: httpx.AsyncClient
) -> None:
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph(["131026"]).handler)
    message = await open_conversation(runtime, world)
    await jobs.drain()
    final = await stored(runtime, message.id)
    assert final.status is MessageStatus.failed
    assert final.error_code == 131026
    api = await client.get(f"/api/v1/conversations/{final.conversation_id}/messages", headers=world.auth)
    error = api.json()[-1]["error"]
    assert error["code"] == 131026 and error["reason"] and error["reason"] != error["title"]


async def test_refused_connection_is_retried_immediately_safe(
    runtime: Runtime, jobs: InProcessJobBackend, world: World
) -> None:
    graph = ScriptedGraph(["refused", "ok"])
    runtime.graph_transport = httpx.MockTransport(graph.handler)
    message = await open_conversation(runtime, world)
    await jobs.drain(timeout=30)
    assert (await stored(runtime, message.id)).status is MessageStatus.sent
    assert len(graph.received) == 1  # the refused attempt never reached "Meta"


async def test_lost_answer_is_not_resent_when_a_status_proves_delivery(
    runtime: Runtime, jobs: InProcessJobBackend, world: World
) -> None:
    graph = ScriptedGraph(["timeout"])
    runtime.graph_transport = httpx.MockTransport(graph.handler)
    message = await open_conversation(runtime, world)
    await jobs.drain()
    pending = await stored(runtime, message.id)
    assert pending.status is MessageStatus.sending  # ambiguous: wait for proof instead of sending again
    key = graph.received[0]["biz_opaque_callback_data"]
    assert key == pending.idempotency_key
    # Meta accepted it after all: its status webhook carries our key.
    async with runtime.unit_of_work() as session:
        update_ = status_update(world, "wamid.meta1", "delivered", biz_opaque_callback_data=str(key))
        assert await inbound.apply_status(session, world.inbox, update_) is not None
    async with runtime.unit_of_work() as session:  # the grace period passes
        await session.execute(update(Message).values(next_attempt_at=utc_now() - timedelta(seconds=1)))
        assert await delivery.sweep(session, utc_now()) == 0
    await jobs.drain()
    final = await stored(runtime, message.id)
    assert final.status is MessageStatus.delivered
    assert final.provider_message_id == "wamid.meta1"
    assert len(graph.received) == 1


async def test_lost_answer_without_proof_is_sent_again_after_grace(
    runtime: Runtime, jobs: InProcessJobBackend, world: World
) -> None:
    graph = ScriptedGraph(["timeout", "ok"])
    runtime.graph_transport = httpx.MockTransport(graph.handler)
    message = await open_conversation(runtime, world)
    await jobs.drain()
    async with runtime.unit_of_work() as session:
        await session.execute(update(Message).values(next_attempt_at=utc_now() - timedelta(seconds=1)))
        assert await delivery.sweep(session, utc_now()) == 1
    await jobs.drain()
    final = await stored(runtime, message.id)
    assert final.status is MessageStatus.sent
    assert len(graph.received) == 2
    assert graph.received[0]["biz_opaque_callback_data"] == graph.received[1]["biz_opaque_callback_data"]


async def test_send_refused_locally_outside_window(runtime: Runtime, world: World, client: httpx.AsyncClient) -> None:
    graph = ScriptedGraph([])
    runtime.graph_transport = httpx.MockTransport(graph.handler)
    message = await open_conversation(runtime, world)
    async with runtime.unit_of_work() as session:
        await session.execute(update(Conversation).values(window_expires_at=utc_now() - timedelta(seconds=1)))
    response = await client.post(
        f"/api/v1/conversations/{message.conversation_id}/messages",
        json={"type": "text", "text": "hola"},
        headers=world.auth,
    )
    assert response.status_code == 409
    async with runtime.unit_of_work() as session:
        count = len((await session.execute(select(Message).where(Message.text == "hola"))).scalars().all())
    assert count == 0


async def test_pair_rate_spaces_messages_to_one_customer(
    runtime: Runtime, jobs: InProcessJobBackend, world: World
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    runtime.sleep = fake_sleep  # type: ignore[method-assign]
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph([]).handler)
    for _ in range(5):
        await open_conversation(runtime, world)
    await jobs.drain(timeout=30)
    # a burst of 4 goes at once; the fifth waits for the customer's ~6 s spacing
    assert len([s for s in slept if s > 1]) == 1
    assert max(slept) <= 6.0


@dataclass
class FakeTime:
    """One clock for the rate limiters, the wall clock delivery reads and the sleeps it takes."""

    seconds: float = 0.0
    start: datetime = field(default_factory=utc_now)
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    async def sleep(self, seconds: float) -> None:  # the test moves the clock: jobs overlap in real runs
        self.slept.append(seconds)


@pytest.fixture
def fake_time(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    time = FakeTime()
    store = MemoryRateLimitStore(clock=time.monotonic)
    monkeypatch.setattr(runtime.throughput, "store", store)
    monkeypatch.setattr(runtime.pair_rate, "store", store)
    monkeypatch.setattr(delivery_module, "utc_now", time.wall)
    monkeypatch.setattr(runtime, "sleep", time.sleep)
    return time


async def queued_slots(runtime: Runtime) -> dict[int, datetime]:
    async with runtime.unit_of_work() as session:
        rows = await session.execute(
            select(Message.id, Message.send_slot_at).where(Message.status == MessageStatus.queued)
        )
        return {message_id: as_utc(slot) for message_id, slot in rows if slot is not None}


async def test_deferred_sends_to_one_customer_keep_their_slot_and_all_go(
    runtime: Runtime, world: World, fake_time: FakeTime
) -> None:
    """Seven messages to one customer: four at once, then one every ~6 s. A send deferred past the inline wait
    holds the slot it booked; booking a new one on every deferral pushed the last ones back for ever."""
    sent_at: list[float] = []
    graph = ScriptedGraph([])

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.seconds)
        return graph.handler(request)

    runtime.graph_transport = httpx.MockTransport(handler)
    async with runner_held(runtime):
        ids = [(await open_conversation(runtime, world)).id for _ in range(7)]
        for message_id in ids:
            await delivery.deliver(runtime, message_id)
        deferred = await queued_slots(runtime)
        assert deferred, "some sends must have been deferred past the inline wait"
        for _round in range(10):  # each deferred job runs when its slot is due, as the job runner would
            if not (slots := await queued_slots(runtime)):
                break
            due = min(slots.values())
            fake_time.seconds = max(fake_time.seconds, (due - fake_time.start).total_seconds())
            for message_id, slot in slots.items():
                if slot <= due:
                    await delivery.deliver(runtime, message_id)
        async with runtime.unit_of_work() as session:
            statuses = (await session.execute(select(Message.status).where(Message.id.in_(ids)))).scalars().all()
    assert set(statuses) == {MessageStatus.sent}
    # four at once, the fifth waits 6 s in its worker, the sixth and seventh are deferred to their slots
    assert [s for s in fake_time.slept if s > 0] == [6.0]
    assert sent_at == [0.0] * 5 + [12.0, 18.0]


async def test_throttled_by_meta_cools_the_number_down_and_backs_off_exponentially(
    runtime: Runtime, world: World, fake_time: FakeTime
) -> None:
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph(["130429", "130429", "130429", "ok"]).handler)
    async with runner_held(runtime):
        message = await open_conversation(runtime, world)
        waits = []
        for _ in range(3):
            await delivery.deliver(runtime, message.id)
            retry = await stored(runtime, message.id)
            assert retry.status is MessageStatus.queued and retry.next_attempt_at is not None
            waits.append(round((as_utc(retry.next_attempt_at) - fake_time.wall()).total_seconds()))
            # Meta's answer also holds back every other send from the number until the retry is due
            slot = await runtime.throughput.reserve_slot(world.inbox.channel_key, max_wait=0)
            assert not slot.granted and slot.delay_s == pytest.approx(waits[-1], abs=0.1)
            fake_time.seconds += waits[-1]
        await delivery.deliver(runtime, message.id)
    assert waits == [2, 4, 8]
    assert (await stored(runtime, message.id)).status is MessageStatus.sent


async def test_pair_rate_error_cools_down_only_that_customer(
    runtime: Runtime, world: World, fake_time: FakeTime
) -> None:
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph(["131056"]).handler)
    async with runner_held(runtime):
        message = await open_conversation(runtime, world)
        await delivery.deliver(runtime, message.id)
        pair = runtime.pair_rate.pair_key(world.inbox.channel_key, "34600111222")
        held = await runtime.pair_rate.reserve_slot(pair, max_wait=0)
        assert not held.granted and held.delay_s == pytest.approx(6.0, abs=0.1)
        assert (await runtime.throughput.reserve_slot(world.inbox.channel_key, max_wait=0)).granted
        other = runtime.pair_rate.pair_key(world.inbox.channel_key, "34600999888")
        assert (await runtime.pair_rate.reserve_slot(other, max_wait=0)).granted


async def test_a_resent_message_is_tracked_by_its_new_attempt_alone(
    runtime: Runtime, jobs: InProcessJobBackend, world: World
) -> None:
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph([]).handler)
    message = await open_conversation(runtime, world)
    await jobs.drain()

    async def receipt(wamid: str, status: str, code: int | None = None) -> None:
        errors = (ProviderError(code=code, title=f"error {code}"),) if code else ()
        async with runtime.unit_of_work() as session:
            assert await inbound.apply_status(session, world.inbox, status_update(world, wamid, status, errors=errors))

    await receipt("wamid.sent1", "sent")
    await receipt("wamid.sent1", "failed", 131026)
    assert (await stored(runtime, message.id)).error_code == 131026
    async with runtime.unit_of_work() as session:
        failed = await session.get(Message, message.id)
        conversation = await session.get(Conversation, message.conversation_id)
        assert failed is not None and conversation is not None
        contact = await session.get(Contact, conversation.contact_id)
        assert contact is not None
        await message_service.resend(session, world.inbox, conversation, contact, failed)
    await jobs.drain()
    again = await stored(runtime, message.id)
    assert (again.status, again.provider_message_id, again.error_code) == (MessageStatus.sent, "wamid.sent2", None)
    assert again.attempts == 1  # the new attempt starts with every retry ahead of it

    await receipt("wamid.sent2", "sent")  # the old attempt's "failed" no longer decides the row
    assert (await stored(runtime, message.id)).status is MessageStatus.sent
    await receipt("wamid.sent2", "failed", 131049)  # and a second failure is recorded with its own reason
    final = await stored(runtime, message.id)
    assert (final.status, final.error_code) == (MessageStatus.failed, 131049)
    async with runtime.unit_of_work() as session:
        audit = (await session.execute(select(AuditEvent).where(AuditEvent.action == "message.resent"))).scalar_one()
    assert audit.subject_id == message.id
    assert audit.data["error"]["code"] == 131026 and audit.data["provider_message_id"] == "wamid.sent1"
    assert [entry["status"] for entry in audit.data["timeline"]] == ["sent", "failed"]


async def test_each_number_is_paced_at_its_own_throughput(runtime: Runtime, world: World, fake_time: FakeTime) -> None:
    """A coexistence number allowed 20 msg/s is paced at 85 % of that (17/s, burst 1), whatever the server's
    default of 80; the limit is read from the inbox row, so every worker paces the number alike."""
    async with runtime.unit_of_work() as session:
        await session.execute(update(Inbox).where(Inbox.id == world.inbox.id).values(throughput_mps=20))
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph([]).handler)
    async with runner_held(runtime):
        ids = []
        for index in range(3):  # three customers: no pair limit in the way
            async with runtime.unit_of_work() as session:
                contact = await contact_service.resolve_identity(
                    session, world.inbox, ChannelIdentity(f"3460011100{index}", None, "Cliente")
                )
                conversation = await conversation_service.route_inbound(session, world.inbox, contact)
                conversation.window_expires_at = utc_now() + timedelta(hours=20)
                await session.flush()
                sent = await message_service.send_text(
                    session, world.inbox, conversation, contact, Sender(SenderKind.agent, world.admin), "Hola"
                )
                ids.append(sent.id)
        for message_id in ids:
            await delivery.deliver(runtime, message_id)
    assert fake_time.slept == pytest.approx([1 / 17, 2 / 17])  # the first goes at once


async def test_sends_holding_a_slot_move_back_when_meta_throttles_the_customer(
    runtime: Runtime, world: World, fake_time: FakeTime
) -> None:
    """Deferred sends keep their slot and never ask the limiter again, so a cooldown must move them too."""
    runtime.graph_transport = httpx.MockTransport(ScriptedGraph(["ok"] * 5 + ["131056"]).handler)
    async with runner_held(runtime):
        ids = [(await open_conversation(runtime, world)).id for _ in range(7)]
        for message_id in ids:
            await delivery.deliver(runtime, message_id)
        held = await queued_slots(runtime)
        assert sorted(held) == ids[5:]  # the sixth and seventh hold slots at 12 s and 18 s
        fake_time.seconds = 12.0
        await delivery.deliver(runtime, ids[5])  # Meta: 131056, too many to this customer
        slots = await queued_slots(runtime)
    start = fake_time.start
    assert slots[ids[6]] == start + timedelta(seconds=18 + 6)  # the seventh moved back by the cooldown
    assert slots.get(ids[5]) is None  # the throttled one retries on its backoff, without a held slot
    retry = await stored(runtime, ids[5])
    assert retry.status is MessageStatus.queued and retry.next_attempt_at is not None
