from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from mostrador.web.htmx import Toast, is_htmx
from mostrador.web.templating import render

PageContext = Callable[[], Awaitable[dict[str, Any]]]


async def page(
    request: Request,
    template: str,
    context: PageContext,
    *,
    extra: Mapping[str, Any] | None = None,
    status_code: int = 200,
    toasts: tuple[Toast, ...] = (),
) -> Response:
    return render(request, template, {**await context(), **(extra or {})}, status_code=status_code, toasts=toasts)


async def saved(request: Request, url: str, template: str, context: PageContext, message: str) -> Response:
    """After a successful change: HTMX re-renders the page with a toast; a plain form gets a 303 (PRG)."""
    if is_htmx(request):
        return await page(request, template, context, toasts=(Toast(message),))
    return RedirectResponse(url, status_code=303)


def form_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None
