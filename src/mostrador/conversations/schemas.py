from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from mostrador.models import ConversationStatus, Priority


class View(StrEnum):
    mine = "mine"
    unassigned = "unassigned"
    all = "all"


class ConversationFilters(BaseModel):
    status: ConversationStatus | None = None
    inbox_id: int | None = None
    view: View = View.all
    assignee_id: int | None = None
    team_id: int | None = None
    label_id: int | None = None
    contact_id: int | None = None
    q: str | None = Field(default=None, max_length=200)


class ContactSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    phone_e164: str | None
    display_name: str


class LabelSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    color: str


class ConversationRead(BaseModel):
    id: int
    display_id: int
    inbox_id: int
    contact: ContactSummary
    status: ConversationStatus
    priority: Priority
    assignee_id: int | None
    team_id: int | None
    labels: list[LabelSummary]
    unread_count: int
    last_message_preview: str
    last_activity_at: datetime
    window_expires_at: datetime | None
    window_open: bool
    snoozed_until: datetime | None
    created_at: datetime


class ConversationPage(BaseModel):
    items: list[ConversationRead]
    next_cursor: str | None


class ConversationUpdate(BaseModel):
    """Only the fields present change. ``assignee_id: null`` unassigns."""

    status: ConversationStatus | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    priority: Priority | None = None
    labels: list[str] | None = Field(default=None, description="Label names; replaces the conversation's labels")
    snoozed_until: datetime | None = None
