"""Distributed mode for real: the web app enqueues to Redis, a separate `mostrador worker` process does the work."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from dbutil import truncate
from factories import make_world
from mostrador.app import create_app
from mostrador.channels.whatsapp.signature import sign
from mostrador.config import Settings
from mostrador.kit.time import utc_now
from mostrador.models import ChannelKind, Message, WebhookEvent, WebhookEventState
from mostrador.runtime import Runtime, build_runtime
from mostrador.worker.backends import DramatiqJobBackend
from testenv import APP_SECRET, REDIS_URL, VERIFY_TOKEN

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
MOSTRADOR = Path(sys.executable).with_name("mostrador")


def require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is required at {REDIS_URL}: {error!r}", pytrace=False)


@pytest.fixture
def namespace() -> str:
    return f"mostrador-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def distributed_settings(postgres_url: str, namespace: str, tmp_path: Path) -> Settings:
    require_redis()
    return Settings(
        env="test",
        database_url=postgres_url,
        redis_url=REDIS_URL,
        queue_namespace=namespace,
        var_dir=tmp_path,
        secret_key="test-secret-key",
        wa_app_secret=APP_SECRET,
        wa_verify_token=VERIFY_TOKEN,
        wa_graph_url="http://127.0.0.1:9",
        sweeper_interval_s=0.5,
        sweeper_stale_after_s=1.0,
    )


@pytest.fixture
def worker_process(distributed_settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "MOSTRADOR_DATABASE_URL": distributed_settings.resolved_database_url,
        "MOSTRADOR_REDIS_URL": REDIS_URL,
        "MOSTRADOR_QUEUE_NAMESPACE": distributed_settings.queue_namespace,
        "MOSTRADOR_SECRET_KEY": "test-secret-key",
        "MOSTRADOR_WA_APP_SECRET": APP_SECRET,
        "MOSTRADOR_VAR_DIR": str(distributed_settings.var_dir),
        "MOSTRADOR_SWEEPER_INTERVAL_S": "0.5",
        "MOSTRADOR_SWEEPER_STALE_AFTER_S": "1",
    }
    process = subprocess.Popen([str(MOSTRADOR), "worker", "--threads", "2"], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline().decode()
        if "worker ready" in line:
            break
        if process.poll() is not None:
            pytest.fail(f"worker exited: {line}{process.stderr.read().decode()}")
    else:
        pytest.fail("worker did not become ready in 30 s")
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
async def distributed_runtime(distributed_settings: Settings) -> AsyncIterator[Runtime]:
    runtime = build_runtime(distributed_settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await truncate(runtime)
        await runtime.aclose()


async def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    pytest.fail("condition not met in time")


def webhook(wamid: str) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "34910000000",
                                    "phone_number_id": "106540352242922",
                                },
                                "contacts": [{"profile": {"name": "Lucas Pereyra"}, "wa_id": "5491122334455"}],
                                "messages": [
                                    {
                                        "from": "5491122334455",
                                        "id": wamid,
                                        "timestamp": "1763880000",
                                        "type": "text",
                                        "text": {"body": "Hola, ¿hacen envíos a Córdoba?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


async def test_webhook_job_runs_in_a_separate_worker_process(
    distributed_runtime: Runtime, distributed_settings: Settings, worker_process: subprocess.Popen[bytes]
) -> None:
    assert isinstance(distributed_runtime.jobs, DramatiqJobBackend)
    world = await make_world(distributed_runtime)
    app = create_app(distributed_settings, runtime=distributed_runtime)
    events = distributed_runtime.pubsub.subscribe(f"account:{world.account.id}")
    first_event = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.3)  # let the subscription register
    body = webhook("wamid.distributed")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post(
            "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)}
        )
    assert response.status_code == 200

    async def recorded() -> bool:
        async with distributed_runtime.unit_of_work() as session:
            return (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 1

    await wait_for(recorded)
    event = await asyncio.wait_for(first_event, 10)
    assert event["type"] in ("conversation.created", "message.created")
    await events.aclose()


async def test_lost_queue_message_is_picked_up_by_the_sweeper(
    distributed_runtime: Runtime, worker_process: subprocess.Popen[bytes]
) -> None:
    await make_world(distributed_runtime)
    body = webhook("wamid.lost")
    async with distributed_runtime.unit_of_work() as session:
        # Stored, but its doorbell never rang (e.g. Redis was down right after the commit).
        session.add(
            WebhookEvent(
                channel_kind=ChannelKind.WHATSAPP,
                provider_key=uuid.uuid4().hex,
                body=body.decode(),
                received_at=utc_now() - timedelta(seconds=5),
            )
        )

    async def handled() -> bool:
        async with distributed_runtime.unit_of_work() as session:
            event = (await session.execute(select(WebhookEvent))).scalar_one()
            return event.state is WebhookEventState.handled

    await wait_for(handled)
    async with distributed_runtime.unit_of_work() as session:
        assert (await session.execute(select(Message.provider_message_id))).scalar_one() == "wamid.lost"
