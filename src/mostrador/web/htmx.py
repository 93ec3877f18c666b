"""HTMX helpers: detect HTMX requests, redirect them, and send toasts out of band."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

ToastKind = Literal["success", "error", "info"]


@dataclass(frozen=True)
class Toast:
    message: str
    kind: ToastKind = "success"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def is_boosted(request: Request) -> bool:
    return request.headers.get("hx-boosted") == "true"


def hx_redirect(request: Request, url: str, *, status_code: int = 303) -> Response:
    """Full navigation to ``url``: ``HX-Redirect`` for HTMX requests, a 303 for plain forms."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=status_code)


def hx_refresh(request: Request, fallback_url: str) -> Response:
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return RedirectResponse(fallback_url, status_code=303)


def toast_html(toast: Toast, *, oob: bool = False) -> Markup:
    """One toast; with ``oob`` it is appended to ``#toasts`` by HTMX wherever the response is swapped."""
    role = "alert" if toast.kind == "error" else "status"
    inner = Markup('<div class="toast toast--{}" role="{}" data-toast>{}</div>').format(
        toast.kind, role, escape(toast.message)
    )
    if not oob:
        return inner
    return Markup('<div hx-swap-oob="beforeend:#toasts">{}</div>').format(inner)


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site relative paths: '/x?y' yes; '//evil', 'https://evil', '/\\evil' no."""
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")) or any(c in url for c in "\r\n\t"):
        return default
    return url
