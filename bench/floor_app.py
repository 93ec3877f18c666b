"""The durable floor: the least any webhook intake that keeps its promise must do, as bare ASGI on the same uvicorn.

Check the signature (HMAC-SHA256), check the body is JSON, commit it (concurrent requests share one
group commit), answer 200. No framework, no ORM, no job queue, no idempotency beyond a unique key. P1 measures
it beside the bare endpoint in the same run: the gap between bare and floor is what durability itself costs on
the machine, the gap between floor and `mostrador serve` is what our code adds.

``FLOOR_DATABASE``: ``postgresql://…`` (asyncpg) or a SQLite file path (WAL, synchronous=FULL as ours).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
from typing import Any

import asyncpg

SECRET = os.environ.get("FLOOR_APP_SECRET", "bench-app-secret").encode()
DATABASE = os.environ.get("FLOOR_DATABASE", "")
TABLE = "CREATE TABLE IF NOT EXISTS floor_events (id {pk}, key text UNIQUE NOT NULL, body text NOT NULL)"


class GroupCommit:
    """Rows submitted while a commit runs go together in the next one; each caller waits for its own."""

    def __init__(self) -> None:
        self._pending: list[tuple[str, str, asyncio.Future[None]]] = []
        self._running: asyncio.Task[None] | None = None
        self._pool: asyncpg.Pool | None = None
        self._sqlite: sqlite3.Connection | None = None

    async def open(self) -> None:
        if DATABASE.startswith("postgresql://"):
            self._pool = await asyncpg.create_pool(DATABASE, min_size=2, max_size=2)
            await self._pool.execute(TABLE.format(pk="bigserial PRIMARY KEY"))
        else:
            self._sqlite = sqlite3.connect(DATABASE, check_same_thread=False, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=5000"):
                self._sqlite.execute(f"PRAGMA {pragma}")
            self._sqlite.execute(TABLE.format(pk="integer PRIMARY KEY"))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()

    async def store(self, key: str, body: str) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, body, done))
        if self._running is None:
            self._running = asyncio.create_task(self._commit_all())
        await done

    async def _commit_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            rows = [(key, body) for key, body, _done in batch]
            try:
                await self._write(rows)
            except Exception as error:  # every waiter learns it
                for _key, _body, done in batch:
                    done.set_exception(error)
            else:
                for _key, _body, done in batch:
                    done.set_result(None)
        self._running = None

    async def _write(self, rows: list[tuple[str, str]]) -> None:
        if self._pool is not None:
            insert = (  # one statement for the whole batch, as ours does
                "INSERT INTO floor_events (key, body) SELECT * FROM unnest($1::text[], $2::text[]) "
                "ON CONFLICT DO NOTHING"
            )
            await self._pool.execute(insert, [key for key, _body in rows], [body for _key, body in rows])
            return
        sqlite = self._sqlite
        assert sqlite is not None

        def write() -> None:
            sqlite.execute("BEGIN IMMEDIATE")
            sqlite.executemany("INSERT INTO floor_events (key, body) VALUES (?, ?) ON CONFLICT DO NOTHING", rows)
            sqlite.execute("COMMIT")

        await asyncio.to_thread(write)


store = GroupCommit()


async def respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await store.open()
                await send({"type": "lifespan.startup.complete"})
            else:
                await store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":  # the harness's health check
        await respond(send, 200, b"{}")
        return
    signature = next((value for name, value in scope["headers"] if name == b"x-hub-signature-256"), b"")
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    expected = b"sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(signature, expected):
        await respond(send, 403, b'{"error":"signature"}')
        return
    try:
        json.loads(body)
    except ValueError:
        await respond(send, 400, b'{"error":"json"}')
        return
    await store.store(hashlib.sha256(body).hexdigest(), body.decode())
    await respond(send, 200, b'{"status":"stored"}')
