"""Outbound media tests: sample files (magic bytes only), a scripted Graph API, an open conversation."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx

from factories import World
from mostrador.contacts.service import ChannelIdentity
from mostrador.contacts.service import contact as contact_service
from mostrador.conversations.service import conversation as conversation_service
from mostrador.kit.time import utc_now
from mostrador.runtime import Runtime
from mostrador.simulator.media import tiny_png

PNG = tiny_png()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 32
HTML = b"<!doctype html><script>alert(1)</script>"
ZIP = b"PK\x03\x04" + b"\x00" * 64
# The first Ogg page of an Opus and of a Vorbis stream: only the codec id differs.
OPUS = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13" + b"OpusHead\x01\x01" + b"\x00" * 32
VORBIS = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e" + b"\x01vorbis" + b"\x00" * 32


def webp(size: int, *, animated: bool) -> bytes:
    header = b"RIFF" + (size - 8).to_bytes(4, "little") + b"WEBP" + b"VP8X" + (10).to_bytes(4, "little")
    flags = bytes([0x02 if animated else 0x00])
    return (header + flags).ljust(size, b"\x00")


@dataclass
class Graph:
    """The Graph API for one test: scripted answers for uploads ('ok', 'timeout', or an error code) and sends."""

    uploads_script: list[str] = field(default_factory=list)
    sends_script: list[str] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)
    sends: list[dict[str, object]] = field(default_factory=list)
    during_upload: Callable[[], Awaitable[None]] | None = None

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/media"):
            step = self.uploads_script.pop(0) if self.uploads_script else "ok"
            self.uploads.append(await request.aread())
            if self.during_upload is not None:
                hook, self.during_upload = self.during_upload, None
                await hook()
            if step == "timeout":
                raise httpx.ReadTimeout("upload answer lost", request=request)
            if step != "ok":
                return self._error(int(step))
            return httpx.Response(200, json={"id": f"media-{len(self.uploads)}"})
        step = self.sends_script.pop(0) if self.sends_script else "ok"
        self.sends.append(json.loads(await request.aread()))
        if step != "ok":
            return self._error(int(step))
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": "x", "wa_id": "x"}],
                "messages": [{"id": f"wamid.media{len(self.sends)}"}],
            },
        )

    @staticmethod
    def _error(code: int) -> httpx.Response:
        body = {"error": {"message": f"(#{code}) error", "type": "OAuthException", "code": code}}
        return httpx.Response(400, json=body)


async def open_conversation(runtime: Runtime, world: World, *, window_open: bool = True) -> int:
    async with runtime.unit_of_work() as session:
        contact = await contact_service.resolve_identity(
            session, world.inbox, ChannelIdentity("34600111222", None, "Rosa")
        )
        conversation = await conversation_service.route_inbound(session, world.inbox, contact)
        conversation.window_expires_at = utc_now() + (timedelta(hours=20) if window_open else -timedelta(minutes=5))
        await session.flush()
        return conversation.id
