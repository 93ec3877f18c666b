from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mostrador.models import Base
from mostrador.runtime import Runtime

TABLES_IN_DELETE_ORDER = [table.name for table in reversed(Base.metadata.sorted_tables)]


async def truncate(runtime: Runtime) -> None:
    """Tests share one database per xdist worker; each leaves it empty."""
    async with runtime.db.engine.begin() as connection:
        if runtime.db.is_sqlite:
            for name in TABLES_IN_DELETE_ORDER:
                await connection.execute(text(f'DELETE FROM "{name}"'))
        else:
            names = ", ".join(f'"{name}"' for name in TABLES_IN_DELETE_ORDER)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        self.statements.append(statement)


@contextmanager
def count_queries(runtime: Runtime) -> Iterator[QueryCounter]:
    engine: AsyncEngine = runtime.db.engine
    counter = QueryCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counter)
