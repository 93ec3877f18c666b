"""Readable failure reasons for agents, from the stored provider error."""

from __future__ import annotations

from mostrador.channels.base import ProviderError
from mostrador.channels.whatsapp.errors import map_error
from mostrador.exceptions import MostradorError


def human_reason(code: int | None, title: str | None, detail: str | None, locale: str = "es") -> str:
    if code is None:
        return title or detail or ""
    return map_error(ProviderError(code=code, title=title, details=detail)).human_reason(locale)


class OutsideServiceWindow(MostradorError):
    status_code = 409
    code = "outside_service_window"


class ConsentRequired(MostradorError):
    status_code = 409
    code = "consent_required"
