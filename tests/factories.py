"""Test data built through the real services, so tests exercise the same paths as production."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mostrador.accounts.service import account as account_service
from mostrador.channels.base import DeliveryStatus, StatusUpdate
from mostrador.inboxes.schemas import WhatsAppInboxCreate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.time import utc_now
from mostrador.models import (
    Account,
    Contact,
    Conversation,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    Role,
    SenderKind,
    User,
)
from mostrador.runtime import Runtime
from mostrador.users.schemas import UserCreate
from mostrador.users.service import user as user_service

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
ACCESS_TOKEN = "test-access-token"


@dataclass
class World:
    account: Account
    admin: User
    token: str
    inbox: Inbox

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_account(runtime: Runtime, name: str = "Casa Olivo") -> Account:
    async with runtime.unit_of_work() as session:
        return await account_service.create(session, name=name)


async def make_user(runtime: Runtime, account: Account, email: str, role: Role = Role.agent, name: str = "") -> User:
    async with runtime.unit_of_work() as session:
        data = UserCreate(email=email, name=name or email.split("@")[0], password="correct horse", role=role)
        return await user_service.create(session, account, data)


async def make_token(runtime: Runtime, user: User) -> str:
    async with runtime.unit_of_work() as session:
        _token, raw = await user_service.create_token(session, user, "tests")
        return raw


async def make_inbox(
    runtime: Runtime,
    account: Account,
    phone_number_id: str = PHONE_NUMBER_ID,
    waba_id: str = WABA_ID,
    graph_url: str | None = None,
) -> Inbox:
    async with runtime.unit_of_work() as session:
        data = WhatsAppInboxCreate(
            name="WhatsApp tiendas",
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            access_token=ACCESS_TOKEN,
            display_phone_number="+34 910 000 000",
            graph_url=graph_url,
        )
        return await inbox_service.create_whatsapp(
            session, account, data, secret_key=runtime.settings.resolved_secret_key
        )


async def make_world(
    runtime: Runtime,
    *,
    suffix: str = "",
    phone_number_id: str = PHONE_NUMBER_ID,
    waba_id: str = WABA_ID,
    graph_url: str | None = None,
) -> World:
    account = await make_account(runtime, f"Casa Olivo {suffix}".strip())
    admin = await make_user(runtime, account, f"admin{suffix}@casaolivo.example", Role.admin)
    token = await make_token(runtime, admin)
    inbox = await make_inbox(runtime, account, phone_number_id, waba_id, graph_url)
    return World(account=account, admin=admin, token=token, inbox=inbox)


async def make_sent_messages(runtime: Runtime, world: World, wamids: list[str]) -> list[Message]:
    """Agent messages Meta accepted (status ``sent``, with these wamids) in one customer's conversation."""
    async with runtime.unit_of_work() as session:
        contact = Contact(account_id=world.account.id, wa_id="34600000001")
        session.add(contact)
        await session.flush()
        conversation = Conversation(
            account_id=world.account.id,
            display_id=1,
            inbox_id=world.inbox.id,
            contact_id=contact.id,
            last_activity_at=utc_now(),
        )
        session.add(conversation)
        await session.flush()
        messages = [
            Message(
                account_id=world.account.id,
                inbox_id=world.inbox.id,
                conversation_id=conversation.id,
                direction=Direction.outbound,
                sender_kind=SenderKind.agent,
                type="text",
                text="hola",
                provider_message_id=wamid,
                status=MessageStatus.sent,
            )
            for wamid in wamids
        ]
        session.add_all(messages)
        await session.flush()
        return messages


def status_update(world: World, provider_message_id: str, status: str, **fields: Any) -> StatusUpdate:
    """A status webhook for the world's inbox, as the parser would give it (``fields``: errors, pricing, …)."""
    return StatusUpdate(
        channel_account_id=world.inbox.channel_key,
        provider_message_id=provider_message_id,
        status=DeliveryStatus(status),
        provider_status=status,
        **({"timestamp": utc_now()} | fields),
    )


def messages_body(
    messages: list[dict[str, Any]],
    contacts: list[dict[str, Any]],
    *,
    phone_number_id: str = "106540352242922",
    waba_id: str = "102290129340398",
) -> bytes:
    """A ``messages`` webhook body as Meta posts it: one entry, one change, these messages and contacts."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "34910000000", "phone_number_id": phone_number_id},
        "contacts": contacts,
        "messages": messages,
    }
    change = {"field": "messages", "value": value}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}).encode()
