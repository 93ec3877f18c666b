"""Outbound bodies → Cloud API ``/messages`` JSON, validating the documented limits locally.

Every check raises ``ChannelPermanentError`` (code 100, ``local=True``) before any HTTP call.
Limits: CONTRACT.md §2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mostrador.channels.base import (
    ButtonsBody,
    ContactsBody,
    CouponCodeParam,
    CtaUrlBody,
    CurrencyParam,
    DateTimeParam,
    ListBody,
    LocationBody,
    LocationParam,
    LocationRequestBody,
    MediaBody,
    MediaKind,
    MediaParam,
    OutboundBody,
    PayloadParam,
    RawBody,
    ReactionBody,
    Recipient,
    TemplateBody,
    TemplateComponent,
    TemplateParameter,
    TextBody,
    TextParam,
)
from mostrador.channels.whatsapp.errors import validation_error

__all__ = [
    "LIMITS",
    "build_mark_read_payload",
    "build_message_payload",
    "render_body",
    "render_template_component",
    "render_template_parameter",
]

LIMITS: Mapping[str, int] = {
    "text_body": 4096,
    "caption": 1024,
    "interactive_body": 1024,
    "header_text": 60,
    "footer_text": 60,
    "button_title": 20,
    "button_id": 256,
    "max_buttons": 3,
    "list_button": 20,
    "list_sections": 10,
    "list_rows": 10,
    "row_title": 24,
    "row_description": 72,
    "row_id": 200,
    "section_title": 24,
    "cta_display_text": 20,
    "biz_opaque_callback_data": 512,
    "template_button_index": 9,
}

_CAPTION_KINDS = frozenset({MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DOCUMENT})
_HEADER_MEDIA_KINDS = frozenset({MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DOCUMENT})
_PARAM_NAME = re.compile(r"^[a-z0-9_]+$")


def _check_text(value: str, what: str, limit: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise validation_error(f"{what} must be a string")
    if not allow_empty and not value.strip():
        raise validation_error(f"{what} is empty")
    if len(value) > limit:
        raise validation_error(f"{what} is longer than {limit} characters ({len(value)})")
    return value


def _check_url(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.lower().startswith(("https://", "http://")):
        raise validation_error(f"{what} must be an http(s):// URL")
    if any(ch.isspace() for ch in value):
        raise validation_error(f"{what} must not contain spaces")
    return value


def _recipient(to: str | Recipient) -> dict[str, str]:
    if isinstance(to, Recipient):
        if to.wa_id:
            return {"to": to.wa_id}
        assert to.user_id  # Recipient guarantees one of them
        return {"recipient": to.user_id}
    if not isinstance(to, str) or not to.strip():
        raise validation_error("recipient is empty")
    return {"to": to}


def _media_object(kind: MediaKind, media_id: str | None, link: str | None, what: str) -> dict[str, Any]:
    if bool(media_id) == bool(link):
        raise validation_error(f"{what}: give exactly one of media id or link")
    if media_id:
        return {"id": media_id}
    assert link is not None
    return {"link": _check_url(link, f"{what} link")}


def _render_media(body: MediaBody) -> dict[str, Any]:
    kind = MediaKind(body.kind)
    obj = _media_object(kind, body.media_id, body.link, kind.value)
    if body.caption is not None:
        if kind not in _CAPTION_KINDS:
            raise validation_error(f"{kind.value} messages cannot have a caption")
        obj["caption"] = _check_text(body.caption, "caption", LIMITS["caption"], allow_empty=True)
    if body.filename is not None:
        if kind is not MediaKind.DOCUMENT:
            raise validation_error("only documents have a filename")
        obj["filename"] = _check_text(body.filename, "filename", 240)
    return obj


def _render_header(header: str | MediaBody | None, *, allow_media: bool) -> dict[str, Any] | None:
    if header is None:
        return None
    if isinstance(header, str):
        return {"type": "text", "text": _check_text(header, "header", LIMITS["header_text"])}
    if not allow_media:
        raise validation_error("this message only accepts a text header")
    kind = MediaKind(header.kind)
    if kind not in _HEADER_MEDIA_KINDS:
        raise validation_error(f"{kind.value} cannot be used as a header")
    if header.caption is not None:
        raise validation_error("a media header has no caption")
    obj = _media_object(kind, header.media_id, header.link, "header")
    if header.filename is not None:
        if kind is not MediaKind.DOCUMENT:
            raise validation_error("only document headers have a filename")
        obj["filename"] = header.filename
    return {"type": kind.value, kind.value: obj}


def _interactive_common(
    out: dict[str, Any], body: str, header: str | MediaBody | None, footer: str | None, *, media_header: bool
) -> dict[str, Any]:
    rendered_header = _render_header(header, allow_media=media_header)
    if rendered_header is not None:
        out["header"] = rendered_header
    out["body"] = {"text": _check_text(body, "body", LIMITS["interactive_body"])}
    if footer is not None:
        out["footer"] = {"text": _check_text(footer, "footer", LIMITS["footer_text"])}
    return out


def _render_buttons(body: ButtonsBody) -> dict[str, Any]:
    if not 1 <= len(body.buttons) <= LIMITS["max_buttons"]:
        raise validation_error(f"reply buttons: 1 to {LIMITS['max_buttons']} required ({len(body.buttons)})")
    seen: set[str] = set()
    buttons: list[dict[str, Any]] = []
    for b in body.buttons:
        _check_text(b.id, "button id", LIMITS["button_id"])
        _check_text(b.title, "button title", LIMITS["button_title"])
        if b.id in seen:
            raise validation_error(f"duplicate button id {b.id!r}")
        seen.add(b.id)
        buttons.append({"type": "reply", "reply": {"id": b.id, "title": b.title}})
    out: dict[str, Any] = {"type": "button"}
    _interactive_common(out, body.body, body.header, body.footer, media_header=True)
    out["action"] = {"buttons": buttons}
    return out


def _render_list(body: ListBody) -> dict[str, Any]:
    _check_text(body.button, "list button label", LIMITS["list_button"])
    if not 1 <= len(body.sections) <= LIMITS["list_sections"]:
        raise validation_error(f"list: 1 to {LIMITS['list_sections']} sections required")
    total = sum(len(s.rows) for s in body.sections)
    if not 1 <= total <= LIMITS["list_rows"]:
        raise validation_error(f"list: 1 to {LIMITS['list_rows']} rows in total required ({total})")
    seen: set[str] = set()
    sections: list[dict[str, Any]] = []
    for section in body.sections:
        rendered: dict[str, Any] = {}
        if section.title is not None:
            rendered["title"] = _check_text(section.title, "section title", LIMITS["section_title"])
        elif len(body.sections) > 1:
            raise validation_error("every section needs a title when there are several sections")
        if not section.rows:
            raise validation_error("a list section needs at least one row")
        rows: list[dict[str, Any]] = []
        for row in section.rows:
            _check_text(row.id, "row id", LIMITS["row_id"])
            if row.id in seen:
                raise validation_error(f"duplicate row id {row.id!r}")
            seen.add(row.id)
            r: dict[str, Any] = {
                "id": row.id,
                "title": _check_text(row.title, "row title", LIMITS["row_title"]),
            }
            if row.description is not None:
                r["description"] = _check_text(
                    row.description, "row description", LIMITS["row_description"], allow_empty=True
                )
            rows.append(r)
        rendered["rows"] = rows
        sections.append(rendered)
    out: dict[str, Any] = {"type": "list"}
    _interactive_common(out, body.body, body.header, body.footer, media_header=False)
    out["action"] = {"button": body.button, "sections": sections}
    return out


def _render_cta(body: CtaUrlBody) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "cta_url"}
    _interactive_common(out, body.body, body.header, body.footer, media_header=True)
    out["action"] = {
        "name": "cta_url",
        "parameters": {
            "display_text": _check_text(body.display_text, "button text", LIMITS["cta_display_text"]),
            "url": _check_url(body.url, "button url"),
        },
    }
    return out


def _check_coordinates(latitude: float, longitude: float) -> None:
    for value, what, bound in ((latitude, "latitude", 90), (longitude, "longitude", 180)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not -bound <= value <= bound:
            raise validation_error(f"{what} must be a number between -{bound} and {bound}")


def _render_location(body: LocationBody) -> dict[str, Any]:
    _check_coordinates(body.latitude, body.longitude)
    out: dict[str, Any] = {"latitude": body.latitude, "longitude": body.longitude}
    if body.name is not None:
        out["name"] = body.name
    if body.address is not None:
        out["address"] = body.address
    return out


def _render_contacts(body: ContactsBody) -> list[dict[str, Any]]:
    if not body.contacts:
        raise validation_error("at least one contact is required")
    out: list[dict[str, Any]] = []
    for card in body.contacts:
        name = card.get("name")
        if (
            not isinstance(name, Mapping)
            or not isinstance(name.get("formatted_name"), str)
            or not name.get("formatted_name")
        ):
            raise validation_error("every contact needs name.formatted_name")
        out.append(dict(card))
    return out


# Templates ---------------------------------------------------------------------------------------


def _named(out: dict[str, Any], name: str | None) -> dict[str, Any]:
    if name is not None:
        if not _PARAM_NAME.match(name):
            raise validation_error(f"parameter_name {name!r} must use lowercase letters, digits and _")
        out["parameter_name"] = name
    return out


def render_template_parameter(param: TemplateParameter) -> dict[str, Any]:
    if isinstance(param, TextParam):
        _check_text(param.text, "template text parameter", 32768)
        return _named({"type": "text", "text": param.text}, param.parameter_name)
    if isinstance(param, CurrencyParam):
        return _named(
            {
                "type": "currency",
                "currency": {
                    "fallback_value": _check_text(param.fallback_value, "currency fallback", 1024),
                    "code": param.code,
                    "amount_1000": param.amount_1000,
                },
            },
            param.parameter_name,
        )
    if isinstance(param, DateTimeParam):
        dt: dict[str, Any] = {"fallback_value": _check_text(param.fallback_value, "date_time fallback", 1024)}
        dt.update(param.extra)
        return _named({"type": "date_time", "date_time": dt}, param.parameter_name)
    if isinstance(param, MediaParam):
        kind = MediaKind(param.kind)
        if kind not in _HEADER_MEDIA_KINDS:
            raise validation_error(f"{kind.value} cannot be a template parameter")
        obj = _media_object(kind, param.media_id, param.link, f"template {kind.value}")
        if param.filename is not None:
            obj["filename"] = param.filename
        return {"type": kind.value, kind.value: obj}
    if isinstance(param, LocationParam):
        _check_coordinates(param.latitude, param.longitude)
        loc: dict[str, Any] = {"latitude": param.latitude, "longitude": param.longitude}
        if param.name is not None:
            loc["name"] = param.name
        if param.address is not None:
            loc["address"] = param.address
        return {"type": "location", "location": loc}
    if isinstance(param, PayloadParam):
        return {"type": "payload", "payload": _check_text(param.payload, "button payload", 1000)}
    if isinstance(param, CouponCodeParam):
        return {"type": "coupon_code", "coupon_code": _check_text(param.coupon_code, "coupon code", 15)}
    if isinstance(param, Mapping):
        if not isinstance(param.get("type"), str):
            raise validation_error("a raw template parameter needs a string 'type'")
        return dict(param)
    raise validation_error(f"unsupported template parameter {type(param).__name__}")


def render_template_component(component: TemplateComponent | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(component, Mapping):
        if not isinstance(component.get("type"), str):
            raise validation_error("a raw template component needs a string 'type'")
        return dict(component)
    ctype = component.type.lower()
    if ctype not in ("header", "body", "button"):
        raise validation_error(f"unknown template component type {component.type!r}")
    out: dict[str, Any] = {"type": ctype}
    if ctype == "button":
        if not component.sub_type:
            raise validation_error("a button component needs sub_type")
        index = component.index
        if index is None or not 0 <= index <= LIMITS["template_button_index"]:
            raise validation_error("a button component needs index 0-9")
        out["sub_type"] = component.sub_type
        out["index"] = str(index)
    elif component.sub_type is not None or component.index is not None:
        raise validation_error("only button components have sub_type/index")
    params = [render_template_parameter(p) for p in component.parameters]
    named = [p for p in params if p.get("type") == "text" and "parameter_name" in p]
    texts = [p for p in params if p.get("type") == "text"]
    if named and len(named) != len(texts):
        raise validation_error("do not mix named and positional text parameters in one component")
    if params:
        out["parameters"] = params
    return out


def _render_template(body: TemplateBody) -> dict[str, Any]:
    name = _check_text(body.name, "template name", 512)
    language: dict[str, Any] = {"code": _check_text(body.language, "template language", 100)}
    if body.language_policy is not None:
        language["policy"] = body.language_policy
    out: dict[str, Any] = {"name": name, "language": language}
    components = [render_template_component(c) for c in body.components]
    indexes = [str(c.get("index")) for c in components if c.get("type") == "button"]
    if len(set(indexes)) != len(indexes):
        raise validation_error("two button components use the same index")
    if components:
        out["components"] = components
    return out


# Whole message ------------------------------------------------------------------------------------


def render_body(body: OutboundBody) -> tuple[str, Any]:
    """Return (``type``, object for that type)."""
    if isinstance(body, TextBody):
        text: dict[str, Any] = {"body": _check_text(body.text, "text", LIMITS["text_body"])}
        if body.preview_url is not None:
            text["preview_url"] = body.preview_url
        return "text", text
    if isinstance(body, MediaBody):
        return MediaKind(body.kind).value, _render_media(body)
    if isinstance(body, LocationBody):
        return "location", _render_location(body)
    if isinstance(body, ContactsBody):
        return "contacts", _render_contacts(body)
    if isinstance(body, ReactionBody):
        _check_text(body.message_id, "reaction message id", 512)
        return "reaction", {"message_id": body.message_id, "emoji": body.emoji or ""}
    if isinstance(body, ButtonsBody):
        return "interactive", _render_buttons(body)
    if isinstance(body, ListBody):
        return "interactive", _render_list(body)
    if isinstance(body, CtaUrlBody):
        return "interactive", _render_cta(body)
    if isinstance(body, LocationRequestBody):
        out: dict[str, Any] = {"type": "location_request_message"}
        _interactive_common(out, body.body, None, None, media_header=False)
        out["action"] = {"name": "send_location"}
        return "interactive", out
    if isinstance(body, TemplateBody):
        return "template", _render_template(body)
    if isinstance(body, RawBody):
        if not body.type:
            raise validation_error("raw body needs a type")
        return body.type, body.payload
    raise validation_error(f"unsupported body {type(body).__name__}")


def build_message_payload(
    to: str | Recipient,
    body: OutboundBody,
    *,
    reply_to: str | None = None,
    biz_opaque_callback_data: str | None = None,
    recipient_type: str = "individual",
) -> dict[str, Any]:
    msg_type, obj = render_body(body)
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": recipient_type}
    payload.update(_recipient(to))
    payload["type"] = msg_type
    if reply_to:
        payload["context"] = {"message_id": reply_to}
    payload[msg_type] = obj
    if biz_opaque_callback_data is not None:
        payload["biz_opaque_callback_data"] = _check_text(
            biz_opaque_callback_data, "biz_opaque_callback_data", LIMITS["biz_opaque_callback_data"]
        )
    return payload


def build_mark_read_payload(message_id: str, *, typing_indicator: bool = False) -> dict[str, Any]:
    _check_text(message_id, "message id", 512)
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing_indicator:
        payload["typing_indicator"] = {"type": "text"}
    return payload
