"""Every error leaves as ``{"error": {"code", "message"}}`` with a 4xx that says why; never a bare 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mostrador.exceptions import MostradorError
from mostrador.logging import get_logger

log = get_logger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(status_code: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status_code)


def _describe_validation(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        parts.append(f"{location}: {item.get('msg', 'invalid')}" if location else str(item.get("msg")))
    return "; ".join(parts) or "invalid request"


# PostgreSQL stores no NUL character (U+0000) in text or JSON and says so with these SQLSTATEs
# (character_not_in_repertoire, untranslatable_character). Only submitted values can carry one, so it is the
# client's input to fix, not a crash. SQLite keeps such text as it is.
UNSTORABLE_TEXT_SQLSTATES = frozenset({"22021", "22P05"})
UNSTORABLE_TEXT_MESSAGE = "the text contains a NUL character (\\u0000), which cannot be stored"


def unstorable_text(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in UNSTORABLE_TEXT_SQLSTATES


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MostradorError)
    async def _domain(_request: Request, error: MostradorError) -> JSONResponse:
        return error_response(error.status_code, error.code, error.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            return error_response(400, "invalid_json", "the body is not valid JSON")
        return error_response(422, "validation_error", _describe_validation(error))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, error: DBAPIError) -> JSONResponse:
        if unstorable_text(error):
            return error_response(422, "invalid_text", UNSTORABLE_TEXT_MESSAGE)
        return await _unexpected(request, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("request.crashed", path=request.url.path, error=repr(error))
        return error_response(500, "internal_error", "something went wrong on our side; it has been logged")


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "Malformed request"},
    401: {"model": ErrorResponse, "description": "Missing or invalid API token"},
    403: {"model": ErrorResponse, "description": "Not allowed for this user"},
    404: {"model": ErrorResponse, "description": "Not found in this account"},
    409: {"model": ErrorResponse, "description": "Conflicts with existing data"},
    422: {"model": ErrorResponse, "description": "Invalid parameters"},
}
