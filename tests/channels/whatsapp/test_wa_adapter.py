"""WhatsAppAdapter: Protocol conformance, config schema, and the wiring to signature/parse/client."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from mostrador.channels.base import (
    ButtonsBody,
    ChannelAdapter,
    ChannelKind,
    InboundMessage,
    MediaKind,
    OutboundMessage,
    OutboundType,
    Recipient,
    ReplyButton,
    SignatureInvalid,
    SignatureMissing,
    TextBody,
    WebhookShapeError,
)
from mostrador.channels.whatsapp.adapter import WHATSAPP_CAPABILITIES, WhatsAppAdapter, WhatsAppConfig
from mostrador.channels.whatsapp.signature import SubscriptionRejected, sign

SECRET = "shh"


def make_config(**overrides: Any) -> WhatsAppConfig:
    data: dict[str, Any] = {
        "phone_number_id": "106540352242922",
        "waba_id": "102290129340398",
        "access_token": "EAAG-token",
        "verify_token": "verify-me",
    }
    data.update(overrides)
    return WhatsAppConfig.model_validate(data)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/messages") and b'"status"' in request.content:
            return httpx.Response(200, json={"success": True})
        if request.url.path.endswith("/media"):
            return httpx.Response(200, json={"id": "media-1"})
        return httpx.Response(
            200,
            json={"contacts": [{"input": "5491155550000", "wa_id": "5491155550000"}], "messages": [{"id": "wamid.A"}]},
        )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def adapter(recorder: Recorder) -> Any:
    a = WhatsAppAdapter(make_config(), app_secret=SECRET, transport=httpx.MockTransport(recorder))
    yield a
    await a.aclose()


class TestConfig:
    def test_defaults(self) -> None:
        cfg = make_config()
        assert cfg.graph_url == "https://graph.facebook.com"
        assert cfg.api_version == "v26.0"
        assert cfg.app_secret is None
        assert "EAAG-token" not in repr(cfg)

    @pytest.mark.parametrize(("raw", "normalised"), [("v23.0", "v23.0"), ("23", "v23.0"), ("v24", "v24.0")])
    def test_api_version(self, raw: str, normalised: str) -> None:
        assert make_config(api_version=raw).api_version == normalised

    @pytest.mark.parametrize(
        "overrides",
        [
            {"phone_number_id": ""},
            {"graph_url": "ftp://x"},
            {"api_version": "latest"},
            {"unknown_key": 1},
            {"timeout_seconds": 0},
        ],
    )
    def test_invalid(self, overrides: dict[str, Any]) -> None:
        with pytest.raises(ValidationError):
            make_config(**overrides)

    def test_stored_config_without_new_fields_loads_with_meta_defaults(self) -> None:
        stored = {  # what InboxService.create_whatsapp encrypted before auth_header/auth_scheme existed
            "phone_number_id": "106540352242922",
            "waba_id": "102290129340398",
            "access_token": "EAAG-token",
            "graph_url": "https://graph.facebook.com",
            "api_version": "v26.0",
        }
        cfg = WhatsAppConfig.model_validate(stored)
        assert (cfg.auth_header, cfg.auth_scheme, cfg.api_version) == ("Authorization", "Bearer", "v26.0")
        client = WhatsAppAdapter(cfg).client
        assert client.url("1/messages") == "https://graph.facebook.com/v26.0/1/messages"
        assert client._auth == {"Authorization": "Bearer EAAG-token"}

    def test_proxy_fields(self) -> None:
        cfg = make_config(api_version=" ", auth_header=" D360-API-KEY ", auth_scheme="")
        assert (cfg.api_version, cfg.auth_header, cfg.auth_scheme) == ("", "D360-API-KEY", "")
        assert make_config(auth_scheme="Basic").auth_scheme == "Basic"

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("D360 API KEY", "not a valid HTTP header name: ' ' not allowed"),
            ("X-Key:", "not a valid HTTP header name: ':' not allowed"),
            ("Auth\r\nX-Evil: 1", "not a valid HTTP header name"),
            ("", "auth_header is empty"),
            ("Content-Type", "set by the HTTP client itself"),
        ],
    )
    def test_invalid_auth_header(self, header: str, message: str) -> None:
        with pytest.raises(ValidationError) as exc:
            make_config(auth_header=header)
        (error,) = exc.value.errors()
        assert error["loc"] == ("auth_header",)
        assert message in error["msg"]

    def test_invalid_auth_scheme(self) -> None:
        with pytest.raises(ValidationError, match="auth_scheme 'Bearer x' must be one word"):
            make_config(auth_scheme="Bearer x")


class TestAdapterBasics:
    def test_satisfies_protocol(self, adapter: WhatsAppAdapter) -> None:
        assert isinstance(adapter, ChannelAdapter)
        assert adapter.kind is ChannelKind.WHATSAPP
        assert adapter.config_schema is WhatsAppConfig

    def test_capabilities(self, adapter: WhatsAppAdapter) -> None:
        caps = adapter.capabilities
        assert caps is WHATSAPP_CAPABILITIES
        assert caps.reply_window == timedelta(hours=24)
        assert caps.supports_templates and caps.supports_interactive
        assert caps.supports_read_receipts and caps.supports_typing
        assert caps.max_text_length == 4096
        image = caps.media_rule(MediaKind.IMAGE)
        assert image is not None and image.max_bytes == 5 * 1024 * 1024
        assert image.allows("image/jpeg") and not image.allows("image/gif")
        audio = caps.media_rule("audio")
        assert audio is not None and audio.allows("audio/ogg; codecs=opus")
        sticker = caps.media_rule(MediaKind.STICKER)
        assert sticker is not None and sticker.allows("image/webp", 500 * 1024)
        assert not sticker.allows("image/webp", 500 * 1024 + 1)
        assert caps.media_rule("gif") is None
        with pytest.raises(TypeError):
            caps.media_types[MediaKind.IMAGE] = image  # type: ignore[index]


class TestInbound:
    def test_verify_and_parse(self, adapter: WhatsAppAdapter, load_fixture: Any) -> None:
        body = json.dumps(load_fixture("webhook_text.json")).encode()
        adapter.verify_request({"X-Hub-Signature-256": sign(body, SECRET)}, body)
        (event,) = adapter.parse_webhook(body)
        assert isinstance(event, InboundMessage) and event.text == "Body Text"

    def test_verify_failures(self, adapter: WhatsAppAdapter) -> None:
        with pytest.raises(SignatureMissing):
            adapter.verify_request({}, b"{}")
        with pytest.raises(SignatureInvalid):
            adapter.verify_request({"x-hub-signature-256": sign(b"{}", "other")}, b"{}")

    def test_config_secret_overrides_app_secret(self, recorder: Recorder) -> None:
        a = WhatsAppAdapter(make_config(app_secret="per-number"), app_secret=SECRET)
        a.verify_request({"x-hub-signature-256": sign(b"{}", "per-number")}, b"{}")
        with pytest.raises(SignatureInvalid):
            a.verify_request({"x-hub-signature-256": sign(b"{}", SECRET)}, b"{}")

    def test_no_secret_rejects_everything(self) -> None:
        a = WhatsAppAdapter(make_config())
        with pytest.raises(SignatureInvalid):
            a.verify_request({"x-hub-signature-256": sign(b"{}", "")}, b"{}")

    def test_bad_body(self, adapter: WhatsAppAdapter) -> None:
        with pytest.raises(WebhookShapeError):
            adapter.parse_webhook(b"not json")

    def test_subscription(self, adapter: WhatsAppAdapter) -> None:
        params = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
        assert adapter.verify_subscription(params) == "42"
        with pytest.raises(SubscriptionRejected):
            adapter.verify_subscription({**params, "hub.verify_token": "nope"})


class TestOutbound:
    async def test_send_text(self, adapter: WhatsAppAdapter, recorder: Recorder) -> None:
        msg = OutboundMessage(
            to=Recipient(wa_id="5491155550000"),
            body=TextBody("hola"),
            reply_to="wamid.in",
            biz_opaque_callback_data="conv:1",
            idempotency_key="k1",
        )
        assert msg.type is OutboundType.TEXT
        result = await adapter.send(msg)
        assert result.provider_message_id == "wamid.A"
        assert result.recipient_wa_id == "5491155550000"
        request = recorder.requests[-1]
        assert str(request.url) == "https://graph.facebook.com/v26.0/106540352242922/messages"
        assert request.headers["authorization"] == "Bearer EAAG-token"
        assert json.loads(request.content) == {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5491155550000",
            "type": "text",
            "context": {"message_id": "wamid.in"},
            "text": {"body": "hola"},
            "biz_opaque_callback_data": "conv:1",
        }

    async def test_send_buttons_type(self, adapter: WhatsAppAdapter, recorder: Recorder) -> None:
        msg = OutboundMessage(to=Recipient(user_id="user.x"), body=ButtonsBody("b", [ReplyButton("1", "Sí")]))
        assert msg.type is OutboundType.BUTTONS
        await adapter.send(msg)
        body = json.loads(recorder.requests[-1].content)
        assert (body["recipient"], body["type"], body["interactive"]["type"]) == ("user.x", "interactive", "button")

    async def test_mark_read_and_typing(self, adapter: WhatsAppAdapter, recorder: Recorder) -> None:
        await adapter.mark_read("wamid.in")
        await adapter.mark_read("wamid.in", typing=True)
        first, second = (json.loads(r.content) for r in recorder.requests[-2:])
        assert "typing_indicator" not in first
        assert second["typing_indicator"] == {"type": "text"}

    async def test_upload(self, adapter: WhatsAppAdapter, recorder: Recorder) -> None:
        assert await adapter.upload_media(b"%PDF-1.4", "application/pdf", "factura.pdf") == "media-1"
        assert recorder.requests[-1].url.path == "/v26.0/106540352242922/media"

    async def test_proxy_config_reaches_every_request(self, recorder: Recorder) -> None:
        config = make_config(
            graph_url="https://proxy.example", api_version="", auth_header="D360-API-KEY", auth_scheme=""
        )
        async with WhatsAppAdapter(config, transport=httpx.MockTransport(recorder)).client as client:
            await client.send_text("5491155550000", "hola")
            await client.upload_media(b"%PDF-1.4", "application/pdf", "f.pdf")
        send, upload = recorder.requests
        assert str(send.url) == "https://proxy.example/106540352242922/messages"
        assert str(upload.url) == "https://proxy.example/106540352242922/media"
        for request in (send, upload):
            assert request.headers["D360-API-KEY"] == "EAAG-token"
            assert "authorization" not in request.headers

    async def test_fetch_media(self, recorder: Recorder) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.host == "graph.facebook.com":
                return httpx.Response(200, json={"url": "https://lookaside.fbsbx.com/x", "mime_type": "audio/ogg"})
            return httpx.Response(200, content=b"OggS")

        a = WhatsAppAdapter(make_config(), transport=httpx.MockTransport(handler))
        blob = await a.fetch_media("123")
        await a.aclose()
        assert (blob.content, blob.mime_type, blob.filename) == (b"OggS", "audio/ogg", None)
