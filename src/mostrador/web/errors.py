"""UI requests get HTML error pages; everything else keeps the JSON errors of :mod:`mostrador.api_errors`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from mostrador.api_errors import unstorable_text
from mostrador.exceptions import MostradorError
from mostrador.logging import get_logger
from mostrador.web.deps import CsrfFailed, LoginRequired, PermissionDenied
from mostrador.web.htmx import is_htmx
from mostrador.web.i18n import gettext
from mostrador.web.templating import apply_request_locale, render

log = get_logger(__name__)

Handler = Callable[[Request, Any], Response | Awaitable[Response]]


def is_ui_request(request: Request) -> bool:
    return bool(getattr(request.state, "ui", False))


def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    headers = {"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"} if is_htmx(request) else {}
    template = "errors/_toast.html" if is_htmx(request) else "errors/error.html"
    return render(
        request,
        template,
        {"status_code": status_code, "title": title, "message": message},
        status_code=status_code,
        headers=headers,
    )


async def _login_required(request: Request, error: LoginRequired) -> Response:
    url = "/login?" + urlencode({"next": error.next_url}) if error.next_url != "/" else "/login"
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


async def _permission_denied(request: Request, error: PermissionDenied) -> Response:
    apply_request_locale(request)
    return error_page(
        request, 403, gettext("Permission denied"), error.message or gettext("You do not have access to this page.")
    )


async def _csrf_failed(request: Request, _error: CsrfFailed) -> Response:
    apply_request_locale(request)
    return error_page(
        request,
        403,
        gettext("The form expired"),
        gettext("This request was rejected for your security (invalid CSRF token). Reload the page and try again."),
    )


def _status_title(status_code: int) -> str:
    if status_code == 404:
        return gettext("Not found")
    if status_code == 403:
        return gettext("Permission denied")
    if status_code == 429:
        return gettext("Too many attempts")
    if status_code >= 500:
        return gettext("Something went wrong")
    return gettext("The request could not be processed")


def _wrap(
    previous: Handler | None, ui_message: Callable[[Any], tuple[int, str]]
) -> Callable[[Request, Any], Awaitable[Response]]:
    async def handler(request: Request, error: Any) -> Response:
        if is_ui_request(request) or previous is None:
            apply_request_locale(request)
            status_code, message = ui_message(error)
            return error_page(request, status_code, _status_title(status_code), message)
        result = previous(request, error)
        return await result if inspect.isawaitable(result) else result

    return handler


def _domain(error: MostradorError) -> tuple[int, str]:
    if error.status_code == 404:
        return 404, gettext("It does not exist or belongs to another account.")
    from mostrador.web.forms import domain_message

    return error.status_code, domain_message(error)


def _http(error: StarletteHTTPException) -> tuple[int, str]:
    if error.status_code == 404:
        return 404, gettext("It does not exist or belongs to another account.")
    return error.status_code, gettext("The request could not be processed.")


def _validation(_error: RequestValidationError) -> tuple[int, str]:
    return 404, gettext("It does not exist or belongs to another account.")


def _database(error: DBAPIError) -> tuple[int, str]:
    if unstorable_text(error):
        return 422, gettext("The text has an invisible character (NUL) that cannot be saved. Remove it and try again.")
    return _unexpected(error)


def _unexpected(error: Exception) -> tuple[int, str]:
    log.error("ui.crashed", error=repr(error))
    return 500, gettext("Something went wrong on our side; it has been logged. Try again in a moment.")


def install_ui_error_handlers(app: FastAPI) -> None:
    handlers = app.exception_handlers
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(PermissionDenied, _permission_denied)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfFailed, _csrf_failed)  # type: ignore[arg-type]
    app.add_exception_handler(MostradorError, _wrap(handlers.get(MostradorError), _domain))
    app.add_exception_handler(StarletteHTTPException, _wrap(handlers.get(StarletteHTTPException), _http))
    app.add_exception_handler(RequestValidationError, _wrap(handlers.get(RequestValidationError), _validation))
    app.add_exception_handler(DBAPIError, _wrap(handlers.get(DBAPIError), _database))
    app.add_exception_handler(Exception, _wrap(handlers.get(Exception), _unexpected))
