"""Sign in and out with a signed session cookie; logins are throttled per IP and e-mail."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from mostrador.auth.dependencies import RuntimeDep, SessionDep
from mostrador.users.service import user as user_service
from mostrador.web.deps import load_signed_in_user, ui_router
from mostrador.web.forms import read_form
from mostrador.web.htmx import hx_redirect, safe_next
from mostrador.web.i18n import gettext
from mostrador.web.security import clear_session_cookie, login_throttle, new_session, set_session_cookie
from mostrador.web.templating import apply_request_locale, render

router = ui_router()


def _client_ip(request: Request) -> str:
    # Behind a reverse proxy run uvicorn with --proxy-headers so this is the visitor's address.
    return request.client.host if request.client else "unknown"


@router.get("/login", response_model=None)
async def login_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    if await load_signed_in_user(request, session) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": safe_next(next), "email": "", "error": None})


@router.post("/login", response_model=None)
async def login(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    form = await read_form(request)
    email = form.get("email", "").strip()[:320]
    password = form.get("password", "")
    next_url = safe_next(form.get("next"))
    apply_request_locale(request)
    ip = _client_ip(request)
    if not await login_throttle.allow(runtime.rate_limits, ip, email):
        context = {
            "next": next_url,
            "email": email,
            "error": gettext("Too many attempts. Wait a few minutes and try again."),
        }
        return render(request, "auth/login.html", context, status_code=429, headers={"Retry-After": "60"})
    user = await user_service.authenticate(session, email, password) if email and password else None
    if user is None:
        context = {"next": next_url, "email": email, "error": gettext("Incorrect e-mail or password.")}
        return render(request, "auth/login.html", context, status_code=400)
    await login_throttle.succeeded(runtime.rate_limits, ip, email)
    response = RedirectResponse(next_url, status_code=303)
    settings = runtime.settings
    session_data = new_session(user.id, user.session_version)
    set_session_cookie(response, request, settings.resolved_secret_key, session_data, settings.session_max_age_s)
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    response = hx_redirect(request, "/login")
    clear_session_cookie(response, request)
    return response
