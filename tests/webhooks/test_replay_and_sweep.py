"""Stored events can be re-processed, and a lost doorbell is re-rung by the sweeper (embedded mode)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from test_whatsapp_intake import post, text_webhook

from factories import make_account, make_inbox
from mostrador.kit.time import utc_now
from mostrador.models import ChannelKind, Message, WebhookEvent, WebhookEventState
from mostrador.runtime import Runtime
from mostrador.webhooks.service import webhook_intake
from mostrador.worker.backends import InProcessJobBackend
from mostrador.worker.sweeper import sweep_once


async def test_unroutable_event_is_replayed_once_the_number_is_connected(
    client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    account = await make_account(runtime)
    await post(client, text_webhook("wamid.early-bird"))
    await jobs.drain()
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(WebhookEvent.state))).scalar_one() is WebhookEventState.unroutable
    await make_inbox(runtime, account)
    result = await webhook_intake.replay(runtime, None, [WebhookEventState.unroutable])
    assert (result.total, result.handled) == (1, 1)
    again = await webhook_intake.replay(runtime, None, list(WebhookEventState))
    assert again.handled == 1
    async with runtime.unit_of_work() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 1


async def test_sweeper_rerings_a_stored_event_whose_job_was_lost(runtime: Runtime, jobs: InProcessJobBackend) -> None:
    account = await make_account(runtime)
    await make_inbox(runtime, account)
    async with runtime.unit_of_work() as session:
        session.add(
            WebhookEvent(
                channel_kind=ChannelKind.WHATSAPP,
                provider_key=uuid.uuid4().hex,
                body=text_webhook("wamid.lost").decode(),
                received_at=utc_now() - timedelta(minutes=2),
            )
        )
        session.add(
            WebhookEvent(
                channel_kind=ChannelKind.WHATSAPP,
                provider_key=uuid.uuid4().hex,
                body=text_webhook("wamid.fresh").decode(),
                received_at=utc_now(),
            )
        )
    counts = await sweep_once(runtime, stale_after_s=30)
    assert counts["webhooks"] == 1  # the fresh one may still have its doorbell in flight
    await jobs.drain()
    async with runtime.unit_of_work() as session:
        ids = set((await session.execute(select(Message.provider_message_id))).scalars())
    assert ids == {"wamid.lost"}
