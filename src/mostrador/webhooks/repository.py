from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from mostrador.kit.db.upsert import insert_ignore
from mostrador.kit.repository import RepositoryBase
from mostrador.kit.time import utc_now
from mostrador.models import ChannelKind, WebhookEvent, WebhookEventState


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

    async def insert_many_if_new(self, kind: ChannelKind, items: Sequence[tuple[str, str]]) -> dict[str, int]:
        """Insert (provider_key, body) pairs in one round trip; returns the ids of the rows that were new."""
        now = utc_now()
        rows = [
            {
                "channel_kind": kind,
                "provider_key": key,
                "body": body,
                "state": WebhookEventState.received,
                "attempts": 0,
                "event_count": 0,
                "received_at": now,
            }
            for key, body in items
        ]
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # One cached statement executed for many rows ("insertmanyvalues"): no per-batch SQL compilation.
        statement = (
            insert(WebhookEvent)
            .on_conflict_do_nothing(index_elements=["channel_kind", "provider_key"])
            .returning(WebhookEvent.id, WebhookEvent.provider_key)
        )
        result = await self.session.execute(statement, rows)
        return {str(key): int(event_id) for event_id, key in result.all()}

    async def get_for_update(self, event_id: int) -> WebhookEvent | None:
        return await self.one_or_none(select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update())

    async def lock_waiting(self, event_ids: Sequence[int]) -> list[WebhookEvent]:
        """The rows still waiting, locked; rows another job holds are skipped (that job applies them)."""
        statement = (
            select(WebhookEvent)
            .where(WebhookEvent.id.in_(list(event_ids)), WebhookEvent.state == WebhookEventState.received)
            .order_by(WebhookEvent.id)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.execute(statement)).scalars())

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
