"""Customer ↔ agent through the real app and the simulator: inbound, reply, ticks, window, failures."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from factories import World
from mostrador.kit.time import utc_now
from mostrador.models import Conversation, MessageTemplate
from mostrador.runtime import Runtime
from sim_wiring import CUSTOMER, wired


async def approve_hello_world(runtime: Runtime, world: World) -> None:
    """Meta's default template, as a new business account has it (the simulator starts with it too)."""
    async with runtime.unit_of_work() as session:
        session.add(
            MessageTemplate(
                account_id=world.account.id,
                inbox_id=world.inbox.id,
                name="hello_world",
                language="en_US",
                category="UTILITY",
                status="APPROVED",
                components=[{"type": "BODY", "text": "Hello World"}],
            )
        )


async def only_conversation(client: httpx.AsyncClient, auth: dict[str, str]) -> dict:  # type: ignore[type-arg]
    page = (await client.get("/api/v1/conversations", headers=auth)).json()
    assert len(page["items"]) == 1, page
    return page["items"][0]  # type: ignore[no-any-return]


async def test_inbound_reply_and_read_ticks(runtime: Runtime, app: FastAPI, client: httpx.AsyncClient) -> None:
    async with wired(runtime, app, client) as w:
        await w.customer_says("Hola, ¿tienen la camisa de lino en talla M?")
        conversation = await only_conversation(client, w.world.auth)
        assert conversation["contact"]["phone_e164"] == "+" + CUSTOMER
        assert conversation["window_open"] is True
        assert conversation["unread_count"] == 1

        sent = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"type": "text", "text": "¡Hola Ana! Sí, nos quedan dos en la tienda de Polanco."},
            headers=w.world.auth,
        )
        assert sent.status_code == 201, sent.text
        assert sent.json()["status"] == "queued"
        await w.settle()

        delivered = (await w.sim.client.get("/_sim/messages", params={"to": CUSTOMER})).json()
        assert [m["request"]["text"]["body"] for m in delivered] == [
            "¡Hola Ana! Sí, nos quedan dos en la tienda de Polanco."
        ]
        assert [s["status"] for s in delivered[0]["statuses"]] == ["sent", "delivered", "read"]
        messages = (
            await client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=w.world.auth)
        ).json()
        ours = [m for m in messages if m["direction"] == "outbound"]
        assert ours[-1]["status"] == "read"
        assert ours[-1]["provider_message_id"].startswith("wamid.")


async def test_closed_window_refuses_free_text_and_template_goes_through(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with wired(runtime, app, client) as w:
        await w.customer_says("Hola")
        conversation = await only_conversation(client, w.world.auth)
        async with runtime.unit_of_work() as session:
            await session.execute(update(Conversation).values(window_expires_at=utc_now() - timedelta(minutes=1)))
        refused = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"type": "text", "text": "¿Sigues ahí?"},
            headers=w.world.auth,
        )
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "outside_service_window"
        assert "template" in refused.json()["error"]["message"]

        await approve_hello_world(runtime, w.world)
        template = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"type": "template", "template": {"name": "hello_world", "language": "en_US"}},
            headers=w.world.auth,
        )
        assert template.status_code == 201, template.text
        await w.settle()
        messages = (
            await client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=w.world.auth)
        ).json()
        assert messages[-1]["type"] == "template"
        assert messages[-1]["status"] in ("delivered", "read")


async def test_simulator_window_failure_is_shown_with_a_reason(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with wired(runtime, app, client) as w:
        await w.customer_says("Hola")
        conversation = await only_conversation(client, w.world.auth)
        # Meta's clock says the window closed; ours has not noticed yet: Meta's answer must reach the agent.
        advanced = await w.sim.client.post("/_sim/clock/advance", json={"seconds": 25 * 3600})
        assert advanced.status_code == 200, advanced.text
        sent = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"type": "text", "text": "¿Sigues ahí?"},
            headers=w.world.auth,
        )
        assert sent.status_code == 201
        await w.settle()
        message = (
            await client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=w.world.auth)
        ).json()[-1]
        assert message["status"] == "failed"
        assert message["error"]["code"] == 131047
        assert "plantilla" in message["error"]["reason"].lower()


async def test_start_conversation_with_template(runtime: Runtime, app: FastAPI, client: httpx.AsyncClient) -> None:
    async with wired(runtime, app, client) as w:
        await approve_hello_world(runtime, w.world)
        started = await client.post(
            "/api/v1/messages",
            json={
                "inbox_id": w.world.inbox.id,
                "to": "+54 9 11 2233 4455",
                "template": {"name": "hello_world", "language": "en_US"},
            },
            headers=w.world.auth,
        )
        assert started.status_code == 201, started.text
        await w.settle()
        delivered = (await w.sim.client.get("/_sim/messages", params={"to": "5491122334455"})).json()
        assert delivered, delivered
        async with runtime.unit_of_work() as session:
            conversation = (await session.execute(select(Conversation))).scalar_one()
        assert conversation.window_expires_at is None


async def test_reading_sends_a_read_receipt_to_the_customer(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with wired(runtime, app, client) as w:
        wamid = await w.customer_says("¿Me confirmas la dirección de la tienda?")
        assert w.sim.sim.state.inbound[wamid].read is False
        conversation = await only_conversation(client, w.world.auth)
        read = await client.post(f"/api/v1/conversations/{conversation['id']}/read", headers=w.world.auth)
        assert read.status_code == 200 and read.json()["unread_count"] == 0
        await w.settle()
        assert w.sim.sim.state.inbound[wamid].read is True
