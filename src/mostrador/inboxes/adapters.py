"""From an inbox row to its channel adapter: the registry of channel kinds and what each can do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mostrador.channels.base import ChannelCapabilities, ChannelKind, ChannelPermanentError, OutboundBody, RawBody
from mostrador.channels.whatsapp.adapter import WHATSAPP_CAPABILITIES, WhatsAppAdapter, WhatsAppConfig
from mostrador.channels.whatsapp.payloads import render_body
from mostrador.exceptions import BadRequest, Unprocessable
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.models import Inbox
from mostrador.runtime import Runtime

CAPABILITIES: dict[ChannelKind, ChannelCapabilities] = {ChannelKind.WHATSAPP: WHATSAPP_CAPABILITIES}


def capabilities_for(kind: ChannelKind) -> ChannelCapabilities:
    try:
        return CAPABILITIES[kind]
    except KeyError:
        raise BadRequest(f"channel {kind.value} is not supported yet", code="channel_unsupported") from None


def whatsapp_config(runtime: Runtime, inbox: Inbox) -> WhatsAppConfig:
    config = inbox_service.config(inbox, secret_key=runtime.settings.resolved_secret_key)
    config.setdefault("graph_url", runtime.settings.wa_graph_url)
    config.setdefault("api_version", runtime.settings.wa_api_version)
    return WhatsAppConfig.model_validate(config)


@asynccontextmanager
async def open_adapter(runtime: Runtime, inbox: Inbox) -> AsyncIterator[WhatsAppAdapter]:
    """An adapter with its own HTTP client, closed when the block ends."""
    if inbox.channel_kind is not ChannelKind.WHATSAPP:
        raise BadRequest(f"channel {inbox.channel_kind.value} is not supported yet", code="channel_unsupported")
    adapter = WhatsAppAdapter(
        whatsapp_config(runtime, inbox),
        app_secret=runtime.settings.wa_app_secret,
        transport=runtime.graph_transport,
    )
    try:
        yield adapter
    finally:
        await adapter.aclose()


def render_outbound(inbox: Inbox, body: OutboundBody) -> dict[str, Any]:
    """The provider payload for ``body``, validated now so bad input fails before anything is queued."""
    if inbox.channel_kind is not ChannelKind.WHATSAPP:
        raise BadRequest(f"channel {inbox.channel_kind.value} is not supported yet", code="channel_unsupported")
    try:
        kind, payload = render_body(body)
    except ChannelPermanentError as error:
        raise Unprocessable(error.human_reason("en"), code="invalid_message") from None
    return {"type": kind, "payload": payload}


def stored_outbound(content: dict[str, Any]) -> RawBody:
    provider = content.get("provider_payload")
    if not isinstance(provider, dict) or "type" not in provider:
        raise ValueError("message has no provider payload to send")
    return RawBody(type=str(provider["type"]), payload=provider.get("payload"))
