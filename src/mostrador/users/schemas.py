from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from mostrador.models import Availability, Role


class UserCreate(BaseModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=200)
    role: Role = Role.agent


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    availability: Availability
    is_active: bool
