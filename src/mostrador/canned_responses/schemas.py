from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Typed after '/' in the composer: letters, digits, '-' and '_'; stored lower-case.
ShortCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_-]+$"),
]
Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class CannedResponseCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"short_code": "horario", "content": "Abrimos de lunes a sábado de 10:00 a 20:00."}]
        }
    )

    short_code: ShortCode
    content: Content


class CannedResponseUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"content": "Abrimos de lunes a domingo de 10:00 a 21:00."}]}
    )

    short_code: ShortCode | None = None
    content: Content | None = None


class CannedResponseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    short_code: str
    content: str
