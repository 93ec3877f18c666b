from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class TeamCreate(BaseModel):
    name: TeamName
    description: Description = ""


class TeamUpdate(BaseModel):
    name: TeamName | None = None
    description: Description | None = None


class TeamMemberAdd(BaseModel):
    user_id: int


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    member_ids: list[int] = []
