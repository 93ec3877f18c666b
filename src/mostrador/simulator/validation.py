"""Validation of ``POST /{phone-number-id}/messages`` bodies, with Meta's error codes (CONTRACT §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import GraphError, invalid_param, invalid_value, required

JSON = dict[str, Any]

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
MESSAGE_TYPES = ("text", *MEDIA_TYPES, "location", "contacts", "reaction", "interactive", "template")
INTERACTIVE_TYPES = (
    "button",
    "list",
    "cta_url",
    "location_request_message",
    "flow",
    "product",
    "product_list",
    "catalog_message",
    "call_permission_request",
    "voice_call",
)
_PHONE_RE = re.compile(r"^\d{6,15}$")
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass
class ParsedSend:
    to: str | None  # normalised phone digits
    to_input: str
    recipient_bsuid: str | None
    type: str
    content: Any
    context_message_id: str | None
    biz_opaque_callback_data: str | None


def _obj(value: Any, path: str) -> JSON:
    if value is None:
        raise required(path)
    if not isinstance(value, dict):
        raise invalid_param(f"Param {path} must be a JSON object.")
    return value


def _text(
    container: JSON, key: str, path: str, *, max_len: int, required_: bool = True, code: int = 131009, min_len: int = 1
) -> str | None:
    value = container.get(key)
    if value is None or value == "":
        if required_:
            raise required(path)
        return None
    if not isinstance(value, str):
        raise invalid_param(f"Param {path} must be a string.")
    if len(value) > max_len or len(value) < min_len:
        if code == 100:
            raise invalid_param(f"Param {path} must be at most {max_len} characters long.")
        raise invalid_value(f"{path} length invalid. Min length: {min_len}, Max length: {max_len}")
    return value


def normalise_phone(raw: str) -> str | None:
    digits = re.sub(r"[\s\-()+.]", "", raw)
    return digits if _PHONE_RE.match(digits) else None


def parse_send(body: Any) -> ParsedSend:
    if not isinstance(body, dict):
        raise invalid_param("The request body must be a JSON object.")
    if body.get("messaging_product") is None:
        raise required("messaging_product")
    if body.get("messaging_product") != "whatsapp":
        raise invalid_param("Param messaging_product must be 'whatsapp'.")
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type not in ("individual", "group"):
        raise invalid_param("Param recipient_type must be one of {INDIVIDUAL, GROUP}.")
    if recipient_type == "group":
        raise GraphError(131009, "Groups are not supported by the simulator.")
    to_raw = body.get("to")
    bsuid = body.get("recipient")
    to: str | None = None
    if to_raw in (None, "") and bsuid in (None, ""):
        raise required("to")
    if to_raw not in (None, ""):
        if not isinstance(to_raw, str | int):
            raise invalid_param("Param to must be a string.")
        to = normalise_phone(str(to_raw))
        if to is None:
            raise invalid_param(f"Param to ('{to_raw}') is not a valid WhatsApp phone number.")
    if bsuid not in (None, "") and not isinstance(bsuid, str):
        raise invalid_param("Param recipient must be a string.")
    msg_type = body.get("type", "text")
    if msg_type not in MESSAGE_TYPES:
        raise invalid_param(f"Param type must be one of {{{', '.join(t.upper() for t in MESSAGE_TYPES)}}}.")
    context_id: str | None = None
    if "context" in body:
        ctx = _obj(body["context"], "context")
        mid = ctx.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise required("context['message_id']")
        context_id = mid
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
        raise invalid_param("Param biz_opaque_callback_data must be a string of at most 512 characters.")
    content = body.get(msg_type)
    validate_content(msg_type, content)
    return ParsedSend(
        to=to,
        to_input=str(to_raw) if to_raw not in (None, "") else str(bsuid),
        recipient_bsuid=bsuid if isinstance(bsuid, str) and bsuid else None,
        type=msg_type,
        content=content,
        context_message_id=context_id,
        biz_opaque_callback_data=opaque,
    )


def validate_content(msg_type: str, content: Any) -> None:
    if msg_type == "text":
        obj = _obj(content, "text")
        _text(obj, "body", "text['body']", max_len=4096, code=100)
        if "preview_url" in obj and not isinstance(obj["preview_url"], bool):
            raise invalid_param("Param text['preview_url'] must be a boolean.")
    elif msg_type in MEDIA_TYPES:
        validate_media_object(_obj(content, msg_type), msg_type, msg_type)
    elif msg_type == "location":
        obj = _obj(content, "location")
        for key, limit in (("latitude", 90.0), ("longitude", 180.0)):
            if key not in obj:
                raise required(f"location['{key}']")
            try:
                value = float(obj[key])
            except (TypeError, ValueError):
                raise invalid_param(f"Param location['{key}'] must be a number.") from None
            if not -limit <= value <= limit:
                raise invalid_value(f"location['{key}'] must be between -{limit:g} and {limit:g}.")
    elif msg_type == "contacts":
        if not isinstance(content, list) or not content:
            raise required("contacts")
        for i, card in enumerate(content):
            card_obj = _obj(card, f"contacts[{i}]")
            name = _obj(card_obj.get("name"), f"contacts[{i}]['name']")
            _text(name, "formatted_name", f"contacts[{i}]['name']['formatted_name']", max_len=1000, code=100)
    elif msg_type == "reaction":
        obj = _obj(content, "reaction")
        mid = obj.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise required("reaction['message_id']")
        if "emoji" not in obj or not isinstance(obj["emoji"], str):
            raise required("reaction['emoji']")
    elif msg_type == "interactive":
        validate_interactive(_obj(content, "interactive"))
    elif msg_type == "template":
        obj = _obj(content, "template")
        _text(obj, "name", "template['name']", max_len=512, code=100)
        lang = _obj(obj.get("language"), "template['language']")
        _text(lang, "code", "template['language']['code']", max_len=20, code=100)
        comps = obj.get("components", [])
        if not isinstance(comps, list):
            raise invalid_param("Param template['components'] must be an array.")
        for i, comp in enumerate(comps):
            comp_obj = _obj(comp, f"template['components'][{i}]")
            if str(comp_obj.get("type", "")).lower() not in (
                "header",
                "body",
                "button",
                "footer",
                "carousel",
                "limited_time_offer",
            ):
                raise invalid_param(f"Param template['components'][{i}]['type'] is invalid.")
            params = comp_obj.get("parameters", [])
            if not isinstance(params, list):
                raise invalid_param(f"Param template['components'][{i}]['parameters'] must be an array.")


def validate_media_object(obj: JSON, kind: str, path: str) -> None:
    has_id = isinstance(obj.get("id"), str) and obj.get("id") != ""
    link = obj.get("link")
    if not has_id and not link:
        raise required(f"{path}['id'] or {path}['link']")
    if has_id and link:
        raise invalid_param(f"Param {path} must have either 'id' or 'link', not both.")
    if link is not None and (not isinstance(link, str) or not _URL_RE.match(link)):
        raise invalid_value(f"{path}['link'] is not a valid URL (http or https).")
    if "caption" in obj:
        if kind not in ("image", "video", "document"):
            raise invalid_param(f"Param {path}['caption'] is not supported for {kind}.")
        _text(obj, "caption", f"{path}['caption']", max_len=1024, required_=False)
    if "filename" in obj and kind != "document":
        raise invalid_param(f"Param {path}['filename'] is only supported for documents.")


def _header(header: JSON) -> None:
    htype = header.get("type")
    if htype == "text":
        _text(header, "text", "interactive['header']['text']", max_len=60)
    elif htype in ("image", "video", "document"):
        validate_media_object(
            _obj(header.get(htype), f"interactive['header']['{htype}']"), htype, f"interactive['header']['{htype}']"
        )
    else:
        raise invalid_param("Param interactive['header']['type'] must be one of {TEXT, IMAGE, VIDEO, DOCUMENT}.")


def validate_interactive(obj: JSON) -> None:
    itype = obj.get("type")
    if itype is None:
        raise required("interactive['type']")
    if itype not in INTERACTIVE_TYPES:
        raise invalid_param(f"Param interactive['type'] must be one of {{{', '.join(INTERACTIVE_TYPES)}}}.")
    action = _obj(obj.get("action"), "interactive['action']")
    if itype in ("button", "list", "cta_url", "location_request_message", "flow"):
        body = _obj(obj.get("body"), "interactive['body']")
        _text(body, "text", "interactive['body']['text']", max_len=1024)
    if "header" in obj:
        if itype in ("location_request_message",):
            raise invalid_param("Param interactive['header'] is not supported for this message type.")
        _header(_obj(obj["header"], "interactive['header']"))
    if "footer" in obj:
        _text(_obj(obj["footer"], "interactive['footer']"), "text", "interactive['footer']['text']", max_len=60)
    if itype == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            raise required("interactive['action']['buttons']")
        if len(buttons) > 3:
            raise invalid_value("Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3")
        ids: set[str] = set()
        titles: set[str] = set()
        for i, b in enumerate(buttons):
            btn = _obj(b, f"interactive['action']['buttons'][{i}]")
            if btn.get("type") != "reply":
                raise invalid_param(f"Param interactive['action']['buttons'][{i}]['type'] must be 'reply'.")
            reply = _obj(btn.get("reply"), f"interactive['action']['buttons'][{i}]['reply']")
            bid = _text(reply, "id", f"interactive['action']['buttons'][{i}]['reply']['id']", max_len=256)
            title = _text(reply, "title", "Button title", max_len=20)
            if bid in ids:
                raise invalid_value("Buttons must have unique ids.")
            if title in titles:
                raise invalid_value("Buttons must have unique titles.")
            ids.add(str(bid))
            titles.add(str(title))
    elif itype == "list":
        _text(action, "button", "interactive['action']['button']", max_len=20)
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise required("interactive['action']['sections']")
        if len(sections) > 10:
            raise invalid_value("Too many sections. Max allowed sections: 10")
        total = 0
        row_ids: set[str] = set()
        for si, s in enumerate(sections):
            section = _obj(s, f"interactive['action']['sections'][{si}]")
            _text(
                section,
                "title",
                f"interactive['action']['sections'][{si}]['title']",
                max_len=24,
                required_=len(sections) > 1,
            )
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise required(f"interactive['action']['sections'][{si}]['rows']")
            for ri, r in enumerate(rows):
                row = _obj(r, f"interactive['action']['sections'][{si}]['rows'][{ri}]")
                rid = _text(row, "id", "Row id", max_len=200)
                _text(row, "title", "Row title", max_len=24)
                _text(row, "description", "Row description", max_len=72, required_=False)
                if rid in row_ids:
                    raise invalid_value("Row ids must be unique across all sections.")
                row_ids.add(str(rid))
            total += len(rows)
        if total > 10:
            raise invalid_value(f"Total row count exceed max allowed count: 10 (got {total})")
    elif itype == "cta_url":
        if action.get("name") != "cta_url":
            raise invalid_param("Param interactive['action']['name'] must be 'cta_url'.")
        params = _obj(action.get("parameters"), "interactive['action']['parameters']")
        _text(params, "display_text", "interactive['action']['parameters']['display_text']", max_len=20)
        url = params.get("url")
        if not isinstance(url, str) or not _URL_RE.match(url):
            raise invalid_value("interactive['action']['parameters']['url'] is not a valid URL.")
    elif itype == "location_request_message" and action.get("name") != "send_location":
        raise invalid_param("Param interactive['action']['name'] must be 'send_location'.")
