"""GraphClient: request bodies equal the shared send_* fixtures; responses and failures are typed."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from mostrador.channels.base import (
    ChannelPermanentError,
    ChannelRetriableError,
    CurrencyParam,
    DateTimeParam,
    ErrorCategory,
    ListRow,
    ListSection,
    MediaBody,
    MediaKind,
    MediaParam,
    PayloadParam,
    Recipient,
    ReplyButton,
    SendResult,
    TemplateComponent,
    TextParam,
)
from mostrador.channels.whatsapp.client import GraphClient
from mostrador.channels.whatsapp.errors import CODE_CONNECTION, CODE_HTTP, CODE_LOCAL_VALIDATION, CODE_TIMEOUT

PHONE_ID = "106540352242922"
TOKEN = "EAAG-test-token"
TO = "5491155550000"
IMAGE_URL = "https://example.com/image.jpg"
DOC_URL = "https://example.com/document.pdf"
VIDEO_URL = "https://example.com/video.mp4"

SEND_OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": TO, "wa_id": TO}],
    "messages": [{"id": "wamid.OK"}],
}


class Recorder:
    """MockTransport handler: records requests and answers with queued responses (default: SEND_OK)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response | Exception] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.responses:
            answer = self.responses.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return httpx.Response(200, json=SEND_OK)

    @property
    def last_json(self) -> Any:
        return json.loads(self.requests[-1].content)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(recorder: Recorder) -> Any:
    c = GraphClient(
        base_url="https://graph.example.test/",
        api_version="v26.0",
        access_token=TOKEN,
        transport=httpx.MockTransport(recorder),
        phone_number_id=PHONE_ID,
    )
    yield c
    await c.aclose()


# ----------------------------------------------------------------------------------------------
# send_* fixtures
# ----------------------------------------------------------------------------------------------

DATE_TIME_EXTRA = {
    "day_of_week": 5,
    "year": 1977,
    "month": 2,
    "day_of_month": 25,
    "hour": 15,
    "minute": 33,
    "calendar": "GREGORIAN",
}
BODY_PARAMS = TemplateComponent(
    "body",
    (
        TextParam("text-string"),
        CurrencyParam("$100.99", "USD", 100990),
        DateTimeParam("February 25, 1977", extra=DATE_TIME_EXTRA),
    ),
)
IMAGE_HEADER = TemplateComponent("header", (MediaParam(MediaKind.IMAGE, link=IMAGE_URL),))


