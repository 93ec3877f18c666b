"""WhatsApp Business Platform (Cloud API) channel."""

from mostrador.channels.whatsapp.adapter import WhatsAppAdapter, WhatsAppConfig
from mostrador.channels.whatsapp.capabilities import WHATSAPP_CAPABILITIES
from mostrador.channels.whatsapp.client import GraphClient, MediaInfo
from mostrador.channels.whatsapp.errors import map_error
from mostrador.channels.whatsapp.parse import parse_webhook, parse_webhook_body
from mostrador.channels.whatsapp.signature import sign, verify_signature, verify_subscription

__all__ = [
    "WHATSAPP_CAPABILITIES",
    "GraphClient",
    "MediaInfo",
    "WhatsAppAdapter",
    "WhatsAppConfig",
    "map_error",
    "parse_webhook",
    "parse_webhook_body",
    "sign",
    "verify_signature",
    "verify_subscription",
]
