"""Why an attached file cannot be sent: typed errors with a 4xx, carrying what the UI needs to explain it."""

from __future__ import annotations

from mostrador.channels.base import MediaKind
from mostrador.exceptions import PayloadTooLarge, Unprocessable, UnsupportedMediaType


class MediaTooLarge(PayloadTooLarge):
    code = "media_too_large"

    def __init__(self, kind: MediaKind | None, limit: int, size: int) -> None:
        what = kind.value if kind else "file"
        super().__init__(f"the {what} is {size} bytes; this channel accepts at most {limit} bytes")
        self.kind = kind
        self.limit = limit
        self.size = size


class MediaTypeRefused(UnsupportedMediaType):
    code = "media_type_unsupported"

    def __init__(self, message: str, *, mime_type: str | None) -> None:
        super().__init__(message)
        self.mime_type = mime_type


class EmptyMedia(Unprocessable):
    code = "media_empty"

    def __init__(self) -> None:
        super().__init__("the file is empty")
