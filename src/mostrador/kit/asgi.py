"""Pure ASGI middleware (no per-request task or body buffering, so SSE streams and uploads pass through)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mostrador.logging import correlation_id, new_correlation_id


class TrafficGauge:
    """How busy the HTTP side is right now; the embedded job runner yields to live requests when it is."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.last_request_at = 0.0

    def busy(self, within_s: float = 0.05) -> bool:
        return self.in_flight > 0 or time.monotonic() - self.last_request_at < within_s


class RequestContextMiddleware:
    """Correlation id per request (``X-Request-Id`` in and out) and the traffic gauge."""

    def __init__(self, app: ASGIApp, gauge: TrafficGauge) -> None:
        self.app = app
        self.gauge = gauge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        cid = (incoming or new_correlation_id())[:64]
        token = correlation_id.set(cid)
        self.gauge.in_flight += 1
        self.gauge.last_request_at = time.monotonic()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", cid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.gauge.in_flight -= 1
            self.gauge.last_request_at = time.monotonic()
            correlation_id.reset(token)