def set_in(obj: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


CONTACT_CARDS = [
    {
        "addresses": [
            {
                "street": "<ADDRESS_STREET>",
                "city": "<ADDRESS_CITY>",
                "state": "<ADDRESS_STATE>",
                "zip": "<ADDRESS_ZIP>",
                "country": "<ADDRESS_COUNTRY>",
                "country_code": "<ADDRESS_COUNTRY_CODE>",
                "type": "<HOME|WORK>",
            }
        ],
        "birthday": "<CONTACT_BIRTHDAY>",
        "emails": [{"email": "<CONTACT_EMAIL>", "type": "<WORK|HOME>"}],
        "name": {
            "formatted_name": "<CONTACT_FORMATTED_NAME>",
            "first_name": "<CONTACT_FIRST_NAME>",
            "last_name": "<CONTACT_LAST_NAME>",
            "middle_name": "<CONTACT_MIDDLE_NAME>",
            "suffix": "<CONTACT_SUFFIX>",
            "prefix": "<CONTACT_PREFIX>",
        },
        "org": {
            "company": "<CONTACT_ORG_COMPANY>",
            "department": "<CONTACT_ORG_DEPARTMENT>",
            "title": "<CONTACT_ORG_TITLE>",
        },
        "phones": [{"phone": "<CONTACT_PHONE>", "wa_id": "<CONTACT_WA_ID>", "type": "<HOME|WORK>"}],
        "urls": [{"url": "<CONTACT_URL>", "type": "<HOME|WORK>"}],
    }
]


Call = Callable[[GraphClient], Awaitable[SendResult]]

# fixture → (the equivalent client call, placeholder values in the fixture to replace with ours).
# Placeholders such as "http(s)://image-url" or "<LOCATION_LATITUDE>" are not valid values, so the
# call uses a real value and the fixture copy gets the same value before comparing.
SEND_CASES: dict[str, tuple[Call, dict[str, Any]]] = {
    "send_text_request.json": (lambda c: c.send_text(TO, "text-message-content"), {}),
    "send_text_preview_url_request.json": (
        lambda c: c.send_text(TO, "Please visit https://youtu.be/hpltvTEiRrY to inspire your day!", preview_url=True),
        {},
    ),
    "send_text_reply_context_request.json": (
        lambda c: c.send_text(TO, "<YOUR-MESSAGE-CONTENT>", preview_url=False, reply_to="<WAMID.ID>"),
        {},
    ),
    "send_image_by_id_request.json": (lambda c: c.send_media("image", TO, media_id="<image-object-id>"), {}),
    "send_image_by_link_request.json": (
        lambda c: c.send_media("image", TO, link=IMAGE_URL),
        {"image.link": IMAGE_URL},
    ),
    "send_audio_by_id_request.json": (lambda c: c.send_media("audio", TO, media_id="<media-object-id>"), {}),
    "send_sticker_by_id_request.json": (
        lambda c: c.send_media(MediaKind.STICKER, TO, media_id="<media-object-id>"),
        {},
    ),
    "send_document_by_id_request.json": (
        lambda c: c.send_media(
            "document",
            TO,
            media_id="<your-media-id>",
            caption="<your-document-caption-to-be-sent>",
            filename="<your-document-filename>",
        ),
        {},
    ),
    "send_document_by_link_request.json": (
        lambda c: c.send_media("document", TO, link=DOC_URL, caption="<your-document-caption-to-be-sent>"),
        {"document.link": DOC_URL},
    ),
    "send_video_by_link_request.json": (
        lambda c: c.send_media("video", TO, link=VIDEO_URL, caption="<Message Caption>"),
        {"video.link": VIDEO_URL},
    ),
    "send_location_request.json": (
        lambda c: c.send_location(TO, -34.6037, -58.3816, name="<LOCATION_NAME>", address="<LOCATION_ADDRESS>"),
        {"location.latitude": -34.6037, "location.longitude": -58.3816},
    ),
    "send_contacts_request.json": (
        lambda c: c.send_contacts(TO, CONTACT_CARDS),
        {},
    ),
    "send_interactive_button_request.json": (
        lambda c: c.send_interactive_buttons(
            TO, "Are you hungry?", [ReplyButton("unique-id-123", "Yes"), ReplyButton("unique-id-456", "No")]
        ),
        {},
    ),
    "send_interactive_list_request.json": (
        lambda c: c.send_interactive_list(
            TO,
            "<List Body Message>",
            "Send",
            [
                ListSection(
                    "<List Category Item>",
                    [ListRow("a1", "<Item Title>", "<Item Description>")] * 1
                    + [ListRow("a2", "<Item Title>", "<Item Description>")],
                ),
                ListSection(
                    "<List Item>",
                    [
                        ListRow("b1", "<Item Title>", "<Item Description>"),
                        ListRow("b2", "<Item Title>", "<Item Description>"),
                    ],
                ),
            ],
            header="<Header List Message>",
            footer="<Footer Message>",
        ),
        # the sample repeats "<Item ID>" for every row; row ids must be unique, so ours are a1…b2
        {
            "interactive.action.sections.0.rows.0.id": "a1",
            "interactive.action.sections.0.rows.1.id": "a2",
            "interactive.action.sections.1.rows.0.id": "b1",
            "interactive.action.sections.1.rows.1.id": "b2",
        },
    ),
    "send_interactive_cta_url_request.json": (
        lambda c: c.send_cta_url(TO, "Track your order", "Track order", "https://example.com/orders/ORDER-123"),
        {},
    ),
    "send_interactive_location_request_request.json": (
        lambda c: c.send_location_request(TO, "Please share your location."),
        {},
    ),
    "send_template_hello_world_request.json": (lambda c: c.send_template(TO, "hello_world", "en_US"), {}),
    "send_template_missing_params_request.json": (
        lambda c: c.send_template(TO, "wedding_pre_invite_1", "en_US"),
        {},
    ),
    "send_template_named_param_request.json": (
        lambda c: c.send_template(
            TO,
            "wedding_pre_invite_1",
            "en_US",
            [TemplateComponent("body", (TextParam("Madhav Sharma", parameter_name="name"),))],
        ),
        {},
    ),
    "send_template_body_params_request.json": (
        lambda c: c.send_template(TO, "template-name", "language-and-locale-code", [BODY_PARAMS]),
        {},
    ),
    "send_template_media_header_request.json": (
        lambda c: c.send_template(TO, "template-name", "language-and-locale-code", [IMAGE_HEADER, BODY_PARAMS]),
        {"template.components.0.parameters.0.image.link": IMAGE_URL},
    ),
    "send_template_quick_reply_buttons_request.json": (
        lambda c: c.send_template(
            TO,
            "template-name",
            "language-and-locale-code",
            [
                IMAGE_HEADER,
                BODY_PARAMS,
                TemplateComponent("button", (PayloadParam("aGlzIHRoaXMgaXMgY29v"),), sub_type="quick_reply", index=0),
                TemplateComponent("button", (PayloadParam("9rwnB8RbYmPF5t2Mn09x4h"),), sub_type="quick_reply", index=1),
            ],
        ),
        {"template.components.0.parameters.0.image.link": IMAGE_URL},
    ),
    "send_template_sample_issue_resolution_request.json": (
        lambda c: c.send_template(
            TO,
            "sample_issue_resolution",
            "en_US",
            [
                TemplateComponent("body", (TextParam("*Mr. Jones*"),)),
                TemplateComponent("button", (TextParam("Yes"),), sub_type="quick_reply", index=0),
                TemplateComponent("button", (TextParam("No"),), sub_type="quick_reply", index=1),
            ],
            language_policy="deterministic",
        ),
        # the Postman sample writes index as a number; the API documents a string ("0".."9")
        {"template.components.1.index": "0", "template.components.2.index": "1"},
    ),
}


def normalize_fixture(fixture: dict[str, Any], patches: dict[str, Any]) -> dict[str, Any]:
    """Apply the documented, shared differences between the samples and the current API.

    - ``to``: the samples use placeholders; ours is a real number.
    - ``recipient_type: "individual"``: the API default; some samples omit it, we always send it.
    - ``type``: the preview-url sample omits it (API default ``text``); we always send it.
    - a top-level ``preview_url`` (send_text_request.json) is a Postman-collection slip: the API reads
      ``text.preview_url``; we send nothing when preview_url is not given.
    """
    expected = copy.deepcopy(fixture)
    expected["to"] = TO
    expected.setdefault("recipient_type", "individual")
    expected.setdefault("type", "text")
    expected.pop("preview_url", None)
    for path, value in patches.items():
        set_in(expected, path, value)
    return expected


def test_every_send_fixture_has_a_case(send_request_names: list[str]) -> None:
    assert set(SEND_CASES) == set(send_request_names)


async def test_send_request_matches_fixture(
    send_request_fixture: str, load_fixture: Any, client: GraphClient, recorder: Recorder
) -> None:
    call, patches = SEND_CASES[send_request_fixture]
    result = await call(client)
    assert result.provider_message_id == "wamid.OK"
    request = recorder.requests[-1]
    assert request.method == "POST"
    assert str(request.url) == f"https://graph.example.test/v26.0/{PHONE_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert recorder.last_json == normalize_fixture(load_fixture(send_request_fixture), patches)


class TestSendOptions:
    async def test_biz_opaque_callback_data_on_every_send(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_text(TO, "hola", biz_opaque_callback_data="campaign:7")
        assert recorder.last_json["biz_opaque_callback_data"] == "campaign:7"
        await client.send_template(TO, "hello_world", "en_US", biz_opaque_callback_data="b:1")
        assert recorder.last_json["biz_opaque_callback_data"] == "b:1"

    async def test_send_to_bsuid_uses_recipient(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_text(Recipient(user_id="user.abc"), "hola")
        body = recorder.last_json
        assert body["recipient"] == "user.abc"
        assert "to" not in body

    async def test_phone_wins_when_both_known(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_text(Recipient(wa_id=TO, user_id="user.abc"), "hola")
        assert recorder.last_json["to"] == TO
        assert "recipient" not in recorder.last_json

    async def test_reaction_and_removal(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_reaction(TO, "wamid.X", "👍")
        assert recorder.last_json["reaction"] == {"message_id": "wamid.X", "emoji": "👍"}
        await client.send_reaction(TO, "wamid.X", None)
        assert recorder.last_json["reaction"] == {"message_id": "wamid.X", "emoji": ""}
        assert recorder.last_json["type"] == "reaction"

    async def test_buttons_with_media_header_and_footer(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_interactive_buttons(
            TO,
            "¿Confirmás?",
            [ReplyButton("si", "Sí")],
            header=MediaBody(MediaKind.IMAGE, media_id="123"),
            footer="Tienda",
        )
        interactive = recorder.last_json["interactive"]
        assert interactive["header"] == {"type": "image", "image": {"id": "123"}}
        assert interactive["footer"] == {"text": "Tienda"}

    async def test_cta_url_text_header(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_cta_url(TO, "Mirá", "Ver", "https://example.com", header="Pedido")
        assert recorder.last_json["interactive"]["header"] == {"type": "text", "text": "Pedido"}

    async def test_raw_mapping_template_component_passes_through(self, client: GraphClient, recorder: Recorder) -> None:
        raw = {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "abc"}]}
        await client.send_template(TO, "promo", "es_AR", [raw])
        assert recorder.last_json["template"]["components"] == [raw]

    async def test_copy_code_button(self, client: GraphClient, recorder: Recorder) -> None:
        from mostrador.channels.base import CouponCodeParam

        await client.send_template(
            TO, "promo", "es", [TemplateComponent("button", (CouponCodeParam("OFF25"),), sub_type="copy_code", index=0)]
        )
        assert recorder.last_json["template"]["components"][0] == {
            "type": "button",
            "sub_type": "copy_code",
            "index": "0",
            "parameters": [{"type": "coupon_code", "coupon_code": "OFF25"}],
        }


class TestSendResults:
    @pytest.mark.parametrize(
        ("name", "wa_id", "user_id", "status"),
        [
            ("send_response.json", "971509364178", None, "accepted"),
            (
                "send_response_bsuid.json",
                None,
                "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6",
                "accepted",
            ),
            ("send_response_legacy_no_message_status.json", "48XXXXXXXXX", None, None),
        ],
    )
    async def test_response_fixtures(
        self,
        name: str,
        wa_id: str | None,
        user_id: str | None,
        status: str | None,
        load_fixture: Any,
        client: GraphClient,
        recorder: Recorder,
    ) -> None:
        answer = load_fixture(name)
        recorder.responses.append(httpx.Response(200, json=answer))
        result = await client.send_text(TO, "hola")
        assert result == SendResult(
            provider_message_id=answer["messages"][0]["id"],
            recipient_wa_id=wa_id,
            recipient_user_id=user_id,
            message_status=status,
        )

    @pytest.mark.parametrize("answer", [b"not json", b"[]", b'{"messages": []}', b'{"messages": [{"id": 5}]}'])
    async def test_unusable_2xx_is_permanent(self, answer: bytes, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, content=answer))
        with pytest.raises(ChannelPermanentError) as exc:
            await client.send_text(TO, "hola")
        assert exc.value.category is ErrorCategory.SERVER


class TestHttpErrors:
    async def test_132000_response_fixture(self, load_fixture: Any, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(400, json=load_fixture("error_132000_response.json")))
        with pytest.raises(ChannelPermanentError) as exc:
            await client.send_template(TO, "wedding_pre_invite_1", "en_US")
        err = exc.value
        assert (err.code, err.http_status, err.category) == (132000, 400, ErrorCategory.TEMPLATE)
        assert err.title == "Number of parameters does not match the expected number of params"
        assert err.details is not None and err.details.startswith("body: number of localizable_params")
        assert err.fbtrace_id == "ATdqH-A9cFJNdLo1xMIvz0t"

    async def test_131006_sample_with_subcode(self, load_fixture: Any, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(400, json=load_fixture("error_response_sample_131006.json")))
        with pytest.raises(ChannelPermanentError) as exc:
            await client.send_text(TO, "hola")
        assert (exc.value.code, exc.value.subcode, exc.value.details) == (131006, 2494007, "unknown contact")

    async def test_throughput_limit_is_retriable(self, client: GraphClient, recorder: Recorder) -> None:
        body = {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}}
        recorder.responses.append(httpx.Response(400, json=body))
        with pytest.raises(ChannelRetriableError) as exc:
            await client.send_text(TO, "hola")
        assert exc.value.code == 130429
        assert exc.value.title == "Rate limit hit"

    async def test_expired_token_is_permanent_auth(
        self, load_fixture: Any, client: GraphClient, recorder: Recorder
    ) -> None:
        recorder.responses.append(
            httpx.Response(401, json={"error": load_fixture("error_190_expired_token_object.json")})
        )
        with pytest.raises(ChannelPermanentError) as exc:
            await client.send_text(TO, "hola")
        assert (exc.value.code, exc.value.subcode, exc.value.category) == (190, 463, ErrorCategory.AUTH)

    async def test_502_without_body_is_retriable(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(502, content=b"<html>Bad gateway</html>"))
        with pytest.raises(ChannelRetriableError) as exc:
            await client.send_text(TO, "hola")
        assert (exc.value.code, exc.value.http_status) == (CODE_HTTP, 502)

    async def test_timeout_is_retriable(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.ReadTimeout("slow"))
        with pytest.raises(ChannelRetriableError) as exc:
            await client.send_text(TO, "hola")
        assert exc.value.code == CODE_TIMEOUT
        assert isinstance(exc.value.__cause__, httpx.ReadTimeout)

    async def test_connection_error_is_retriable(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.ConnectError("refused"))
        with pytest.raises(ChannelRetriableError) as exc:
            await client.send_text(TO, "hola")
        assert exc.value.code == CODE_CONNECTION


LONG = "x" * 4097


class TestLocalValidation:
    @pytest.mark.parametrize(
        "call",
        [
            lambda c: c.send_text(TO, LONG),
            lambda c: c.send_text(TO, "   "),
            lambda c: c.send_text("", "hola"),
            lambda c: c.send_text(TO, "hola", biz_opaque_callback_data="b" * 513),
            lambda c: c.send_media("image", TO),
            lambda c: c.send_media("image", TO, media_id="1", link="https://e.com/a.jpg"),
            lambda c: c.send_media("image", TO, link="ftp://e.com/a.jpg"),
            lambda c: c.send_media("image", TO, media_id="1", caption="c" * 1025),
            lambda c: c.send_media("audio", TO, media_id="1", caption="no captions on audio"),
            lambda c: c.send_media("image", TO, media_id="1", filename="only-documents.pdf"),
            lambda c: c.send_media("gif", TO, media_id="1"),
            lambda c: c.send_location(TO, 91, 0),
            lambda c: c.send_location(TO, 0, -181),
            lambda c: c.send_contacts(TO, []),
            lambda c: c.send_contacts(TO, [{"name": {"first_name": "sin formatted_name"}}]),
            lambda c: c.send_interactive_buttons(TO, "b", []),
            lambda c: c.send_interactive_buttons(TO, "b", [ReplyButton(str(i), "t") for i in range(4)]),
            lambda c: c.send_interactive_buttons(TO, "b", [ReplyButton("1", "x" * 21)]),
            lambda c: c.send_interactive_buttons(TO, "b", [ReplyButton("i" * 257, "t")]),
            lambda c: c.send_interactive_buttons(TO, "b", [ReplyButton("1", "a"), ReplyButton("1", "b")]),
            lambda c: c.send_interactive_buttons(TO, "b" * 1025, [ReplyButton("1", "a")]),
            lambda c: c.send_interactive_buttons(TO, "b", [ReplyButton("1", "a")], header="h" * 61),
            lambda c: c.send_interactive_buttons(TO, "b", [ReplyButton("1", "a")], footer="f" * 61),
            lambda c: c.send_interactive_list(TO, "b", "x" * 21, [ListSection(None, [ListRow("1", "t")])]),
            lambda c: c.send_interactive_list(TO, "b", "Ver", []),
            lambda c: c.send_interactive_list(
                TO, "b", "Ver", [ListSection(None, [ListRow(str(i), "t") for i in range(11)])]
            ),
            lambda c: c.send_interactive_list(
                TO, "b", "Ver", [ListSection(f"s{i}", [ListRow(str(i), "t")]) for i in range(11)]
            ),
            lambda c: c.send_interactive_list(TO, "b", "Ver", [ListSection(None, [ListRow("1", "t" * 25)])]),
            lambda c: c.send_interactive_list(TO, "b", "Ver", [ListSection(None, [ListRow("1", "t", "d" * 73)])]),
            lambda c: c.send_interactive_list(TO, "b", "Ver", [ListSection("s" * 25, [ListRow("1", "t")])]),
            lambda c: c.send_interactive_list(
                TO, "b", "Ver", [ListSection(None, [ListRow("1", "t")]), ListSection("B", [ListRow("2", "t")])]
            ),
            lambda c: c.send_interactive_list(
                TO, "b", "Ver", [ListSection("A", [ListRow("1", "t"), ListRow("1", "u")])]
            ),
            lambda c: c.send_cta_url(TO, "b", "d" * 21, "https://e.com"),
            lambda c: c.send_cta_url(TO, "b", "Ver", "javascript:alert(1)"),
            lambda c: c.send_location_request(TO, ""),
            lambda c: c.send_template(TO, "", "es"),
            lambda c: c.send_template(TO, "t", ""),
            lambda c: c.send_template(TO, "t", "es", [TemplateComponent("body", (TextParam(""),))]),
            lambda c: c.send_template(TO, "t", "es", [TemplateComponent("button", (PayloadParam("p"),))]),
            lambda c: c.send_template(
                TO, "t", "es", [TemplateComponent("button", (PayloadParam("p"),), sub_type="quick_reply", index=10)]
            ),
            lambda c: c.send_template(TO, "t", "es", [TemplateComponent("footer")]),
            lambda c: c.send_template(
                TO, "t", "es", [TemplateComponent("body", (TextParam("a", parameter_name="Bad Name"),))]
            ),
            lambda c: c.send_template(
                TO, "t", "es", [TemplateComponent("body", (TextParam("a", parameter_name="n"), TextParam("b")))]
            ),
            lambda c: c.send_template(
                TO,
                "t",
                "es",
                [
                    TemplateComponent("button", (PayloadParam("a"),), sub_type="quick_reply", index=0),
                    TemplateComponent("button", (PayloadParam("b"),), sub_type="quick_reply", index=0),
                ],
            ),
        ],
    )
    async def test_rejected_before_http(self, call: Call, client: GraphClient, recorder: Recorder) -> None:
        with pytest.raises(ChannelPermanentError) as exc:
            await call(client)
        assert recorder.requests == []
        err = exc.value
        assert (err.code, err.local, err.category) == (CODE_LOCAL_VALIDATION, True, ErrorCategory.VALIDATION)
        assert err.details
        assert err.human_reason("es").startswith("El mensaje no cumple los límites de WhatsApp")

    async def test_limits_are_inclusive(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_text(TO, "x" * 4096)
        await client.send_interactive_buttons(TO, "b", [ReplyButton(str(i), "t" * 20) for i in range(3)])
        await client.send_interactive_list(
            TO, "b", "l" * 20, [ListSection(f"s{i}", [ListRow(f"r{i}", "t" * 24, "d" * 72)]) for i in range(10)]
        )
        assert len(recorder.requests) == 3


class TestMarkAsRead:
    async def test_matches_fixture(self, load_fixture: Any, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, json=load_fixture("mark_as_read_response.json")))
        assert await client.mark_as_read("incoming-message-id") is True
        assert recorder.last_json == load_fixture("mark_as_read_request.json")
        assert recorder.requests[-1].method == "POST"
        assert recorder.requests[-1].url.path == f"/v26.0/{PHONE_ID}/messages"

    async def test_typing_indicator(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, json={"success": True}))
        await client.mark_as_read("wamid.in", typing_indicator=True)
        assert recorder.last_json == {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.in",
            "typing_indicator": {"type": "text"},
        }


class TestMedia:
    async def test_upload_multipart(self, load_fixture: Any, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, json=load_fixture("media_upload_response.json")))
        media_id = await client.upload_media(b"\xff\xd8jpegbytes", "image/jpeg", "foto.jpg")
        assert media_id == "4490709327384033"
        request = recorder.requests[-1]
        assert request.url.path == f"/v26.0/{PHONE_ID}/media"
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
        raw = request.content
        assert b'name="messaging_product"\r\n\r\nwhatsapp' in raw
        assert b'name="type"\r\n\r\nimage/jpeg' in raw
        assert b'name="file"; filename="foto.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8jpegbytes' in raw

    @pytest.mark.parametrize(
        ("content", "mime"),
        [(b"", "image/jpeg"), (b"x", "application/x-msdownload"), (b"x" * (5 * 1024 * 1024 + 1), "image/png")],
    )
    async def test_upload_validation(self, content: bytes, mime: str, client: GraphClient, recorder: Recorder) -> None:
        with pytest.raises(ChannelPermanentError):
            await client.upload_media(content, mime, "f")
        assert recorder.requests == []

    async def test_get_url_download_fetch_delete(self, client: GraphClient, recorder: Recorder) -> None:
        content = b"\x89PNG fake image"
        info = {
            "messaging_product": "whatsapp",
            "url": "https://lookaside.example.test/whatsapp_business/attachments/?mid=1",
            "mime_type": "image/png",
            "sha256": hashlib.sha256(content).hexdigest(),
            "file_size": str(len(content)),
            "id": "2621233374848975",
        }
        recorder.responses += [
            httpx.Response(200, json=info),
            httpx.Response(302, headers={"location": "https://cdn.example.test/blob"}),
            httpx.Response(200, content=content, headers={"content-type": "image/png"}),
            httpx.Response(200, json={"success": True}),
        ]
        blob = await client.fetch_media("2621233374848975")
        assert blob.content == content
        assert blob.mime_type == "image/png"
        assert blob.sha256 == hashlib.sha256(content).hexdigest()
        lookup, download, redirected = recorder.requests[:3]
        assert lookup.method == "GET" and lookup.url.path == "/v26.0/2621233374848975"
        assert str(download.url) == info["url"]
        assert str(redirected.url) == "https://cdn.example.test/blob"
        for req in (lookup, download):
            assert req.headers["authorization"] == f"Bearer {TOKEN}"
        # httpx drops the token when a redirect leaves the origin: it never leaks to another host
        assert "authorization" not in redirected.headers
        assert await client.delete_media("2621233374848975", phone_number_id=PHONE_ID) is True
        delete = recorder.requests[-1]
        assert delete.method == "DELETE"
        assert delete.url.params["phone_number_id"] == PHONE_ID

    async def test_get_media_url_fixture(self, load_fixture: Any, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, json=load_fixture("media_get_url_response.json")))
        info = await client.get_media_url("2621233374848975")
        assert (info.url, info.mime_type, info.file_size, info.id) == (
            "<URL>",
            "image/jpeg",
            303833,
            "2621233374848975",
        )

    async def test_sha256_mismatch_is_retriable(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses += [
            httpx.Response(200, json={"url": "https://l.example.test/x", "sha256": "0" * 64, "mime_type": "image/png"}),
            httpx.Response(200, content=b"corrupted"),
        ]
        with pytest.raises(ChannelRetriableError):
            await client.fetch_media("1")

    async def test_download_size_cap(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, content=b"x" * 11))
        with pytest.raises(ChannelPermanentError):
            await client.download_media("https://l.example.test/x", max_bytes=10)

    async def test_download_404_is_mapped(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(404, content=b"gone"))
        with pytest.raises(ChannelPermanentError) as exc:
            await client.download_media("https://l.example.test/x")
        assert exc.value.http_status == 404

    async def test_media_id_cannot_change_the_path(self, client: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, json={"url": "https://l.example.test/x"}))
        await client.get_media_url("../me?fields=x")
        assert recorder.requests[-1].url.raw_path.startswith(b"/v26.0/..%2Fme%3Ffields%3Dx")


