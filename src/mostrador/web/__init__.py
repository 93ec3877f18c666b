"""The agent's web UI (server-rendered, HTMX + SSE)."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Mount the UI's routes and static files on the app, with its error pages and security headers."""
    from fastapi.staticfiles import StaticFiles

    from mostrador.web.errors import install_ui_error_handlers
    from mostrador.web.routes import routers
    from mostrador.web.security import SecurityHeadersMiddleware
    from mostrador.web.templating import STATIC_DIR

    if not hasattr(app.state, "demo"):
        app.state.demo = False
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in routers():
        app.include_router(router)
    install_ui_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware)
