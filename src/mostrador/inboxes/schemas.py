from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mostrador.models import ChannelKind


class WhatsAppInboxCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone_number_id: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z_.-]+$")
    waba_id: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z_.-]+$")
    access_token: str = Field(min_length=1, max_length=2000)
    display_phone_number: str = Field(default="", max_length=32)
    graph_url: str | None = Field(default=None, pattern=r"^https?://")
    api_version: str | None = Field(default=None, pattern=r"^v\d+\.\d+$")


class InboxUpdate(BaseModel):
    """Settings of a connected inbox; fields left out keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    auto_assign: bool | None = None
    # Meta's limit for this number (80 by default, 1,000 after an upgrade, 20 for coexistence numbers).
    throughput_mps: float | None = Field(default=None, ge=1, le=1000)


class InboxRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    channel_kind: ChannelKind
    channel_key: str
    display_phone_number: str
    auto_assign: bool
    throughput_mps: float | None
    quality_rating: str | None
