"""Every UI router, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from mostrador.realtime import sse
    from mostrador.web.routes import auth, conversation, inbox, media, preferences
    from mostrador.web.routes.settings import router as settings_router

    return [
        auth.router,
        preferences.router,
        settings_router,
        inbox.router,
        conversation.router,
        media.router,
        sse.router,
    ]
