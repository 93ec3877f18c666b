"""The ASGI application: create_app() wires settings, runtime, routers and middlewares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from mostrador import __version__
from mostrador.api import router as api_router
from mostrador.api_errors import install_error_handlers
from mostrador.config import Settings
from mostrador.demo.live import bring_demo_to_life, demo_simulator_config
from mostrador.health import router as health_router
from mostrador.kit.asgi import RequestContextMiddleware
from mostrador.runtime import Runtime, build_runtime
from mostrador.simulator import Simulator, create_simulator_app
from mostrador.tasks import import_all_tasks
from mostrador.web import install_web
from mostrador.webhooks.endpoints import WhatsAppWebhookLane
from mostrador.webhooks.endpoints import router as webhooks_router
from mostrador.worker.sweeper import run_sweeper


class MostradorApp(FastAPI):
    """FastAPI, with Meta's webhook deliveries answered before the middleware stack: the hottest path we serve
    needs none of it (no session, CSRF, CSP or routing), and the stack would double its cost.
    """

    webhook_lane: WhatsAppWebhookLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.webhook_lane is not None and WhatsAppWebhookLane.takes(scope):
            await self.webhook_lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, *, runtime: Runtime | None = None, demo: bool = False) -> MostradorApp:
    """``demo``: mount the Cloud API simulator at /sim and let the demo's customers write in."""
    import_all_tasks()
    owned = runtime is None
    app_runtime = runtime or build_runtime(settings)
    simulator_app = create_simulator_app(demo_simulator_config(settings)) if demo else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background: list[asyncio.Task[None]] = []
        if owned:
            await app_runtime.start()
            if not settings.distributed:
                background.append(asyncio.create_task(run_sweeper(app_runtime), name="sweeper"))
        if simulator_app is not None:
            simulator: Simulator = simulator_app.state.simulator
            await simulator.start()
            background.append(asyncio.create_task(bring_demo_to_life(app_runtime, simulator), name="demo"))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if simulator_app is not None:
                await simulator_app.state.simulator.aclose()
            if owned:
                await app_runtime.aclose()

    app = MostradorApp(
        title="Mostrador",
        version=__version__,
        description="WhatsApp contact center API. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `mostrador token create`).",
        lifespan=lifespan,
    )
    app.state.runtime = app_runtime
    app.state.demo = demo
    app.state.settings = settings
    install_error_handlers(app)

    app.webhook_lane = WhatsAppWebhookLane(app_runtime)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.include_router(api_router)
    app.include_router(webhooks_router)
    install_web(app)
    if simulator_app is not None:
        app.mount("/sim", simulator_app)
    return app
