"""Engines and sessions. Services never commit: the request edge and the job runner do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from mostrador.config import Settings
from mostrador.kit.db import sqlite_inline
from mostrador.kit.writer_turns import WriterTurns

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA cache_size=-32000",
    "PRAGMA temp_store=MEMORY",
)


# SQLite keeps no statistics unless asked (ANALYZE), and without them its planner takes any one-column index for
# about 10 rows a value: every tenant-scoped lookup (``account_id = ? AND …``) then walked the account's whole
# ``ix_*_account_id`` index instead of the unique one (a receipts job read every status of the account). Fresh
# statistics on a bounded sample cost milliseconds; a connection reads them when it opens, hence the recycling.
SQLITE_ANALYSIS_LIMIT = 1000
SQLITE_STATISTICS_EVERY_S = 60.0


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _begin_before_savepoint(connection: Any, _name: str) -> None:
    """The sqlite3 driver opens a transaction only before a data-changing statement. A SAVEPOINT outside one
    starts its own, and releasing it commits: a unit of work that failed after a released savepoint would have
    left those writes behind. Open the transaction first, so only the unit of work's commit commits.

    IMMEDIATE: the writer's lock is taken now (waiting under busy_timeout). A deferred transaction that read,
    then wrote after another connection committed, would fail at once with "database is locked" (WAL cannot
    upgrade a stale snapshot, and busy_timeout does not apply)."""
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _listen_sqlite(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
    event.listen(engine.sync_engine, "savepoint", _begin_before_savepoint)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if url.startswith("sqlite"):
        # aiosqlite serialises on one thread per connection; a small pool of WAL readers plus busy_timeout
        # keeps writers from failing with "database is locked".
        engine = create_async_engine(
            url,
            pool_size=5,
            max_overflow=5,
            pool_timeout=30,
            pool_recycle=SQLITE_STATISTICS_EVERY_S,
            async_creator=sqlite_inline.connector(url),
        )
        _listen_sqlite(engine)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
    event.listen(engine.sync_engine.pool, "checkout", _drop_closed_postgres_connection)
    return engine


def _drop_closed_postgres_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server closed (restart, idle timeout, pg_terminate_backend) is replaced, not
    handed out. asyncpg notices the closed socket as soon as the event loop reads it, so checking costs nothing;
    ``pool_pre_ping`` sent BEGIN, a query and ROLLBACK on every checkout (three round trips per unit of work).
    A connection lost while in use fails that unit of work, and SQLAlchemy then replaces the pool's connections."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the server closed this connection")


def create_null_pool_engine(url: str) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(url, poolclass=NullPool)
    engine = create_async_engine(url, poolclass=NullPool, async_creator=sqlite_inline.connector(url))
    _listen_sqlite(engine)
    return engine


class DedicatedConnections:
    """A few connections kept checked out for one hot statement (the webhook group commit): its driver runs it
    directly, with no session, pool checkout, transaction bookkeeping or reset per use (about 1-2 ms of CPU per
    batch through the ORM session, measured in bench/intake.py).
    """

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self._engine = engine
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[AsyncConnection, Any]] = []

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[Any]:
        """The driver's own connection (asyncpg or aiosqlite), in autocommit: one statement is one transaction."""
        async with self._slots:
            if self._idle:
                connection, driver = self._idle.pop()
            else:
                connection = await self._engine.connect()
                try:
                    driver = await self._open_driver(connection)
                except BaseException:
                    await connection.close()
                    raise
            try:
                yield driver
            except BaseException:
                await connection.invalidate()  # broken, or stopped mid-statement: never reuse it
                await connection.close()
                raise
            self._idle.append((connection, driver))

    async def _open_driver(self, connection: AsyncConnection) -> Any:
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is not None and self._engine.dialect.name == "sqlite":
            # A 200 promises the body is stored: with synchronous=NORMAL, WAL commits reach the disk only at
            # checkpoints, so a power cut could lose acknowledged webhooks. The group commit pays one fsync per
            # batch, not per webhook.
            await driver.execute("PRAGMA synchronous=FULL")
        return driver

    async def aclose(self) -> None:
        while self._idle:
            await self._idle.pop()[0].close()


class Database:
    """One engine and its session factory, created at start-up from settings."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.intake = DedicatedConnections(engine, size=2)
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        # SQLite has one writer. Queueing our own background writers here is far cheaper than letting them
        # collide and sleep in SQLite's busy handler; PostgreSQL needs no such thing.
        self.write_lock: WriterTurns | None = WriterTurns() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def writer_turn(self, priority: int = 0) -> AsyncIterator[None]:
        """On SQLite, SQLite's one writer for this task until the block ends (``WriterTurns``), its statements run
        inline meanwhile (``sqlite_inline``); on PostgreSQL nothing to wait for."""
        if self.write_lock is None:
            yield
            return
        async with self.write_lock.turn(priority):
            with sqlite_inline.statements_inline():
                yield

    async def refresh_statistics(self) -> None:
        """SQLite only (PostgreSQL's autovacuum analyzes by itself): see ``SQLITE_ANALYSIS_LIMIT``."""
        if self.write_lock is None:  # PostgreSQL
            return
        async with self.writer_turn(), self.engine.begin() as connection:  # milliseconds: no starving it
            await connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            await connection.exec_driver_sql("ANALYZE")

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        if settings.is_sqlite:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
        return cls(create_engine(settings.resolved_database_url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.intake.aclose()
        await self.engine.dispose()
