"""The ASGI application: create_app() wires settings, runtime, routers and middlewares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from mostrador import __version__
from mostrador.api import router as api_router
from mostrador.api_errors import install_error_handlers
from mostrador.config import Settings
from mostrador.health import router as health_router
from mostrador.logging import correlation_id, new_correlation_id
from mostrador.runtime import Runtime, build_runtime
from mostrador.tasks import import_all_tasks
from mostrador.web import install_web
from mostrador.webhooks.endpoints import router as webhooks_router


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    import_all_tasks()
    owned = runtime is None
    app_runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned:
            await app_runtime.start()
        try:
            yield
        finally:
            if owned:
                await app_runtime.aclose()

    app = FastAPI(
        title="Mostrador",
        version=__version__,
        description="WhatsApp contact center API. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `mostrador token create`).",
        lifespan=lifespan,
    )
    app.state.runtime = app_runtime
    app.state.settings = settings
    install_error_handlers(app)

    @app.middleware("http")
    async def correlation(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        cid = request.headers.get("x-request-id") or new_correlation_id()
        token = correlation_id.set(cid[:64])
        try:
            response = await call_next(request)
        finally:
            correlation_id.reset(token)
        response.headers["X-Request-Id"] = cid[:64]
        return response

    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(webhooks_router)
    install_web(app)
    return app
