"""Webhook events the processor applies to the model, each sent signed through ``POST /webhooks/whatsapp``,
processed by the real jobs, and asserted on the rows (and, for what agents see, on the rendered thread).

Each assertion checks a value only the applied event can produce (never a column default): the quality and limit
of a number, an account's status, a template's category and content, a status's pricing detail, an ad referral,
a removed reaction, and one contact per customer across phone-number and BSUID (business-scoped user id) shapes.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from factories import WABA_ID, World, make_sent_messages, make_world
from mostrador.channels.whatsapp.signature import sign
from mostrador.inboxes.schemas import WhatsAppInboxCreate
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.models import (
    Contact,
    ContactIdentity,
    Conversation,
    Inbox,
    Message,
    MessageStatusEvent,
    MessageTemplate,
    WebhookEvent,
    WebhookEventState,
)
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend
from testenv import APP_SECRET
from wa_fixtures import load

PASSWORD = "correct horse"  # what factories.make_user sets
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
REACTION_SPAN = '<span class="reaction"'


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


async def deliver(client: httpx.AsyncClient, jobs: InProcessJobBackend, payload: dict[str, Any]) -> None:
    """Sign and post one body as Meta would, run every job it causes, and check it was applied."""
    body = json.dumps(payload).encode()
    response = await client.post(
        "/webhooks/whatsapp",
        content=body,
        headers={"content-type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)},
    )
    assert (response.status_code, response.json()) == (200, {"status": "stored"}), response.text
    await jobs.drain()


async def assert_all_handled(runtime: Runtime) -> None:
    async with runtime.unit_of_work() as session:
        rows = (await session.execute(select(WebhookEvent))).scalars().all()
    assert rows
    assert [(row.state, row.last_error) for row in rows] == [(WebhookEventState.handled, None)] * len(rows)


async def get_inbox(runtime: Runtime, inbox_id: int) -> Inbox:
    async with runtime.unit_of_work() as session:
        found = await session.get(Inbox, inbox_id)
    assert found is not None
    return found


async def set_inbox(runtime: Runtime, inbox_id: int, **fields: Any) -> None:
    async with runtime.unit_of_work() as session:
        found = await session.get(Inbox, inbox_id)
        assert found is not None
        for name, value in fields.items():
            setattr(found, name, value)


async def add_inbox(runtime: Runtime, world: World, phone_number_id: str, display_phone_number: str) -> Inbox:
    """A second number of the same business account (same WABA) as the world's inbox."""
    async with runtime.unit_of_work() as session:
        data = WhatsAppInboxCreate(
            name="WhatsApp otra tienda",
            phone_number_id=phone_number_id,
            waba_id=world.inbox.business_account_id,
            access_token="test-access-token",
            display_phone_number=display_phone_number,
        )
        return await inbox_service.create_whatsapp(
            session, world.account, data, secret_key=runtime.settings.resolved_secret_key
        )


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    """Through the real login form (the thread is a signed-in page)."""
    page = await client.get("/login")
    match = CSRF_META.search(page.text)
    assert match, "login page has no csrf-token meta tag"
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": match.group(1), "next": "/"}
    )
    assert response.status_code == 303, response.text[:300]


async def message_by_wamid(runtime: Runtime, wamid: str) -> Message:
    async with runtime.unit_of_work() as session:
        return (await session.execute(select(Message).where(Message.provider_message_id == wamid))).scalar_one()


def bubble(html: str, message_id: int) -> str:
    """One message's markup, from its opening tag to the next message."""
    start = html.index(f'id="m-{message_id}"')
    end = html.find('<div class="msg ', start)
    return html[start : end if end != -1 else len(html)]


async def thread_bubble(client: httpx.AsyncClient, message: Message) -> str:
    page = await client.get(f"/conversations/{message.conversation_id}")
    assert page.status_code == 200, page.text[:300]
    return bubble(page.text, message.id)


def waba_change(field: str, value: dict[str, Any], waba_id: str = WABA_ID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "time": 1_763_880_000, "changes": [{"field": field, "value": value}]}],
    }


# --------------------------------------------------------------------------------------------------
# 1. phone_number_quality_update → inbox.quality_rating / inbox.messaging_limit
# --------------------------------------------------------------------------------------------------


