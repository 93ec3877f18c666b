"""Each inbound fixture of the shared contract, signed, through the real endpoint, stores the rows it should.

The expected values below are literals read from the fixture files by eye: none is computed with our parser.
Only the routing (the fixture's phone_number_id and WABA id, to create its inbox) is read from the payload.

``content`` keys are dotted paths into ``Message.content`` (list items by index); ``ABSENT`` means the key is
not stored at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from factories import World, make_sent_messages, make_world
from graph_double import GraphDouble
from mostrador.channels.whatsapp.signature import sign
from mostrador.models import Contact, Conversation, Direction, Message, MessageStatus, MessageStatusEvent
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend
from testenv import APP_SECRET
from wa_fixtures import load, raw

ABSENT = object()

TEST_NAME = {"wa_id": "972987654321", "bsuid": "US.13491208655302741918", "name": "Test Name"}

MESSAGE_CASES: dict[str, dict[str, Any]] = {
    "webhook_text.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043223,
        "type": "text",
        "text": "Body Text",
        "content": {"body": "Body Text", "forwarded": ABSENT, "referral": ABSENT},
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_text_meta_postman.json": {
        "wamid": "wamid.ABGGFlCGg0cvAgo-sJQh43L5Pe4W",
        "at": 1603059201,
        "type": "text",
        "text": "Hello this is an answer",
        "content": {"body": "Hello this is an answer"},
        "reply_to": None,
        "contact": {"wa_id": "16315551234", "bsuid": None, "name": "Kerry Fisher"},
    },
    "webhook_text_identity_meta_postman.json": {
        "wamid": "ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh",
        "at": 1602532300,
        "type": "text",
        "text": "Hi from new number 3601",
        "content": {
            "body": "Hi from new number 3601",
            # the security notification: the sender's identity key hash (it changes when they reinstall/switch)
            "identity.acknowledged": True,
            "identity.created_timestamp": 1602532300000,
            "identity.hash": "Sjvjlx8G6Z0=",
        },
        "reply_to": None,
        "contact": {"wa_id": "<FROM_PHONE_NUMBER>", "bsuid": None},
    },
    "webhook_text_from_username_user.json": {  # BSUID only: "from" is empty
        "wamid": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "at": 1749416383,
        "type": "text",
        "text": "Does it come in another color?",
        "content": {"body": "Does it come in another color?"},
        "reply_to": None,
        "contact": {
            "wa_id": None,
            "bsuid": "user.93737...",
            "name": "Sheena Nelson",
            "username": "@realsheenanelson",
        },
    },
    "webhook_text_reply_context.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044746,
        "type": "text",
        "text": "replied text",
        "content": {"body": "replied text"},
        "reply_to": "wamid.xyzxyz==",
        "contact": TEST_NAME,
    },
    "webhook_text_forwarded.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044815,
        "type": "text",
        "text": "forwarded text",
        "content": {"body": "forwarded text", "forwarded": True},
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_text_frequently_forwarded.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044968,
        "type": "text",
        "text": "text forwarded many times",
        "content": {"body": "text forwarded many times", "forwarded": True, "frequently_forwarded": True},
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_referral_ctwa.json": {
        "wamid": "wamid.ID",
        "at": 1697045000,
        "type": "text",
        "text": "BODY",
        "content": {
            "body": "BODY",
            "referral.source_url": "AD_OR_POST_FB_URL",
            "referral.source_id": "ADID",
            "referral.source_type": "ad or post",
            "referral.headline": "AD_TITLE",
            "referral.body": "AD_DESCRIPTION",
            "referral.media_type": "image or video",
            "referral.image_url": "RAW_IMAGE_URL",
            "referral.video_url": "RAW_VIDEO_URL",
            "referral.thumbnail_url": "RAW_THUMBNAIL_URL",
            "referral.ctwa_clid": "CTWA_CLID",
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_image.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043379,
        "type": "image",
        "text": "",
        "content": {"media_id": "65463453", "mime_type": "image/jpeg", "sha256": "4654+8g="},
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_image_with_url.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043379,
        "type": "image",
        "text": "",
        "content": {
            "media_id": "65463453",
            "mime_type": "image/jpeg",
            "sha256": "4654+8g=",
            "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
            "?mid=65463453&source=webhook&ext=487r9re&hash=heiwchueowbcew-dnedcw",
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_audio.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043509,
        "type": "audio",
        "text": "",
        "content": {
            "media_id": "1234567890987654321",
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "E3dxS/PdYZE7ppA3pQ4mpCFaXBJ8pX4SRN/dsfvds/iPGA=",
            "voice": False,
            "forwarded": True,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_audio_voice.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043473,
        "type": "audio",
        "text": "",
        "content": {
            "media_id": "1234567890987654321",
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "m04pFf2ERdaopTyFkGPA0+bX3i+YY2dYgVFwOgDLSDI=",
            "voice": True,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_video.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044362,
        "type": "video",
        "text": "caption",
        "content": {
            "media_id": "765756756",
            "mime_type": "video/mp4",
            "sha256": "Jh+2ij6PzUv/J2y+grrtegr/ZMzRxkEPwc24Oyib4s03w9Jc=",
            "caption": "caption",
            "forwarded": True,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_document.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043666,
        "type": "document",
        "text": "caption",
        "content": {
            "media_id": "1234567890987654321",
            "mime_type": "application/pdf",
            "sha256": "grwfwe/ZPx0wAbdfbdeFUNItPZ0RylL8gGUvdt3YFqc18SY=",
            "caption": "caption",
            "filename": "filename.pdf",
            "forwarded": True,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_sticker.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043760,
        "type": "sticker",
        "text": "",
        "content": {
            "media_id": "1234567890987654321",
            "mime_type": "image/webp",
            "sha256": "OmT4nhjUhCMIPNmj7eeOZeCYjTXkLxoOv85OMCFwSuc=",
            "animated": False,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_sticker_animated.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697043785,
        "type": "sticker",
        "text": "",
        "content": {
            "media_id": "1234567890987654321",
            "mime_type": "image/webp",
            "sha256": "HcwyCKrTKXHk0a00ms4HWIA76GY0Du6q4Z/iuwevw=",
            "animated": True,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_location.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044557,
        "type": "location",
        "text": "Facebook HQ · 1 Hacker Way, Menlo Park, CA 94025",
        "content": {
            "latitude": 37.4611978,
            "longitude": -122.2164385,
            "name": "Facebook HQ",
            "address": "1 Hacker Way, Menlo Park, CA 94025",
            "url": "https://maps.google.com/?cid=2000000000000000000",
            "forwarded": True,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_location_current.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044557,
        "type": "location",
        "text": "",
        "content": {"latitude": 12.25089, "longitude": 43.90539, "name": None, "address": None, "forwarded": True},
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_contacts.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044621,
        "type": "contacts",
        "text": "Chandler Bing, Monica, Rachel Green",
        "content": {
            "contacts.0.name.formatted_name": "Chandler Bing",
            "contacts.0.name.last_name": "Bing",
            "contacts.0.phones.0.phone": "+1 555-555-5555",
            "contacts.0.phones.0.wa_id": "972987654321",
            "contacts.0.phones.0.type": "CELL",
            "contacts.1.name.formatted_name": "Monica",
            "contacts.1.phones.0.phone": "+1 666-666-6666",
            "contacts.1.phones.0.type": "HOME",
            "contacts.2.name.formatted_name": "Rachel Green",
            "contacts.2.phones.0.phone": "+1 777-777-7777",
            "contacts.2.phones.0.type": "WORK",
            "contacts.3": ABSENT,
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_interactive_button_reply.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1698266730,
        "type": "interactive",
        "text": "title",
        "content": {"type": "button_reply", "id": "callback_data", "title": "title"},
        "reply_to": "wamid.xyzxyz",  # the sample quotes its own wamid
        "contact": TEST_NAME,
    },
    "webhook_interactive_list_reply.json": {
        "wamid": "wamid.zyzxyz",
        "at": 1698266905,
        "type": "interactive",
        "text": "title",
        "content": {"type": "list_reply", "id": "callback_data", "title": "title"},
        "reply_to": "wamid.xyzxyz",
        "contact": TEST_NAME,
    },
    "webhook_interactive_list_reply_with_description.json": {
        "wamid": "wamid.zyzxyz",
        "at": 1698266905,
        "type": "interactive",
        "text": "title",
        "content": {"type": "list_reply", "id": "callback_data", "title": "title", "description": "description"},
        "reply_to": "wamid.xyzxyz",
        "contact": TEST_NAME,
    },
    "webhook_interactive_nfm_reply.json": {
        "wamid": "wamid.wegrchytvwcggt==",
        "at": 1702502473,
        "type": "interactive",
        "text": "Sent",
        "content": {
            "type": "nfm_reply",
            "name": "flow",
            "body": "Sent",
            "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
            "response.comment_text": "Comment Text",
            "response.delivery_rating": "4",
            "response.purchase_rating": "2",
            "response.recommend_radio": "0",
            "response.cs_rating": "0",
        },
        "reply_to": "wamid.gvwegfretge==",
        "contact": TEST_NAME,
    },
    "webhook_interactive_nfm_reply_no_flow_token.json": {
        "wamid": "wamid.wegrchytvwcggt==",
        "at": 1702502473,
        "type": "interactive",
        "text": "Sent",
        "content": {
            "type": "nfm_reply",
            "name": "flow",
            "body": "Sent",
            "flow_token": None,  # the response_json has none
            "response.comment_text": "Comment Text",
            "response.delivery_rating": "4",
            "response.cs_rating": "0",
        },
        "reply_to": "wamid.gvwegfretge==",
        "contact": TEST_NAME,
    },
    "webhook_errors_value_level_131000.json": {  # type interactive without its object, error at value level
        "wamid": "wamid.wegrchytvwcggt=",
        "at": 1700505494,
        "type": "interactive",
        "text": "",
        "content": {
            "errors.0.code": 131000,
            "errors.0.title": "Something went wrong",
            "errors.0.details": "Unsupported webhook payload",
        },
        "reply_to": "wamid.gvwegfretge==",
        "contact": TEST_NAME,
    },
    "webhook_button_template_quick_reply.json": {
        "wamid": "wamid.xsidjw",
        "at": 1698269027,
        "type": "button",
        "text": "title",
        "content": {"payload": "callback_data", "text": "title"},
        "reply_to": "wamid.xyzxyz==",
        "contact": TEST_NAME,
    },
    "webhook_button_template_quick_reply_meta_postman.json": {
        "wamid": "wamid.ABGGFlCGg0cvAgo-sHWxBA2VFD_S",
        "at": 1603087229,
        "type": "button",
        "text": "No",
        "content": {"payload": "No-Button-Payload", "text": "No"},
        "reply_to": "wamid.gBGGFlCGg0cvAgkLFm4e9tICiTI",
        "contact": {"wa_id": "16315551234", "bsuid": None, "name": "Kerry Fisher"},
    },
    "webhook_button_template_quick_reply_no_context.json": {
        "wamid": "wamid.xsidjx",
        "at": 1698269027,
        "type": "button",
        "text": "title",
        "content": {"payload": "callback_data", "text": "title"},
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_reaction.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044456,
        "type": "reaction",
        "text": "\U0001f62e",
        "content": {"emoji": "\U0001f62e", "message_id": "wamid.yzxyzx="},
        "reply_to": "wamid.yzxyzx=",
        "contact": TEST_NAME,
    },
    "webhook_reaction_removed.json": {  # emoji "" in the fixture: the reaction is taken back
        "wamid": "wamid.xyzxyz",
        "at": 1697044456,
        "type": "reaction",
        "text": "",
        "content": {"emoji": None, "message_id": "wamid.yzxyzx="},
        "reply_to": "wamid.yzxyzx=",
        "contact": TEST_NAME,
    },
    "webhook_reaction_removed_no_emoji.json": {  # no emoji key in the fixture: taken back too
        "wamid": "wamid.xyzxyz",
        "at": 1697044456,
        "type": "reaction",
        "text": "",
        "content": {"emoji": None, "message_id": "wamid.yzxyzx="},
        "reply_to": "wamid.yzxyzx=",
        "contact": TEST_NAME,
    },
    "webhook_order.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044668,
        "type": "order",
        "text": "",
        "content": {
            "catalog_id": "354160437058781",
            "product_items": [
                {"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"},
                {"product_retailer_id": "FRENCH_FRIES", "quantity": 2, "item_price": 35, "currency": "ILS"},
                {"product_retailer_id": "SODA", "quantity": 2, "item_price": 10, "currency": "ILS"},
            ],
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_unsupported.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044706,
        "type": "unsupported",
        "text": "",
        "content": {
            "errors.0.code": 131051,
            "errors.0.title": "Message type unknown",
            "errors.0.details": "Message type is currently not supported.",
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_unsupported_with_type_131051.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044706,
        "type": "unsupported",
        "text": "",
        "content": {
            "unsupported_type": "pool",
            "errors.0.code": 131051,
            "errors.0.title": "Message type unknown",
            "errors.0.details": "Message type is currently not supported.",
        },
        "reply_to": None,
        "contact": TEST_NAME,
    },
    "webhook_system_identity_changed.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1697044706,
        "type": "system",
        "text": "User identity changed",
        "content": {"type": "customer_identity_changed", "body": "User identity changed"},
        "reply_to": None,
        "contact": {"wa_id": "972987654321", "bsuid": None, "name": "User A"},
    },
    "webhook_system_user_changed_number.json": {
        "wamid": "wamid.xyzxyz==",
        "at": 1753851315,
        "type": "system",
        "text": "User A changed from 972987654321 to 972912345678",
        "content": {
            "type": "user_changed_number",
            "body": "User A changed from 972987654321 to 972912345678",
            "new_wa_id": "972912345678",
        },
        "reply_to": None,
        # the contact that wrote from 972987654321 now has the new number
        "contact": {"wa_id": "972912345678", "bsuid": None},
    },
    "webhook_message_edited.json": {
        "wamid": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
        "at": 1749854575,
        "type": "edit",
        "text": "Updated image caption",
        "content": {
            "original_message_id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
            "message_type": "image",
            "content.caption": "Updated image caption",
            "content.media_id": "1234567890",
            "content.mime_type": "image/jpeg",
        },
        "reply_to": None,
        # "from" is 16505551234; the sample's contacts[] entry is another user's (972987654321), so no name
        "contact": {"wa_id": "16505551234", "bsuid": None},
    },
}

# Placeholder phone_number_ids ("<PHONE_NUMBER_ID>"), which no inbox can have, keep these out:
# webhook_image_with_caption_meta_postman.json, webhook_sticker_meta_postman.json, webhook_message_revoked.json.

STATUS_CASES: dict[str, dict[str, Any]] = {
    "webhook_status_sent.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1698266945,
        "status": "sent",
        "detail": {
            "conversation.id": "7270432eae37498234f4444b35ffc5",
            "conversation.expiration_timestamp": "1698339900",
            "conversation.origin.type": "service",
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        },
    },
    "webhook_status_delivered.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1698266945,
        "status": "delivered",
        "detail": {
            "conversation.id": "7270432eae37498234f4444b35ffc5",
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        },
    },
    "webhook_status_read.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1689380458,
        "status": "read",
        "detail": {"conversation.id": "7270432eae37498234f4444b35ffc5"},
    },
    "webhook_status_played.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1689380458,
        "status": "played",
        "detail": {"conversation.id": "7270432eae37498234f4444b35ffc5"},
    },
    "webhook_status_failed_130472.json": {
        "wamid": "wamid.xyzxyz",
        "at": 1689380458,
        "status": "failed",
        "detail": {
            "errors.0.code": 130472,
            "errors.0.title": "User's number is part of an experiment",
            "errors.0.details": "Failed to send message because this user's phone number is part of an experiment",
            "errors.1": ABSENT,
            "pricing": ABSENT,
        },
        "error": (
            130472,
            "User's number is part of an experiment",
            "Failed to send message because this user's phone number is part of an experiment",
        ),
    },
}


def dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return ABSENT
    return value


async def fixture_world(runtime: Runtime, name: str) -> World:
    """An account whose WhatsApp inbox is the fixture's number (and WABA), so the webhook is routed to it."""
    entry = load(name)["entry"][0]
    return await make_world(
        runtime, phone_number_id=entry["changes"][0]["value"]["metadata"]["phone_number_id"], waba_id=entry["id"]
    )


