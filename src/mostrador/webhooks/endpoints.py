"""``GET|POST /webhooks/whatsapp``: verify, store durably, acknowledge; processing happens in a job."""

from __future__ import annotations

import json
from typing import Annotated

import orjson
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
SIGNATURE_NAME = SIGNATURE_HEADER.lower().encode("latin-1")


def _answer(payload: dict[str, object]) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(payload).encode()
    return body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


ANSWERS = {stored: _answer({"status": "stored" if stored else "duplicate"}) for stored in (True, False)}


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
        traffic = self.runtime.traffic
        traffic.in_flight += 1
        try:
            status, (body, headers) = 200, ANSWERS[await self._handle(scope, receive)]
        except MostradorError as error:
            status = error.status_code
            body, headers = _answer({"error": {"code": error.code, "message": error.message}})
        except Exception as error:  # storage down: Meta retries a 5xx for up to 7 days, nothing is lost
            log.error("webhook.store_failed", error=repr(error))
            status = 503
            body, headers = _answer({"error": {"code": "storage_unavailable", "message": "try again later"}})
        finally:
            traffic.in_flight -= 1
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive) -> bool:
        """Whether the body was new (``False``: stored before, a duplicate)."""
        settings = self.runtime.settings
        signature: bytes | None = None
        declared: str | None = None
        for name, value in scope["headers"]:  # ASGI header names are lower-case bytes
            if name == SIGNATURE_NAME:
                signature = value
            elif name == b"content-length":
                declared = value.decode("latin-1")
        body = await read_limited_body(declared, receive, settings.wa_webhook_max_bytes)
        try:
            verify_signature(body, signature, settings.wa_app_secret)
        except SignatureMissing:
            raise Unauthorized("missing X-Hub-Signature-256 header", code="signature_missing") from None
        except SignatureInvalid:
            raise Forbidden("X-Hub-Signature-256 does not match the body", code="signature_invalid") from None
        payload = parse_json(body)
        if not isinstance(payload, dict):
            raise BadRequest("the body is not a JSON object", code="invalid_json")
        return await webhook_intake.store(self.runtime, ChannelKind.WHATSAPP, body, urgent=carries_messages(payload))


def parse_json(body: bytes) -> object:
    """orjson first (a third of the cost of ``json`` on every delivery); what it refuses but ``json`` reads (a lone
    surrogate, a byte-order mark, NaN) is still accepted and stored, so no body becomes a 400 because of the
    parser we picked."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("the body is not JSON", code="invalid_json") from None


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
