"""Every UI router, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from mostrador.web.routes import auth, inbox, preferences
    from mostrador.web.routes.settings import router as settings_router

    return [auth.router, preferences.router, settings_router, inbox.router]
