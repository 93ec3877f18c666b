"""Suite-wide fixtures: every database test runs on SQLite and on the local PostgreSQL.

PostgreSQL and Redis are required: when they are unreachable the tests fail (never skip), in CI and locally.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from dbutil import truncate
from mostrador.app import create_app
from mostrador.config import Settings
from mostrador.migrate import upgrade
from mostrador.runtime import Runtime, build_runtime
from mostrador.worker.backends import InProcessJobBackend
from testenv import APP_SECRET, POSTGRES_ADMIN_URL, VERIFY_TOKEN


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _run_id() -> str:
    """Unique per pytest run, so two runs on one machine never share (or drop) each other's databases."""
    return (os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid()))[:10]


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _create_postgres_database(name: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL is required at {POSTGRES_ADMIN_URL}: {error!r}", pytrace=False)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / f"mostrador-{_worker_id()}.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"mostrador_test_{_run_id()}_{_worker_id()}"
    asyncio.run(_create_postgres_database(name))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    asyncio.run(_drop_postgres_database(name))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=db_url,
        var_dir=tmp_path,
        secret_key="test-secret-key",
        wa_app_secret=APP_SECRET,
        wa_verify_token=VERIFY_TOKEN,
        wa_graph_url="http://graph.test",
        sweeper_interval_s=3600,
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    built = build_runtime(settings)
    await built.start()
    try:
        yield built
    finally:
        await built.jobs.aclose()  # no job may hold locks while the tables are emptied
        await truncate(built)
        await built.aclose()


@pytest.fixture
def jobs(runtime: Runtime) -> InProcessJobBackend:
    assert isinstance(runtime.jobs, InProcessJobBackend)
    return runtime.jobs


@pytest.fixture
def app(settings: Settings, runtime: Runtime):  # type: ignore[no-untyped-def]
    return create_app(settings, runtime=runtime)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mostrador.test") as c:
        yield c


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing in the suite may leave the machine."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API leaves an event loop running in the worker's main thread, which
    breaks every asyncio test that runs after it in the same process (xdist hands tests out in this order)."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
