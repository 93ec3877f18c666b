"""From an inbox row to its channel adapter: the registry of channel kinds and what each can do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
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


# Stands in for the provider's media id in a stored payload until delivery has uploaded the message's file
# (a media message, or a template whose header file the agent uploaded). Rendering with it validates the payload
# when the message is queued; delivery swaps in the real id.
PENDING_MEDIA_ID = "mostrador:pending-upload"


def _swap_id(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: new if k == "id" and v == old else _swap_id(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_id(item, old, new) for item in value]
    return value


def _has_pending(value: Any) -> bool:
    if isinstance(value, dict):
        return any((k == "id" and v == PENDING_MEDIA_ID) or _has_pending(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_pending(item) for item in value)
    return False


def awaits_upload(content: dict[str, Any]) -> bool:
    """Whether the stored payload still needs the id of an uploaded file."""
    return _has_pending(content.get("provider_payload"))


def with_media_id(content: dict[str, Any], media_id: str, uploaded_at: datetime) -> dict[str, Any]:
    """The message content with the uploaded file's provider id in its payload (and when it was uploaded: the
    provider forgets uploaded files, Meta after 30 days)."""
    return {
        **content,
        "provider_payload": _swap_id(content.get("provider_payload"), PENDING_MEDIA_ID, media_id),
        "uploaded_media": {"id": media_id, "at": uploaded_at.isoformat()},
    }


def uploaded_media(content: dict[str, Any]) -> tuple[str, datetime] | None:
    """The provider id of the message's uploaded file and when it was uploaded (an unreadable time reads as
    long ago: better to upload again than to send an id that may be gone)."""
    uploaded = content.get("uploaded_media")
    if not isinstance(uploaded, dict) or not isinstance(uploaded.get("id"), str):
        return None
    try:
        at = datetime.fromisoformat(str(uploaded.get("at")))
    except ValueError:
        at = datetime.min.replace(tzinfo=UTC)
    return str(uploaded["id"]), at


def without_media_id(content: dict[str, Any], media_id: str) -> dict[str, Any]:
    """The message content waiting for a new upload of its file (the old ``media_id`` expired)."""
    rest = {key: value for key, value in content.items() if key != "uploaded_media"}
    return {**rest, "provider_payload": _swap_id(content.get("provider_payload"), media_id, PENDING_MEDIA_ID)}


def stored_outbound(content: dict[str, Any]) -> RawBody:
    provider = content.get("provider_payload")
    if not isinstance(provider, dict) or "type" not in provider:
        raise ValueError("message has no provider payload to send")
    if _has_pending(provider):
        raise ValueError("message file has not been uploaded yet")
    return RawBody(type=str(provider["type"]), payload=provider.get("payload"))
