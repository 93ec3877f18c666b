"""The webhook endpoint: authentication before any write, durable storage, idempotent processing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from factories import World, make_world, messages_body
from mostrador.channels.whatsapp.signature import sign
from mostrador.models import (
    Contact,
    Conversation,
    Message,
    MessageStatus,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.runtime import Runtime
from mostrador.webhooks.endpoints import carries_messages
from mostrador.worker.backends import InProcessJobBackend
from mostrador.worker.registry import get_actor

SECRET = "test-app-secret"


def text_webhook(
    wamid: str = "wamid.A1",
    body: str = "¿A qué hora abren?",
    phone_number_id: str = "106540352242922",
    wa_id: str = "5215512345678",
    ts: int = 1_763_880_000,
) -> bytes:
    message = {"from": wa_id, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}}
    contact = {"profile": {"name": "Ana Martínez"}, "wa_id": wa_id, "user_id": "MX.1"}
    return messages_body([message], [contact], phone_number_id=phone_number_id)


def text_message(wamid: str, wa_id: str, body: str, ts: int) -> dict[str, object]:
    return {"from": wa_id, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}}


async def post(client: httpx.AsyncClient, body: bytes, secret: str = SECRET) -> httpx.Response:
    return await client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"content-type": "application/json", "X-Hub-Signature-256": sign(body, secret)},
    )


async def count(runtime: Runtime, model: type) -> int:  # type: ignore[type-arg]
    async with runtime.unit_of_work() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


class TestHandshake:
    async def test_matching_token_echoes_challenge(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158201444"},
        )
        assert response.status_code == 200
        assert response.text == "1158201444"

    async def test_wrong_token_is_403(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/webhooks/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
        )
        assert response.status_code == 403


class TestAuthenticationBeforeWrite:
    async def test_missing_signature_is_401_and_stores_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        response = await client.post("/webhooks/whatsapp", content=text_webhook())
        assert response.status_code == 401
        assert await count(runtime, WebhookEvent) == 0

    async def test_wrong_signature_is_403_and_stores_nothing(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        response = await post(client, text_webhook(), secret="another-secret")
        assert response.status_code == 403
        assert await count(runtime, WebhookEvent) == 0

    async def test_signature_is_over_raw_bytes(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        body = text_webhook()
        reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
        response = await client.post(
            "/webhooks/whatsapp", content=reserialised, headers={"X-Hub-Signature-256": sign(body, SECRET)}
        )
        assert response.status_code == 403

    async def test_oversized_body_is_413(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        body = b'{"object": "' + b"x" * (3 * 1024 * 1024 + 10) + b'"}'
        response = await post(client, body)
        assert response.status_code == 413
        assert await count(runtime, WebhookEvent) == 0

    async def test_non_json_is_400(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        response = await post(client, b"<xml>hola</xml>")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_json"
        assert await count(runtime, WebhookEvent) == 0

    @pytest.mark.parametrize("body", [b"[1, 2]", b'"hola"', b"null"])
    async def test_json_that_is_not_an_object_is_400(
        self, client: httpx.AsyncClient, runtime: Runtime, body: bytes
    ) -> None:
        response = await post(client, body)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_json")
        assert await count(runtime, WebhookEvent) == 0

    async def test_json_nested_past_any_parsers_depth_is_400(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        response = await post(client, b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_json")
        assert await count(runtime, WebhookEvent) == 0

    @pytest.mark.parametrize(
        "body",
        [
            b'{"object": "whatsapp_business_account", "entry": [], "note": "\\ud83d"}',  # a lone surrogate
            b'\xef\xbb\xbf{"object": "whatsapp_business_account", "entry": []}',  # a byte-order mark
        ],
    )
    async def test_json_the_fast_parser_refuses_is_still_stored(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, body: bytes
    ) -> None:
        """Python's parser reads these, orjson does not: the body is JSON, so it must not be answered 400 (Meta
        would give up on it after its retries), and it is processed like any other."""
        response = await post(client, body)
        assert (response.status_code, response.json()) == (200, {"status": "stored"})
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
        assert (event.state, event.last_error) == (WebhookEventState.handled, None)


class TestStoreThenProcess:
    async def test_text_message_creates_contact_conversation_and_window(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        response = await post(client, text_webhook())
        assert response.status_code == 200
        assert response.json() == {"status": "stored"}
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            message = (await session.execute(select(Message))).scalar_one()
            conversation = await session.get(Conversation, message.conversation_id)
            event = (await session.execute(select(WebhookEvent))).scalar_one()
        assert message.text == "¿A qué hora abren?"
        assert message.status is MessageStatus.received
        assert conversation is not None
        sent_at = datetime.fromtimestamp(1_763_880_000, UTC)
        assert conversation.last_customer_message_at == sent_at
        assert conversation.window_expires_at == datetime.fromtimestamp(1_763_880_000 + 24 * 3600, UTC)
        assert conversation.unread_count == 1
        assert event.state is WebhookEventState.handled
        assert event.account_id == world.account.id

    async def test_a_dead_intake_connection_is_replaced_without_failing_a_webhook(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        assert (await post(client, text_webhook("wamid.before"))).status_code == 200  # opens the dedicated one
        async with runtime.db.intake.driver() as driver:
            await driver.close()  # the server hung up on it (restart, idle timeout) while it sat in the pool
        response = await post(client, text_webhook("wamid.after"))
        assert (response.status_code, response.json()) == (200, {"status": "stored"})
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            recorded = (await session.execute(select(Message.provider_message_id))).scalars().all()
        assert sorted(recorded) == ["wamid.after", "wamid.before"]

    async def test_same_body_twice_is_absorbed(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        body = text_webhook()
        first, second = await post(client, body), await post(client, body)
        assert (first.json()["status"], second.json()["status"]) == ("stored", "duplicate")
        await jobs.drain()
        assert await count(runtime, WebhookEvent) == 1
        assert await count(runtime, Message) == 1

    async def test_same_wamid_in_a_different_body_is_recorded_once(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        await post(client, text_webhook(ts=1_763_880_000))
        await post(client, text_webhook(ts=1_763_880_001))  # Meta re-sent the message inside another body
        await jobs.drain()
        assert await count(runtime, WebhookEvent) == 2
        assert await count(runtime, Message) == 1

    async def test_later_message_refreshes_window_earlier_one_does_not_move_it_back(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        await post(client, text_webhook("wamid.late", ts=1_763_890_000))
        await jobs.drain()
        await post(client, text_webhook("wamid.early", ts=1_763_880_000))
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            conversation = (await session.execute(select(Conversation))).scalar_one()
        assert conversation.last_customer_message_at == datetime.fromtimestamp(1_763_890_000, UTC)
        assert conversation.unread_count == 2

    async def test_unknown_number_is_stored_and_marked_unroutable(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        response = await post(client, text_webhook(phone_number_id="000000"))
        assert response.status_code == 200
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
        assert event.state is WebhookEventState.unroutable
        assert "000000" in (event.last_error or "")
        assert await count(runtime, Message) == 0

    async def test_unknown_shape_is_stored_and_marked_failed_not_500(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        body = json.dumps({"object": "whatsapp_business_account", "entry": "nope"}).encode()
        response = await post(client, body)
        assert response.status_code == 200
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
        assert event.state is WebhookEventState.failed
        assert event.last_error and "shape" in event.last_error

    async def test_one_unreadable_item_costs_only_itself(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        payload = json.loads(text_webhook("wamid.good", body="¿Tienen talla M?"))
        messages = payload["entry"][0]["changes"][0]["value"]["messages"]
        good = messages[0]
        broken = good | {"id": "wamid.broken", "type": "location", "location": {"latitude": "40,4", "longitude": 1}}
        nameless = {key: value for key, value in good.items() if key != "id"}
        messages[:0] = [broken, nameless]
        assert (await post(client, json.dumps(payload).encode())).status_code == 200
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
            rows = {m.provider_message_id: m for m in (await session.execute(select(Message))).scalars()}
        assert event.state is WebhookEventState.handled
        assert event.last_error and "unreadable $.entry[0].changes[0].value.messages[1].id" in event.last_error
        assert set(rows) == {"wamid.good", "wamid.broken"}
        assert rows["wamid.good"].text == "¿Tienen talla M?"
        assert rows["wamid.broken"].content["unreadable"]["path"].endswith(".location.latitude")
        assert rows["wamid.broken"].conversation_id == rows["wamid.good"].conversation_id

    async def test_a_body_of_only_unreadable_items_is_failed(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        payload = json.loads(text_webhook())
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        assert (await post(client, json.dumps(payload).encode())).status_code == 200
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
        assert event.state is WebhookEventState.failed
        assert event.last_error and "unreadable" in event.last_error
        assert await count(runtime, Message) == 0

    async def test_a_customer_who_changes_number_keeps_contact_and_conversation(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        old, new = "5215512345678", "5215587654321"

        def by_phone_only(body: bytes) -> bytes:  # no BSUID that would find the contact anyway
            payload = json.loads(body)
            for contact in payload["entry"][0]["changes"][0]["value"].get("contacts", []):
                contact.pop("user_id", None)
            return json.dumps(payload).encode()

        await post(client, by_phone_only(text_webhook("wamid.before", body="Hola", wa_id=old)))
        await jobs.drain()
        changed = json.loads(text_webhook("wamid.sys", wa_id=old, ts=1_763_880_060))
        value = changed["entry"][0]["changes"][0]["value"]
        del value["contacts"]
        value["messages"][0] = {
            "from": old,
            "id": "wamid.sys",
            "timestamp": "1763880060",
            "type": "system",
            "system": {"body": f"Ana changed from {old} to {new}", "wa_id": new, "type": "user_changed_number"},
        }
        await post(client, json.dumps(changed).encode())
        await jobs.drain()
        await post(client, by_phone_only(text_webhook("wamid.after", body="Soy Ana", wa_id=new, ts=1_763_880_120)))
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            contacts = (await session.execute(select(Contact))).scalars().all()
            conversations = {m.conversation_id for m in (await session.execute(select(Message))).scalars()}
        assert [(c.wa_id, c.phone_e164) for c in contacts] == [(new, "+5215587654321")]
        assert len(conversations) == 1
        # a late message from the old number still finds them
        await post(client, by_phone_only(text_webhook("wamid.late", body="(antes)", wa_id=old, ts=1_763_880_050)))
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            contacts = (await session.execute(select(Contact))).scalars().all()
        assert [c.wa_id for c in contacts] == [new]  # replies still go to the number they use now

    async def test_a_changed_number_and_its_first_message_in_one_body_find_one_contact(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        old, new = "5215512345678", "5215587654321"
        await post(client, messages_body([text_message("wamid.before", old, "Hola", 1_763_880_000)], []))
        await jobs.drain()
        changed = {
            "from": old,
            "id": "wamid.sys",
            "timestamp": "1763880060",
            "type": "system",
            "system": {"body": f"Ana changed from {old} to {new}", "wa_id": new, "type": "user_changed_number"},
        }
        await post(client, messages_body([changed, text_message("wamid.after", new, "Soy Ana", 1_763_880_061)], []))
        await jobs.drain()
        async with runtime.unit_of_work() as session:
            contacts = (await session.execute(select(Contact))).scalars().all()
            conversations = {m.conversation_id for m in (await session.execute(select(Message))).scalars()}
        assert [c.wa_id for c in contacts] == [new]
        assert len(conversations) == 1

    async def test_concurrent_first_messages_from_one_customer_open_one_conversation(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        for index in range(8):
            await post(client, text_webhook(f"wamid.c{index}", body=f"mensaje {index}", ts=1_763_880_000 + index))
        await jobs.drain()
        assert await count(runtime, Conversation) == 1
        assert await count(runtime, Message) == 8


class TestPriorities:
    def test_customer_messages_are_urgent_receipts_are_not(self) -> None:
        message = json.loads(text_webhook())
        receipt = json.loads(text_webhook())
        value = receipt["entry"][0]["changes"][0]["value"]
        value.pop("messages")
        value["statuses"] = [{"id": "wamid.X", "status": "read", "timestamp": "1", "recipient_id": "1"}]
        template_update = {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "1", "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}
            ],
        }
        assert carries_messages(message) is True
        assert carries_messages(receipt) is False
        assert carries_messages(template_update) is True

    async def test_a_customer_message_is_processed_before_earlier_receipts(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend, world: World
    ) -> None:
        order: list[str] = []
        original = jobs._put  # observe the order in which the runner takes jobs

        def spy(job, *, attempt, delay):  # type: ignore[no-untyped-def]
            order.append(job.actor)
            original(job, attempt=attempt, delay=delay)

        jobs._put = spy  # type: ignore[method-assign]
        receipt = json.loads(text_webhook("wamid.r"))
        value = receipt["entry"][0]["changes"][0]["value"]
        value.pop("messages")
        value["statuses"] = [{"id": "wamid.unknown", "status": "read", "timestamp": "1", "recipient_id": "1"}]
        await post(client, json.dumps(receipt).encode())
        await post(client, text_webhook("wamid.m"))
        await jobs.drain(timeout=30)
        assert order[0] == "webhooks.process_receipts" and "webhooks.process_messages" in order
        receipts_priority = get_actor("webhooks.process_receipts").queue.priority
        assert get_actor("webhooks.process_messages").queue.priority < receipts_priority
        assert get_actor("webhooks.process").queue.priority < receipts_priority
