"""Outbound delivery: retries that back off, permanent failures with reasons, and no double sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from factories import World, make_world, status_update
from mostrador.contacts.service import ChannelIdentity
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.time import utc_now
from mostrador.messages.delivery import delivery
from mostrador.messages.inbound import inbound
from mostrador.messages.service import Sender
from mostrador.messages.service import message as message_service
from mostrador.models import Conversation, Message, MessageStatus, SenderKind
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
