"""WhatsApp message templates: the local copy of Meta's list, parameter checks and the rendered preview."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import (
    CouponCodeParam,
    MediaKind,
    MediaParam,
    PayloadParam,
    TemplateBody,
    TemplateComponent,
    TemplateParameter,
    TextParam,
)
from mostrador.exceptions import NotFound, Unprocessable
from mostrador.inboxes.adapters import PENDING_MEDIA_ID
from mostrador.kit.tenancy import scoped
from mostrador.messages.schemas import TemplateParameters
from mostrador.models import Inbox, MessageTemplate

VARIABLE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
SENDABLE = frozenset({"APPROVED"})
MEDIA_HEADERS = {"IMAGE": MediaKind.IMAGE, "VIDEO": MediaKind.VIDEO, "DOCUMENT": MediaKind.DOCUMENT}
MAX_COUPON_CODE = 15
MAX_URL_SUFFIX = 2000


@dataclass(frozen=True)
class ButtonSpec:
    """One button of a template as Meta reports it, and what it needs when sending."""

    index: int
    type: str  # QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW, ...
    text: str
    url: str = ""
    example: str = ""

    @property
    def parameter(self) -> str | None:
        """What the agent gives for this button: ``url`` (the end of a dynamic link, or an OTP code),
        ``coupon_code`` (the code to copy), ``payload`` (optional, quick replies) or None."""
        if self.type == "URL" and variables(self.url):
            return "url"
        if self.type == "OTP":
            return "url"
        if self.type == "COPY_CODE":
            return "coupon_code"
        if self.type == "QUICK_REPLY":
            return "payload"
        return None

    @property
    def url_prefix(self) -> str:
        return VARIABLE.split(self.url, maxsplit=1)[0] if self.url else ""


@dataclass(frozen=True)
class TemplateSpec:
    """A template's components, read once: header (format and text), body, footer and buttons."""

    named: bool
    header_format: str  # "" (no header), TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
    header_text: str
    body_text: str
    footer_text: str
    buttons: tuple[ButtonSpec, ...]

    @property
    def header_variables(self) -> list[str]:
        return variables(self.header_text) if self.header_format == "TEXT" else []

    @property
    def body_variables(self) -> list[str]:
        return variables(self.body_text)

    @property
    def header_media(self) -> MediaKind | None:
        return MEDIA_HEADERS.get(self.header_format)


@dataclass(frozen=True)
class HeaderUpload:
    """A file the agent uploads for a media header; delivery uploads it to the provider."""

    kind: MediaKind
    filename: str


@dataclass(frozen=True)
class RenderedButton:
    type: str  # lower case: quick_reply, url, copy_code, phone_number, otp, ...
    text: str
    url: str | None = None  # a URL button's address, its variable filled in
    value: str | None = None  # the code to copy, the quick reply's payload


@dataclass(frozen=True)
class RenderedTemplate:
    template: MessageTemplate
    body: TemplateBody
    text: str
    header_media: MediaKind | None = None
    header_link: str | None = None
    buttons: tuple[RenderedButton, ...] = ()


def _component(template: MessageTemplate, kind: str) -> dict[str, Any] | None:
    for component in template.components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None


