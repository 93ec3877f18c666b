from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from mostrador.messages.errors import human_reason
from mostrador.models import Direction, MessageStatus, SenderKind


class TemplateParameters(BaseModel):
    """What an agent fills in: body/header variables, positional (``["Ana", "12:00"]``) or named."""

    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$", examples=["pedido_listo"])
    language: str = Field(min_length=2, max_length=20, examples=["es"])
    body: list[str] | dict[str, str] = Field(default_factory=list)
    header: list[str] = Field(default_factory=list)
    buttons: list[str] = Field(default_factory=list, description="Quick-reply payloads or URL suffixes, in order")


class TextMessageIn(BaseModel):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=4096)
    reply_to_message_id: int | None = None
    preview_url: bool = False


class NoteIn(BaseModel):
    type: Literal["note"]
    text: str = Field(min_length=1, max_length=20000)


class TemplateMessageIn(BaseModel):
    type: Literal["template"]
    template: TemplateParameters


MessageIn = Annotated[TextMessageIn | NoteIn | TemplateMessageIn, Field(discriminator="type")]


class StartConversationIn(BaseModel):
    inbox_id: int
    to: str = Field(min_length=3, max_length=40, examples=["+5215512345678"])
    template: TemplateParameters
    name: str = Field(default="", max_length=200)


class MessageError(BaseModel):
    code: int | None
    title: str | None
    detail: str | None
    reason: str


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    direction: Direction
    sender_kind: SenderKind
    sender_user_id: int | None
    type: str
    text: str
    content: dict[str, Any]
    is_private: bool
    status: MessageStatus
    provider_message_id: str | None
    reply_to_id: int | None
    error_code: int | None = Field(exclude=True)
    error_title: str | None = Field(exclude=True)
    error_detail: str | None = Field(exclude=True)
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def error(self) -> MessageError | None:
        if self.error_code is None and self.error_title is None:
            return None
        return MessageError(
            code=self.error_code,
            title=self.error_title,
            detail=self.error_detail,
            reason=human_reason(self.error_code, self.error_title, self.error_detail, "es"),
        )
