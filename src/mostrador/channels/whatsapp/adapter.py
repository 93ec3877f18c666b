"""``WhatsAppAdapter``: the ``ChannelAdapter`` for one Cloud API business phone number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from mostrador.channels.base import (
    ChannelCapabilities,
    ChannelKind,
    InboundEvent,
    MediaBlob,
    OutboundMessage,
    SendResult,
)
from mostrador.channels.whatsapp.capabilities import WHATSAPP_CAPABILITIES
from mostrador.channels.whatsapp.client import (
    DEFAULT_API_VERSION,
    DEFAULT_AUTH_HEADER,
    DEFAULT_AUTH_SCHEME,
    DEFAULT_GRAPH_URL,
    GraphClient,
    check_auth_header,
    check_auth_scheme,
)
from mostrador.channels.whatsapp.parse import parse_webhook_body
from mostrador.channels.whatsapp.signature import verify_signature_headers, verify_subscription

__all__ = ["WHATSAPP_CAPABILITIES", "WhatsAppAdapter", "WhatsAppConfig"]


class WhatsAppConfig(BaseModel):
    """Per-number configuration (stored encrypted; validated with this schema).

    ``graph_url``, ``api_version`` ("" = no version segment in the path), ``auth_header`` and ``auth_scheme``
    ("" = the header value is the raw token) point the number at Meta, a BSP proxy or the simulator. The
    defaults send ``Authorization: Bearer <token>`` to ``https://graph.facebook.com/v26.0/...``; configs
    stored before these fields existed load with them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    phone_number_id: str = Field(min_length=1)
    waba_id: str = Field(min_length=1)
    access_token: SecretStr
    graph_url: str = DEFAULT_GRAPH_URL
    api_version: str = DEFAULT_API_VERSION
    auth_header: str = DEFAULT_AUTH_HEADER  # e.g. "D360-API-KEY", "X-API-Key"
    auth_scheme: str = DEFAULT_AUTH_SCHEME  # e.g. "Basic"; "" sends the raw token
    # The adapter's own verify_request/verify_subscription use these when set. POST /webhooks/whatsapp does not:
    # it checks the signature before it knows the number (routing needs the parsed body), with the app-wide
    # MOSTRADOR_WA_APP_SECRET, so every number of one Meta app shares its secret.
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("graph_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("graph_url must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""  # no version segment: the proxy pins the version itself
        core = value[1:] if value.startswith("v") else value
        major, _, minor = core.partition(".")
        if not major.isdigit() or (minor and not minor.isdigit()):
            raise ValueError("api_version looks like v26.0 (or empty for no version segment in the path)")
        return f"v{major}.{minor or '0'}"

    @field_validator("auth_header")
    @classmethod
    def _auth_header(cls, value: str) -> str:
        return check_auth_header(value)

    @field_validator("auth_scheme")
    @classmethod
    def _auth_scheme(cls, value: str) -> str:
        return check_auth_scheme(value)


class WhatsAppAdapter:
    """Implements ``mostrador.channels.base.ChannelAdapter``.

    ``app_secret`` is the Meta app secret used for ``X-Hub-Signature-256``; ``config.app_secret``
    wins when set. ``http``/``transport`` are passed to :class:`GraphClient` (tests, simulator).
    """

    config_schema: type[BaseModel] = WhatsAppConfig

    def __init__(
        self,
        config: WhatsAppConfig,
        *,
        app_secret: str | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        secret = config.app_secret.get_secret_value() if config.app_secret else app_secret
        self._app_secret = secret or ""
        self.client = GraphClient(
            base_url=config.graph_url,
            api_version=config.api_version,
            access_token=config.access_token.get_secret_value(),
            http=http,
            transport=transport,
            timeout=config.timeout_seconds,
            phone_number_id=config.phone_number_id,
            auth_header=config.auth_header,
            auth_scheme=config.auth_scheme,
        )

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.WHATSAPP

    @property
    def capabilities(self) -> ChannelCapabilities:
        return WHATSAPP_CAPABILITIES

    async def aclose(self) -> None:
        await self.client.aclose()

    # inbound ------------------------------------------------------------------------------------

    def verify_request(self, headers: Mapping[str, str], body: bytes) -> None:
        # A missing header is reported first; with no secret configured nothing ever verifies.
        verify_signature_headers(headers, body, self._app_secret)

    def verify_subscription(self, params: Mapping[str, str]) -> str:
        """GET handshake: ``hub.mode``/``hub.verify_token``/``hub.challenge`` → challenge or 403 error."""
        expected = self.config.verify_token.get_secret_value() if self.config.verify_token else ""
        return verify_subscription(
            params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge"), expected
        )

    def parse_webhook(self, body: bytes) -> list[InboundEvent]:
        return parse_webhook_body(body)

    # outbound -----------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        return await self.client.send_body(
            message.to,
            message.body,
            reply_to=message.reply_to,
            biz_opaque_callback_data=message.biz_opaque_callback_data,
        )

    async def fetch_media(self, media_id: str, *, max_bytes: int | None = None) -> MediaBlob:
        return await self.client.fetch_media(media_id, max_bytes=max_bytes)

    async def upload_media(self, content: bytes, mime_type: str, filename: str) -> str:
        return await self.client.upload_media(content, mime_type, filename)

    async def sync_templates(self) -> list[dict[str, Any]]:
        """The business account's templates as the provider reports them (name, language, status, components)."""
        return await self.client.list_templates(self.config.waba_id)

    async def mark_read(self, provider_message_id: str, typing: bool = False) -> None:
        await self.client.mark_as_read(provider_message_id, typing_indicator=typing)
