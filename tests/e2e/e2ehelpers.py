"""Live-server helpers for browser tests: ``live_server(app) -> base_url`` and seeding on a temp SQLite."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from mostrador.accounts.service import account as account_service
from mostrador.config import Settings
from mostrador.migrate import upgrade
from mostrador.models import Role
from mostrador.runtime import build_runtime
from mostrador.users.schemas import UserCreate
from mostrador.users.service import user as user_service

RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
E2E_EMAIL = "admin@casaolivo.example"
E2E_PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    app: FastAPI | Callable[[], FastAPI], *, port: int | None = None, timeout_s: float = 15.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a background thread; yields the base URL.

    Pass a factory (``lambda: create_app(settings)``) to build the app inside the server thread, or an app whose
    Runtime has not touched the database yet (``create_app(settings)`` without ``runtime=`` owns its runtime
    and starts/stops it in the server's lifespan, inside the server's loop).
    """
    port = port or free_port()
    holder: dict[str, uvicorn.Server] = {}
    failure: list[BaseException] = []

    def run() -> None:
        try:
            target = app if isinstance(app, FastAPI) else app()
            config = uvicorn.Config(target, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
            server = uvicorn.Server(config)
            holder["server"] = server
            asyncio.run(server.serve())
        except BaseException as error:  # surfaced to the test below
            failure.append(error)

    thread = threading.Thread(target=run, name=f"live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not (holder.get("server") and holder["server"].started):
        if failure or not thread.is_alive():
            raise RuntimeError(f"live server failed to start: {failure!r}")
        if time.monotonic() > deadline:
            raise TimeoutError("live server did not start in time")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        holder["server"].should_exit = True
        thread.join(timeout=timeout_s)


@dataclass
class LiveApp:
    base_url: str
    settings: Settings
    email: str = E2E_EMAIL
    password: str = E2E_PASSWORD


def e2e_settings(tmp: Path) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp / 'e2e.db'}"
    upgrade(url)
    return Settings(env="test", database_url=url, var_dir=tmp, secret_key="e2e-secret-key", port=free_port())


def seed_admin(settings: Settings) -> None:
    """Seed through the real services on a throw-away runtime (its own loop, disposed before the server starts)."""

    async def seed() -> None:
        runtime = build_runtime(settings)
        try:
            async with runtime.unit_of_work() as session:
                account = await account_service.create(session, name="Casa Olivo")
                data = UserCreate(email=E2E_EMAIL, name="Marta Olivo", password=E2E_PASSWORD, role=Role.admin)
                await user_service.create(session, account, data)
        finally:
            await runtime.aclose()

    asyncio.run(seed())


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a fresh thread: Playwright's sync API keeps an event loop running in the main thread,
    so ``asyncio.run`` (Alembic's env.py, seeding) must not run there."""
    result: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
