"""Load the demo business (idempotent): agents, teams, labels, replies, templates and believable history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.auth.passwords import hash_password
from mostrador.config import Settings
from mostrador.demo import data
from mostrador.kit.crypto import encrypt_json
from mostrador.kit.phone import wa_id_to_e164
from mostrador.kit.time import utc_now
from mostrador.messages.inbound import preview_text
from mostrador.models import (
    Account,
    Availability,
    CannedResponse,
    ChannelKind,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationLabel,
    ConversationStatus,
    Direction,
    Inbox,
    Label,
    Message,
    MessageStatus,
    MessageTemplate,
    Role,
    SenderKind,
    Team,
    TeamMember,
    User,
)

DEMO_LOGIN_EMAIL = data.AGENTS[0][0]
DEMO_LOGIN_PASSWORD = "mostrador-demo"  # noqa: S105 - printed by `make run`; demo only


def demo_graph_url(settings: Settings) -> str:
    return f"{settings.resolved_public_url}/sim"


def demo_inbox_config(settings: Settings) -> dict[str, str]:
    return {
        "phone_number_id": data.PHONE_NUMBER_ID,
        "waba_id": data.WABA_ID,
        "access_token": data.ACCESS_TOKEN,
        "graph_url": demo_graph_url(settings),
    }


async def seed_demo_data(session: AsyncSession, settings: Settings) -> str:
    existing = (await session.execute(select(User).where(User.email == DEMO_LOGIN_EMAIL))).scalar_one_or_none()
    if existing is not None:
        inbox = (
            await session.execute(select(Inbox).where(Inbox.channel_key == data.PHONE_NUMBER_ID))
        ).scalar_one_or_none()
        if inbox is not None:  # the port may have changed since the demo was seeded
            inbox.config_encrypted = encrypt_json(settings.resolved_secret_key, demo_inbox_config(settings))
        return "Datos de demostración ya cargados"
    account = Account(name=data.ACCOUNT_NAME, locale="es", timezone="Europe/Madrid")
    session.add(account)
    await session.flush()
    teams = {name: Team(account_id=account.id, name=name) for name in data.TEAMS}
    session.add_all(teams.values())
    password = hash_password(DEMO_LOGIN_PASSWORD)
    users: dict[str, User] = {}
    for email, name, role, _team, locale in data.AGENTS:
        users[email] = User(
            account_id=account.id,
            email=email,
            name=name,
            password_hash=password,
            role=Role(role),
            locale=locale,
            availability=Availability.online if role != "supervisor" else Availability.offline,
            max_open_conversations=8,
        )
    session.add_all(users.values())
    await session.flush()
    for email, _name, _role, team, _locale in data.AGENTS:
        session.add(TeamMember(team_id=teams[team].id, user_id=users[email].id, account_id=account.id))
    labels = {
        name: Label(account_id=account.id, name=name, color=color, description=description)
        for name, color, description in data.LABELS
    }
    session.add_all(labels.values())
    session.add_all(CannedResponse(account_id=account.id, short_code=code, content=text) for code, text in data.CANNED)
    inbox = Inbox(
        account_id=account.id,
        name="WhatsApp Casa Olivo",
        channel_kind=ChannelKind.WHATSAPP,
        channel_key=data.PHONE_NUMBER_ID,
        business_account_id=data.WABA_ID,
        display_phone_number=data.DISPLAY_NUMBER,
        config_encrypted=encrypt_json(settings.resolved_secret_key, demo_inbox_config(settings)),
        quality_rating="GREEN",
        messaging_limit="TIER_1K",
    )
    session.add(inbox)
    await session.flush()
    session.add(
        MessageTemplate(
            account_id=account.id,
            inbox_id=inbox.id,
            name="hello_world",
            language="en_US",
            category="UTILITY",
            status="APPROVED",
            components=[
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {
                    "type": "BODY",
                    "text": "Welcome and congratulations!! This message "
                    "demonstrates your ability to send a WhatsApp message notification "
                    "from the Cloud API, hosted by Meta.",
                },
            ],
        )
    )
    for template in data.TEMPLATES:
        session.add(
            MessageTemplate(
                account_id=account.id,
                inbox_id=inbox.id,
                name=template["name"],
                language=template["language"],
                category=template["category"],
                status="APPROVED",
                parameter_format=template.get("parameter_format", "POSITIONAL"),
                components=template["components"],
            )
        )
    await _seed_history(session, account, inbox, users, labels)
    return f"Datos de demostración cargados: {data.ACCOUNT_NAME}, {len(users)} agentes"


async def _seed_history(
    session: AsyncSession, account: Account, inbox: Inbox, users: dict[str, User], labels: dict[str, Label]
) -> None:
    now = utc_now()
    for number, story in enumerate(data.HISTORY, start=1):
        contact = Contact(
            account_id=account.id,
            name=story["name"],
            wa_id=story["wa_id"],
            phone_e164=wa_id_to_e164(story["wa_id"]),
            language=story["language"],
        )
        session.add(contact)
        await session.flush()
        session.add(
            ContactIdentity(account_id=account.id, inbox_id=inbox.id, contact_id=contact.id, source_id=story["wa_id"])
        )
        agent = users.get(story["agent"]) if story["agent"] else None
        last_in = max(now - timedelta(minutes=m) for m, d, _t in story["messages"] if d == "in")
        last_at = now - timedelta(minutes=min(m for m, _d, _t in story["messages"]))
        conversation = Conversation(
            account_id=account.id,
            display_id=number,
            inbox_id=inbox.id,
            contact_id=contact.id,
            status=ConversationStatus(story["status"]),
            assignee_id=agent.id if agent else None,
            last_customer_message_at=last_in,
            window_expires_at=last_in + timedelta(hours=24),
            last_activity_at=last_at,
            last_message_preview=preview_text("text", story["messages"][-1][2]),
            unread_count=1 if story["messages"][-1][1] == "in" and story["status"] != "resolved" else 0,
        )
        session.add(conversation)
        await session.flush()
        for label in story["labels"]:
            session.add(
                ConversationLabel(conversation_id=conversation.id, label_id=labels[label].id, account_id=account.id)
            )
        for index, (minutes, direction, text) in enumerate(story["messages"]):
            inbound = direction == "in"
            session.add(
                Message(
                    account_id=account.id,
                    inbox_id=inbox.id,
                    conversation_id=conversation.id,
                    direction=Direction.inbound if inbound else Direction.outbound,
                    sender_kind=SenderKind.contact if inbound else SenderKind.agent,
                    sender_user_id=None if inbound else (agent.id if agent else None),
                    type="text",
                    text=text,
                    provider_message_id=f"wamid.demo{number}x{index}",
                    status=MessageStatus.received if inbound else MessageStatus.read,
                    created_at=now - timedelta(minutes=minutes),
                    provider_timestamp=now - timedelta(minutes=minutes),
                )
            )
    account.next_conversation_number = len(data.HISTORY) + 1
    await session.flush()