class TestPhoneNumberQualityUpdate:
    """Meta's documented shape: ``{display_phone_number, event, current_limit, old_limit?,
    max_daily_conversations_per_business?}`` addressed to the WABA (no phone_number_id): the display number
    says which of the business account's numbers it is about."""

    async def test_flag_and_limit_land_on_the_number_it_names_only(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)  # display "+34 910 000 000"
        other = await add_inbox(runtime, world, "106540352242999", "+34 910 000 001")
        await set_inbox(runtime, other.id, quality_rating="GREEN", messaging_limit="TIER_1K")
        value = {"display_phone_number": "34910000000", "event": "FLAGGED", "current_limit": "TIER_10K"}
        await deliver(client, jobs, waba_change("phone_number_quality_update", value))
        await assert_all_handled(runtime)
        named = await get_inbox(runtime, world.inbox.id)
        untouched = await get_inbox(runtime, other.id)
        assert (named.quality_rating, named.messaging_limit) == ("FLAGGED", "TIER_10K")
        assert (untouched.quality_rating, untouched.messaging_limit) == ("GREEN", "TIER_1K")

    async def test_an_event_for_a_number_no_inbox_shows_changes_none_of_several(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        other = await add_inbox(runtime, world, "106540352242999", "+34 910 000 001")
        value = {"display_phone_number": "34910999999", "event": "THROUGHPUT_UPGRADE", "current_limit": "TIER_10K"}
        await deliver(client, jobs, waba_change("phone_number_quality_update", value))
        for inbox_id in (world.inbox.id, other.id):
            inbox = await get_inbox(runtime, inbox_id)
            assert (inbox.throughput_mps, inbox.messaging_limit) == (None, None)
        async with runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
        assert event.last_error and "34910999999" in event.last_error

    async def test_limit_change_with_old_limit_sets_the_current_limit(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        await set_inbox(runtime, world.inbox.id, messaging_limit="TIER_10K")
        value = {
            "display_phone_number": "34910000000",
            "event": "DOWNGRADE",
            "old_limit": "TIER_10K",
            "current_limit": "TIER_2K",
            "max_daily_conversation_per_phone_number": 2000,
        }
        await deliver(client, jobs, waba_change("phone_number_quality_update", value))
        await assert_all_handled(runtime)
        assert (await get_inbox(runtime, world.inbox.id)).messaging_limit == "TIER_2K"

    async def test_limit_from_max_daily_conversations_per_business(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        await set_inbox(runtime, world.inbox.id, messaging_limit="TIER_2K")
        value = {
            "display_phone_number": "34910000000",
            "event": "UPGRADE",
            "old_limit": "TIER_2K",
            "max_daily_conversations_per_business": "TIER_10K",
        }
        await deliver(client, jobs, waba_change("phone_number_quality_update", value))
        await assert_all_handled(runtime)
        assert (await get_inbox(runtime, world.inbox.id)).messaging_limit == "TIER_10K"

    @pytest.mark.parametrize("event", ["UPGRADE", "THROUGHPUT_UPGRADE"])
    async def test_limit_event_keeps_the_quality_rating(
        self, event: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        await set_inbox(runtime, world.inbox.id, quality_rating="GREEN", messaging_limit="TIER_1K")
        value = {"display_phone_number": "34910000000", "event": event, "current_limit": "TIER_UNLIMITED"}
        await deliver(client, jobs, waba_change("phone_number_quality_update", value))
        await assert_all_handled(runtime)
        inbox = await get_inbox(runtime, world.inbox.id)
        assert inbox.messaging_limit == "TIER_UNLIMITED"
        assert inbox.quality_rating == "GREEN"
        # a throughput upgrade lifts the number to Meta's 1,000 messages per second; a limit upgrade does not
        assert inbox.throughput_mps == (1000 if event == "THROUGHPUT_UPGRADE" else None)


# --------------------------------------------------------------------------------------------------
# 2. account_update → inbox.account_status
# --------------------------------------------------------------------------------------------------


class TestAccountUpdate:
    @pytest.mark.parametrize(
        ("name", "event", "detail"),
        [
            ("webhook_account_update_disabled.json", "DISABLED_UPDATE", "REINSTATE"),
            ("webhook_account_update_restriction.json", "ACCOUNT_RESTRICTION", "RESTRICTED_BIZ_INITIATED_MESSAGING"),
            ("webhook_account_update_violation.json", "ACCOUNT_VIOLATION", "ADULT"),
        ],
    )
    async def test_status_says_the_event_and_its_details(
        self, name: str, event: str, detail: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)  # the fixtures' WABA
        other = await make_world(runtime, suffix="b", phone_number_id="9990001", waba_id="9990002")
        await deliver(client, jobs, load(name))
        await assert_all_handled(runtime)
        status = (await get_inbox(runtime, world.inbox.id)).account_status
        assert status is not None and status.startswith(f"{event}: ")
        assert detail in status
        assert (await get_inbox(runtime, other.inbox.id)).account_status is None  # another business account

    async def test_a_pricing_tier_notice_does_not_replace_a_restriction(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        await deliver(client, jobs, load("webhook_account_update_restriction.json"))
        await deliver(client, jobs, load("webhook_account_update_pricing_tier.json"))
        await assert_all_handled(runtime)
        status = (await get_inbox(runtime, world.inbox.id)).account_status
        assert status is not None and status.startswith("ACCOUNT_RESTRICTION: ")


# --------------------------------------------------------------------------------------------------
# 3. template webhooks → template.status / category / components
# --------------------------------------------------------------------------------------------------

BODY_BEFORE = [{"type": "BODY", "text": "Texto anterior {{1}}"}]


async def seed_template(runtime: Runtime, inbox: Inbox, **fields: Any) -> int:
    async with runtime.unit_of_work() as session:
        template = MessageTemplate(account_id=inbox.account_id, inbox_id=inbox.id, **fields)
        session.add(template)
        await session.flush()
        return template.id


async def get_template(runtime: Runtime, template_id: int) -> MessageTemplate:
    async with runtime.unit_of_work() as session:
        found = await session.get(MessageTemplate, template_id)
    assert found is not None
    return found


def texts_by_type(components: list[Any]) -> dict[str, Any]:
    return {str(c.get("type")).upper(): c for c in components if isinstance(c, dict)}


class TestTemplateUpdates:
    async def test_status_update_sets_status_category_and_id(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        template_id = await seed_template(
            runtime,
            world.inbox,
            name="order_confirmation",
            language="en_US",
            category="MARKETING",
            status="PENDING",
            components=BODY_BEFORE,
        )
        await deliver(client, jobs, load("webhook_template_status_update_approved.json"))
        await assert_all_handled(runtime)
        template = await get_template(runtime, template_id)
        assert (template.status, template.category) == ("APPROVED", "UTILITY")
        assert template.provider_template_id == "1689556908129832"
        assert template.components == BODY_BEFORE

    async def test_category_update_recategorises(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime, waba_id="57438975935")
        template_id = await seed_template(
            runtime,
            world.inbox,
            name="my_message_template",
            language="he",
            provider_template_id="12345678",
            category="UTILITY",
            status="APPROVED",
            components=BODY_BEFORE,
        )
        await deliver(client, jobs, load("webhook_template_category_update.json"))
        await assert_all_handled(runtime)
        template = await get_template(runtime, template_id)
        assert (template.category, template.status) == ("MARKETING", "APPROVED")

    async def test_components_update_replaces_the_body(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime, waba_id="57438975935")
        template_id = await seed_template(
            runtime,
            world.inbox,
            name="my_message_template",
            language="he",
            provider_template_id="12345678",
            status="APPROVED",
            components=BODY_BEFORE,
        )
        payload = load("webhook_template_components_update.json")
        payload.pop("all")  # the fixture file also holds the full sample (next test) under "all"
        await deliver(client, jobs, payload)
        await assert_all_handled(runtime)
        template = await get_template(runtime, template_id)
        assert texts_by_type(template.components)["BODY"]["text"] == "Hi {{1}}! Welcome to our service."

    async def test_components_update_with_header_footer_and_buttons(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime)
        template_id = await seed_template(
            runtime,
            world.inbox,
            name="order_confirmation",
            language="en_US",
            provider_template_id="1315502779341834",
            status="APPROVED",
            components=BODY_BEFORE,
        )
        await deliver(client, jobs, load("webhook_template_components_update.json")["all"])
        await assert_all_handled(runtime)
        by_type = texts_by_type((await get_template(runtime, template_id)).components)
        assert by_type["HEADER"]["text"] == "Your order is confirmed!"
        assert by_type["BODY"]["text"].startswith("Thank you for your order, {{1}}!")
        assert by_type["FOOTER"]["text"] == "Lucky Shrub: the Succulent Specialists!"
        assert [b.get("text") for b in by_type["BUTTONS"]["buttons"]] == ["Phone support", "Email support"]


# --------------------------------------------------------------------------------------------------
# 4. status pricing (PMP) and the old CBP conversation object → the status timeline's detail
# --------------------------------------------------------------------------------------------------


class TestStatusPricingDetail:
    @pytest.mark.parametrize("name", ["webhook_status_sent_cbp_utility.json", "webhook_status_delivered_pmp.json"])
    async def test_conversation_and_pricing_are_kept_on_the_timeline(
        self, name: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        payload = load(name)
        entry = payload["entry"][0]
        value = entry["changes"][0]["value"]
        status = value["statuses"][0]
        world = await make_world(runtime, phone_number_id=value["metadata"]["phone_number_id"], waba_id=entry["id"])
        [sent] = await make_sent_messages(runtime, world, [status["id"]])
        await deliver(client, jobs, payload)
        await assert_all_handled(runtime)
        async with runtime.unit_of_work() as session:
            timeline = (
                (await session.execute(select(MessageStatusEvent).where(MessageStatusEvent.message_id == sent.id)))
                .scalars()
                .all()
            )
        assert [event.status.value for event in timeline] == [status["status"]]
        expected = {key: status[key] for key in ("conversation", "pricing") if key in status}
        assert timeline[0].detail == expected
        if "conversation" in status:  # the CBP sample: its conversation id is what cost reports group on
            assert timeline[0].detail["conversation"]["id"] == "72b3b7ed25b2e5cf8b4f5b728f628d76"
            assert timeline[0].detail["conversation"]["origin"] == {"type": "utility"}
        assert (await message_by_wamid(runtime, status["id"])).pricing == status["pricing"]


# --------------------------------------------------------------------------------------------------
# 5. click-to-WhatsApp referral → content["referral"], rendered as coming from an ad
# --------------------------------------------------------------------------------------------------


class TestReferral:
    async def test_referral_is_stored_and_shown_as_from_an_ad(
        self, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        referred = load("webhook_referral_ctwa.json")
        world = await make_world(runtime, phone_number_id="1122334455667", waba_id="1234567890987654321")
        await deliver(client, jobs, referred)
        await deliver(client, jobs, load("webhook_text.json"))  # the same customer, not from an ad
        await assert_all_handled(runtime)
        from_ad = await message_by_wamid(runtime, "wamid.ID")
        plain = await message_by_wamid(runtime, "wamid.xyzxyz")
        assert from_ad.content["referral"] == referred["entry"][0]["changes"][0]["value"]["messages"][0]["referral"]
        assert "referral" not in plain.content
        assert from_ad.conversation_id == plain.conversation_id

        await sign_in(client, world.admin.email)
        ad_bubble = await thread_bubble(client, from_ad)
        plain_bubble = await thread_bubble(client, plain)
        assert '<div class="referral">' in ad_bubble and "AD_TITLE" in ad_bubble
        assert "Desde un anuncio" in ad_bubble  # "From an ad", in the account's Spanish
        assert 'class="referral"' not in plain_bubble


# --------------------------------------------------------------------------------------------------
# 6. reaction removal (empty or absent emoji) → the earlier reaction disappears from the thread
# --------------------------------------------------------------------------------------------------

TARGET = "wamid.xyzxyz"  # webhook_text.json's message


def reaction_body(fixture: str, wamid: str, ts: int) -> dict[str, Any]:
    payload: dict[str, Any] = copy.deepcopy(load(fixture))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = wamid  # the fixtures share one wamid; Meta gives each reaction its own
    message["timestamp"] = str(ts)
    message["reaction"]["message_id"] = TARGET
    return payload


REMOVALS = ["webhook_reaction_removed.json", "webhook_reaction_removed_no_emoji.json"]


class TestReactionRemoval:
    @pytest.mark.parametrize("removal", REMOVALS)
    async def test_removal_hides_the_earlier_reaction(
        self, removal: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime, phone_number_id="1122334455667", waba_id="1234567890987654321")
        await deliver(client, jobs, load("webhook_text.json"))
        await sign_in(client, world.admin.email)
        target = await message_by_wamid(runtime, TARGET)

        await deliver(client, jobs, reaction_body("webhook_reaction.json", "wamid.reaction.1", 1_697_044_456))
        shown = await thread_bubble(client, target)
        assert REACTION_SPAN in shown and "😮" in shown

        await deliver(client, jobs, reaction_body(removal, "wamid.reaction.2", 1_697_044_500))
        await assert_all_handled(runtime)
        removed = await message_by_wamid(runtime, "wamid.reaction.2")
        assert (removed.type, removed.reply_to_id, removed.content.get("emoji")) == ("reaction", target.id, None)
        hidden = await thread_bubble(client, target)
        assert REACTION_SPAN not in hidden and "😮" not in hidden

    @pytest.mark.parametrize("removal", REMOVALS[:1])
    async def test_removal_delivered_before_its_reaction_still_wins(
        self, removal: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        world = await make_world(runtime, phone_number_id="1122334455667", waba_id="1234567890987654321")
        await deliver(client, jobs, load("webhook_text.json"))
        await deliver(client, jobs, reaction_body(removal, "wamid.reaction.2", 1_697_044_500))
        await deliver(client, jobs, reaction_body("webhook_reaction.json", "wamid.reaction.1", 1_697_044_456))
        await assert_all_handled(runtime)
        await sign_in(client, world.admin.email)
        shown = await thread_bubble(client, await message_by_wamid(runtime, TARGET))
        assert REACTION_SPAN not in shown and "😮" not in shown


# --------------------------------------------------------------------------------------------------
# 7. BSUID continuity: one customer, one contact, one conversation, whichever identifiers each message has
# --------------------------------------------------------------------------------------------------

PHONE = "16505551234"
BSUID = "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6"


def customer_message(wamid: str, ts: int, shape: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(contacts item, messages item) of one text. ``shape``: "bsuid" (number hidden, ``from`` empty),
    "bsuid_no_from" (``from`` absent), "both" (phone in ``from``, BSUID in contacts), "phone" (pre-rollout)."""
    contact: dict[str, Any] = {"profile": {"name": "Sheena Nelson"}}
    message: dict[str, Any] = {"id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": f"texto {wamid}"}}
    if shape in ("bsuid", "bsuid_no_from"):
        contact |= {"wa_id": "", "user_id": BSUID}
        message["from_user_id"] = BSUID
        if shape == "bsuid":
            message["from"] = ""
    elif shape == "both":
        contact |= {"wa_id": PHONE, "user_id": BSUID}
        message["from"] = PHONE
    else:
        contact["wa_id"] = PHONE
        message["from"] = PHONE
    return contact, message


def messages_body(items: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    contacts: list[dict[str, Any]] = []
    for contact, _message in items:
        if contact not in contacts:
            contacts.append(contact)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "34910000000", "phone_number_id": "106540352242922"},
        "contacts": contacts,
        "messages": [message for _contact, message in items],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}],
    }


class TestBsuidContinuity:
    @pytest.mark.parametrize(
        "shapes",
        [
            ["bsuid", "both"],
            ["bsuid_no_from", "both"],
            ["both", "bsuid"],
            ["both", "bsuid_no_from"],
            ["phone", "both", "bsuid"],
        ],
        ids="-then-".join,
    )
    async def test_one_contact_and_conversation_across_bodies(
        self, shapes: list[str], client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        await make_world(runtime)
        for index, shape in enumerate(shapes):
            await deliver(
                client, jobs, messages_body([customer_message(f"wamid.B{index}", 1_763_880_000 + index, shape)])
            )
        await self._assert_one_customer(runtime, len(shapes))

    @pytest.mark.parametrize("shapes", [["bsuid", "both"], ["both", "bsuid_no_from"]], ids="-then-".join)
    async def test_one_contact_when_both_shapes_arrive_in_one_body(
        self, shapes: list[str], client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
    ) -> None:
        await make_world(runtime)
        items = [customer_message(f"wamid.B{i}", 1_763_880_000 + i, shape) for i, shape in enumerate(shapes)]
        await deliver(client, jobs, messages_body(items))
        await self._assert_one_customer(runtime, len(shapes))

    async def _assert_one_customer(self, runtime: Runtime, messages: int) -> None:
        await assert_all_handled(runtime)
        async with runtime.unit_of_work() as session:
            contact = (await session.execute(select(Contact))).scalar_one()
            conversation = (await session.execute(select(Conversation))).scalar_one()
            rows = (await session.execute(select(Message))).scalars().all()
            identities = (await session.execute(select(ContactIdentity))).scalars().all()
        assert (contact.wa_id, contact.bsuid) == (PHONE, BSUID)
        assert conversation.contact_id == contact.id
        assert len(rows) == messages
        assert {row.conversation_id for row in rows} == {conversation.id}
        assert {(i.source_id, i.contact_id) for i in identities} == {(PHONE, contact.id), (BSUID, contact.id)}
