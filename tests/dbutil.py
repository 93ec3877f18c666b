from __future__ import annotations

from sqlalchemy import text

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
