"""A writer holding SQLite's turn runs its statements on the event loop's thread (``kit/db/sqlite_inline.py``);
a statement that could wait on another process's lock never blocks the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from factories import make_account
from mostrador.channels.base import ChannelKind
from mostrador.config import Settings
from mostrador.kit.db.sqlite_inline import cannot_wait
from mostrador.migrate import upgrade
from mostrador.models import Label, WebhookEvent
from mostrador.runtime import Runtime, build_runtime
from mostrador.webhooks.service import webhook_intake
from testenv import APP_SECRET


@pytest.fixture
async def sqlite_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"
    await asyncio.to_thread(upgrade, url)
    runtime = build_runtime(Settings(env="test", database_url=url, var_dir=tmp_path, wa_app_secret=APP_SECRET))
    try:
        yield runtime
    finally:
        await runtime.aclose()
        await runtime.db.dispose()


def test_only_calls_that_cannot_wait_on_a_lock_run_inline() -> None:
    connection = sqlite3.connect(":memory:", isolation_level="")
    connection.execute("CREATE TABLE t (x)")
    cursor = connection.cursor()
    try:
        assert cannot_wait(connection, cursor.execute, ("SELECT x FROM t", ()))
        assert cannot_wait(connection, cursor.execute, ("\n  select x FROM t", ()))
        assert cannot_wait(connection, cursor.fetchall, ())
        assert cannot_wait(connection, cursor.close, ())
        assert not cannot_wait(connection, cursor.execute, ("INSERT INTO t VALUES (1)", ()))  # takes the lock
        assert not cannot_wait(connection, cursor.execute, ("PRAGMA journal_mode=WAL", ()))
        assert not cannot_wait(connection, connection.close, ())  # aiosqlite stops its thread after it
        assert not cannot_wait(connection, connection.create_function, ("f", 1, len))
        cursor.execute("INSERT INTO t VALUES (1)")  # the driver opened a transaction for it: the lock is held
        assert connection.in_transaction
        assert cannot_wait(connection, cursor.execute, ("UPDATE t SET x = 2", ()))
        assert cannot_wait(connection, connection.commit, ())
    finally:
        connection.close()


def _trace_threads(runtime: Runtime, seen: list[tuple[str, int]]) -> None:
    """Every statement SQLite runs, with the thread that ran it (the pool's connections are opened after this)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection._conn.set_trace_callback(
            lambda statement: seen.append((statement, threading.get_ident()))
        )

    event.listen(runtime.db.engine.sync_engine, "connect", on_connect)


def _thread_of(seen: list[tuple[str, int]], fragment: str) -> int:
    threads = [thread for statement, thread in seen if fragment in statement]
    assert threads, f"no statement with {fragment!r} ran"
    return threads[0]


async def test_a_writers_statements_run_on_the_loops_thread_and_a_readers_do_not(sqlite_runtime: Runtime) -> None:
    seen: list[tuple[str, int]] = []
    _trace_threads(sqlite_runtime, seen)
    account = await make_account(sqlite_runtime)
    seen.clear()
    loop_thread = threading.get_ident()
    async with sqlite_runtime.unit_of_work(write=True) as session:
        await session.execute(text("SELECT 1 AS writer_reads"))
        async with session.begin_nested():  # BEGIN IMMEDIATE: the lock is free, so taken inline
            session.add(Label(account_id=account.id, name="urgente"))
        await session.execute(text("SELECT 2 AS writer_in_transaction"))
    async with sqlite_runtime.unit_of_work() as session:
        await session.execute(text("SELECT 3 AS agent_reads"))
    assert _thread_of(seen, "writer_reads") == loop_thread
    assert _thread_of(seen, "BEGIN IMMEDIATE") == loop_thread
    assert _thread_of(seen, "INSERT INTO labels") == loop_thread
    assert _thread_of(seen, "writer_in_transaction") == loop_thread
    assert _thread_of(seen, "COMMIT") == loop_thread
    assert _thread_of(seen, "agent_reads") != loop_thread  # outside a writer's turn: aiosqlite's thread


async def test_a_transactions_first_write_outside_begin_immediate_goes_through_the_thread(
    sqlite_runtime: Runtime,
) -> None:
    seen: list[tuple[str, int]] = []
    _trace_threads(sqlite_runtime, seen)
    account = await make_account(sqlite_runtime)
    seen.clear()
    async with sqlite_runtime.unit_of_work(write=True) as session:
        session.add(Label(account_id=account.id, name="devoluciones"))
        await session.flush()  # the driver's implicit BEGIN: it may wait for another process's lock
        await session.execute(text("SELECT 4 AS after_the_write"))
    assert _thread_of(seen, "INSERT INTO labels") != threading.get_ident()
    assert _thread_of(seen, "after_the_write") == threading.get_ident()


class _OtherProcess:
    """A second connection to the file holding SQLite's write lock, as a CLI command would; released by the event
    loop after ``hold_s`` (so a blocked loop never releases it)."""

    def __init__(self, runtime: Runtime, hold_s: float) -> None:
        path = runtime.db.engine.url.database
        assert path is not None
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("BEGIN IMMEDIATE")
        self.released_at: float | None = None
        asyncio.get_running_loop().call_later(hold_s, self._release)

    def _release(self) -> None:
        self._connection.execute("COMMIT")
        self._connection.close()
        self.released_at = asyncio.get_running_loop().time()


async def _ticks_during(work: Any) -> int:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await work
    finally:
        ticker.cancel()
    return ticks


async def test_a_writer_waits_for_another_process_off_the_loop(sqlite_runtime: Runtime) -> None:
    account = await make_account(sqlite_runtime)

    async def write() -> None:
        async with sqlite_runtime.unit_of_work(write=True) as session:
            async with session.begin_nested():
                session.add(Label(account_id=account.id, name="mayoristas"))
            assert (await session.execute(text("PRAGMA busy_timeout"))).scalar_one() == 10_000  # restored

    other = _OtherProcess(sqlite_runtime, hold_s=0.3)
    ticks = await _ticks_during(write())
    assert other.released_at is not None
    assert ticks >= 10  # the loop ran on while BEGIN IMMEDIATE waited (inline, it would never have released)
    async with sqlite_runtime.unit_of_work() as session:
        names = (await session.execute(select(Label.name).where(Label.account_id == account.id))).scalars().all()
    assert names == ["mayoristas"]


async def test_the_intake_waits_for_another_process_off_the_loop(sqlite_runtime: Runtime) -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    other = _OtherProcess(sqlite_runtime, hold_s=0.3)
    stored = asyncio.ensure_future(webhook_intake.store(sqlite_runtime, ChannelKind.WHATSAPP, body))
    ticks = await _ticks_during(stored)
    assert stored.result() is True
    assert other.released_at is not None
    assert ticks >= 10
    async with sqlite_runtime.unit_of_work() as session:
        bodies = (await session.execute(select(WebhookEvent.body))).scalars().all()
    assert bodies == [body.decode()]
