from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from mostrador.kit.ids import Id

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class TeamCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Ventas", "description": "Pedidos y presupuestos"}]}
    )

    name: TeamName
    description: Description = ""


class TeamUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Ventas online"}]})

    name: TeamName | None = None
    description: Description | None = None


class TeamMemberAdd(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user_id": 7}]})

    user_id: Id


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    member_ids: list[int] = []
