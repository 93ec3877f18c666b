"""The wiring chosen at start-up from settings. Domain code receives it; it never asks which mode it is in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from mostrador.config import Settings
from mostrador.db import Database
from mostrador.kit.asgi import TrafficGauge
from mostrador.kit.ratelimit import PairRateLimiter, RateLimitStore, ThroughputLimiter, build_rate_limit_store
from mostrador.logging import get_logger
from mostrador.media.store import LocalMediaStore, MediaStore
from mostrador.realtime.events import RealtimeEvent, drop_pending_events, take_pending_events
from mostrador.realtime.pubsub import MemoryPubSub, PubSub, RedisPubSub
from mostrador.tasks import import_all_tasks
from mostrador.worker.backends import DramatiqJobBackend, InProcessJobBackend, JobBackend
from mostrador.worker.dramatiq_app import build_broker
from mostrador.worker.enqueue import PendingJob, drop_pending_jobs, take_pending_jobs

log = get_logger(__name__)


@dataclass(eq=False)
class Runtime:
    settings: Settings
    db: Database
    pubsub: PubSub
    media: MediaStore
    throughput: ThroughputLimiter
    pair_rate: PairRateLimiter
    rate_limits: RateLimitStore
    jobs: JobBackend = field(init=False)
    traffic: TrafficGauge = field(default_factory=TrafficGauge)
    redis: Redis | None = None
    # Tests and the demo route Graph API calls in-process (e.g. to the simulator).
    graph_transport: httpx.AsyncBaseTransport | None = None

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = False, priority: int = 0) -> AsyncIterator[AsyncSession]:
        """Commit on success; only then send the jobs and events the work collected.

        ``write=True`` marks background writers (jobs, the webhook group commit): on SQLite they take turns,
        holding the turn until their commit only (sending jobs and events afterwards needs no turn), lowest
        ``priority`` first (a job passes its queue's).
        """
        async with self.db.writer_turn(priority) if write else nullcontext(), self.db.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                drop_pending_jobs(session)
                drop_pending_events(session)
                await session.rollback()
                raise
            jobs = take_pending_jobs(session)
            events = take_pending_events(session)
        await self.after_commit(jobs, events)

    async def after_commit(self, jobs: list[PendingJob], events: list[RealtimeEvent]) -> None:
        # The rows are committed: a failure here only delays work (the sweeper re-rings), never loses it.
        if jobs:
            try:
                await self.jobs.send(jobs)
            except Exception as error:
                log.warning("jobs.send_failed", count=len(jobs), error=repr(error))
        if events:
            try:
                await self.pubsub.publish_many(
                    [(event.channel, {"type": event.type, **event.data}) for event in events]
                )
            except Exception as error:
                log.warning("realtime.publish_failed", count=len(events), error=repr(error))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def graph_http_client(self, timeout: float = 20.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.graph_transport, timeout=timeout)

    async def start(self) -> None:
        await self.jobs.start()

    async def aclose(self) -> None:
        await self.jobs.aclose()
        await self.pubsub.aclose()
        await self.rate_limits.aclose()
        await self.db.dispose()


def build_runtime(settings: Settings, *, graph_transport: httpx.AsyncBaseTransport | None = None) -> Runtime:
    import_all_tasks()  # both runners must know every actor
    db = Database.from_settings(settings)
    media = LocalMediaStore(settings.resolved_media_dir)
    store = build_rate_limit_store(settings.redis_url, prefix=f"{settings.queue_namespace}:rl:")
    throughput = ThroughputLimiter(store, tier_per_s=settings.wa_throughput_mps)
    pair_rate = PairRateLimiter(store, interval_s=settings.wa_pair_rate_interval_s)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    runtime = Runtime(
        settings=settings,
        db=db,
        pubsub=RedisPubSub(redis, prefix=f"{settings.queue_namespace}:rt:") if redis else MemoryPubSub(),
        media=media,
        throughput=throughput,
        pair_rate=pair_rate,
        rate_limits=store,
        redis=redis,
        graph_transport=graph_transport,
    )
    if settings.redis_url:
        runtime.jobs = DramatiqJobBackend(build_broker(settings.redis_url, namespace=settings.queue_namespace))
    else:
        runtime.jobs = InProcessJobBackend(
            lambda: runtime,
            concurrency=settings.worker_concurrency,
            writer_concurrency=settings.worker_writers,
            yield_to=runtime.traffic,
            busy_share=settings.worker_busy_share,
            live_share=settings.worker_live_share,
        )
    return runtime