class TestConstruction:
    async def test_api_version_and_base_url_normalised(self, recorder: Recorder) -> None:
        async with GraphClient(
            "https://proxy.example.test/wa/",
            "23.0",
            "tok",
            transport=httpx.MockTransport(recorder),
            phone_number_id="1",
        ) as c:
            await c.send_text(TO, "hola")
        assert str(recorder.requests[-1].url) == "https://proxy.example.test/wa/v23.0/1/messages"

    async def test_external_http_client_is_not_closed(self, recorder: Recorder) -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        c = GraphClient(access_token="t", http=http, phone_number_id="1")
        await c.aclose()
        assert not http.is_closed
        await c.send_text(TO, "hola")
        assert recorder.requests[-1].url.host == "graph.facebook.com"
        await http.aclose()


class TestAuthAndVersionConfig:
    """A BSP proxy (360dialog: ``D360-API-KEY: <key>``, no version segment) vs the Meta defaults."""

    @pytest.fixture
    async def proxy(self, recorder: Recorder) -> Any:
        c = GraphClient(
            "https://proxy.example",
            "",
            "key",
            transport=httpx.MockTransport(recorder),
            phone_number_id=PHONE_ID,
            auth_header="D360-API-KEY",
            auth_scheme="",
        )
        yield c
        await c.aclose()

    @staticmethod
    def assert_proxy_auth(request: httpx.Request) -> None:
        assert request.headers["D360-API-KEY"] == "key"
        assert "authorization" not in request.headers

    async def test_send_uses_header_and_no_version(self, proxy: GraphClient, recorder: Recorder) -> None:
        result = await proxy.send_text(TO, "hola")
        assert result.provider_message_id == "wamid.OK"
        request = recorder.requests[-1]
        assert str(request.url) == f"https://proxy.example/{PHONE_ID}/messages"
        self.assert_proxy_auth(request)

    async def test_mark_read_and_templates(self, proxy: GraphClient, recorder: Recorder) -> None:
        recorder.responses += [
            httpx.Response(200, json={"success": True}),
            httpx.Response(200, json={"data": []}),
        ]
        await proxy.mark_as_read("wamid.in")
        await proxy.list_templates("waba")
        read, templates = recorder.requests
        assert str(read.url) == f"https://proxy.example/{PHONE_ID}/messages"
        assert templates.url.path == "/waba/message_templates"
        for request in (read, templates):
            self.assert_proxy_auth(request)

    async def test_upload(self, proxy: GraphClient, recorder: Recorder) -> None:
        recorder.responses.append(httpx.Response(200, json={"id": "m1"}))
        assert await proxy.upload_media(b"\xff\xd8jpeg", "image/jpeg", "f.jpg") == "m1"
        request = recorder.requests[-1]
        assert str(request.url) == f"https://proxy.example/{PHONE_ID}/media"
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
        self.assert_proxy_auth(request)

    async def test_media_lookup_and_download(self, proxy: GraphClient, recorder: Recorder) -> None:
        content = b"\x89PNG proxied"
        media_url = "https://proxy.example/whatsapp_business/attachments/?mid=1"
        recorder.responses += [
            httpx.Response(200, json={"url": media_url, "mime_type": "image/png", "id": "77"}),
            httpx.Response(200, content=content, headers={"content-type": "image/png"}),
        ]
        blob = await proxy.fetch_media("77")
        assert blob.content == content
        lookup, download = recorder.requests
        assert str(lookup.url) == "https://proxy.example/77"
        assert str(download.url) == media_url
        for request in (lookup, download):
            self.assert_proxy_auth(request)

    async def test_custom_header_never_follows_a_redirect_off_origin(
        self, proxy: GraphClient, recorder: Recorder
    ) -> None:
        recorder.responses += [
            httpx.Response(302, headers={"location": "/whatsapp_business/attachments/?mid=2"}),
            httpx.Response(302, headers={"location": "https://cdn.example.test/blob"}),
            httpx.Response(200, content=b"bytes", headers={"content-type": "image/png"}),
        ]
        assert await proxy.download_media("https://proxy.example/whatsapp_business/attachments/?mid=1") == (
            b"bytes",
            "image/png",
        )
        first, same_origin, other_host = recorder.requests
        self.assert_proxy_auth(first)
        self.assert_proxy_auth(same_origin)
        assert str(same_origin.url) == "https://proxy.example/whatsapp_business/attachments/?mid=2"
        assert str(other_host.url) == "https://cdn.example.test/blob"
        assert "D360-API-KEY" not in other_host.headers
        assert "authorization" not in other_host.headers

    async def test_redirect_loop_is_a_transport_error(self, proxy: GraphClient, recorder: Recorder) -> None:
        recorder.responses += [httpx.Response(302, headers={"location": "/again"}) for _ in range(30)]
        with pytest.raises(ChannelRetriableError) as exc:
            await proxy.download_media("https://proxy.example/again")
        assert exc.value.code == CODE_CONNECTION
        assert len(recorder.requests) == 21  # httpx's default limit: 20 redirects

    @pytest.mark.parametrize(
        ("header", "scheme", "expected"),
        [
            ("Authorization", "Basic", "Basic key"),
            ("Authorization", "", "key"),
            ("X-API-Key", "", "key"),
            ("X-API-Key", "Token", "Token key"),
        ],
    )
    async def test_header_and_scheme_combinations(
        self, header: str, scheme: str, expected: str, recorder: Recorder
    ) -> None:
        async with GraphClient(
            "https://bsp.example/api",
            "v23.0",
            "key",
            transport=httpx.MockTransport(recorder),
            phone_number_id="1",
            auth_header=header,
            auth_scheme=scheme,
        ) as c:
            await c.send_text(TO, "hola")
        request = recorder.requests[-1]
        assert str(request.url) == "https://bsp.example/api/v23.0/1/messages"
        assert request.headers[header] == expected
        if header != "Authorization":
            assert "authorization" not in request.headers

    async def test_defaults_are_meta_bearer_with_version(self, client: GraphClient, recorder: Recorder) -> None:
        await client.send_text(TO, "hola")
        request = recorder.requests[-1]
        assert str(request.url) == f"https://graph.example.test/v26.0/{PHONE_ID}/messages"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert (client.auth_header, client.auth_scheme, client.api_version) == ("Authorization", "Bearer", "v26.0")

    @pytest.mark.parametrize("header", ["", "D360 API KEY", "X-Key:", "Auth\r\nX-Evil: 1", "Clé", "Content-Type"])
    def test_invalid_header_name_rejected(self, header: str) -> None:
        with pytest.raises(ValueError, match="auth_header"):
            GraphClient(access_token="t", auth_header=header)

    def test_invalid_scheme_rejected(self) -> None:
        with pytest.raises(ValueError, match="auth_scheme"):
            GraphClient(access_token="t", auth_scheme="Bearer token")
