"""Webhook payload builders, one function per kind, shaped like Meta's 2026 notifications.

Every ``messages``-field payload carries ``contacts[]`` with ``user_id`` (BSUID) next to ``wa_id``: pywa's parser
drops updates without it, and Meta sends it since the BSUID rollout. Inbound messages carry ``from_user_id``.
Shapes are cross-checked against ``shared/wa-contract/fixtures/webhook_*.json`` in the tests.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


# --------------------------------------------------------------------------- envelope


def envelope(waba_id: str, field: str, value: JSON, *, time: int | None = None) -> JSON:
    entry: JSON = {"id": waba_id}
    if time is not None:
        entry["time"] = time
    entry["changes"] = [{"value": value, "field": field}]
    return {"object": "whatsapp_business_account", "entry": [entry]}


def metadata(display_phone_number: str, phone_number_id: str) -> JSON:
    return {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}


def contact(
    *,
    wa_id: str,
    user_id: str,
    name: str | None,
    parent_user_id: str | None = None,
    username: str | None = None,
    country_code: str | None = None,
) -> JSON:
    profile: JSON = {"name": name or ""}
    if username:
        profile["username"] = username
        if country_code:
            profile["country_code"] = country_code
    out: JSON = {"profile": profile, "wa_id": wa_id, "user_id": user_id}
    if parent_user_id:
        out["parent_user_id"] = parent_user_id
    return out


def messages_change(
    *,
    display_phone_number: str,
    phone_number_id: str,
    contacts: list[JSON],
    messages: list[JSON] | None = None,
    statuses: list[JSON] | None = None,
) -> JSON:
    value: JSON = {
        "messaging_product": "whatsapp",
        "metadata": metadata(display_phone_number, phone_number_id),
        "contacts": contacts,
    }
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return value


# --------------------------------------------------------------------------- inbound messages


def message_common(
    *, wamid: str, from_wa_id: str, from_user_id: str, timestamp: int, context: JSON | None = None
) -> JSON:
    msg: JSON = {}
    if context:
        msg["context"] = context
    msg["from"] = from_wa_id
    msg["from_user_id"] = from_user_id
    msg["id"] = wamid
    msg["timestamp"] = str(timestamp)
    return msg


def reply_context(*, business_display_number: str, wamid: str) -> JSON:
    return {"from": business_display_number, "id": wamid}


def text(common: JSON, body: str) -> JSON:
    return {**common, "type": "text", "text": {"body": body}}


def _media(common: JSON, kind: str, media: JSON) -> JSON:
    return {**common, "type": kind, kind: media}


def media_object(
    *,
    media_id: str,
    mime_type: str,
    sha256: str,
    caption: str | None = None,
    filename: str | None = None,
    url: str | None = None,
) -> JSON:
    obj: JSON = {"mime_type": mime_type, "sha256": sha256, "id": media_id}
    if caption:
        obj["caption"] = caption
    if filename:
        obj["filename"] = filename
    if url:
        obj["url"] = url
    return obj


def image(common: JSON, media: JSON) -> JSON:
    return _media(common, "image", media)


def video(common: JSON, media: JSON) -> JSON:
    return _media(common, "video", media)


def audio(common: JSON, media: JSON, *, voice: bool) -> JSON:
    return _media(common, "audio", {**media, "voice": voice})


def document(common: JSON, media: JSON) -> JSON:
    return _media(common, "document", media)


def sticker(common: JSON, media: JSON, *, animated: bool = False) -> JSON:
    return _media(common, "sticker", {**media, "animated": animated})


def location(
    common: JSON,
    *,
    latitude: float,
    longitude: float,
    name: str | None = None,
    address: str | None = None,
    url: str | None = None,
) -> JSON:
    loc: JSON = {"latitude": latitude, "longitude": longitude}
    if name:
        loc["name"] = name
    if address:
        loc["address"] = address
    if url:
        loc["url"] = url
    return {**common, "type": "location", "location": loc}


def contacts(common: JSON, cards: list[JSON]) -> JSON:
    return {**common, "type": "contacts", "contacts": cards}


def button_reply(common: JSON, *, reply_id: str, title: str) -> JSON:
    return {
        **common,
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def list_reply(common: JSON, *, reply_id: str, title: str, description: str | None = None) -> JSON:
    row: JSON = {"id": reply_id, "title": title}
    if description:
        row["description"] = description
    return {**common, "type": "interactive", "interactive": {"type": "list_reply", "list_reply": row}}


def template_button(common: JSON, *, text_: str, payload: str) -> JSON:
    """A tap on a template QUICK_REPLY button (``type: button``)."""
    return {**common, "type": "button", "button": {"payload": payload, "text": text_}}


def reaction(common: JSON, *, message_id: str, emoji: str) -> JSON:
    return {**common, "type": "reaction", "reaction": {"message_id": message_id, "emoji": emoji}}


def order(common: JSON, *, catalog_id: str, text_: str, product_items: list[JSON]) -> JSON:
    return {
        **common,
        "type": "order",
        "order": {"catalog_id": catalog_id, "text": text_, "product_items": product_items},
    }


def inbound_webhook(
    *, waba_id: str, display_phone_number: str, phone_number_id: str, contact_: JSON, message: JSON
) -> JSON:
    return envelope(
        waba_id,
        "messages",
        messages_change(
            display_phone_number=display_phone_number,
            phone_number_id=phone_number_id,
            contacts=[contact_],
            messages=[message],
        ),
    )


# --------------------------------------------------------------------------- statuses


def pricing(*, category: str, type_: str) -> JSON:
    """A per-message-pricing (PMP) object; ``type_`` is regular / free_customer_service / free_entry_point."""
    return {"billable": type_ == "regular", "pricing_model": "PMP", "type": type_, "category": category}


def status(
    *,
    wamid: str,
    status_: str,
    timestamp: int,
    recipient_wa_id: str,
    recipient_user_id: str | None = None,
    biz_opaque_callback_data: str | None = None,
    pricing_: JSON | None = None,
    errors: list[JSON] | None = None,
) -> JSON:
    st: JSON = {"id": wamid, "status": status_, "timestamp": str(timestamp), "recipient_id": recipient_wa_id}
    if recipient_user_id:
        st["recipient_user_id"] = recipient_user_id
    if biz_opaque_callback_data is not None:
        st["biz_opaque_callback_data"] = biz_opaque_callback_data
    if pricing_ is not None:
        st["pricing"] = pricing_
    if errors:
        st["errors"] = errors
    return st


def status_webhook(
    *, waba_id: str, display_phone_number: str, phone_number_id: str, contact_: JSON, status_: JSON
) -> JSON:
    return envelope(
        waba_id,
        "messages",
        messages_change(
            display_phone_number=display_phone_number,
            phone_number_id=phone_number_id,
            contacts=[contact_],
            statuses=[status_],
        ),
    )


# --------------------------------------------------------------------------- templates and preferences


def template_status_update(
    *,
    waba_id: str,
    time: int,
    event: str,
    template_id: str,
    name: str,
    language: str,
    category: str | None,
    reason: str = "NONE",
    rejection_info: JSON | None = None,
) -> JSON:
    value: JSON = {
        "event": event,
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason,
    }
    if category:
        value["message_template_category"] = category
    if rejection_info:
        value["rejection_info"] = rejection_info
    return envelope(waba_id, "message_template_status_update", value, time=time)


def template_quality_update(
    *, waba_id: str, time: int, template_id: str, name: str, language: str, previous: str, new: str
) -> JSON:
    return envelope(
        waba_id,
        "message_template_quality_update",
        {
            "previous_quality_score": previous,
            "new_quality_score": new,
            "message_template_id": int(template_id),
            "message_template_name": name,
            "message_template_language": language,
        },
        time=time,
    )


def user_preferences(
    *,
    waba_id: str,
    display_phone_number: str,
    phone_number_id: str,
    contact_: JSON,
    wa_id: str,
    value: str,
    timestamp: int,
    detail: str | None = None,
) -> JSON:
    if detail is None:
        detail = (
            "User requested to stop marketing messages"
            if value == "stop"
            else "User requested to resume marketing messages"
        )
    return envelope(
        waba_id,
        "user_preferences",
        {
            "messaging_product": "whatsapp",
            "metadata": metadata(display_phone_number, phone_number_id),
            "contacts": [contact_],
            "user_preferences": [
                {
                    "wa_id": wa_id,
                    "detail": detail,
                    "category": "marketing_messages",
                    "value": value,
                    "timestamp": timestamp,
                }
            ],
        },
    )
