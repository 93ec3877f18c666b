"""WhatsApp message templates: the local copy of Meta's list, parameter checks and the rendered preview."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import TemplateBody, TemplateComponent, TextParam
from mostrador.exceptions import NotFound, Unprocessable
from mostrador.kit.tenancy import scoped
from mostrador.messages.schemas import TemplateParameters
from mostrador.models import Inbox, MessageTemplate

VARIABLE = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
SENDABLE = frozenset({"APPROVED"})


@dataclass(frozen=True)
class RenderedTemplate:
    template: MessageTemplate
    body: TemplateBody
    text: str


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

    async def render(self, session: AsyncSession, inbox: Inbox, params: TemplateParameters) -> RenderedTemplate:
        template = await self.find(session, inbox, params.name, params.language)
        if template.status not in SENDABLE:
            raise Unprocessable(
                f"template {template.name} is {template.status}; only approved templates can be sent",
                code="template_not_approved",
            )
        body_component = _component(template, "BODY") or {"text": ""}
        body_text = str(body_component.get("text", ""))
        names = variables(body_text)
        components: list[TemplateComponent] = []
        named = template.parameter_format.upper() == "NAMED"
        if isinstance(params.body, dict):
            if not named:
                raise Unprocessable("this template takes positional variables (a list)", code="template_params")
            missing = [name for name in names if name not in params.body]
            if missing or len(params.body) != len(names):
                raise Unprocessable(
                    f"template {template.name} needs the variables {', '.join(names) or 'none'}",
                    code="template_params",
                )
            values = dict(params.body)
            body_params = [TextParam(text=values[name], parameter_name=name) for name in names]
        else:
            if named and names:
                raise Unprocessable("this template takes named variables (an object)", code="template_params")
            if len(params.body) != len(names):
                raise Unprocessable(
                    f"template {template.name} needs {len(names)} body variables, got {len(params.body)}",
                    code="template_params",
                )
            values = dict(zip(names, params.body, strict=True))
            body_params = [TextParam(text=value) for value in params.body]
        if any(not value.strip() for value in values.values()):
            raise Unprocessable("template variables cannot be empty", code="template_params")
        if body_params:
            components.append(TemplateComponent(type="body", parameters=body_params))
        header = _component(template, "HEADER")
        header_text = ""
        if header and str(header.get("format", "TEXT")).upper() == "TEXT":
            header_text = str(header.get("text", ""))
            header_vars = variables(header_text)
            if len(params.header) != len(header_vars):
                raise Unprocessable(
                    f"the header needs {len(header_vars)} variables, got {len(params.header)}", code="template_params"
                )
            if header_vars:
                components.insert(0, TemplateComponent(type="header", parameters=[TextParam(t) for t in params.header]))
                for name, value in zip(header_vars, params.header, strict=True):
                    header_text = header_text.replace("{{" + name + "}}", value)
        text = VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), body_text)
        if header_text:
            text = f"*{header_text}*\n{text}"
        footer = _component(template, "FOOTER")
        if footer and footer.get("text"):
            text = f"{text}\n_{footer['text']}_"
        body = TemplateBody(name=template.name, language=template.language, components=components)
        return RenderedTemplate(template=template, body=body, text=text)


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
