"""What the WhatsApp Cloud API channel can do (CONTRACT.md §2-3)."""

from __future__ import annotations

from datetime import timedelta

from mostrador.channels.base import ChannelCapabilities, MediaKind, MediaRule

__all__ = ["MB", "WHATSAPP_CAPABILITIES", "media_kind_for_mime"]

MB = 1024 * 1024

WHATSAPP_CAPABILITIES = ChannelCapabilities(
    reply_window=timedelta(hours=24),
    supports_templates=True,
    supports_interactive=True,
    media_types={
        MediaKind.IMAGE: MediaRule(frozenset({"image/jpeg", "image/png"}), 5 * MB),
        MediaKind.VIDEO: MediaRule(frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
        MediaKind.AUDIO: MediaRule(
            frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
            16 * MB,
            codecs=frozenset({("audio/ogg", "opus")}),  # Ogg Vorbis is refused: only Opus plays as audio
        ),
        MediaKind.DOCUMENT: MediaRule(
            frozenset(
                {
                    "text/plain",
                    "application/pdf",
                    "application/msword",
                    "application/vnd.ms-excel",
                    "application/vnd.ms-powerpoint",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                }
            ),
            100 * MB,
        ),
        # 100 KB static / 500 KB animated: max_bytes is the animated cap, still_max_bytes the static one.
        MediaKind.STICKER: MediaRule(frozenset({"image/webp"}), 500 * 1024, still_max_bytes=100 * 1024),
    },
    max_text_length=4096,
    supports_read_receipts=True,
    supports_typing=True,
    caption_kinds=frozenset({MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DOCUMENT}),
    max_caption_length=1024,
    template_header_kinds=frozenset({MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DOCUMENT}),
    uploaded_media_lifetime=timedelta(days=30),  # Cloud API: an uploaded file's id lasts 30 days
)


def media_kind_for_mime(mime_type: str, size: int | None = None) -> MediaKind | None:
    """First media kind that accepts ``mime_type`` (and ``size``), e.g. image/webp → sticker."""
    for kind, rule in WHATSAPP_CAPABILITIES.media_types.items():
        if rule.allows(mime_type, size):
            return kind
    return None
