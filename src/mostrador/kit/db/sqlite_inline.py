"""SQLite statements of the writer holding its turn run on the event loop's own thread.

aiosqlite runs each statement on a thread of its own and wakes the event loop with the result. Under load the
loop is busy answering webhooks, so every statement also waited for the loop's attention: a job of five customer
messages held SQLite's one writer for about 15 ms, and every other writer, the webhook intake included, queued
behind it (bench/intake.py, embedded SQLite: 1,400 webhooks/s acknowledged with 80 % of a core busy).

While a writer holds its turn (``Database.writer_turn``), its statements take tens of microseconds each, less than
the round trip, so they run directly; the job's transaction then holds the writer only as long as it computes.
They cannot block the loop on a lock: inside a transaction that has begun writing, the connection already holds
SQLite's write lock, and a SELECT never waits in WAL mode. The statement that takes the lock, a writer's
``BEGIN IMMEDIATE``, is tried without waiting; only when another process holds the lock (a CLI command) does it
wait, on the thread. Any other first write of a transaction goes through the thread, as does everything outside a
writer's turn: an agent's search must not stop the loop. A commit that checkpoints the WAL (each 1,000 pages
or so) now also runs on the loop; P3's latencies (bench/RESULTS.md) include those pauses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

_WRITER_TURN: ContextVar[bool] = ContextVar("sqlite_writer_turn", default=False)

# Calls that read rows or end a transaction: never a lock wait.
_NO_WAIT = frozenset({"cursor", "fetchone", "fetchmany", "fetchall", "commit", "rollback"})
# Calls that run SQL (aiosqlite's own helpers included): inline inside a transaction, or for a SELECT.
_RUN_SQL = frozenset({"execute", "executemany", "_execute_fetchall", "_execute_insert"})


@contextmanager
def statements_inline() -> Iterator[None]:
    """Mark the current task as the writer holding its turn (see the module's docstring)."""
    token = _WRITER_TURN.set(True)
    try:
        yield
    finally:
        _WRITER_TURN.reset(token)


class WriterConnection(aiosqlite.Connection):
    """aiosqlite's connection, except for the calls :func:`cannot_wait` lets run inline for a writer, and a
    writer's ``BEGIN IMMEDIATE``, tried inline without waiting first."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        connection = self._connection
        if connection is not None and self._running and _WRITER_TURN.get():
            if cannot_wait(connection, fn, args):
                return fn(*args, **kwargs)
            if _begins_immediate(fn, args):
                try:
                    return _without_waiting(connection, fn, *args, **kwargs)
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # the primary code of "database is locked"
                        raise
                # Another process writes: wait for it under busy_timeout, off the loop.
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]


def _begins_immediate(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    sql = args[0] if args and isinstance(args[0], str) else ""
    return getattr(fn, "__name__", "") == "execute" and " ".join(sql.split()).upper() == "BEGIN IMMEDIATE"


def _without_waiting(connection: sqlite3.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn`` with busy_timeout 0: it fails at once with "database is locked" instead of sleeping. A failed
    BEGIN IMMEDIATE opens no transaction, so the caller may simply run it again."""
    (timeout,) = connection.execute("PRAGMA busy_timeout").fetchone()
    connection.execute("PRAGMA busy_timeout=0")
    try:
        return fn(*args, **kwargs)
    finally:
        connection.execute(f"PRAGMA busy_timeout={int(timeout)}")


def cannot_wait(connection: sqlite3.Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """Whether this driver call is sure not to wait on another connection's lock."""
    name = getattr(fn, "__name__", "")
    if name == "close":
        return getattr(fn, "__self__", None) is not connection  # a cursor's; closing the connection stops a thread
    if name in _NO_WAIT:
        return True
    if name not in _RUN_SQL:
        return False
    # sqlite3 opens a transaction only before a write, and ours open with BEGIN IMMEDIATE: in one, the write lock
    # is held already, and in WAL mode committing takes no other lock.
    if connection.in_transaction:
        return True
    sql = args[0] if args and isinstance(args[0], str) else ""
    return sql.lstrip()[:6].upper() == "SELECT"


def connector(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """``async_creator`` for SQLAlchemy: the connection the dialect would open, as a :class:`WriterConnection`.
    ``check_same_thread`` is off because inline calls come from the loop's thread, the others from aiosqlite's."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    kwargs = {**kwargs, "check_same_thread": False}

    async def connect() -> aiosqlite.Connection:
        connection = WriterConnection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite dialect: never hold up interpreter exit
        return await connection

    return connect
