"""Typed errors that carry their HTTP status; a global handler renders ``{"error": {"code", "message"}}``."""

from __future__ import annotations


class MostradorError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class BadRequest(MostradorError):
    pass


class Unauthorized(MostradorError):
    status_code = 401
    code = "unauthorized"


class Forbidden(MostradorError):
    status_code = 403
    code = "forbidden"


class NotFound(MostradorError):
    status_code = 404
    code = "not_found"


class Conflict(MostradorError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(MostradorError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(MostradorError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(MostradorError):
    status_code = 422
    code = "unprocessable"


class TooManyRequests(MostradorError):
    status_code = 429
    code = "too_many_requests"
