"""Every inbound fixture of the shared contract, signed, through the real endpoint, produces the right rows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from factories import make_account
from graph_double import GraphDouble
from mostrador.channels.whatsapp.parse import parse_webhook
from mostrador.channels.whatsapp.signature import sign
from mostrador.kit.crypto import encrypt_json
from mostrador.models import (
    Account,
    Attachment,
    AttachmentState,
    AuditEvent,
    ChannelKind,
    Contact,
    Conversation,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    MessageStatusEvent,
    MessageTemplate,
    SenderKind,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend
from wa_fixtures import fixture_names, load, raw

WEBHOOK_FIXTURES = fixture_names("webhook_")


def numbers_in(payload: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            metadata = change.get("value", {}).get("metadata") or {}
            found.add((str(metadata.get("phone_number_id") or f"pnid-{entry['id']}"), str(entry["id"])))
    return found


async def connect_numbers(runtime: Runtime, account: Account, numbers: set[tuple[str, str]]) -> None:
    async with runtime.unit_of_work() as session:
        for phone_number_id, waba_id in numbers:
            config = {"phone_number_id": phone_number_id, "waba_id": waba_id, "access_token": "test-access-token"}
            session.add(
                Inbox(
                    account_id=account.id,
                    name=f"WA {phone_number_id}",
                    channel_kind=ChannelKind.WHATSAPP,
                    channel_key=phone_number_id,
                    business_account_id=waba_id,
                    display_phone_number="15550783881",
                    config_encrypted=encrypt_json(runtime.settings.resolved_secret_key, config),
                )
            )


async def seed_outbound(runtime: Runtime, account: Account, payload: dict[str, Any]) -> None:
    """Statuses refer to messages we sent: create them first, like a real send would."""
    async with runtime.unit_of_work() as session:
        for entry in payload["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                for status in value.get("statuses", []):
                    inbox = (
                        await session.execute(
                            select(Inbox).where(Inbox.channel_key == value["metadata"]["phone_number_id"])
                        )
                    ).scalar_one()
                    contact = Contact(account_id=account.id, name="", wa_id=status.get("recipient_id") or None)
                    session.add(contact)
                    await session.flush()
                    conversation = Conversation(
                        account_id=account.id,
                        display_id=1,
                        inbox_id=inbox.id,
                        contact_id=contact.id,
                        last_activity_at=contact.created_at,
                    )
                    session.add(conversation)
                    await session.flush()
                    session.add(
                        Message(
                            account_id=account.id,
                            inbox_id=inbox.id,
                            conversation_id=conversation.id,
                            direction=Direction.outbound,
                            sender_kind=SenderKind.agent,
                            type="text",
                            text="hola",
                            provider_message_id=status["id"],
                            status=MessageStatus.sent,
                        )
                    )


@pytest.mark.parametrize("name", WEBHOOK_FIXTURES)
async def test_fixture_through_endpoint(
    name: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    payload = load(name)
    body = raw(name)
    graph = GraphDouble()
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            for item in change.get("value", {}).get("messages", []):
                media = item.get(item.get("type", ""), {})
                if isinstance(media, dict) and "id" in media and "mime_type" in media:
                    graph.media_mime[media["id"]] = media["mime_type"].split(";")[0]
    runtime.graph_transport = graph.transport
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            if "message_template_id" in value:  # what a template sync would find at Meta afterwards
                graph.templates.append(
                    {
                        "id": str(value["message_template_id"]),
                        "name": value.get("message_template_name", "t"),
                        "language": value.get("message_template_language", "es"),
                        "status": value.get("event", "APPROVED"),
                        "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "Hola {{1}}"}],
                    }
                )
    account = await make_account(runtime)
    await connect_numbers(runtime, account, numbers_in(payload))
    await seed_outbound(runtime, account, payload)
    if "user_preferences" in name:
        async with runtime.unit_of_work() as session:
            for pref in payload["entry"][0]["changes"][0]["value"]["user_preferences"]:
                session.add(Contact(account_id=account.id, wa_id=pref["wa_id"], name="Cliente"))

    response = await client.post(
        "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign(body, "test-app-secret")}
    )
    assert response.status_code == 200, response.text
    await jobs.drain()

    events = parse_webhook(payload)
    async with runtime.unit_of_work() as session:
        stored = (await session.execute(select(WebhookEvent))).scalar_one()
        assert stored.state is WebhookEventState.handled, stored.last_error
        messages = {m.provider_message_id: m for m in (await session.execute(select(Message))).scalars()}
        for entry in payload["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                for item in value.get("messages", []):
                    recorded = messages[item["id"]]
                    assert recorded.direction is Direction.inbound
                    expected = next(e for e in events if getattr(e, "provider_message_id", None) == item["id"])
                    assert recorded.type == expected.message_type.value  # type: ignore[union-attr]
                    assert recorded.text == (expected.text or "")  # type: ignore[union-attr]
                    contact = await session.get(
                        Contact, (await session.get(Conversation, recorded.conversation_id)).contact_id
                    )  # type: ignore[union-attr]
                    assert contact is not None and (contact.wa_id or contact.bsuid)
                    if item["type"] in ("image", "audio", "video", "document", "sticker"):
                        attachment = (
                            await session.execute(select(Attachment).where(Attachment.message_id == recorded.id))
                        ).scalar_one()
                        assert attachment.state is AttachmentState.stored, attachment.error
                        assert attachment.size and attachment.sha256 and attachment.storage_key
                        assert await runtime.media.exists(attachment.storage_key)
                for item in value.get("statuses", []):
                    message = messages[item["id"]]
                    timeline = (
                        (
                            await session.execute(
                                select(MessageStatusEvent).where(MessageStatusEvent.message_id == message.id)
                            )
                        )
                        .scalars()
                        .all()
                    )
                    assert [e.status.value for e in timeline] == [item["status"]]
                    if item["status"] == "failed":
                        assert message.status is MessageStatus.failed
                        assert message.error_code == item["errors"][0]["code"]
                    if "pricing" in item:
                        assert message.pricing == item["pricing"]
                for _error in value.get("errors", []):
                    audit = (await session.execute(select(AuditEvent))).scalars().all()
                    assert any(a.action == "whatsapp.webhook_error" for a in audit)
                if change["field"].startswith(("message_template", "template_")):
                    template = (await session.execute(select(MessageTemplate))).scalar_one()
                    assert template.provider_template_id == str(value["message_template_id"])
                    if "event" in value:
                        assert template.status == value["event"]
                    if "new_quality_score" in value:
                        assert template.quality == value["new_quality_score"]
                if change["field"] == "account_update":
                    audit = (await session.execute(select(AuditEvent))).scalars().all()
                    assert [a.action for a in audit] == ["whatsapp.account_update"]
                if change["field"] == "user_preferences":
                    for pref in value["user_preferences"]:
                        contact = (
                            await session.execute(select(Contact).where(Contact.wa_id == pref["wa_id"]))
                        ).scalar_one()
                        assert (contact.marketing_opt_out_at is not None) == (pref["value"] == "stop")
