"""SQLite keeps no statistics unless asked; without them every tenant-scoped lookup walked the account's whole
``account_id`` index. The sweeper refreshes them (``Database.refresh_statistics``)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from factories import make_sent_messages, make_world
from mostrador.config import Settings
from mostrador.messages.repository import MessageRepository
from mostrador.migrate import upgrade
from mostrador.runtime import build_runtime
from mostrador.worker.sweeper import run_sweeper
from testenv import APP_SECRET


def plan(path: Path, statement: str, parameters: object) -> str:
    """The plan a newly opened connection (as the pool opens them) chooses."""
    connection = sqlite3.connect(path)
    try:
        return " | ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
    finally:
        connection.close()


async def test_statistics_send_tenant_lookups_to_the_unique_index(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    runtime = build_runtime(Settings(env="test", database_url=url, var_dir=tmp_path, wa_app_secret=APP_SECRET))
    try:
        world = await make_world(runtime)
        await make_sent_messages(runtime, world, [f"wamid.{n}" for n in range(300)])
        seen: list[tuple[str, object]] = []

        def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
            seen.append((statement, parameters))

        event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", capture)
        async with runtime.unit_of_work() as session:
            repository = MessageRepository.from_session(session)
            await repository.tracked_for_update(world.account.id, world.inbox.id, ["wamid.1", "wamid.2"])
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", capture)
        statement, parameters = next(item for item in seen if "FROM messages" in item[0])

        assert "ix_messages_account_id" in plan(path, statement, parameters)  # no statistics: the account's index
        await runtime.db.refresh_statistics()
        assert "ix_messages_account_id" not in plan(path, statement, parameters)
        assert "(inbox_id=? AND provider_message_id=?)" in plan(path, statement, parameters)
    finally:
        await runtime.aclose()


async def test_the_sweeper_refreshes_statistics_when_it_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = build_runtime(Settings(env="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db", var_dir=tmp_path))
    refreshed = asyncio.Event()

    async def refresh() -> None:
        refreshed.set()

    monkeypatch.setattr(runtime.db, "refresh_statistics", refresh)
    sweeper = asyncio.create_task(run_sweeper(runtime))
    try:
        await asyncio.wait_for(refreshed.wait(), 2)
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        await runtime.aclose()
