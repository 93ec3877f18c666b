from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    phone_e164: str | None
    wa_id: str | None
    bsuid: str | None
    email: str | None
    language: str | None
    custom_attributes: dict[str, Any]
    marketing_opt_out_at: datetime | None
    created_at: datetime


class ContactCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+34 612 345 678", "name": "Marta Ruiz", "language": "es"}]}
    )

    phone: str = Field(min_length=3, max_length=40, examples=["+34 612 345 678"])
    name: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, pattern=r"^(es|en|pt)$")


class ContactUpdate(BaseModel):
    """Only the fields present change. ``"language": null`` clears the language (back to "not set"), and so do
    ``null`` for ``name`` and ``email``; an attribute set to ``null`` is removed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"language": None}, {"name": "Marta Ruiz", "custom_attributes": {"pedido": "A-17"}}]
        }
    )

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, pattern=r"^(es|en|pt)$")
    custom_attributes: dict[str, str | int | float | bool | None] | None = None
