"""One interface, two transports: in-memory (embedded) and Redis pub/sub (several ``serve`` processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from redis.asyncio import Redis

Message = dict[str, Any]


class PubSub(Protocol):
    async def publish(self, channel: str, message: Message) -> None: ...

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        """In order; what one unit of work announces (a receipts job: one per status it applied)."""

    def subscribe(self, channel: str) -> AsyncIterator[Message]: ...

    async def aclose(self) -> None: ...


class MemoryPubSub:
    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self._max_queue = max_queue

    async def publish(self, channel: str, message: Message) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck client loses events, never the publisher
                queue.put_nowait(message)

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)

    async def subscribe(self, channel: str) -> AsyncIterator[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._max_queue)
        self._subscribers[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[channel].discard(queue)

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    async def aclose(self) -> None:
        self._subscribers.clear()


class RedisPubSub:
    def __init__(self, redis: Redis, prefix: str = "mostrador:rt:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def publish(self, channel: str, message: Message) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(message))

    async def publish_many(self, messages: Sequence[tuple[str, Message]]) -> None:
        # One round trip: a receipts job announces a status per message, and a PUBLISH each was a socket write and
        # a wait apiece in the worker.
        pipeline = self._redis.pipeline(transaction=False)
        for channel, message in messages:
            pipeline.publish(self._prefix + channel, json.dumps(message))
        await pipeline.execute()

    async def subscribe(self, channel: str) -> AsyncIterator[Message]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._prefix + channel)
        try:
            while True:
                item = await pubsub.get_message(timeout=1.0)
                if item is None:
                    continue
                data = item.get("data")
                if isinstance(data, bytes | str):
                    yield json.loads(data)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        await self._redis.aclose()
