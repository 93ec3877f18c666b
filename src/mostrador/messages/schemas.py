from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from mostrador.kit.ids import Id
from mostrador.messages.errors import human_reason
from mostrador.models import Direction, MessageStatus, SenderKind


class TemplateHeaderMedia(BaseModel):
    """The file of an image, video or document header: a public link, or the id of a file already uploaded."""

    type: Literal["image", "video", "document"] | None = Field(
        default=None, description="Must match the template's header format when given"
    )
    link: str | None = Field(
        default=None, max_length=2000, pattern=r"^https?://\S+$", examples=["https://example.com/pedido.jpg"]
    )
    media_id: str | None = Field(default=None, min_length=1, max_length=200)
    filename: str | None = Field(default=None, min_length=1, max_length=240, description="Documents only")

    @model_validator(mode="after")
    def _one_source(self) -> TemplateHeaderMedia:
        if (self.link is None) == (self.media_id is None):
            raise ValueError("give exactly one of link or media_id")
        return self


class TemplateParameters(BaseModel):
    """What an agent fills in. Variables are positional (``["Ana", "12:00"]`` for ``{{1}}``, ``{{2}}``) or named
    (``{"name": "Ana"}``), as the template's parameter format says; the same goes for a text header's variable.
    ``buttons`` follows the template's buttons by position: the URL suffix of a dynamic URL button, the code of a
    copy-code button, an optional payload for a quick reply; ``null`` or ``""`` for a button that takes nothing."""

    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$", examples=["pedido_listo"])
    language: str = Field(min_length=2, max_length=20, examples=["es"])
    body: list[str] | dict[str, str] = Field(default_factory=list)
    header: list[str] | dict[str, str] = Field(default_factory=list)
    header_media: TemplateHeaderMedia | None = None
    buttons: list[str | None] = Field(
        default_factory=list, max_length=10, examples=[["CO-10482"]], description="One entry per template button"
    )


class TextMessageIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"type": "text", "text": "¡Hola Ana! Tu pedido sale hoy.", "reply_to_message_id": 1042}]
        }
    )

    type: Literal["text"]
    text: str = Field(min_length=1, max_length=4096)
    reply_to_message_id: Id | None = None
    preview_url: bool = False


class NoteIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "note", "text": "Llamó por teléfono: quiere cambiar la talla."}]}
    )

    type: Literal["note"]
    text: str = Field(min_length=1, max_length=20000)


class TemplateMessageIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"type": "template", "template": {"name": "pedido_listo", "language": "es", "body": ["Ana", "A-17"]}}
            ]
        }
    )

    type: Literal["template"]
    template: TemplateParameters


MessageIn = Annotated[TextMessageIn | NoteIn | TemplateMessageIn, Field(discriminator="type")]


class StartConversationIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"inbox_id": 1, "to": "+5215512345678", "template": {"name": "hello_world", "language": "en_US"}}
            ]
        }
    )

    inbox_id: Id
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
