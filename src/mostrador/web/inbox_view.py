"""View models shared by the inbox pages: list filters from the query string, the list page, the open
conversation with its thread, composer and contact panel. Routes stay thin; every read goes through services."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.channels.base import ChannelCapabilities, MediaKind
from mostrador.conversations.schemas import ConversationFilters, ConversationPage, ConversationRead, View
from mostrador.conversations.service import conversation as conversation_service
from mostrador.inboxes.adapters import capabilities_for
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.kit.time import as_utc, utc_now
from mostrador.message_templates.service import ButtonSpec, TemplateSpec, template_spec
from mostrador.message_templates.service import message_template as template_service
from mostrador.messages.thread import ThreadPage
from mostrador.messages.thread import thread as thread_service
from mostrador.models import Account, Contact, Conversation, ConversationStatus, Inbox, MessageTemplate, User
from mostrador.users.service import user as user_service
from mostrador.web import i18n
from mostrador.web.templating import env

LIST_PAGE_SIZE = 25
VIEWS = ("mine", "unassigned", "all")
STATUSES = tuple(s.value for s in ConversationStatus)


def _as_id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 and int(value) > 0 else None


@dataclass(frozen=True)
class ListFilters:
    """The list's query string: /?view=mine|unassigned|all&status=&inbox=&label=&team=&q="""

    view: str = "mine"
    inbox_id: int | None = None
    status: ConversationStatus = ConversationStatus.open
    label_id: int | None = None
    team_id: int | None = None
    q: str = ""

    @classmethod
    def from_request(cls, request: Request) -> ListFilters:
        params = request.query_params
        view = params.get("view", "mine")
        status = params.get("status", "open")
        return cls(
            view=view if view in VIEWS else "mine",
            inbox_id=_as_id(params.get("inbox")),
            status=ConversationStatus(status) if status in STATUSES else ConversationStatus.open,
            label_id=_as_id(params.get("label")),
            team_id=_as_id(params.get("team")),
            q=" ".join(params.get("q", "").split())[:200],
        )

    def to_conversation_filters(self) -> ConversationFilters:
        return ConversationFilters(
            status=self.status,
            inbox_id=self.inbox_id,
            view=View(self.view),
            team_id=self.team_id,
            label_id=self.label_id,
            q=self.q or None,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        values: dict[str, Any] = {
            "view": self.view,
            "status": self.status.value,
            "inbox": self.inbox_id,
            "label": self.label_id,
            "team": self.team_id,
            "q": self.q,
        }
        values.update(changes)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}

    def query(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def with_cursor(self, cursor: str) -> str:
        return self.query(cursor=cursor)

    def matches(self, item: ConversationRead, user_id: int) -> bool:
        """Whether a conversation belongs in this list (the full-text part is checked by the caller's list)."""
        if item.status is not self.status:
            return False
        if self.inbox_id is not None and item.inbox_id != self.inbox_id:
            return False
        if self.view == "mine" and item.assignee_id != user_id:
            return False
        if self.view == "unassigned" and item.assignee_id is not None:
            return False
        if self.team_id is not None and item.team_id != self.team_id:
            return False
        return self.label_id is None or any(label.id == self.label_id for label in item.labels)


# ---------------------------------------------------------------------------------------------------------------
# formatting helpers for the templates


def window_left(expires_at: datetime | None, now: datetime | None = None) -> str:
    """'13 h', '45 min' or 'cerrada': what is left of the customer-service window."""
    if expires_at is None:
        return i18n.gettext("closed")
    remaining = as_utc(expires_at) - (now or utc_now())
    if remaining <= timedelta(0):
        return i18n.gettext("closed")
    if remaining >= timedelta(hours=1):
        return i18n.gettext("%(hours)s h") % {"hours": int(remaining.total_seconds() // 3600)}
    return i18n.gettext("%(minutes)s min") % {"minutes": max(1, int(remaining.total_seconds() // 60))}


def human_size(size: int | None) -> str:
    if not size:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _snippet(value: str | None, length: int = 90) -> str:
    text = " ".join((value or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _epoch(value: datetime | None) -> str:
    return str(int(as_utc(value).timestamp() * 1000)) if value else "0"


def _number(value: Any) -> str:
    try:
        return f"{float(value):.6f}".rstrip("0").rstrip(".")
    except (TypeError, ValueError):
        return ""


env.filters["window_left"] = window_left
env.filters["human_size"] = human_size
env.filters["snippet"] = _snippet
env.filters["epoch"] = _epoch
env.filters["coord"] = _number


# ---------------------------------------------------------------------------------------------------------------
# the list


@dataclass
class ListView:
    filters: ListFilters
    page: ConversationPage
    agent_names: dict[int, str]
    inbox_names: dict[int, str]


async def agent_names(session: AsyncSession, account_id: int) -> dict[int, str]:
    return {agent.id: agent.name for agent in await user_service.list(session, account_id)}


async def list_view(
    session: AsyncSession, user: User, filters: ListFilters, inboxes: list[Inbox], *, cursor: str | None = None
) -> ListView:
    page = await conversation_service.page(
        session, user, filters.to_conversation_filters(), cursor=cursor, limit=LIST_PAGE_SIZE
    )
    return ListView(
        filters=filters,
        page=page,
        agent_names=await agent_names(session, user.account_id),
        inbox_names={inbox.id: inbox.name for inbox in inboxes},
    )


# ---------------------------------------------------------------------------------------------------------------
# the open conversation


@dataclass
class TemplateChoice:
    """A template in the picker: what to ask the agent for (variables, header file, button values)."""

    template: MessageTemplate
    spec: TemplateSpec
    header_accept: str = ""  # the file types a media header takes (the file input's ``accept``)

    @property
    def named(self) -> bool:
        return self.spec.named

    @property
    def body_variables(self) -> list[str]:
        return self.spec.body_variables

    @property
    def header_variables(self) -> list[str]:
        return self.spec.header_variables

    @property
    def header_media(self) -> MediaKind | None:
        return self.spec.header_media

    @property
    def button_inputs(self) -> list[ButtonSpec]:
        """Buttons the template cannot be sent without: a dynamic link's end, a code."""
        return [b for b in self.spec.buttons if b.parameter in ("url", "coupon_code")]

    @property
    def quick_replies(self) -> list[ButtonSpec]:
        return [b for b in self.spec.buttons if b.parameter == "payload"]

    @property
    def has_inputs(self) -> bool:
        return bool(self.body_variables or self.header_variables or self.header_media or self.button_inputs)


def accept_attribute(capabilities: ChannelCapabilities, kinds: Collection[MediaKind] | None = None) -> str:
    """The mime types a file input offers: what the channel takes (the server still checks every byte)."""
    types = sorted(
        {
            mime
            for kind, rule in capabilities.media_types.items()
            if kinds is None or kind in kinds
            for mime in rule.mime_types
        }
    )
    return ",".join(types)


def template_choice(template: MessageTemplate, capabilities: ChannelCapabilities) -> TemplateChoice:
    spec = template_spec(template)
    header = spec.header_media
    accept = accept_attribute(capabilities, [header]) if header is not None else ""
    return TemplateChoice(template=template, spec=spec, header_accept=accept)


@dataclass
class ConversationView:
    conversation: Conversation
    read: ConversationRead
    contact: Contact
    inbox: Inbox
    thread: ThreadPage
    agents: list[User]
    templates: list[MessageTemplate]
    past: ConversationPage
    supports_templates: bool
    max_text_length: int
    capabilities: ChannelCapabilities

    @property
    def window_open(self) -> bool:
        return self.read.window_open

    @property
    def media_accept(self) -> str:
        return accept_attribute(self.capabilities)

    @property
    def media_max_bytes(self) -> int:
        return max((rule.max_bytes for rule in self.capabilities.media_types.values()), default=0)

    @property
    def assignee_name(self) -> str | None:
        for agent in self.agents:
            if agent.id == self.read.assignee_id:
                return agent.name
        return None


async def conversation_view(
    session: AsyncSession,
    user: User,
    account: Account,
    conversation_id: int,
    *,
    locale: str,
    mark_read: bool = True,
    with_thread: bool = True,
) -> ConversationView:
    conversation = await conversation_service.get(session, account.id, conversation_id)
    if mark_read:
        await conversation_service.mark_read(session, conversation)
    read = await conversation_service.read_one(session, conversation)
    inbox = await inbox_service.get(session, account.id, conversation.inbox_id)
    capabilities = capabilities_for(inbox.channel_kind)
    thread = (
        await thread_service.page(session, conversation, locale=locale)
        if with_thread
        else ThreadPage(items=[], has_older=False, oldest_id=None)
    )
    templates = (
        await template_service.list_for_inbox(session, inbox, sendable_only=True)
        if capabilities.supports_templates
        else []
    )
    past = await conversation_service.page(
        session,
        user,
        ConversationFilters(view=View.all, contact_id=conversation.contact_id),
        cursor=None,
        limit=20,
    )
    return ConversationView(
        conversation=conversation,
        read=read,
        contact=conversation.contact,
        inbox=inbox,
        thread=thread,
        agents=[agent for agent in await user_service.list(session, account.id) if agent.is_active],
        templates=templates,
        past=past,
        supports_templates=capabilities.supports_templates,
        max_text_length=capabilities.max_text_length,
        capabilities=capabilities,
    )


def local_datetime(value: str, timezone: str) -> datetime | None:
    """A datetime-local value ('2025-03-12T18:40') read in the account's time zone."""
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(i18n.DEFAULT_TIMEZONE)
    return naive.replace(tzinfo=zone) if naive.tzinfo is None else naive


def default_snooze(timezone: str) -> str:
    """Tomorrow 09:00 in the account's time zone, for the datetime-local input."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(i18n.DEFAULT_TIMEZONE)
    tomorrow = (utc_now().astimezone(zone) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    return tomorrow.strftime("%Y-%m-%dT%H:%M")


__all__ = [
    "ConversationView",
    "ListFilters",
    "ListView",
    "TemplateChoice",
    "conversation_view",
    "default_snooze",
    "list_view",
    "local_datetime",
    "template_choice",
    "window_left",
]
