"""parse_webhook against every shared webhook fixture, plus the tricky shapes one by one."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mostrador.channels.base import (
    AccountEvent,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    MessageType,
    PreferenceValue,
    ProviderError,
    ProviderErrorEvent,
    StatusUpdate,
    TemplateStatusUpdate,
    UnreadableEvent,
    UserPreferenceUpdate,
    WebhookShapeError,
)
from mostrador.channels.whatsapp.parse import parse_webhook, parse_webhook_body


def kind_of(event: InboundEvent) -> str:
    if isinstance(event, InboundMessage):
        return f"message:{event.message_type.value}"
    if isinstance(event, StatusUpdate):
        return f"status:{event.status.value}"
    if isinstance(event, TemplateStatusUpdate):
        return f"template:{event.field}"
    if isinstance(event, AccountEvent):
        return f"account:{event.field}"
    if isinstance(event, UserPreferenceUpdate):
        return f"preference:{event.value.value}"
    return f"error:{event.error.code}"


EXPECTED: dict[str, list[str]] = {
    "webhook_account_update_disabled.json": ["account:account_update"],
    "webhook_account_update_pricing_tier.json": ["account:account_update"],
    "webhook_account_update_restriction.json": ["account:account_update"],
    "webhook_account_update_violation.json": ["account:account_update"],
    "webhook_audio.json": ["message:audio"],
    "webhook_audio_voice.json": ["message:audio"],
    "webhook_button_template_quick_reply.json": ["message:button"],
    "webhook_button_template_quick_reply_meta_postman.json": ["message:button"],
    "webhook_button_template_quick_reply_no_context.json": ["message:button"],
    "webhook_contacts.json": ["message:contacts"],
    "webhook_document.json": ["message:document"],
    "webhook_errors_value_level_131000.json": ["message:interactive", "error:131000"],
    "webhook_image.json": ["message:image"],
    "webhook_image_with_caption_meta_postman.json": ["message:image"],
    "webhook_image_with_url.json": ["message:image"],
    "webhook_interactive_button_reply.json": ["message:interactive"],
    "webhook_interactive_list_reply.json": ["message:interactive"],
    "webhook_interactive_list_reply_with_description.json": ["message:interactive"],
    "webhook_interactive_nfm_reply.json": ["message:interactive"],
    "webhook_interactive_nfm_reply_no_flow_token.json": ["message:interactive"],
    "webhook_location.json": ["message:location"],
    "webhook_location_current.json": ["message:location"],
    "webhook_message_edited.json": ["message:edit"],
    "webhook_message_revoked.json": ["message:revoke"],
    "webhook_order.json": ["message:order"],
    "webhook_reaction.json": ["message:reaction"],
    "webhook_reaction_removed.json": ["message:reaction"],
    "webhook_reaction_removed_no_emoji.json": ["message:reaction"],
    "webhook_referral_ctwa.json": ["message:text"],
    "webhook_status_delivered.json": ["status:delivered"],
    "webhook_status_delivered_pmp.json": ["status:delivered"],
    "webhook_status_delivered_pmp_to_bsuid.json": ["status:delivered"],
    "webhook_status_failed_130472.json": ["status:failed"],
    "webhook_status_played.json": ["status:played"],
    "webhook_status_read.json": ["status:read"],
    "webhook_status_sent.json": ["status:sent"],
    "webhook_status_sent_cbp_utility.json": ["status:sent"],
    "webhook_status_with_biz_opaque_callback_data.json": ["status:sent"],
    "webhook_sticker.json": ["message:sticker"],
    "webhook_sticker_animated.json": ["message:sticker"],
    "webhook_sticker_meta_postman.json": ["message:sticker"],
    "webhook_system_identity_changed.json": ["message:system"],
    "webhook_system_user_changed_number.json": ["message:system"],
    "webhook_template_category_update.json": ["template:template_category_update"],
    "webhook_template_components_update.json": ["template:message_template_components_update"],
    "webhook_template_quality_update.json": ["template:message_template_quality_update"],
    "webhook_template_status_update_approved.json": ["template:message_template_status_update"],
    "webhook_template_status_update_rejected.json": ["template:message_template_status_update"],
    "webhook_text.json": ["message:text"],
    "webhook_text_forwarded.json": ["message:text"],
    "webhook_text_frequently_forwarded.json": ["message:text"],
    "webhook_text_from_username_user.json": ["message:text"],
    "webhook_text_identity_meta_postman.json": ["message:text"],
    "webhook_text_meta_postman.json": ["message:text"],
    "webhook_text_reply_context.json": ["message:text"],
    "webhook_unsupported.json": ["message:unsupported"],
    "webhook_unsupported_with_type_131051.json": ["message:unsupported"],
    "webhook_user_preferences_marketing_resume.json": ["preference:resume"],
    "webhook_user_preferences_marketing_signup.json": ["preference:signup"],
    "webhook_video.json": ["message:video"],
}


def parse_one(payload: Any) -> InboundEvent:
    events = parse_webhook(payload)
    assert len(events) == 1, events
    return events[0]


def message(payload: Any) -> InboundMessage:
    event = parse_one(payload)
    assert isinstance(event, InboundMessage)
    return event


def status(payload: Any) -> StatusUpdate:
    event = parse_one(payload)
    assert isinstance(event, StatusUpdate)
    return event


def ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class TestEveryFixture:
    def test_table_covers_every_fixture(self, webhook_payloads: dict[str, Any]) -> None:
        assert set(EXPECTED) == set(webhook_payloads)

    def test_parses_to_expected_kinds(self, webhook_fixture: str, webhook_payloads: dict[str, Any]) -> None:
        payload = webhook_payloads[webhook_fixture]
        events = parse_webhook(payload)
        assert [kind_of(e) for e in events] == EXPECTED[webhook_fixture]
        for event in events:
            if isinstance(event, InboundMessage | StatusUpdate):
                assert event.channel_account_id
                assert event.provider_message_id
                assert event.timestamp is None or event.timestamp.tzinfo is UTC
            if isinstance(event, InboundMessage):
                assert event.sender.wa_id or event.sender.user_id
                assert event.provider_type
                json.dumps(event.content)  # JSON-serialisable

    def test_raw_bytes_parse_the_same(self, webhook_fixture: str, webhook_payloads: dict[str, Any]) -> None:
        payload = webhook_payloads[webhook_fixture]
        body = json.dumps(payload).encode()
        assert parse_webhook_body(body) == parse_webhook(payload)

    def test_parse_does_not_mutate_input(self, webhook_fixture: str, webhook_payloads: dict[str, Any]) -> None:
        payload = webhook_payloads[webhook_fixture]
        before = copy.deepcopy(payload)
        parse_webhook(payload)
        assert payload == before


class TestTextAndSender:
    def test_text(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_text.json"))
        assert m.channel_account_id == "1122334455667"
        assert m.account_id == "1234567890987654321"
        assert m.display_phone_number == "972123456789"
        assert m.provider_message_id == "wamid.xyzxyz"
        assert m.timestamp == ts(1697043223)
        assert m.text == "Body Text"
        assert m.content == {"body": "Body Text"}
        assert m.sender.wa_id == "972987654321"
        assert m.sender.user_id == "US.13491208655302741918"
        assert m.sender.parent_user_id == "US.ENT.11815799212886844830"
        assert m.sender.profile_name == "Test Name"
        assert m.sender.key == "US.13491208655302741918"
        assert (m.forwarded, m.frequently_forwarded, m.reply_to_provider_id, m.referral) == (
            False,
            False,
            None,
            None,
        )

    def test_bsuid_user_with_empty_from(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_text_from_username_user.json"))
        assert m.sender.wa_id is None
        assert m.sender.user_id == "user.93737..."
        assert m.sender.key == "user.93737..."
        assert m.sender.profile_name == "Sheena Nelson"
        assert m.sender.username == "@realsheenanelson"
        assert m.sender.country_code == "US"
        assert m.text == "Does it come in another color?"

    def test_contact_matched_by_user_id_not_position(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text_from_username_user.json")
        value = payload["entry"][0]["changes"][0]["value"]
        other = {"profile": {"name": "Someone Else"}, "wa_id": "5491100000000", "user_id": "user.other"}
        value["contacts"].insert(0, other)
        assert message(payload).sender.profile_name == "Sheena Nelson"

    def test_contact_with_other_wa_id_is_not_attached(self, load_fixture: Any) -> None:
        # Sample quirk: the edited-message sample's contact (972…) is not the sender (1650…).
        m = message(load_fixture("webhook_message_edited.json"))
        assert m.sender.wa_id == "16505551234"
        assert m.sender.user_id is None
        assert m.sender.profile_name is None

    def test_forwarded(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_text_forwarded.json"))
        assert m.forwarded is True
        assert m.frequently_forwarded is False

    def test_frequently_forwarded_implies_forwarded(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_text_frequently_forwarded.json"))
        assert (m.forwarded, m.frequently_forwarded) == (True, True)

    def test_reply_context(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_text_reply_context.json"))
        assert m.reply_to_provider_id == "wamid.xyzxyz=="
        assert m.text == "replied text"

    def test_referral(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_referral_ctwa.json"))
        assert m.message_type is MessageType.TEXT
        assert m.text == "BODY"
        assert m.referral is not None
        assert m.referral["ctwa_clid"] == "CTWA_CLID"
        assert m.referral["source_id"] == "ADID"

    def test_identity_kept_and_placeholder_timestamp_is_none(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_text_identity_meta_postman.json"))
        assert m.identity == {"acknowledged": True, "created_timestamp": 1602532300000, "hash": "Sjvjlx8G6Z0="}
        assert m.timestamp == ts(1602532300)
        placeholder = message(load_fixture("webhook_image_with_caption_meta_postman.json"))
        assert placeholder.timestamp is None  # "<TIMESTAMP>" in the Postman sample

    def test_referred_product(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["context"] = {
            "from": "972123456789",
            "id": "wamid.q",
            "referred_product": {"catalog_id": "c1", "product_retailer_id": "sku-1"},
        }
        m = message(payload)
        assert m.referred_product == {"catalog_id": "c1", "product_retailer_id": "sku-1"}
        assert m.reply_to_provider_id == "wamid.q"


class TestMedia:
    def test_image(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_image.json"))
        assert m.content == {
            "media_id": "65463453",
            "mime_type": "image/jpeg",
            "sha256": "4654+8g=",
            "url": None,
            "caption": None,
        }
        assert m.text is None

    def test_image_caption_and_url(self, load_fixture: Any) -> None:
        assert message(load_fixture("webhook_image_with_caption_meta_postman.json")).text == "This is a caption"
        m = message(load_fixture("webhook_image_with_url.json"))
        assert m.content["url"].startswith("https://lookaside.fbsbx.com/")

    def test_audio_and_voice(self, load_fixture: Any) -> None:
        audio = message(load_fixture("webhook_audio.json"))
        voice = message(load_fixture("webhook_audio_voice.json"))
        assert audio.content["voice"] is False
        assert audio.forwarded is True
        assert voice.content["voice"] is True
        assert voice.content["mime_type"] == "audio/ogg; codecs=opus"
        assert "caption" not in voice.content

    def test_document(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_document.json"))
        assert m.content["filename"] == "filename.pdf"
        assert m.content["caption"] == "caption"
        assert m.text == "caption"

    def test_video(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_video.json"))
        assert (m.content["media_id"], m.content["mime_type"], m.text) == ("765756756", "video/mp4", "caption")

    def test_stickers(self, load_fixture: Any) -> None:
        assert message(load_fixture("webhook_sticker.json")).content["animated"] is False
        assert message(load_fixture("webhook_sticker_animated.json")).content["animated"] is True
        postman = message(load_fixture("webhook_sticker_meta_postman.json"))
        assert postman.content["animated"] is False
        assert postman.content["media_id"] == "<ID>"

    def test_media_without_id_is_kept_as_an_unreadable_message(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_image.json")
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
        m = message(payload)
        assert m.message_type is MessageType.UNKNOWN and m.provider_type == "image"
        assert m.content["unreadable"]["path"].endswith(".image.id")
        assert m.content["payload"] == payload["entry"][0]["changes"][0]["value"]["messages"][0]["image"]


class TestStructuredTypes:
    def test_location_pin_and_current(self, load_fixture: Any) -> None:
        pin = message(load_fixture("webhook_location.json"))
        assert pin.content == {
            "latitude": 37.4611978,
            "longitude": -122.2164385,
            "name": "Facebook HQ",
            "address": "1 Hacker Way, Menlo Park, CA 94025",
            "url": "https://maps.google.com/?cid=2000000000000000000",
        }
        assert pin.text == "Facebook HQ · 1 Hacker Way, Menlo Park, CA 94025"
        current = message(load_fixture("webhook_location_current.json"))
        assert (current.content["latitude"], current.content["longitude"], current.text) == (
            12.25089,
            43.90539,
            None,
        )

    def test_location_with_string_latitude_is_kept_unreadable(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_location.json")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["location"]["latitude"] = "37.4"
        m = message(payload)
        assert m.message_type is MessageType.UNKNOWN
        assert m.content["unreadable"]["path"].endswith(".location.latitude")

    def test_contacts(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_contacts.json"))
        assert m.text == "Chandler Bing, Monica, Rachel Green"
        assert [c["phones"][0]["type"] for c in m.content["contacts"]] == ["CELL", "HOME", "WORK"]

    def test_interactive_button_reply(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_interactive_button_reply.json"))
        assert m.content == {"type": "button_reply", "id": "callback_data", "title": "title"}
        assert m.text == "title"
        assert m.reply_to_provider_id == "wamid.xyzxyz"

    def test_interactive_list_reply(self, load_fixture: Any) -> None:
        plain = message(load_fixture("webhook_interactive_list_reply.json"))
        described = message(load_fixture("webhook_interactive_list_reply_with_description.json"))
        assert plain.content == {"type": "list_reply", "id": "callback_data", "title": "title", "description": None}
        assert described.content["description"] == "description"

    def test_nfm_reply_json_is_parsed(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_interactive_nfm_reply.json"))
        assert m.content["type"] == "nfm_reply"
        assert m.content["name"] == "flow"
        assert m.text == "Sent"
        assert m.content["response"] == {
            "comment_text": "Comment Text",
            "delivery_rating": "4",
            "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
            "purchase_rating": "2",
            "recommend_radio": "0",
            "cs_rating": "0",
        }
        assert m.content["flow_token"] == "AQAAAAACS5FpgQ_cAAAAAD0QI3s."
        no_token = message(load_fixture("webhook_interactive_nfm_reply_no_flow_token.json"))
        assert no_token.content["flow_token"] is None
        assert no_token.content["response"]["cs_rating"] == "0"

    def test_nfm_reply_with_broken_json_keeps_the_raw_string(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_interactive_nfm_reply.json")
        nfm = payload["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]
        nfm["response_json"] = "{not json"
        m = message(payload)
        assert (m.content["response"], m.content["response_json"]) == (None, "{not json")

    def test_unknown_interactive_subtype(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_interactive_button_reply.json")
        msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["interactive"] = {"type": "call_permission_reply", "call_permission_reply": {"response": "accept"}}
        m = message(payload)
        assert m.message_type is MessageType.INTERACTIVE
        assert m.content == {"type": "call_permission_reply", "payload": {"response": "accept"}}

    def test_template_quick_reply_button(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_button_template_quick_reply_meta_postman.json"))
        assert m.content == {"text": "No", "payload": "No-Button-Payload"}
        assert m.text == "No"
        assert m.reply_to_provider_id == "wamid.gBGGFlCGg0cvAgkLFm4e9tICiTI"
        assert m.sender.profile_name == "Kerry Fisher"
        no_ctx = message(load_fixture("webhook_button_template_quick_reply_no_context.json"))
        assert no_ctx.reply_to_provider_id is None
        assert no_ctx.sender.user_id == "US.13491208655302741918"

    def test_reaction(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_reaction.json"))
        assert m.content == {"message_id": "wamid.yzxyzx=", "emoji": "😮"}
        assert m.text == "😮"

    @pytest.mark.parametrize("name", ["webhook_reaction_removed.json", "webhook_reaction_removed_no_emoji.json"])
    def test_reaction_removed(self, name: str, load_fixture: Any) -> None:
        m = message(load_fixture(name))
        assert m.content == {"message_id": "wamid.yzxyzx=", "emoji": None}
        assert m.text is None

    def test_order(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_order.json"))
        assert m.content["catalog_id"] == "354160437058781"
        assert m.content["text"] is None
        assert m.content["product_items"] == [
            {"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"},
            {"product_retailer_id": "FRENCH_FRIES", "quantity": 2, "item_price": 35, "currency": "ILS"},
            {"product_retailer_id": "SODA", "quantity": 2, "item_price": 10, "currency": "ILS"},
        ]

    def test_system_user_changed_number(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_system_user_changed_number.json"))
        assert m.content["type"] == "user_changed_number"
        assert m.content["new_wa_id"] == "972912345678"
        assert m.sender.wa_id == "972987654321"
        assert m.sender.profile_name is None  # this sample has no contacts[]
        assert m.text == "User A changed from 972987654321 to 972912345678"

    def test_system_identity_changed(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_system_identity_changed.json"))
        assert m.content["type"] == "customer_identity_changed"
        assert m.identity is not None and m.identity["hash"] == "xyzxyz"
        assert m.sender.profile_name == "User A"

    def test_system_user_changed_user_id(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_system_user_changed_number.json")
        msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["system"] = {"body": "changed", "type": "user_changed_user_id", "user_id": "user.new"}
        m = message(payload)
        assert (m.content["type"], m.content["new_user_id"], m.content["new_wa_id"]) == (
            "user_changed_user_id",
            "user.new",
            None,
        )

    def test_unsupported(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_unsupported.json"))
        assert m.message_type is MessageType.UNSUPPORTED
        assert m.content == {}
        assert m.errors == (
            ProviderError(
                code=131051,
                title="Message type unknown",
                message="Message type unknown",
                details="Message type is currently not supported.",
            ),
        )
        typed = message(load_fixture("webhook_unsupported_with_type_131051.json"))
        assert typed.content == {"unsupported_type": "pool"}
        assert typed.errors[0].code == 131051

    def test_legacy_unknown_type_is_unsupported(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_unsupported.json")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = "unknown"
        m = message(payload)
        assert m.message_type is MessageType.UNSUPPORTED
        assert m.provider_type == "unknown"

    def test_new_type_becomes_unknown_not_an_exception(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["type"] = "poll_vote"
        msg["poll_vote"] = {"option": 2}
        m = message(payload)
        assert m.message_type is MessageType.UNKNOWN
        assert m.content == {"provider_type": "poll_vote", "payload": {"option": 2}}

    def test_revoke(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_message_revoked.json"))
        assert m.content == {"original_message_id": "<ORIGINAL_WHATSAPP_MESSAGE_ID>"}

    def test_edit_carries_the_new_content(self, load_fixture: Any) -> None:
        m = message(load_fixture("webhook_message_edited.json"))
        assert m.content["original_message_id"].startswith("wamid.HBgLMTQxMjU1NTA4MjkV")
        assert m.content["message_type"] == "image"
        assert m.content["content"]["caption"] == "Updated image caption"
        assert m.content["content"]["media_id"] == "1234567890"
        assert m.text == "Updated image caption"


class TestValueLevelErrors:
    def test_131000_yields_message_and_error_event(self, load_fixture: Any) -> None:
        events = parse_webhook(load_fixture("webhook_errors_value_level_131000.json"))
        msg, err = events
        assert isinstance(msg, InboundMessage) and isinstance(err, ProviderErrorEvent)
        assert msg.message_type is MessageType.INTERACTIVE
        assert msg.content == {}
        assert [e.code for e in msg.errors] == [131000]  # value-level errors are copied onto the message
        assert err.error.details == "Unsupported webhook payload"
        assert (err.field, err.channel_account_id, err.account_id) == (
            "messages",
            "1122334455667",
            "1234567890987654321",
        )

    def test_value_with_only_errors(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_errors_value_level_131000.json")
        del payload["entry"][0]["changes"][0]["value"]["messages"]
        assert [kind_of(e) for e in parse_webhook(payload)] == ["error:131000"]


class TestStatuses:
    def test_sent_cbp_with_conversation(self, load_fixture: Any) -> None:
        s = status(load_fixture("webhook_status_sent.json"))
        assert s.status is DeliveryStatus.SENT
        assert s.provider_message_id == "wamid.xyzxyz"
        assert s.timestamp == ts(1698266945)
        assert s.recipient_wa_id == "972987654321"
        assert s.recipient_user_id == "US.13491208655302741918"  # from the matching contacts[] entry
        assert s.conversation == {
            "id": "7270432eae37498234f4444b35ffc5",
            "expiration_timestamp": "1698339900",
            "origin": {"type": "service"},
        }
        assert s.pricing == {"billable": True, "pricing_model": "CBP", "category": "service"}
        assert s.biz_opaque_callback_data is None

    def test_sent_without_contacts(self, load_fixture: Any) -> None:
        s = status(load_fixture("webhook_status_sent_cbp_utility.json"))
        assert (s.recipient_wa_id, s.recipient_user_id) == ("971509364178", None)
        assert s.pricing is not None and s.pricing["category"] == "utility"

    def test_delivered_pmp(self, load_fixture: Any) -> None:
        s = status(load_fixture("webhook_status_delivered_pmp.json"))
        assert s.conversation is None
        assert s.pricing == {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
        assert s.recipient_user_id == "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6"

    def test_delivered_to_bsuid(self, load_fixture: Any) -> None:
        s = status(load_fixture("webhook_status_delivered_pmp_to_bsuid.json"))
        assert s.recipient_wa_id is None
        assert s.recipient_user_id == "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6"

    def test_failed_with_error(self, load_fixture: Any) -> None:
        s = status(load_fixture("webhook_status_failed_130472.json"))
        assert s.status is DeliveryStatus.FAILED
        assert s.errors == (
            ProviderError(
                code=130472,
                title="User's number is part of an experiment",
                message="User's number is part of an experiment",
                details="Failed to send message because this user's phone number is part of an experiment",
                href="https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            ),
        )

    def test_read_and_played(self, load_fixture: Any) -> None:
        assert status(load_fixture("webhook_status_read.json")).status is DeliveryStatus.READ
        assert status(load_fixture("webhook_status_played.json")).status is DeliveryStatus.PLAYED

    def test_biz_opaque_callback_data(self, load_fixture: Any) -> None:
        s = status(load_fixture("webhook_status_with_biz_opaque_callback_data.json"))
        assert s.biz_opaque_callback_data == "some data"

    def test_unknown_status_value_is_kept(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_status_sent.json")
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "warning"
        s = status(payload)
        assert (s.status, s.provider_status) == (DeliveryStatus.UNKNOWN, "warning")

    def test_every_status_and_message_of_every_entry(self, load_fixture: Any) -> None:
        sent = load_fixture("webhook_status_sent.json")
        read = load_fixture("webhook_status_read.json")
        text = load_fixture("webhook_text.json")
        value = sent["entry"][0]["changes"][0]["value"]
        value["statuses"].append(read["entry"][0]["changes"][0]["value"]["statuses"][0])
        sent["entry"][0]["changes"].append(text["entry"][0]["changes"][0])
        sent["entry"].append(load_fixture("webhook_template_quality_update.json")["entry"][0])
        kinds = [kind_of(e) for e in parse_webhook(sent)]
        assert kinds == ["status:sent", "status:read", "message:text", "template:message_template_quality_update"]


class TestTemplateEvents:
    def test_approved(self, load_fixture: Any) -> None:
        t = parse_one(load_fixture("webhook_template_status_update_approved.json"))
        assert isinstance(t, TemplateStatusUpdate)
        assert (t.template_id, t.template_name, t.language, t.event, t.reason, t.category) == (
            "1689556908129832",
            "order_confirmation",
            "en_US",
            "APPROVED",
            "NONE",
            "UTILITY",
        )
        assert t.account_id == "102290129340398"
        assert t.event_time == ts(1751247548)

    def test_rejected_with_info(self, load_fixture: Any) -> None:
        t = parse_one(load_fixture("webhook_template_status_update_rejected.json"))
        assert isinstance(t, TemplateStatusUpdate)
        assert (t.event, t.reason) == ("REJECTED", "INVALID_FORMAT")
        assert t.rejection_info is not None
        assert t.rejection_info["recommendation"].startswith("Separate parameters")

    def test_quality(self, load_fixture: Any) -> None:
        t = parse_one(load_fixture("webhook_template_quality_update.json"))
        assert isinstance(t, TemplateStatusUpdate)
        assert (t.previous_quality_score, t.new_quality_score, t.event) == ("GREEN", "YELLOW", None)
        assert t.template_id == "806312974732579"

    def test_category(self, load_fixture: Any) -> None:
        t = parse_one(load_fixture("webhook_template_category_update.json"))
        assert isinstance(t, TemplateStatusUpdate)
        assert (t.new_category, t.previous_category, t.language) == ("MARKETING", None, "he")

    def test_components_keeps_raw_value(self, load_fixture: Any) -> None:
        t = parse_one(load_fixture("webhook_template_components_update.json"))
        assert isinstance(t, TemplateStatusUpdate)
        assert t.value["message_template_element"] == "Hi {{1}}! Welcome to our service."
        assert t.template_id == "12345678"

    def test_template_update_without_id_is_unreadable(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_template_quality_update.json")
        del payload["entry"][0]["changes"][0]["value"]["message_template_id"]
        event = parse_one(payload)
        assert isinstance(event, UnreadableEvent) and event.field == "message_template_quality_update"
        assert event.path.endswith(".message_template_id")


class TestAccountAndPreferences:
    @pytest.mark.parametrize(
        ("name", "event"),
        [
            ("webhook_account_update_disabled.json", "DISABLED_UPDATE"),
            ("webhook_account_update_pricing_tier.json", "VOLUME_BASED_PRICING_TIER_UPDATE"),
            ("webhook_account_update_restriction.json", "ACCOUNT_RESTRICTION"),
            ("webhook_account_update_violation.json", "ACCOUNT_VIOLATION"),
        ],
    )
    def test_account_update(self, name: str, event: str, load_fixture: Any) -> None:
        payload = load_fixture(name)
        a = parse_one(payload)
        assert isinstance(a, AccountEvent)
        assert a.event == event
        assert a.account_id == "102290129340398"
        assert a.value == payload["entry"][0]["changes"][0]["value"]
        assert a.event_time is not None

    def test_unknown_field_becomes_account_event(self) -> None:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {"field": "phone_number_quality_update", "value": {"event": "FLAGGED"}},
                        {"field": "calls", "value": ["anything"]},
                    ],
                }
            ],
        }
        a, b = parse_webhook(payload)
        assert isinstance(a, AccountEvent) and isinstance(b, AccountEvent)
        assert (a.field, a.event, b.field, b.value) == ("phone_number_quality_update", "FLAGGED", "calls", ["anything"])

    def test_marketing_resume(self, load_fixture: Any) -> None:
        p = parse_one(load_fixture("webhook_user_preferences_marketing_resume.json"))
        assert isinstance(p, UserPreferenceUpdate)
        assert (p.value, p.category, p.wa_id, p.channel_account_id) == (
            PreferenceValue.RESUME,
            "marketing_messages",
            "16505551234",
            "106540352242922",
        )
        # the sample's contacts[] entry (972…) is another user: no BSUID is borrowed from it
        assert p.user_id is None
        assert p.timestamp == ts(1731705721)

    def test_marketing_stop_and_signup(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_user_preferences_marketing_resume.json")
        payload["entry"][0]["changes"][0]["value"]["user_preferences"][0]["value"] = "stop"
        p = parse_one(payload)
        assert isinstance(p, UserPreferenceUpdate) and p.value is PreferenceValue.STOP
        s = parse_one(load_fixture("webhook_user_preferences_marketing_signup.json"))
        assert isinstance(s, UserPreferenceUpdate)
        assert (s.value, s.provider_value) == (PreferenceValue.SIGNUP, "signup")


class TestShapeErrors:
    @pytest.mark.parametrize(
        "payload",
        [
            [],
            "x",
            None,
            {},
            {"object": "page", "entry": []},
            {"object": "whatsapp_business_account", "entry": {}},
            {"object": "whatsapp_business_account", "entry": [1]},
        ],
    )
    def test_bad_envelopes(self, payload: Any) -> None:
        with pytest.raises(WebhookShapeError):
            parse_webhook(payload)

    def test_empty_entry_list_is_fine(self) -> None:
        assert parse_webhook({"object": "whatsapp_business_account", "entry": []}) == []

    def test_change_without_field_costs_only_itself(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        payload["entry"][0]["changes"].insert(0, {"value": {}})
        unreadable, text = parse_webhook(payload)
        assert isinstance(unreadable, UnreadableEvent) and unreadable.path == "$.entry[0].changes[0].field"
        assert isinstance(text, InboundMessage) and text.text == "Body Text"

    def test_missing_message_id(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        event = parse_one(payload)
        assert isinstance(event, UnreadableEvent)
        assert event.path == "$.entry[0].changes[0].value.messages[0].id"
        assert event.channel_account_id == "1122334455667"

    def test_missing_sender(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        value = payload["entry"][0]["changes"][0]["value"]
        del value["messages"][0]["from"]
        value["contacts"] = []
        event = parse_one(payload)
        assert isinstance(event, UnreadableEvent) and "sender" in event.reason

    def test_sender_only_in_sole_contact(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
        m = message(payload)
        assert m.sender.wa_id == "972987654321"

    def test_missing_phone_number_id(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_status_sent.json")
        del payload["entry"][0]["changes"][0]["value"]["metadata"]
        event = parse_one(payload)
        assert isinstance(event, UnreadableEvent) and event.path.endswith(".metadata.phone_number_id")

    def test_wrong_type_for_text_body(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"] = {"body": 42}
        m = message(payload)
        assert m.message_type is MessageType.UNKNOWN and m.text is None
        assert m.content["unreadable"] == {
            "path": "$.entry[0].changes[0].value.messages[0].text.body",
            "reason": "expected a string, got number",
        }

    def test_timestamp_of_wrong_json_type(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = {"s": 1}
        m = message(payload)
        assert m.timestamp is None and m.text == "Body Text"

    def test_an_optional_field_of_an_odd_shape_is_left_out(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_status_delivered.json")
        payload["entry"][0]["changes"][0]["value"]["statuses"][0]["pricing"] = "PMP"
        delivered = status(payload)
        assert delivered.status is DeliveryStatus.DELIVERED and delivered.pricing is None
        payload = load_fixture("webhook_text.json")
        payload["entry"][0]["changes"][0]["value"]["messages"][0] |= {"referral": ["ad"], "context": 7}
        m = message(payload)
        assert (m.message_type, m.text, m.referral, m.reply_to_provider_id) == (
            MessageType.TEXT,
            "Body Text",
            None,
            None,
        )

    def test_one_bad_message_does_not_cost_its_siblings(self, load_fixture: Any) -> None:
        payload = load_fixture("webhook_text.json")
        messages = payload["entry"][0]["changes"][0]["value"]["messages"]
        broken = copy.deepcopy(messages[0]) | {"id": "wamid.broken", "type": "location", "location": {"latitude": "x"}}
        nameless = {k: v for k, v in messages[0].items() if k != "id"}
        messages[:0] = [broken, nameless]
        first, second, third = parse_webhook(payload)
        assert isinstance(first, InboundMessage) and first.provider_message_id == "wamid.broken"
        assert first.message_type is MessageType.UNKNOWN and first.content["unreadable"]["path"].endswith("latitude")
        assert isinstance(second, UnreadableEvent) and second.path.endswith("messages[1].id")
        assert isinstance(third, InboundMessage) and third.text == "Body Text"

    @pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"[" * 100000])
    def test_bad_bytes(self, body: bytes) -> None:
        with pytest.raises(WebhookShapeError):
            parse_webhook_body(body)
