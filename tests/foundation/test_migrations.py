"""The models and the migrations agree on both backends: autogenerate finds nothing to do."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from mostrador.db import create_null_pool_engine
from mostrador.messages.search import UNMANAGED_SCHEMA_OBJECTS
from mostrador.models import Base


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return name not in UNMANAGED_SCHEMA_OBJECTS and name != "alembic_version"


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": _include, "render_as_batch": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def _diff_for(url: str) -> list[object]:
    engine = create_null_pool_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()


def test_sqlite_schema_matches_models(sqlite_url: str) -> None:
    assert asyncio.run(_diff_for(sqlite_url)) == []


def test_postgres_schema_matches_models(postgres_url: str) -> None:
    assert asyncio.run(_diff_for(postgres_url)) == []
