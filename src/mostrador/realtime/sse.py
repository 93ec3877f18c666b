"""``GET /events``: the signed-in agent's live stream (Server-Sent Events) of their account's realtime events.

Events come from ``runtime.pubsub`` (in memory in embedded mode, Redis across ``serve`` processes), so an event
published by any process reaches every agent's browser. Each is sent as ``event: rt`` with the JSON message as
data; the page's JS decides what to refresh. A stream lives at most ``MAX_LIFETIME_S``: then it sends
``event: reconnect`` and closes, and the browser reconnects (re-authenticating and re-subscribing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from mostrador.realtime.events import account_channel
from mostrador.realtime.pubsub import PubSub
from mostrador.web.deps import CurrentAgent, ui_router

router = ui_router()

MAX_LIFETIME_S = 600.0
PING_S = 15
POLL_S = 1.0
RETRY_MS = 2000
BATCH = 200
# Only these go to browsers; anything else on the channel stays on the server.
FORWARDED_TYPES = frozenset(
    {
        "message.created",
        "message.status",
        "message.updated",
        "conversation.created",
        "conversation.updated",
        "contact.updated",
        "typing",
    }
)
FORWARDED_KEYS = (
    "type",
    "conversation_id",
    "message_id",
    "what",
    "status",
    "assignee_id",
    "direction",
    "user_id",
    "name",
    "ttl",
    "contact_id",
    "version",
)


def browser_payload(message: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a realtime message a browser may see (small, no content), or None to drop it."""
    if message.get("type") not in FORWARDED_TYPES:
        return None
    return {key: message[key] for key in FORWARDED_KEYS if key in message}


async def event_batches(
    pubsub: PubSub,
    account_id: int,
    *,
    is_disconnected: Callable[[], Awaitable[bool]],
    max_lifetime_s: float = MAX_LIFETIME_S,
    poll_s: float = POLL_S,
    subscribed: asyncio.Event | None = None,
) -> AsyncGenerator[list[ServerSentEvent]]:
    """Yield one account's SSE events until the client leaves or the lifetime ends (then ``reconnect``): each
    time, every event already waiting (at most ``BATCH``), so a busy account's events go out in one write."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
    ready = subscribed or asyncio.Event()

    async def pump() -> None:
        subscription = pubsub.subscribe(account_channel(account_id))
        first = asyncio.ensure_future(anext(subscription))
        # The subscription is registered once the generator first runs; give it that turn, then report ready.
        await asyncio.sleep(0)
        ready.set()
        try:
            message = await first
            while True:
                with contextlib.suppress(asyncio.QueueFull):  # a stuck browser loses events, not the server
                    inbox.put_nowait(message)
                message = await anext(subscription)
        finally:
            await subscription.aclose()  # type: ignore[attr-defined]

    task = asyncio.create_task(pump(), name=f"sse-pump-{account_id}")
    deadline = time.monotonic() + max_lifetime_s
    try:
        yield [ServerSentEvent(data="", event="ready", retry=RETRY_MS)]
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                yield [ServerSentEvent(data="", event="reconnect")]
                return
            if task.done():
                return  # the subscription ended (pub/sub closed): the browser reconnects
            try:
                message = await asyncio.wait_for(inbox.get(), timeout=min(poll_s, remaining))
            except TimeoutError:
                if await is_disconnected():
                    return
                continue
            messages = [message]
            while len(messages) < BATCH and not inbox.empty():
                messages.append(inbox.get_nowait())
            payloads = [payload for payload in map(browser_payload, messages) if payload is not None]
            if payloads:
                yield [
                    ServerSentEvent(data=json.dumps(payload, separators=(",", ":")), event="rt") for payload in payloads
                ]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _joined(batches: AsyncGenerator[list[ServerSentEvent]]) -> AsyncIterator[bytes]:
    # One body chunk per batch: each chunk passes the middleware stack and the socket once (at 900 events/s, one
    # agent's stream took a fifth of the serve process's CPU one event at a time).
    async with contextlib.aclosing(batches):  # its pump unsubscribes when the browser leaves
        async for batch in batches:
            yield b"".join(event.encode() for event in batch)


@router.get("/events", response_model=None)
async def events(request: Request, user: CurrentAgent) -> EventSourceResponse:
    runtime = request.app.state.runtime
    batches = event_batches(
        runtime.pubsub, user.account_id, is_disconnected=request.is_disconnected, max_lifetime_s=MAX_LIFETIME_S
    )
    return EventSourceResponse(
        _joined(batches),
        ping=PING_S,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
