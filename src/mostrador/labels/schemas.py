from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

LabelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Color = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$")]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]

DEFAULT_COLOR = "#6b7280"


class LabelCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "vip", "color": "#d97706", "description": "Clientes frecuentes"}]}
    )

    name: LabelName
    color: Color = DEFAULT_COLOR
    description: Description = ""


class LabelUpdate(BaseModel):
    """Fields left out (None) keep their value."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"color": "#16a34a"}]})

    name: LabelName | None = None
    color: Color | None = None
    description: Description | None = Field(default=None)


class LabelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    color: str
    description: str
