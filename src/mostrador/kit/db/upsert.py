"""INSERT … ON CONFLICT DO NOTHING for both backends: the idempotency primitive of every inbox-style table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession, target: Any) -> Any:
    """``INSERT`` of the session's dialect, the one that has ``on_conflict_do_nothing``."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any], conflict_columns: list[str]
) -> int | None:
    """Insert a row unless it exists; returns the new id, or None when the row was already there."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        pg_statement = postgresql.insert(table).values(**values)
        statement: Any = pg_statement.on_conflict_do_nothing(index_elements=conflict_columns)
    else:
        sqlite_statement = sqlite.insert(table).values(**values)
        statement = sqlite_statement.on_conflict_do_nothing(index_elements=conflict_columns)
    result = await session.execute(statement.returning(table.c.id))
    row = result.first()
    return None if row is None else int(row[0])
