"""Pooled PostgreSQL connections the server closed are replaced at checkout (a local check, no ping query)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from mostrador.db import create_engine
from testenv import POSTGRES_ADMIN_URL


@pytest.mark.postgres
async def test_a_connection_the_server_closed_is_replaced_not_handed_out(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # the pooled connection sits idle while the server hangs up

        async with engine.connect() as connection:
            second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await engine.dispose()
