from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from mostrador.kit.ids import Id
from mostrador.kit.time import UtcDatetime
from mostrador.models import ConversationStatus, Priority


class View(StrEnum):
    mine = "mine"
    unassigned = "unassigned"
    all = "all"


class ConversationFilters(BaseModel):
    status: ConversationStatus | None = None
    inbox_id: Id | None = None
    view: View = View.all
    assignee_id: Id | None = None
    team_id: Id | None = None
    label_id: Id | None = None
    contact_id: Id | None = None
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


# Fields a conversation always has a value for: null would silently change nothing, so it is refused.
NOT_NULL_HINTS = {
    "status": "send one of open, pending, snoozed or resolved, or leave it out",
    "priority": 'send "none" to clear it, or leave it out',
    "labels": "send [] to remove every label, or leave it out",
}


class ConversationUpdate(BaseModel):
    """Only the fields present change. ``assignee_id: null`` unassigns, ``team_id: null`` clears the team;
    ``status``, ``priority`` and ``labels`` cannot be null. ``snoozed_until`` goes with ``"status": "snoozed"``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"assignee_id": 7},
                {"status": "resolved"},
                {"status": "snoozed", "snoozed_until": "2030-03-01T09:30:00+01:00"},
                {"labels": ["vip", "devolución"], "priority": "high"},
            ]
        }
    )

    status: ConversationStatus | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    priority: Priority | None = None
    labels: list[str] | None = Field(default=None, description="Label names; replaces the conversation's labels")
    snoozed_until: UtcDatetime | None = Field(
        default=None, description="With status snoozed; needs a time zone", examples=["2030-03-01T09:30:00+01:00"]
    )

    @model_validator(mode="after")
    def _refuse_changes_that_change_nothing(self) -> Self:
        present = self.model_fields_set
        for name, hint in NOT_NULL_HINTS.items():
            if name in present and getattr(self, name) is None:
                raise PydanticCustomError(
                    "null_not_allowed", "{field} cannot be null: {hint}", {"field": name, "hint": hint}
                )
        clears_with_status = self.snoozed_until is None and "status" in present
        if "snoozed_until" in present and self.status is not ConversationStatus.snoozed and not clears_with_status:
            raise PydanticCustomError(
                "snooze_without_status",
                'snoozed_until goes with "status": "snoozed" (send both to snooze or to change the snooze time)',
            )
        return self
