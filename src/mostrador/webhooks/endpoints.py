"""``GET|POST /webhooks/whatsapp``: verify, store durably, acknowledge; processing happens in a job."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from mostrador.auth.dependencies import RuntimeDep
from mostrador.channels.base import SignatureMissing
from mostrador.channels.whatsapp.signature import (
    SIGNATURE_HEADER,
    SignatureInvalid,
    SubscriptionRejected,
    verify_signature,
    verify_subscription,
)
from mostrador.exceptions import BadRequest, Forbidden, PayloadTooLarge, Unauthorized
from mostrador.models import ChannelKind
from mostrador.webhooks.service import webhook_intake

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


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


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"webhook body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"webhook body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/whatsapp", responses={400: {}, 401: {}, 403: {}, 413: {}})
async def receive_whatsapp(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Signed notifications. 200 means the body is committed; it is processed asynchronously."""
    settings = runtime.settings
    body = await read_limited_body(request, settings.wa_webhook_max_bytes)
    try:
        verify_signature(body, request.headers.get(SIGNATURE_HEADER), settings.wa_app_secret)
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
    stored = await webhook_intake.store(runtime, ChannelKind.WHATSAPP, body)
    return JSONResponse({"status": "stored" if stored else "duplicate"})
