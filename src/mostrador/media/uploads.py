"""Reading a file an agent uploads (UI form or API multipart), never more than the configured cap."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request

from mostrador.media.errors import MediaTooLarge
from mostrador.media.service import MediaFile

CHUNK = 1024 * 1024
# Multipart framing and the other form fields around the file.
FORM_SLACK = 256 * 1024


def refuse_oversized_body(request: Request, limit: int) -> None:
    """Before the form is parsed (and spooled to disk): a body clearly larger than any accepted file is refused."""
    raw = request.headers.get("content-length", "")
    if raw.isdigit() and int(raw) > limit + FORM_SLACK:
        raise MediaTooLarge(None, limit, int(raw))


async def read_upload(request: Request, upload: UploadFile, limit: int) -> MediaFile:
    """The uploaded bytes, refused (413) past ``limit``; the per-kind limits are checked by the media service."""
    refuse_oversized_body(request, limit)
    chunks: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise MediaTooLarge(None, limit, total)
        chunks.append(chunk)
    return MediaFile(content=b"".join(chunks), filename=upload.filename or "", declared_type=upload.content_type)
