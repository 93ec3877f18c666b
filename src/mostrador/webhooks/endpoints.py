"""``GET|POST /webhooks/whatsapp``: verify, store durably, acknowledge; processing happens in a job."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from mostrador.auth.dependencies import RuntimeDep
from mostrador.channels.base import SignatureMissing
from mostrador.channels.whatsapp.signature import (
    SIGNATURE_HEADER,
    SignatureInvalid,
    SubscriptionRejected,
    verify_signature,
    verify_subscription,
)
from mostrador.exceptions import BadRequest, Forbidden, MostradorError, PayloadTooLarge, Unauthorized
from mostrador.logging import get_logger
from mostrador.models import ChannelKind
from mostrador.runtime import Runtime
from mostrador.webhooks.service import webhook_intake

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = get_logger(__name__)


@router.get("/whatsapp", response_class=PlainTextResponse)
async def verify_whatsapp(
    runtime: RuntimeDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    """Meta's subscription handshake: echo ``hub.challenge`` when the verify token matches."""
    try:
        echoed = verify_subscription(mode, token, challenge, runtime.settings.wa_verify_token)
    except SubscriptionRejected:
        return PlainTextResponse("Forbidden", status_code=403)
    return PlainTextResponse(echoed)


WEBHOOK_PATH = "/webhooks/whatsapp"
ANSWERS = {status: json.dumps({"status": status}).encode() for status in ("stored", "duplicate")}


class WhatsAppWebhookLane:
    """``POST /webhooks/whatsapp`` as plain ASGI in front of the whole app (see ``MostradorApp``): Meta's traffic
    is the hottest path we have (≈3× our outbound rate), so it skips routing, middleware and dependency
    resolution. Verify, store durably, acknowledge.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @staticmethod
    def takes(scope: Scope) -> bool:
        return bool(scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        payload: dict[str, object]
        self.runtime.traffic.in_flight += 1
        try:
            status, payload = 200, dict(await self._handle(scope, receive))
        except MostradorError as error:
            status, payload = error.status_code, {"error": {"code": error.code, "message": error.message}}
        except Exception as error:  # storage down: Meta retries a 5xx for up to 7 days, nothing is lost
            log.error("webhook.store_failed", error=repr(error))
            status, payload = 503, {"error": {"code": "storage_unavailable", "message": "try again later"}}
        finally:
            self.runtime.traffic.in_flight -= 1
        body = ANSWERS.get(str(payload.get("status"))) or json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive) -> dict[str, str]:
        settings = self.runtime.settings
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        body = await read_limited_body(headers.get("content-length"), receive, settings.wa_webhook_max_bytes)
        try:
            verify_signature(body, headers.get(SIGNATURE_HEADER.lower()), settings.wa_app_secret)
        except SignatureMissing:
            raise Unauthorized("missing X-Hub-Signature-256 header", code="signature_missing") from None
        except SignatureInvalid:
            raise Forbidden("X-Hub-Signature-256 does not match the body", code="signature_invalid") from None
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest("the body is not JSON", code="invalid_json") from None
        if not isinstance(payload, dict):
            raise BadRequest("the body is not a JSON object", code="invalid_json")
        stored = await webhook_intake.store(self.runtime, ChannelKind.WHATSAPP, body, urgent=carries_messages(payload))
        return {"status": "stored" if stored else "duplicate"}


def carries_messages(payload: dict[str, object]) -> bool:
    """Whether a customer wrote (vs. only delivery receipts): their words are processed before any tick."""
    entries = payload.get("entry")
    if not isinstance(entries, list):
        return True  # unknown shapes take the urgent path, where they are stored and marked
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or "statuses" not in value or value.get("messages"):
                return True
    return False


async def read_limited_body(declared: str | None, receive: Receive, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"webhook body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("client disconnected", code="disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"webhook body larger than {limit} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)
