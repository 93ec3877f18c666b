"""Pure parser: WhatsApp Cloud API webhook JSON → normalized ``InboundEvent`` list.

Rules:
- every ``entry[]`` / ``changes[]`` / ``messages[]`` / ``statuses[]`` / ``errors[]`` item is visited;
- unknown message types become ``MessageType.UNKNOWN`` messages, unknown change fields become
  ``AccountEvent``; nothing is silently dropped;
- a body we cannot interpret at all (not an object, no ``entry``) raises one ``WebhookShapeError`` with a
  JSON-path; no other exception escapes for any JSON input;
- one item we cannot interpret costs only itself: a change, message or status without its ids becomes an
  ``UnreadableEvent`` (path and reason); a message with its id and sender but an unreadable content (wrong
  JSON types) becomes an ``UNKNOWN`` message whose content says what could not be read;
- timestamps that are absent or not numeric (e.g. ``"<TIMESTAMP>"`` placeholders) become ``None``:
  the caller falls back to its receive time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from mostrador.channels.base import (
    AccountEvent,
    DeliveryStatus,
    InboundEvent,
    InboundMessage,
    MessageType,
    PreferenceValue,
    ProviderError,
    ProviderErrorEvent,
    SenderIdentity,
    StatusUpdate,
    TemplateStatusUpdate,
    UnreadableEvent,
    UserPreferenceUpdate,
    WebhookShapeError,
)

__all__ = ["WebhookShapeError", "parse_error_object", "parse_webhook", "parse_webhook_body"]

_T = TypeVar("_T")
_NO_ERRORS: tuple[ProviderError, ...] = ()

OBJECT_WABA = "whatsapp_business_account"
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "template_category_update",
        "message_template_components_update",
    }
)
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})

# --------------------------------------------------------------------------------------------------
# typed accessors (each raises WebhookShapeError with a path on a wrong JSON type)
# --------------------------------------------------------------------------------------------------


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebhookShapeError(f"expected an object, got {_tname(value)}", path)
    return value


def _tname(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _opt_obj(obj: Mapping[str, Any], key: str, path: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    return _obj(value, f"{path}.{key}")


def _opt_list(obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WebhookShapeError(f"expected an array, got {_tname(value)}", f"{path}.{key}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookShapeError(f"expected a string, got {_tname(value)}", f"{path}.{key}")
    return value


def _nonempty(value: str | None) -> str | None:
    return value if value else None


def _loose_str(obj: Mapping[str, Any], key: str) -> str | None:
    """For fields whose JSON type is not documented: a non-empty string or None, never raises."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _req_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = _opt_str(obj, key, path)
    if not value:
        raise WebhookShapeError("missing or empty", f"{path}.{key}")
    return value


