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


class AgentRead(BaseModel):
    """A colleague as the inbox shows them: enough to assign a conversation (no e-mail)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    availability: Availability
    is_active: bool


class UserUpdate(BaseModel):
    """Admin changes to an agent; None keeps the value."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    max_open_conversations: int | None = Field(default=None, ge=0, le=1000)