def variables(text: str) -> list[str]:
    seen: list[str] = []
    for name in VARIABLE.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def _fill(text: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def template_spec(template: MessageTemplate) -> TemplateSpec:
    header = _component(template, "HEADER") or {}
    header_format = str(header.get("format", "TEXT")).upper() if header else ""
    buttons_component = _component(template, "BUTTONS") or {}
    buttons: list[ButtonSpec] = []
    for index, raw in enumerate(buttons_component.get("buttons", [])):
        if not isinstance(raw, dict):
            continue
        example = raw.get("example")
        if isinstance(example, list):
            example = example[0] if example else ""
        buttons.append(
            ButtonSpec(
                index=index,
                type=str(raw.get("type", "")).upper(),
                text=str(raw.get("text") or ""),
                url=str(raw.get("url") or ""),
                example=str(example or ""),
            )
        )
    return TemplateSpec(
        named=template.parameter_format.upper() == "NAMED",
        header_format=header_format,
        header_text=str(header.get("text", "")) if header_format == "TEXT" else "",
        body_text=str((_component(template, "BODY") or {}).get("text", "")),
        footer_text=str((_component(template, "FOOTER") or {}).get("text") or ""),
        buttons=tuple(buttons),
    )


def updated_components(
    current: Sequence[dict[str, object]] | None, value: dict[str, object]
) -> list[dict[str, object]]:
    """A template's components with the texts of a ``message_template_components_update`` in place: the body
    (``message_template_element``), a text header (``_title``), the footer and the buttons. What the webhook does
    not carry (a media header, examples) is kept."""
    by_type = {str(c.get("type", "")).upper(): dict(c) for c in current or [] if isinstance(c, dict)}
    body, title, footer = (_text(value.get(f"message_template_{part}")) for part in ("element", "title", "footer"))
    if body is not None:
        by_type["BODY"] = {**by_type.get("BODY", {}), "type": "BODY", "text": body}
    if title is not None and by_type.get("HEADER", {}).get("format", "TEXT") == "TEXT":
        by_type["HEADER"] = {**by_type.get("HEADER", {}), "type": "HEADER", "format": "TEXT", "text": title}
    if footer is not None:
        by_type["FOOTER"] = {"type": "FOOTER", "text": footer}
    buttons = value.get("message_template_buttons")
    if isinstance(buttons, list):
        by_type["BUTTONS"] = {"type": "BUTTONS", "buttons": [_button(b) for b in buttons if isinstance(b, dict)]}
    order = ("HEADER", "BODY", "FOOTER", "BUTTONS")
    return [by_type[kind] for kind in order if kind in by_type] + [c for k, c in by_type.items() if k not in order]


def _button(raw: dict[str, object]) -> dict[str, object]:
    """``{"message_template_button_type": "URL", "message_template_button_url": …}`` → ``{"type": "URL", "url": …}``"""
    prefix = "message_template_button_"
    button = {key.removeprefix(prefix): item for key, item in raw.items() if key.startswith(prefix)}
    return {"type": str(button.pop("type", "")).upper(), **button}


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _refuse(message: str) -> Unprocessable:
    return Unprocessable(message, code="template_params")


class MessageTemplateService:
    async def list_for_inbox(
        self, session: AsyncSession, inbox: Inbox, *, sendable_only: bool = False
    ) -> list[MessageTemplate]:
        statement = scoped(select(MessageTemplate), MessageTemplate, inbox.account_id).where(
            MessageTemplate.inbox_id == inbox.id
        )
        if sendable_only:
            statement = statement.where(MessageTemplate.status.in_(SENDABLE))
        statement = statement.order_by(MessageTemplate.name, MessageTemplate.language)
        return list((await session.execute(statement)).scalars())

    async def find(self, session: AsyncSession, inbox: Inbox, name: str, language: str) -> MessageTemplate:
        statement = scoped(select(MessageTemplate), MessageTemplate, inbox.account_id).where(
            MessageTemplate.inbox_id == inbox.id, MessageTemplate.name == name, MessageTemplate.language == language
        )
        found = (await session.execute(statement)).scalar_one_or_none()
        if found is None:
            raise NotFound(f"template {name} ({language}) does not exist in this inbox", code="template_not_found")
        return found

    async def render(
        self,
        session: AsyncSession,
        inbox: Inbox,
        params: TemplateParameters,
        *,
        header_upload: HeaderUpload | None = None,
        preview: bool = False,
    ) -> RenderedTemplate:
        """The send body and the text the customer reads, checked here so a missing parameter is a clear 422
        and never a Meta failure. ``preview``: what is missing shows as ``{{name}}`` instead of refusing."""
        template = await self.find(session, inbox, params.name, params.language)
        if template.status not in SENDABLE:
            raise Unprocessable(
                f"template {template.name} is {template.status}; only approved templates can be sent",
                code="template_not_approved",
            )
        spec = template_spec(template)
        components: list[TemplateComponent] = []
        header_text = ""
        header_link: str | None = None
        if spec.header_format == "TEXT":
            names = spec.header_variables
            values = self._values(template, "header", names, params.header, named=spec.named, preview=preview)
            if names:
                components.append(TemplateComponent(type="header", parameters=self._texts(names, values, spec.named)))
            header_text = _fill(spec.header_text, values)
        elif params.header:
            raise _refuse(f"template {template.name} has no header variables")
        if spec.header_media is not None:
            header = self._header_media(template, spec.header_media, params, header_upload, preview=preview)
            if header is not None:
                components.append(TemplateComponent(type="header", parameters=[header]))
            header_link = params.header_media.link if params.header_media else None
        elif params.header_media is not None or header_upload is not None:
            raise _refuse(f"template {template.name} has no image, video or document header")
        elif spec.header_format not in ("", "TEXT"):
            raise Unprocessable(
                f"templates with a {spec.header_format.lower()} header cannot be sent from here yet",
                code="template_unsupported",
            )
        names = spec.body_variables
        values = self._values(template, "body", names, params.body, named=spec.named, preview=preview)
        if names:
            components.append(TemplateComponent(type="body", parameters=self._texts(names, values, spec.named)))
        buttons = self._buttons(template, spec, params.buttons, components, preview=preview)
        text = _fill(spec.body_text, values)
        if header_text:
            text = f"*{header_text}*\n{text}"
        if spec.footer_text:
            text = f"{text}\n_{spec.footer_text}_"
        body = TemplateBody(name=template.name, language=template.language, components=components)
        return RenderedTemplate(
            template=template,
            body=body,
            text=text,
            header_media=spec.header_media,
            header_link=header_link,
            buttons=tuple(buttons),
        )

    def _values(
        self,
        template: MessageTemplate,
        where: str,
        names: list[str],
        given: list[str] | dict[str, str],
        *,
        named: bool,
        preview: bool,
    ) -> dict[str, str]:
        """The value of each variable of ``where`` (header or body), in the template's parameter format."""
        if isinstance(given, dict):
            if not named:
                raise _refuse(f"template {template.name} takes positional variables (a list)")
            if set(given) != set(names):
                raise _refuse(
                    f"the {where} of template {template.name} needs the variables {', '.join(names) or 'none'}"
                )
            values = {name: given[name] for name in names}
        else:
            if named and names:
                raise _refuse(f"template {template.name} takes named variables (an object)")
            if len(given) != len(names):
                raise _refuse(f"the {where} of template {template.name} needs {len(names)} variables, got {len(given)}")
            values = dict(zip(names, given, strict=True))
        for name, value in values.items():
            if not value.strip():
                if not preview:
                    raise _refuse("template variables cannot be empty")
                values[name] = "{{" + name + "}}"
        return values

    @staticmethod
    def _texts(names: list[str], values: dict[str, str], named: bool) -> list[TemplateParameter]:
        return [TextParam(text=values[name], parameter_name=name if named else None) for name in names]

    def _header_media(
        self,
        template: MessageTemplate,
        kind: MediaKind,
        params: TemplateParameters,
        upload: HeaderUpload | None,
        *,
        preview: bool,
    ) -> MediaParam | None:
        given = params.header_media
        if upload is not None and given is not None:
            raise _refuse("give the header file or its link, not both")
        if upload is not None:
            if upload.kind is not kind:
                raise Unprocessable(
                    f"the header of template {template.name} needs a {kind.value}, not a {upload.kind.value}",
                    code="template_header_media",
                )
            filename = upload.filename if kind is MediaKind.DOCUMENT else None
            return MediaParam(kind=kind, media_id=PENDING_MEDIA_ID, filename=filename)
        if given is None:
            if preview:
                return None
            raise Unprocessable(
                f"the header of template {template.name} needs a {kind.value}: upload a file or give a link",
                code="template_header_media",
            )
        if given.type is not None and given.type != kind.value:
            raise Unprocessable(
                f"the header of template {template.name} needs a {kind.value}, not a {given.type}",
                code="template_header_media",
            )
        filename = given.filename if kind is MediaKind.DOCUMENT else None
        return MediaParam(kind=kind, media_id=given.media_id, link=given.link, filename=filename)

    def _buttons(
        self,
        template: MessageTemplate,
        spec: TemplateSpec,
        given: list[str | None],
        components: list[TemplateComponent],
        *,
        preview: bool,
    ) -> list[RenderedButton]:
        if len(given) > len(spec.buttons):
            raise _refuse(f"template {template.name} has {len(spec.buttons)} buttons, got {len(given)} button values")
        rendered: list[RenderedButton] = []
        for button in spec.buttons:
            value = (given[button.index] or "").strip() if button.index < len(given) else ""
            needs = button.parameter
            kind = button.type.lower()
            if needs is None:
                if value:
                    raise _refuse(
                        f"the button {button.text or button.index + 1} of template {template.name} takes no value"
                    )
                rendered.append(RenderedButton(type=kind, text=button.text, url=button.url or None))
                continue
            if needs == "payload":
                if value:
                    components.append(self._button("quick_reply", button.index, PayloadParam(payload=value)))
                rendered.append(RenderedButton(type=kind, text=button.text, value=value or None))
                continue
            if not value:
                if not preview:
                    what = "the end of its link" if button.type == "URL" else "a code"
                    raise _refuse(
                        f"the button {button.text or button.index + 1} of template {template.name} needs {what}"
                    )
                value = "{{" + ("1" if needs == "url" else "code") + "}}"
            elif needs == "url" and (any(ch.isspace() for ch in value) or len(value) > MAX_URL_SUFFIX):
                raise _refuse(f"the end of the link of the button {button.text} cannot contain spaces")
            elif needs == "coupon_code" and len(value) > MAX_COUPON_CODE:
                raise _refuse(f"a coupon code has at most {MAX_COUPON_CODE} characters")
            if needs == "url":
                components.append(self._button("url", button.index, TextParam(text=value)))
                url = _fill(button.url, dict.fromkeys(variables(button.url), value)) if button.url else None
                rendered.append(RenderedButton(type=kind, text=button.text, url=url, value=value))
            else:
                components.append(self._button("copy_code", button.index, CouponCodeParam(coupon_code=value)))
                rendered.append(RenderedButton(type=kind, text=button.text, value=value))
        return rendered

    @staticmethod
    def _button(sub_type: str, index: int, parameter: TemplateParameter) -> TemplateComponent:
        return TemplateComponent(type="button", sub_type=sub_type, index=index, parameters=[parameter])


message_template = MessageTemplateService()


async def upsert_from_provider(session: AsyncSession, inbox: Inbox, items: list[dict[str, Any]]) -> int:
    """Mirror the provider's template list into the inbox (create, update; missing ones are marked DELETED)."""
    existing = {
        (t.name, t.language): t
        for t in (
            await session.execute(
                scoped(select(MessageTemplate), MessageTemplate, inbox.account_id).where(
                    MessageTemplate.inbox_id == inbox.id
                )
            )
        ).scalars()
    }
    seen: set[tuple[str, str]] = set()
    for item in items:
        name, language = str(item.get("name") or ""), str(item.get("language") or "")
        if not name or not language:
            continue
        key = (name, language)
        seen.add(key)
        template = existing.get(key)
        if template is None:
            template = MessageTemplate(account_id=inbox.account_id, inbox_id=inbox.id, name=name, language=language)
            session.add(template)
        template.provider_template_id = str(item.get("id") or template.provider_template_id or "") or None
        template.status = str(item.get("status") or template.status).upper()
        template.category = str(item.get("category") or template.category).upper()
        template.parameter_format = str(item.get("parameter_format") or "POSITIONAL").upper()
        components = item.get("components")
        if isinstance(components, list):
            template.components = components
        quality = item.get("quality_score")
        if isinstance(quality, dict):
            template.quality = str(quality.get("score") or "") or None
        elif isinstance(quality, str):
            template.quality = quality
        rejected = item.get("rejected_reason")
        template.rejected_reason = str(rejected) if rejected and rejected != "NONE" else None
    for key, template in existing.items():
        if key not in seen and template.status != "DELETED":
            template.status = "DELETED"
    await session.flush()
    return len(seen)
