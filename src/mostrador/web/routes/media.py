"""``GET /media/{attachment_id}``: a customer's file, for agents of the same account only.

Files come from outside: only a short list of image/audio/video types is ever shown inline; anything else
(HTML, SVG, XML, PDF, unknown) is served as an ``application/octet-stream`` download, and every response carries
``nosniff`` and a sandboxing CSP so the browser never runs it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import SessionDep
from mostrador.exceptions import NotFound
from mostrador.kit.ids import Id
from mostrador.messages.thread import thread as thread_service
from mostrador.models import AttachmentState
from mostrador.web.deps import CurrentAgent, ui_router

router = ui_router()

INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
    }
)
SAFE_DOWNLOAD_TYPES = INLINE_TYPES | {"application/pdf"}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name; no quotes, slashes or control characters survive."""
    cleaned = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "archivo"
    ascii_name = UNSAFE_NAME.sub("_", cleaned)[:150] or "archivo"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(cleaned[:150], safe='')}"


@router.get("/media/{attachment_id}", response_model=None)
async def media(
    request: Request, attachment_id: Id, user: CurrentAgent, session: SessionDep, download: bool = False
) -> Response:
    attachment = await thread_service.attachment(session, user.account_id, attachment_id)
    if attachment.state is not AttachmentState.stored or not attachment.storage_key:
        raise NotFound(f"attachment {attachment_id} is not available", code="attachment_not_stored")
    try:
        data = await request.app.state.runtime.media.get(attachment.storage_key)
    except OSError:
        raise NotFound(f"attachment {attachment_id} is missing from the store", code="attachment_missing") from None
    mime = (attachment.mime_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    inline = mime in INLINE_TYPES and not download
    media_type = mime if mime in SAFE_DOWNLOAD_TYPES else "application/octet-stream"
    name = attachment.filename or f"{attachment.kind}-{attachment.id}{EXTENSIONS.get(mime, '.bin')}"
    headers = {
        "Content-Disposition": content_disposition("inline" if inline else "attachment", name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    return Response(content=data, media_type=media_type, headers=headers)
