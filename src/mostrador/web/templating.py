"""The Jinja environment and ``render()``: every UI page and fragment goes through here.

``render(request, "template.html", {...})`` adds the shared context (current user, account, CSRF token,
language, nav shell), renders in the request's language and returns an ``HTMLResponse``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mostrador import __version__
from mostrador.web import i18n
from mostrador.web.formatting import whatsapp_html
from mostrador.web.htmx import Toast, is_htmx, toast_html
from mostrador.web.security import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    csrf_token_for,
    dump_presession,
    is_https,
    load_presession,
    load_session,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


# The token of the page being rendered: macros imported without context (components/ui.html) still see it.
_render_csrf: ContextVar[str] = ContextVar("mostrador_render_csrf", default="")


def csrf_input() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(_render_csrf.get())


def _static(path: str) -> str:
    return f"/static/{path}?v={__version__}"


@pass_context
def _url_with(context: Context, _path: str = "/", **changes: Any) -> str:
    """The current page's query with ``changes`` applied (None or '' removes a key): nav links keep filters."""
    request: Request = context["request"]
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(sorted(params.items()))
    return f"{_path}?{query}" if query else _path


def _avatar_hue(value: str) -> int:
    """A stable 0-7 bucket for an avatar background (no inline styles under the CSP)."""
    return sum(ord(c) for c in value) % 8


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The callables read the request's language from a context variable (see i18n.set_locale).
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["whatsapp"] = whatsapp_html
    env.filters["reltime"] = i18n.format_relative
    env.filters["fulltime"] = i18n.format_full
    env.filters["clock"] = i18n.format_clock
    env.filters["avatar_hue"] = _avatar_hue
    env.globals["static"] = _static
    env.globals["csrf_input"] = csrf_input
    env.globals["url_with"] = _url_with
    env.globals["language_name"] = i18n.language_name
    env.globals["SUPPORTED_LOCALES"] = i18n.SUPPORTED_LOCALES
    env.globals["N_"] = i18n.N_
    return env


env = build_environment()


def request_locale(request: Request) -> tuple[str, str | None]:
    """(language, time zone) for this request: user → account → Accept-Language → Spanish."""
    state_locale: str | None = getattr(request.state, "locale", None)
    timezone: str | None = getattr(request.state, "timezone", None)
    if state_locale:
        return state_locale, timezone
    return i18n.resolve_locale(i18n.negotiate_accept_language(request.headers.get("accept-language"))), timezone


def apply_request_locale(request: Request) -> None:
    locale, timezone = request_locale(request)
    i18n.set_locale(locale, timezone)


def _secret_key(request: Request) -> str:
    key: str = request.app.state.runtime.settings.resolved_secret_key
    return key


def csrf_seeds(request: Request) -> list[str]:
    """Seeds a CSRF token may be bound to: the session's nonce and/or the pre-session cookie's."""
    settings = request.app.state.runtime.settings
    seeds: list[str] = []
    session = load_session(
        settings.resolved_secret_key, request.cookies.get(SESSION_COOKIE), settings.session_max_age_s
    )
    if session is not None:
        seeds.append(session.nonce)
    presession = load_presession(settings.resolved_secret_key, request.cookies.get(PRESESSION_COOKIE))
    if presession is not None:
        seeds.append(presession)
    return seeds


def csrf_token(request: Request) -> str:
    """The token to embed in pages; creates a pre-session seed (set as a cookie by render) when there is none."""
    cached: str | None = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    session_data = getattr(request.state, "session_data", None)
    seeds = [session_data.nonce] if session_data is not None else csrf_seeds(request)
    if not seeds:
        seed = secrets.token_urlsafe(18)
        request.state.new_presession = seed
        seeds = [seed]
    token = csrf_token_for(_secret_key(request), seeds[0])
    request.state.csrf_token = token
    return token


def base_context(request: Request) -> dict[str, Any]:
    locale, _ = request_locale(request)
    return {
        "request": request,
        "current_user": getattr(request.state, "user", None),
        "account": getattr(request.state, "account", None),
        "shell": getattr(request.state, "shell", None),
        "csrf_token": csrf_token(request),
        "locale": locale,
        "is_htmx": is_htmx(request),
        "demo": bool(getattr(request.app.state, "demo", False)),
    }


def render_string(request: Request, name: str, context: Mapping[str, Any] | None = None) -> str:
    apply_request_locale(request)
    context = {**base_context(request), **(context or {})}
    token = _render_csrf.set(context["csrf_token"])
    try:
        return env.get_template(name).render(context)
    finally:
        _render_csrf.reset(token)


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    toasts: Iterable[Toast] = (),
) -> HTMLResponse:
    """Render ``name`` in the request's language. ``toasts`` go out of band on HTMX requests, inline otherwise."""
    toast_list = list(toasts)
    html = render_string(request, name, {**(context or {}), "toasts": [] if is_htmx(request) else toast_list})
    if is_htmx(request) and toast_list:
        html += "".join(toast_html(t, oob=True) for t in toast_list)
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    set_presession_cookie(request, response)
    return response


def set_presession_cookie(request: Request, response: HTMLResponse) -> None:
    seed: str | None = getattr(request.state, "new_presession", None)
    if seed:
        response.set_cookie(
            PRESESSION_COOKIE,
            dump_presession(_secret_key(request), seed),
            httponly=True,
            samesite="lax",
            secure=is_https(request),
            path="/",
        )


def render_markup(name: str, context: Mapping[str, Any]) -> Markup:
    """Render a fragment with the current language (already set for the request) as Markup."""
    return Markup(env.get_template(name).render(context))  # noqa: S704 - autoescaped template output
