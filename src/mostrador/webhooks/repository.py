from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Row, Select, select, update
from sqlalchemy.engine import Dialect

from mostrador.db import Database
from mostrador.kit.db.upsert import insert_ignore
from mostrador.kit.repository import RepositoryBase
from mostrador.kit.time import utc_now
from mostrador.kit.writer_turns import INTAKE
from mostrador.logging import get_logger
from mostrador.models import ChannelKind, WebhookEvent, WebhookEventState

log = get_logger(__name__)
_Ts = TypeVarTuple("_Ts")


class WebhookEventRepository(RepositoryBase[WebhookEvent]):
    model = WebhookEvent

    async def insert_if_new(self, kind: ChannelKind, provider_key: str, body: str) -> int | None:
        return await insert_ignore(
            self.session,
            WebhookEvent.__table__,  # type: ignore[arg-type]
            {
                "channel_kind": kind,
                "provider_key": provider_key,
                "body": body,
                "state": WebhookEventState.received,
                "attempts": 0,
                "event_count": 0,
                "received_at": utc_now(),
            },
            ["channel_kind", "provider_key"],
        )

    async def get_for_update(self, event_id: int) -> WebhookEvent | None:
        return await self.one_or_none(select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update())

    async def lock_waiting(self, event_ids: Sequence[int]) -> list[WebhookEvent]:
        """The rows still waiting, locked; rows another job holds are skipped (that job applies them)."""
        return list((await self.session.execute(self._waiting(select(WebhookEvent), event_ids))).scalars())

    async def lock_waiting_bodies(self, event_ids: Sequence[int]) -> list[Row[int, str]]:
        """``lock_waiting`` for the batch path: only ids and bodies, no entities to build and track."""
        statement = self._waiting(select(WebhookEvent.id, WebhookEvent.body), event_ids)
        return list((await self.session.execute(statement)).all())

    def _waiting(self, statement: Select[*_Ts], event_ids: Sequence[int]) -> Select[*_Ts]:
        return (
            statement.where(self.one_of(WebhookEvent.id, event_ids), WebhookEvent.state == WebhookEventState.received)
            .order_by(WebhookEvent.id)
            .with_for_update(skip_locked=True)
        )

    async def mark_handled(self, event_ids: Sequence[int], *, account_id: int, event_count: int, at: datetime) -> None:
        """One UPDATE for rows that end alike (a batch's bodies of one account, with as many events each)."""
        await self.session.execute(
            update(WebhookEvent)
            .where(self.one_of(WebhookEvent.id, event_ids))
            .values(
                state=WebhookEventState.handled,
                attempts=WebhookEvent.attempts + 1,
                account_id=account_id,
                event_count=event_count,
                last_error=None,
                handled_at=at,
            )
            .execution_options(synchronize_session=False)
        )

    async def waiting_since(self, before: datetime, limit: int = 500) -> Sequence[int]:
        statement = (
            select(WebhookEvent.id)
            .where(WebhookEvent.state == WebhookEventState.received, WebhookEvent.received_at < before)
            .order_by(WebhookEvent.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def ids_for_replay(self, since: datetime | None, states: Sequence[WebhookEventState]) -> list[int]:
        statement = select(WebhookEvent.id).where(WebhookEvent.state.in_(list(states))).order_by(WebhookEvent.id)
        if since is not None:
            statement = statement.where(WebhookEvent.received_at >= since)
        return list((await self.session.execute(statement)).scalars())


_POSTGRES_INSERT = (
    "INSERT INTO webhook_events (channel_kind, provider_key, body, state, attempts, event_count, received_at) "
    "SELECT {channel_kind}, k, b, {state}, 0, 0, $1 FROM unnest($2::varchar[], $3::text[]) AS t(k, b) "
    "ON CONFLICT (channel_kind, provider_key) DO NOTHING RETURNING id, provider_key"
)
_SQLITE_INSERT = (
    "INSERT INTO webhook_events (channel_kind, state, attempts, event_count, provider_key, body, received_at) "
    "VALUES {values} ON CONFLICT (channel_kind, provider_key) DO NOTHING RETURNING id, provider_key"
)


@functools.lru_cache(maxsize=16)  # one entry per engine's dialect and channel
def _statement_parts(dialect: Dialect, kind: ChannelKind) -> tuple[dict[str, str], Callable[[datetime], object]]:
    """Enum values as SQL literals, and how the column type binds a timestamp (the ORM's own encoding); the same
    for every batch, so worked out once."""
    columns = WebhookEvent.__table__.c

    def processor(column: str) -> Callable[[object], object]:
        process = columns[column].type.dialect_impl(dialect).bind_processor(dialect)
        return process if process is not None else lambda value: value

    def literal(column: str, value: object) -> str:
        text = str(processor(column)(value))
        if not text.replace("_", "").isalnum():
            raise ValueError(f"unexpected enum value {text!r}")
        return f"'{text}'"

    literals = {"channel_kind": literal("channel_kind", kind), "state": literal("state", WebhookEventState.received)}
    return literals, processor("received_at")


async def insert_many_if_new(db: Database, kind: ChannelKind, items: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Store (provider_key, body) pairs in one statement, committed on return; the ids of the rows that were new.

    Hand-written SQL on a dedicated connection on purpose: this runs for every webhook delivery we receive, and
    going through the ORM session cost more than the database's own work (bench/intake.py).
    """
    if not items:
        return {}
    try:
        return await _insert_many(db, kind, items)
    except Exception as error:
        # A dedicated connection the server closed meanwhile (restart, idle timeout) is dropped by ``driver()``;
        # one more try on a fresh one. The insert is idempotent: rows the first try did commit come back as
        # duplicates and wait for the sweeper's doorbell instead of ringing now.
        log.warning("webhooks.intake_retry", error=repr(error))
        return await _insert_many(db, kind, items)


async def _insert_many(db: Database, kind: ChannelKind, items: Sequence[tuple[str, str]]) -> dict[str, int]:
    literals, bind_time = _statement_parts(db.engine.dialect, kind)
    received_at = bind_time(utc_now())
    async with db.intake.driver() as driver:
        if db.engine.dialect.name == "postgresql":
            # One statement text whatever the batch size, so the driver prepares it once.
            rows = await driver.fetch(
                _POSTGRES_INSERT.format(**literals),
                received_at,
                [key for key, _body in items],
                [body for _key, body in items],
            )
        else:
            row = "({channel_kind}, {state}, 0, 0, ?, ?, ?)".format(**literals)
            parameters = [value for key, body in items for value in (key, body, received_at)]
            async with db.writer_turn(INTAKE):  # a webhook sender waits for this commit: before any job
                await driver.execute("BEGIN IMMEDIATE")  # the write lock, without waiting when we hold the turn
                rows = await driver.execute_fetchall(
                    _SQLITE_INSERT.format(values=", ".join([row] * len(items))), parameters
                )
                await driver.commit()
    return {str(found[1]): int(found[0]) for found in rows}
