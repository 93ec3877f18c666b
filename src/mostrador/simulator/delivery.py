"""Signed webhook delivery to the callback, Meta-like: retries with backoff, plus fault switches."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx

from .config import Behaviours
from .state import DeliveryAttempt, SimClock, WebhookDelivery

JSON = dict[str, Any]


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: JSON) -> bytes:
    """Meta's bytes: compact-ish JSON with non-ASCII escaped as \\uXXXX."""
    return json.dumps(payload, ensure_ascii=True).encode()


class WorkTracker:
    """Counts outstanding units of work (status sequences, deliveries, reviews) so tests can ``drain()``."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    def add(self, n: int = 1) -> None:
        self._count += n
        self._idle.clear()

    def done(self, n: int = 1) -> None:
        self._count = max(0, self._count - n)
        if self._count == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        while self._count:
            await self._idle.wait()


class WebhookDispatcher:
    """Queues webhooks per partition key (keeps per-user order), posts them signed, retries with backoff."""

    def __init__(
        self,
        *,
        callback_url: Callable[[], str],
        app_secret: str,
        behaviours: Callable[[], Behaviours],
        clock: SimClock,
        rng: random.Random,
        tracker: WorkTracker,
        log: list[WebhookDelivery],
        transport: httpx.AsyncBaseTransport | None = None,
        on_change: Callable[[], None] | None = None,
        max_log: int = 20000,
    ) -> None:
        self._callback_url = callback_url
        self._app_secret = app_secret
        self._behaviours = behaviours
        self._clock = clock
        self._rng = rng
        self._tracker = tracker
        self.log = log
        self._transport = transport
        self._on_change = on_change or (lambda: None)
        self._max_log = max_log
        self._queues: list[asyncio.Queue[WebhookDelivery]] = []
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._closing = False
        self._next_id = 0
        self.by_id: dict[int, WebhookDelivery] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self.start()
        assert self._client is not None
        return self._client

    @property
    def running(self) -> bool:
        return bool(self._workers)

    def start(self) -> None:
        if self._workers:
            return
        b = self._behaviours()
        if self._transport is not None:
            self._client = httpx.AsyncClient(transport=self._transport)
        else:
            self._client = httpx.AsyncClient()
        self._queues = [asyncio.Queue() for _ in range(b.delivery_concurrency)]
        self._workers = [
            asyncio.create_task(self._worker(q), name=f"sim-webhook-{i}") for i, q in enumerate(self._queues)
        ]

    async def aclose(self) -> None:
        self._closing = True
        tasks = [*self._workers, *self._timers]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
        self._workers.clear()
        self._timers.clear()
        # whatever was still queued will never be delivered
        for q in self._queues:
            while not q.empty():
                q.get_nowait()
                self._tracker.done()
        self._queues = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._closing = False

    def clear(self) -> None:
        self.log.clear()
        self.by_id.clear()

    # ------------------------------------------------------------------ enqueue

    def _record(self, field: str, summary: str, body: bytes, duplicate_of: int | None = None) -> WebhookDelivery:
        self._next_id += 1
        d = WebhookDelivery(
            id=self._next_id,
            field=field,
            summary=summary,
            body=body,
            signature=sign(body, self._app_secret),
            created_at=self._clock.now(),
            duplicate_of=duplicate_of,
        )
        self.log.append(d)
        self.by_id[d.id] = d
        if len(self.log) > self._max_log:
            old = self.log.pop(0)
            self.by_id.pop(old.id, None)
        return d

    def enqueue(self, field: str, summary: str, payload: JSON, *, key: str = "") -> WebhookDelivery:
        """Queue one webhook. Faults (drop, duplicate) are decided here."""
        b = self._behaviours()
        body = encode(payload)
        d = self._record(field, summary, body)
        if b.drop_rate and self._rng.random() < b.drop_rate:
            d.state = "dropped"
            self._on_change()
            return d
        self._push(d, key)
        if b.duplicate_rate and self._rng.random() < b.duplicate_rate:
            dup = self._record(field, summary + " (duplicate)", body, duplicate_of=d.id)
            self._push(dup, key)
        self._on_change()
        return d

    def _push(self, d: WebhookDelivery, key: str) -> None:
        if not self._queues:
            self.start()
        self._tracker.add()
        d.next_attempt_at = self._clock.now()
        d.key = key
        self._queues[zlib.crc32(key.encode()) % len(self._queues)].put_nowait(d)

    # ------------------------------------------------------------------ workers

    async def _worker(self, queue: asyncio.Queue[WebhookDelivery]) -> None:
        # checks _closing too: an in-process (ASGI) callback may swallow the cancellation
        while not self._closing:
            d = await queue.get()
            try:
                await self._attempt(d)
            except asyncio.CancelledError:
                self._tracker.done()
                raise
            except Exception as exc:  # never let a worker die
                d.attempts.append(
                    DeliveryAttempt(at=self._clock.now(), status_code=None, error=f"internal: {exc!r}", duration_ms=0.0)
                )
                d.state = "failed"
                self._tracker.done()

    async def _attempt(self, d: WebhookDelivery) -> None:
        b = self._behaviours()
        if b.webhook_delay_s:
            await asyncio.sleep(b.webhook_delay_s)
        assert self._client is not None
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            # wait_for also bounds in-process transports, which ignore httpx timeouts
            res = await asyncio.wait_for(
                self._client.post(
                    self._callback_url(),
                    content=d.body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": d.signature,
                        "User-Agent": "facebookexternalua",
                    },
                    timeout=b.callback_timeout_s,
                ),
                b.callback_timeout_s,
            )
            status_code = res.status_code
            if status_code != 200:
                error = f"HTTP {status_code}"
        except (httpx.TimeoutException, TimeoutError):
            error = "timeout"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        d.attempts.append(
            DeliveryAttempt(
                at=self._clock.now(),
                status_code=status_code,
                error=error,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        )
        if error is None:
            d.state = "delivered"
            d.next_attempt_at = None
            self._tracker.done()
            self._on_change()
            return
        if len(d.attempts) >= b.retry_max_attempts:
            d.state = "failed"
            d.next_attempt_at = None
            self._tracker.done()
            self._on_change()
            return
        delay = min(b.retry_max_backoff_s, b.retry_backoff_s * b.retry_backoff_factor ** (len(d.attempts) - 1))
        d.next_attempt_at = self._clock.now() + delay
        timer = asyncio.create_task(self._retry_later(d, delay))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def _retry_later(self, d: WebhookDelivery, delay: float) -> None:
        await asyncio.sleep(delay)
        if not self._queues:
            return
        self._queues[zlib.crc32(d.key.encode()) % len(self._queues)].put_nowait(d)
