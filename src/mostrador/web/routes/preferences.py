"""Per-agent preferences every role may change: language and availability."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from mostrador.auth.dependencies import SessionDep
from mostrador.models import Availability
from mostrador.users.service import user as user_service
from mostrador.web import i18n
from mostrador.web.deps import CurrentAgent, ui_router
from mostrador.web.forms import read_form
from mostrador.web.htmx import Toast, hx_redirect, hx_refresh, safe_next
from mostrador.web.templating import render

router = ui_router()


def _back(request: Request, form: dict[str, str]) -> str:
    """Where to return after a plain form post: the 'next' field, else the same-origin Referer, else home."""
    if form.get("next"):
        return safe_next(form["next"])
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


@router.post("/settings/language", response_model=None)
async def set_language(request: Request, user: CurrentAgent, session: SessionDep) -> Response:
    form = await read_form(request)
    locale = i18n.normalize_locale(form.get("locale"))
    if locale is None:
        return render(
            request, "errors/_toast.html", {"message": i18n.gettext("Choose one of the options.")}, status_code=422
        )
    await user_service.set_locale(session, user, locale)
    return hx_refresh(request, _back(request, form))


@router.post("/me/availability", response_model=None)
async def set_availability(request: Request, user: CurrentAgent, session: SessionDep) -> Response:
    form = await read_form(request)
    value = form.get("availability", "")
    if value not in Availability.__members__:
        return render(
            request, "errors/_toast.html", {"message": i18n.gettext("Choose one of the options.")}, status_code=422
        )
    await user_service.set_availability(session, user, Availability(value))
    if not request.headers.get("hx-request"):
        return hx_redirect(request, _back(request, form))
    return render(
        request,
        "components/availability.html",
        {"user": user},
        toasts=[Toast(i18n.gettext("Availability updated."))],
    )
