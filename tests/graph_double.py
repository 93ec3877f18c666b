"""A minimal Graph API double for media downloads and sends in webhook tests (the simulator covers the rest)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

MAGIC = {
    "image/jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 60,
    "image/png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 60,
    "image/webp": b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 50,
    "audio/ogg": b"OggS" + b"\x00" * 60,
    "video/mp4": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 50,
    "application/pdf": b"%PDF-1.4\n" + b"\x00" * 60,
}


@dataclass
class GraphDouble:
    downloads: list[str] = field(default_factory=list)
    sent: list[dict[str, object]] = field(default_factory=list)
    media_mime: dict[str, str] = field(default_factory=dict)
    fail_media_with: int | None = None
    templates: list[dict[str, object]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.headers.get("authorization") != "Bearer test-access-token":
            return httpx.Response(401, json={"error": {"code": 190, "message": "bad token", "type": "OAuthException"}})
        if path.startswith("/download/"):
            media_id = path.rsplit("/", 1)[-1]
            self.downloads.append(media_id)
            mime = self.media_mime.get(media_id, "image/jpeg")
            return httpx.Response(200, content=MAGIC.get(mime, b"plain text"), headers={"content-type": mime})
        if path.endswith("/messages") and request.method == "POST":
            body = json.loads(request.content)
            self.sent.append(body)
            if body.get("status") == "read":
                return httpx.Response(200, json={"success": True})
            return httpx.Response(
                200,
                json={
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                    "messages": [{"id": f"wamid.out{len(self.sent)}"}],
                },
            )
        if path.endswith("/message_templates"):
            return httpx.Response(200, json={"data": self.templates, "paging": {"cursors": {}}})
        media_id = path.rsplit("/", 1)[-1]
        if self.fail_media_with is not None:
            return httpx.Response(
                400, json={"error": {"code": self.fail_media_with, "message": "(#100) bad", "type": "OAuthException"}}
            )
        mime = self.media_mime.get(media_id, "image/jpeg")
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "url": f"http://graph.test/download/{media_id}",
                "mime_type": mime,
                "sha256": "abc",
                "file_size": 64,
                "id": media_id,
            },
        )

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)
