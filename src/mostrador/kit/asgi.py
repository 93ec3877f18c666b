"""Pure ASGI middleware (no per-request task or body buffering, so SSE streams and uploads pass through)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mostrador.logging import correlation_id, new_correlation_id


class TrafficGauge:
    """How many webhook deliveries are in flight; the embedded job runner yields to a burst of them.

    Only short requests are counted (the webhook lane), never long-lived ones such as SSE streams, and only a
    burst counts as busy: under a steady trickle the runner works at full speed and keeps up.
    """

    def __init__(self, burst: int = 4) -> None:
        self.in_flight = 0
        self.burst = burst

    def busy(self) -> bool:
        return self.in_flight >= self.burst


class RequestContextMiddleware:
    """Correlation id per request (``X-Request-Id`` in and out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        cid = (incoming or new_correlation_id())[:64]
        token = correlation_id.set(cid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", cid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