async def post_signed(name: str, client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend) -> None:
    """The fixture's bytes, signed, to the endpoint; then every job it queued (processing, media downloads) runs."""
    graph = GraphDouble()
    for item in load(name)["entry"][0]["changes"][0]["value"].get("messages") or []:
        media = item.get(item["type"])
        if isinstance(media, dict) and "mime_type" in media:
            graph.media_mime[media["id"]] = media["mime_type"].split(";")[0]
    runtime.graph_transport = graph.transport
    body = raw(name)
    response = await client.post(
        "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)}
    )
    assert response.status_code == 200, response.text
    await jobs.drain()


def utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            name,
            expected,
            id=name.removesuffix(".json"),
        )
        for name, expected in MESSAGE_CASES.items()
    ],
)
async def test_inbound_message_row(
    name: str, expected: dict[str, Any], client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    await fixture_world(runtime, name)
    await post_signed(name, client, runtime, jobs)

    async with runtime.unit_of_work() as session:
        message = (
            await session.execute(select(Message).where(Message.provider_message_id == expected["wamid"]))
        ).scalar_one()
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        contact = await session.get(Contact, conversation.contact_id)
        assert contact is not None

    assert message.direction is Direction.inbound
    assert message.type == expected["type"]
    assert message.text == expected["text"]
    assert message.reply_to_provider_id == expected["reply_to"]
    assert utc(message.provider_timestamp) == datetime.fromtimestamp(expected["at"], tz=UTC)
    stored = {path: dig(message.content, path) for path in expected["content"]}
    assert stored == expected["content"]
    assert {field: getattr(contact, field) for field in expected["contact"]} == expected["contact"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [pytest.param(name, expected, id=name.removesuffix(".json")) for name, expected in STATUS_CASES.items()],
)
async def test_status_event_row(
    name: str, expected: dict[str, Any], client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    world = await fixture_world(runtime, name)
    (seeded,) = await make_sent_messages(runtime, world, [expected["wamid"]])
    await post_signed(name, client, runtime, jobs)

    async with runtime.unit_of_work() as session:
        events = (
            (await session.execute(select(MessageStatusEvent).where(MessageStatusEvent.message_id == seeded.id)))
            .scalars()
            .all()
        )
        message = await session.get(Message, seeded.id)
        assert message is not None

    assert [event.status for event in events] == [MessageStatus(expected["status"])]
    assert utc(events[0].occurred_at) == datetime.fromtimestamp(expected["at"], tz=UTC)
    stored = {path: dig(events[0].detail, path) for path in expected["detail"]}
    assert stored == expected["detail"]
    assert message.status is MessageStatus(expected["status"])
    assert (message.error_code, message.error_title, message.error_detail) == expected.get("error", (None, None, None))