def _opt_id(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    """Graph ids are strings, but template ids arrive as JSON numbers."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WebhookShapeError(f"expected an id, got {_tname(value)}", f"{path}.{key}")
    return str(value)


def _opt_bool(obj: Mapping[str, Any], key: str, path: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise WebhookShapeError(f"expected a boolean, got {_tname(value)}", f"{path}.{key}")
    return value


def _opt_number(obj: Mapping[str, Any], key: str, path: str) -> float | int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WebhookShapeError(f"expected a number, got {_tname(value)}", f"{path}.{key}")
    return value


def _req_number(obj: Mapping[str, Any], key: str, path: str) -> float | int:
    value = _opt_number(obj, key, path)
    if value is None:
        raise WebhookShapeError("missing", f"{path}.{key}")
    return value


def _timestamp(obj: Mapping[str, Any], key: str, path: str) -> datetime | None:
    """Unix seconds as string or number → aware UTC datetime; absent/non-numeric → None."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WebhookShapeError(f"expected a unix timestamp, got {_tname(value)}", f"{path}.{key}")
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


# --------------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------------


def parse_webhook_body(body: str | bytes) -> list[InboundEvent]:
    """Decode a raw body then :func:`parse_webhook`."""
    if isinstance(body, str):
        body = body.removeprefix("\ufeff")  # a byte-order mark: ``json`` skips it in bytes, refuses it in text
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise WebhookShapeError(f"body is not JSON: {exc.__class__.__name__}") from None
    if (b"\\u0000" in body) if isinstance(body, bytes) else ("\\u0000" in body):
        # Valid JSON, but PostgreSQL stores no NUL character in text or JSON columns: such a body failed every
        # retry (found by the mutated-bodies property test). A NUL carries nothing for the inbox; drop it.
        payload = _without_nul(payload)
    return parse_webhook(payload)


def _without_nul(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {str(_without_nul(key)): _without_nul(item) for key, item in value.items()}
    return value


def parse_webhook(payload: object) -> list[InboundEvent]:
    root = _obj(payload, "$")
    obj_kind = root.get("object")
    if obj_kind is not None and obj_kind != OBJECT_WABA:
        raise WebhookShapeError(f"unexpected object {obj_kind!r}", "$.object")
    if root.get("entry") is None:
        raise WebhookShapeError("missing", "$.entry")
    events: list[InboundEvent] = []
    for i, raw_entry in enumerate(_opt_list(root, "entry", "$")):
        epath = f"$.entry[{i}]"
        entry = _obj(raw_entry, epath)
        account_id = _opt_id(entry, "id", epath)
        event_time = _timestamp(entry, "time", epath)
        for j, raw_change in enumerate(_opt_list(entry, "changes", epath)):
            cpath = f"{epath}.changes[{j}]"
            field = ""
            try:
                change = _obj(raw_change, cpath)
                field = _req_str(change, "field", cpath)
                events.extend(_parse_change(field, change.get("value"), account_id, event_time, cpath))
            except WebhookShapeError as error:  # one change we cannot read does not cost the others
                events.append(_unreadable(field, error, None, account_id))
    return events


def _lenient(read: Callable[[], _T], default: _T) -> _T:
    """An optional field: its value, or ``default`` when its shape is wrong (the item is worth more than it)."""
    try:
        return read()
    except WebhookShapeError:
        return default


def _unreadable(
    field: str, error: WebhookShapeError, channel_account_id: str | None, account_id: str | None
) -> UnreadableEvent:
    return UnreadableEvent(
        field=field,
        path=error.path,
        reason=error.reason,
        channel_account_id=channel_account_id,
        account_id=account_id,
    )


def _parse_change(
    field: str, value: Any, account_id: str | None, event_time: datetime | None, cpath: str
) -> list[InboundEvent]:
    vpath = f"{cpath}.value"
    if field == "messages":
        return _parse_messages_value(_obj(value, vpath), account_id, vpath)
    if field in TEMPLATE_FIELDS:
        return [_parse_template_change(field, _obj(value, vpath), account_id, event_time, vpath)]
    if field == "user_preferences":
        return _parse_user_preferences(_obj(value, vpath), account_id, vpath)
    channel_account_id = None
    event = None
    if isinstance(value, dict):
        metadata = _opt_obj(value, "metadata", vpath)
        if metadata is not None:
            channel_account_id = _opt_str(metadata, "phone_number_id", f"{vpath}.metadata")
        raw_event = value.get("event")
        event = raw_event if isinstance(raw_event, str) else None
    return [
        AccountEvent(
            field=field,
            account_id=account_id,
            value=value,
            event=event,
            event_time=event_time,
            channel_account_id=channel_account_id,
        )
    ]


# --------------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------------


def parse_error_object(raw: Any, path: str = "$") -> ProviderError:
    """A webhook ``errors[]`` item or a Graph ``error`` body → ProviderError."""
    err = _obj(raw, path)
    code = err.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise WebhookShapeError(f"expected an integer code, got {_tname(code)}", f"{path}.code")
    details = None
    error_data = _opt_obj(err, "error_data", path)
    if error_data is not None:
        details = _opt_str(error_data, "details", f"{path}.error_data")
    return ProviderError(
        code=code,
        title=_opt_str(err, "title", path),
        message=_opt_str(err, "message", path),
        details=details,
        href=_opt_str(err, "href", path),
    )


def _errors(obj: Mapping[str, Any], path: str) -> tuple[ProviderError, ...]:
    return tuple(
        parse_error_object(item, f"{path}.errors[{k}]") for k, item in enumerate(_opt_list(obj, "errors", path))
    )


# --------------------------------------------------------------------------------------------------
# field == "messages"
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Contact:
    wa_id: str | None
    user_id: str | None
    parent_user_id: str | None
    name: str | None
    username: str | None
    country_code: str | None


def _contacts(value: Mapping[str, Any], vpath: str) -> list[_Contact]:
    out: list[_Contact] = []
    for k, raw in enumerate(_opt_list(value, "contacts", vpath)):
        path = f"{vpath}.contacts[{k}]"
        c = _obj(raw, path)
        profile = _opt_obj(c, "profile", path) or {}
        ppath = f"{path}.profile"
        out.append(
            _Contact(
                wa_id=_nonempty(_opt_str(c, "wa_id", path)),
                user_id=_nonempty(_opt_str(c, "user_id", path)),
                parent_user_id=_nonempty(_opt_str(c, "parent_user_id", path)),
                name=_nonempty(_opt_str(profile, "name", ppath)),
                username=_nonempty(_opt_str(profile, "username", ppath)),
                country_code=_nonempty(_opt_str(profile, "country_code", ppath)),
            )
        )
    return out


def _match_contact(contacts: list[_Contact], wa_id: str | None, user_id: str | None) -> _Contact | None:
    if user_id:
        for c in contacts:
            if c.user_id == user_id:
                return c
    if wa_id:
        for c in contacts:
            if c.wa_id == wa_id:
                return c
    if not wa_id and not user_id and len(contacts) == 1:
        return contacts[0]
    return None


def _parse_messages_value(value: dict[str, Any], account_id: str | None, vpath: str) -> list[InboundEvent]:
    metadata = _opt_obj(value, "metadata", vpath) or {}
    mpath = f"{vpath}.metadata"
    phone_number_id = _opt_str(metadata, "phone_number_id", mpath)
    display_phone = _opt_str(metadata, "display_phone_number", mpath)
    contacts = _contacts(value, vpath)
    value_errors = _errors(value, vpath)
    raw_messages = _opt_list(value, "messages", vpath)
    raw_statuses = _opt_list(value, "statuses", vpath)

    events: list[InboundEvent] = []
    if (raw_messages or raw_statuses) and not phone_number_id:
        raise WebhookShapeError("missing or empty", f"{mpath}.phone_number_id")
    for k, raw in enumerate(raw_messages):
        try:
            message = _parse_message(
                _obj(raw, f"{vpath}.messages[{k}]"),
                f"{vpath}.messages[{k}]",
                phone_number_id=phone_number_id or "",
                account_id=account_id,
                display_phone=display_phone,
                contacts=contacts,
                value_errors=value_errors,
            )
        except WebhookShapeError as error:  # no id or no sender: nothing to record it under
            events.append(_unreadable("messages", error, phone_number_id, account_id))
        else:
            events.append(message)
    for k, raw in enumerate(raw_statuses):
        try:
            status = _parse_status(
                _obj(raw, f"{vpath}.statuses[{k}]"),
                f"{vpath}.statuses[{k}]",
                phone_number_id=phone_number_id or "",
                account_id=account_id,
                contacts=contacts,
            )
        except WebhookShapeError as error:
            events.append(_unreadable("messages", error, phone_number_id, account_id))
        else:
            events.append(status)
    for err in value_errors:
        events.append(
            ProviderErrorEvent(field="messages", channel_account_id=phone_number_id, account_id=account_id, error=err)
        )
    if not events:
        # e.g. a future sub-payload (message_echoes, calls…) delivered under field "messages"
        events.append(
            AccountEvent(field="messages", account_id=account_id, value=value, channel_account_id=phone_number_id)
        )
    return events


def _parse_message(
    msg: dict[str, Any],
    path: str,
    *,
    phone_number_id: str,
    account_id: str | None,
    display_phone: str | None,
    contacts: list[_Contact],
    value_errors: tuple[ProviderError, ...],
) -> InboundMessage:
    wamid = _req_str(msg, "id", path)
    provider_type = _opt_str(msg, "type", path) or ""
    from_wa = _nonempty(_opt_str(msg, "from", path))
    from_user = _nonempty(_opt_str(msg, "from_user_id", path))
    contact = _match_contact(contacts, from_wa, from_user)
    wa_id = from_wa or (contact.wa_id if contact else None)
    user_id = from_user or (contact.user_id if contact else None)
    if not wa_id and not user_id:
        raise WebhookShapeError("message has no sender (from / from_user_id)", path)
    sender = SenderIdentity(
        wa_id=wa_id,
        user_id=user_id,
        profile_name=contact.name if contact else None,
        username=contact.username if contact else None,
        parent_user_id=contact.parent_user_id if contact else None,
        country_code=contact.country_code if contact else None,
    )

    # Past the id and the sender, a field of an odd shape is left out rather than costing the message.
    context = _lenient(lambda: _opt_obj(msg, "context", path), None) or {}
    ctx_path = f"{path}.context"
    frequently = bool(_lenient(lambda: _opt_bool(context, "frequently_forwarded", ctx_path), None))
    forwarded = bool(_lenient(lambda: _opt_bool(context, "forwarded", ctx_path), None)) or frequently
    try:
        message_type, text, content = _parse_content(msg, provider_type, path, allow_edit=True)
    except WebhookShapeError as error:
        # The customer wrote and we know who and which message: record it as one we cannot show, with why,
        # rather than lose it (and its siblings in the body).
        payload = msg.get(provider_type) if provider_type else None
        unreadable = {"path": error.path, "reason": error.reason}
        message_type, text = MessageType.UNKNOWN, None
        content = {"provider_type": provider_type, "payload": payload, "unreadable": unreadable}
    return InboundMessage(
        channel_account_id=phone_number_id,
        provider_message_id=wamid,
        sender=sender,
        timestamp=_lenient(lambda: _timestamp(msg, "timestamp", path), None),
        message_type=message_type,
        provider_type=provider_type,
        text=text,
        content=content,
        reply_to_provider_id=_nonempty(_lenient(lambda: _opt_str(context, "id", ctx_path), None)),
        forwarded=forwarded,
        frequently_forwarded=frequently,
        referral=_lenient(lambda: _opt_obj(msg, "referral", path), None),
        referred_product=_lenient(lambda: _opt_obj(context, "referred_product", ctx_path), None),
        identity=_lenient(lambda: _opt_obj(msg, "identity", path), None),
        errors=_lenient(lambda: _errors(msg, path), _NO_ERRORS) + value_errors,
        account_id=account_id,
        display_phone_number=display_phone,
    )


_KNOWN_TYPES = {t.value: t for t in MessageType}


def _parse_content(
    msg: Mapping[str, Any], provider_type: str, path: str, *, allow_edit: bool
) -> tuple[MessageType, str | None, dict[str, Any]]:
    """Return (type, preview text, structured content) for one message object."""
    if provider_type == "unknown":  # older name of "unsupported"
        provider_type = "unsupported"
    mtype = _KNOWN_TYPES.get(provider_type, MessageType.UNKNOWN)
    if mtype is MessageType.EDIT and not allow_edit:
        mtype = MessageType.UNKNOWN
    if mtype is MessageType.UNKNOWN:
        payload = msg.get(provider_type) if provider_type else None
        return MessageType.UNKNOWN, None, {"provider_type": provider_type, "payload": payload}
    if mtype is MessageType.CONTACTS:
        return _contacts_content(msg, path)

    ppath = f"{path}.{provider_type}"
    body = _opt_obj(msg, provider_type, path)
    if body is None:
        # e.g. the 131000 "Unsupported webhook payload" sample: type set, object absent.
        return mtype, None, {}
    if mtype is MessageType.TEXT:
        text = _opt_str(body, "body", ppath)
        return mtype, text, {"body": text}
    if provider_type in MEDIA_TYPES:
        return _media_content(mtype, body, ppath)
    if mtype is MessageType.LOCATION:
        name = _opt_str(body, "name", ppath)
        address = _opt_str(body, "address", ppath)
        content = {
            "latitude": _req_number(body, "latitude", ppath),
            "longitude": _req_number(body, "longitude", ppath),
            "name": name,
            "address": address,
            "url": _opt_str(body, "url", ppath),
        }
        preview = " · ".join(p for p in (name, address) if p) or None
        return mtype, preview, content
    if mtype is MessageType.INTERACTIVE:
        return _interactive_content(body, ppath)
    if mtype is MessageType.BUTTON:
        text = _opt_str(body, "text", ppath)
        return mtype, text, {"text": text, "payload": _opt_str(body, "payload", ppath)}
    if mtype is MessageType.REACTION:
        emoji = _nonempty(_opt_str(body, "emoji", ppath))
        return mtype, emoji, {"message_id": _req_str(body, "message_id", ppath), "emoji": emoji}
    if mtype is MessageType.ORDER:
        return _order_content(body, ppath)
    if mtype is MessageType.SYSTEM:
        text = _opt_str(body, "body", ppath)
        return (
            mtype,
            text,
            {
                "type": _opt_str(body, "type", ppath),
                "body": text,
                "new_wa_id": _loose_str(body, "wa_id") or _loose_str(body, "new_wa_id"),
                "new_user_id": _loose_str(body, "user_id") or _loose_str(body, "new_user_id"),
                "identity": _loose_str(body, "identity"),
                "customer": _loose_str(body, "customer"),
            },
        )
    if mtype is MessageType.UNSUPPORTED:
        return mtype, None, {"unsupported_type": _opt_str(body, "type", ppath)}
    if mtype is MessageType.REVOKE:
        return mtype, None, {"original_message_id": _req_str(body, "original_message_id", ppath)}
    # EDIT: {original_message_id, message: {type, <type>: {...}, context?}}
    original = _req_str(body, "original_message_id", ppath)
    inner = _opt_obj(body, "message", ppath) or {}
    inner_type = _opt_str(inner, "type", f"{ppath}.message") or ""
    itype, itext, icontent = _parse_content(inner, inner_type, f"{ppath}.message", allow_edit=False)
    return (
        mtype,
        itext,
        {"original_message_id": original, "message_type": itype.value, "content": icontent},
    )


def _media_content(
    mtype: MessageType, body: dict[str, Any], ppath: str
) -> tuple[MessageType, str | None, dict[str, Any]]:
    caption = _opt_str(body, "caption", ppath)
    content: dict[str, Any] = {
        "media_id": _req_str(body, "id", ppath),
        "mime_type": _opt_str(body, "mime_type", ppath),
        "sha256": _opt_str(body, "sha256", ppath),
        "url": _opt_str(body, "url", ppath),
    }
    if mtype in (MessageType.IMAGE, MessageType.VIDEO, MessageType.DOCUMENT):
        content["caption"] = caption
    if mtype is MessageType.DOCUMENT:
        content["filename"] = _opt_str(body, "filename", ppath)
    if mtype is MessageType.AUDIO:
        content["voice"] = bool(_opt_bool(body, "voice", ppath))
    if mtype is MessageType.STICKER:
        content["animated"] = bool(_opt_bool(body, "animated", ppath))
    return mtype, caption if "caption" in content else None, content


def _contacts_content(msg: Mapping[str, Any], path: str) -> tuple[MessageType, str | None, dict[str, Any]]:
    cards: list[dict[str, Any]] = []
    names: list[str] = []
    for k, raw in enumerate(_opt_list(msg, "contacts", path)):
        cpath = f"{path}.contacts[{k}]"
        card = _obj(raw, cpath)
        name = _opt_obj(card, "name", cpath) or {}
        formatted = _opt_str(name, "formatted_name", f"{cpath}.name")
        if formatted:
            names.append(formatted)
        cards.append(card)
    return MessageType.CONTACTS, ", ".join(names) or None, {"contacts": cards}


def _interactive_content(body: dict[str, Any], ppath: str) -> tuple[MessageType, str | None, dict[str, Any]]:
    itype = _opt_str(body, "type", ppath) or ""
    sub = _opt_obj(body, itype, ppath) if itype else None
    spath = f"{ppath}.{itype}"
    mtype = MessageType.INTERACTIVE
    if sub is None:
        return mtype, None, {"type": itype or None}
    if itype in ("button_reply", "list_reply"):
        title = _opt_str(sub, "title", spath)
        content: dict[str, Any] = {"type": itype, "id": _opt_str(sub, "id", spath), "title": title}
        if itype == "list_reply":
            content["description"] = _opt_str(sub, "description", spath)
        return mtype, title, content
    if itype == "nfm_reply":
        raw_json = _opt_str(sub, "response_json", spath)
        response: Any = None
        if raw_json is not None:
            try:
                response = json.loads(raw_json)
            except (ValueError, RecursionError):
                response = None
        flow_token = response.get("flow_token") if isinstance(response, dict) else None
        text = _opt_str(sub, "body", spath)
        return (
            mtype,
            text,
            {
                "type": itype,
                "name": _opt_str(sub, "name", spath),
                "body": text,
                "response_json": raw_json,
                "response": response,
                "flow_token": flow_token if isinstance(flow_token, str) else None,
            },
        )
    return mtype, None, {"type": itype, "payload": sub}


def _order_content(body: dict[str, Any], ppath: str) -> tuple[MessageType, str | None, dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for k, raw in enumerate(_opt_list(body, "product_items", ppath)):
        ipath = f"{ppath}.product_items[{k}]"
        item = _obj(raw, ipath)
        items.append(
            {
                "product_retailer_id": _opt_str(item, "product_retailer_id", ipath),
                "quantity": _opt_number(item, "quantity", ipath),
                "item_price": _opt_number(item, "item_price", ipath),
                "currency": _opt_str(item, "currency", ipath),
            }
        )
    text = _nonempty(_opt_str(body, "text", ppath))
    return (
        MessageType.ORDER,
        text,
        {"catalog_id": _opt_str(body, "catalog_id", ppath), "text": text, "product_items": items},
    )


_KNOWN_STATUSES = {s.value: s for s in DeliveryStatus if s is not DeliveryStatus.UNKNOWN}


def _parse_status(
    st: dict[str, Any],
    path: str,
    *,
    phone_number_id: str,
    account_id: str | None,
    contacts: list[_Contact],
) -> StatusUpdate:
    wamid = _req_str(st, "id", path)
    provider_status = _req_str(st, "status", path)
    # Past the id and the status, a field of an odd shape is left out rather than costing the status.
    recipient_wa = _nonempty(_lenient(lambda: _opt_str(st, "recipient_id", path), None))
    recipient_user = _nonempty(_lenient(lambda: _opt_str(st, "recipient_user_id", path), None))
    if not recipient_user and recipient_wa:
        contact = _match_contact(contacts, recipient_wa, None)
        recipient_user = contact.user_id if contact else None
    return StatusUpdate(
        channel_account_id=phone_number_id,
        provider_message_id=wamid,
        status=_KNOWN_STATUSES.get(provider_status, DeliveryStatus.UNKNOWN),
        provider_status=provider_status,
        timestamp=_lenient(lambda: _timestamp(st, "timestamp", path), None),
        recipient_wa_id=recipient_wa,
        recipient_user_id=recipient_user,
        errors=_lenient(lambda: _errors(st, path), _NO_ERRORS),
        pricing=_lenient(lambda: _opt_obj(st, "pricing", path), None),
        conversation=_lenient(lambda: _opt_obj(st, "conversation", path), None),
        biz_opaque_callback_data=_lenient(lambda: _opt_str(st, "biz_opaque_callback_data", path), None),
        account_id=account_id,
    )


# --------------------------------------------------------------------------------------------------
# templates, user preferences
# --------------------------------------------------------------------------------------------------


def _parse_template_change(
    field: str, value: dict[str, Any], account_id: str | None, event_time: datetime | None, vpath: str
) -> TemplateStatusUpdate:
    template_id = _opt_id(value, "message_template_id", vpath)
    if not template_id:
        raise WebhookShapeError("missing", f"{vpath}.message_template_id")
    return TemplateStatusUpdate(
        field=field,
        account_id=account_id,
        template_id=template_id,
        template_name=_opt_str(value, "message_template_name", vpath),
        language=_opt_str(value, "message_template_language", vpath),
        event=_opt_str(value, "event", vpath),
        reason=_opt_str(value, "reason", vpath),
        category=_opt_str(value, "message_template_category", vpath),
        previous_quality_score=_opt_str(value, "previous_quality_score", vpath),
        new_quality_score=_opt_str(value, "new_quality_score", vpath),
        previous_category=_opt_str(value, "previous_category", vpath),
        new_category=_opt_str(value, "new_category", vpath),
        rejection_info=_opt_obj(value, "rejection_info", vpath),
        event_time=event_time,
        value=value,
    )


_PREFERENCES = {p.value: p for p in PreferenceValue if p is not PreferenceValue.UNKNOWN}


def _parse_user_preferences(value: dict[str, Any], account_id: str | None, vpath: str) -> list[InboundEvent]:
    metadata = _opt_obj(value, "metadata", vpath) or {}
    phone_number_id = _opt_str(metadata, "phone_number_id", f"{vpath}.metadata")
    contacts = _contacts(value, vpath)
    events: list[InboundEvent] = []
    for k, raw in enumerate(_opt_list(value, "user_preferences", vpath)):
        path = f"{vpath}.user_preferences[{k}]"
        pref = _obj(raw, path)
        wa_id = _nonempty(_opt_str(pref, "wa_id", path))
        user_id = _nonempty(_opt_str(pref, "user_id", path))
        if not user_id and wa_id:
            contact = _match_contact(contacts, wa_id, None)
            user_id = contact.user_id if contact else None
        if not wa_id and not user_id:
            raise WebhookShapeError("preference has no wa_id / user_id", path)
        raw_value = _req_str(pref, "value", path)
        events.append(
            UserPreferenceUpdate(
                channel_account_id=phone_number_id,
                account_id=account_id,
                wa_id=wa_id,
                user_id=user_id,
                category=_opt_str(pref, "category", path),
                value=_PREFERENCES.get(raw_value.lower(), PreferenceValue.UNKNOWN),
                provider_value=raw_value,
                detail=_opt_str(pref, "detail", path),
                timestamp=_timestamp(pref, "timestamp", path),
            )
        )
    return events
