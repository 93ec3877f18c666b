"""POST /{version}/{phone-number-id}/messages: contract fixtures are accepted; invalid requests get Meta's errors."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from simhelpers import (
    PID,
    WABA,
    create_template,
    fixture_names,
    inbound,
    load_fixture,
    send,
)

from mostrador.simulator import RunningSimulator

USER = "5491155550000"

# Templates the send_template_* fixtures refer to (their names are placeholders in Meta's collection).
BODY3 = {
    "type": "BODY",
    "text": "Hola {{1}}, tu total es {{2}} con fecha {{3}}. Gracias por comprar.",
    "example": {"body_text": [["Ana", "$10", "hoy"]]},
}
IMAGE_HEADER = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}}
QUICK_REPLIES = {
    "type": "BUTTONS",
    "buttons": [{"type": "QUICK_REPLY", "text": "Sí"}, {"type": "QUICK_REPLY", "text": "No"}],
}
TEMPLATES_FOR_FIXTURES: dict[str, dict[str, Any]] = {
    "send_template_body_params_request.json": {"name": "order_total", "components": [BODY3]},
    "send_template_media_header_request.json": {"name": "order_total_image", "components": [IMAGE_HEADER, BODY3]},
    "send_template_quick_reply_buttons_request.json": {
        "name": "order_total_quick",
        "components": [IMAGE_HEADER, BODY3, QUICK_REPLIES],
    },
    "send_template_sample_issue_resolution_request.json": {
        "name": "sample_issue_resolution",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, were we able to solve the issue that you were facing?",
                "example": {"body_text": [["Mr. Jones"]]},
            },
            QUICK_REPLIES,
        ],
    },
    "send_template_named_param_request.json": {
        "name": "wedding_pre_invite_1",
        "parameter_format": "NAMED",
        "components": [
            {
                "type": "BODY",
                "text": "Dear {{name}}, you are invited to our wedding. Please save the date.",
                "example": {"body_text_named_params": [{"param_name": "name", "example": "Madhav"}]},
            }
        ],
    },
}


async def _approved(rs: RunningSimulator, name: str, components: list[Any], fmt: str = "POSITIONAL") -> None:
    await create_template(
        rs,
        {
            "name": name,
            "language": "en_US",
            "category": "UTILITY",
            "parameter_format": fmt,
            "components": components,
        },
    )
    await rs.drain()


async def _upload(rs: RunningSimulator, mime: str, data: bytes, filename: str = "f") -> str:
    r = await rs.client.post(
        f"/v26.0/{PID}/media",
        files={"file": (filename, data, mime)},
        data={"messaging_product": "whatsapp", "type": mime},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


_MIME = {
    "image": ("image/jpeg", b"\xff\xd8\xff\xe0jpeg"),
    "audio": ("audio/ogg", b"OggS" + b"\x00" * 20),
    "document": ("application/pdf", b"%PDF-1.4 x"),
    "sticker": ("image/webp", b"RIFF\x00\x00\x00\x00WEBP"),
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42"),
}


async def _fill(rs: RunningSimulator, body: dict[str, Any], name: str) -> dict[str, Any]:
    """Replace the placeholders of Meta's samples with real values, keeping the shape."""
    body = copy.deepcopy(body)
    body["to"] = USER
    counter = itertools.count()
    msg_type = body.get("type", "text")
    if msg_type in _MIME and "id" in body[msg_type]:
        mime, data = _MIME[msg_type]
        body[msg_type]["id"] = await _upload(rs, mime, data)
    if name in TEMPLATES_FOR_FIXTURES:
        body["template"]["name"] = TEMPLATES_FOR_FIXTURES[name]["name"]
    if msg_type == "template":
        body["template"]["language"]["code"] = "en_US"
    if msg_type == "location":
        body["location"].update({"latitude": "-34.6037", "longitude": "-58.3816"})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            if node.startswith("http(s)://") or node.startswith("<http(s)://"):
                return "https://example.com/files/sample"
            if node.startswith("<") and node.endswith(">"):
                return f"v{next(counter)}"
        return node

    filled = walk(body)
    if "context" in filled:
        filled["context"]["message_id"] = await inbound(rs, USER, text="quoted")
    return dict(filled)


SEND_FIXTURES = [n for n in fixture_names("send_") if n.endswith("_request.json")]


@pytest.mark.parametrize("name", [n for n in SEND_FIXTURES if n != "send_template_missing_params_request.json"])
async def test_every_send_fixture_is_accepted(rs: RunningSimulator, name: str) -> None:
    await inbound(rs, USER)  # open the 24 h window
    if name in TEMPLATES_FOR_FIXTURES:
        spec = TEMPLATES_FOR_FIXTURES[name]
        await _approved(rs, spec["name"], spec["components"], spec.get("parameter_format", "POSITIONAL"))
    body = await _fill(rs, load_fixture(name), name)
    r = await send(rs, body)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": USER, "wa_id": USER}]
    wamid = data["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    if body.get("type") == "template":
        assert data["messages"][0]["message_status"] == "accepted"
        assert set(data) == set(load_fixture("send_response.json"))
    await rs.drain()
    sent = (await rs.client.get("/_sim/messages", params={"to": USER})).json()
    mine = next(m for m in sent if m["wamid"] == wamid)
    assert [s["status"] for s in mine["statuses"]] == ["sent", "delivered", "read"]
    assert mine["request"] == body


async def test_missing_template_params_is_132000_like_meta(rs: RunningSimulator) -> None:
    await _approved(
        rs,
        **{
            k: v
            for k, v in TEMPLATES_FOR_FIXTURES["send_template_named_param_request.json"].items()
            if k in ("name", "components")
        },
        fmt="NAMED",
    )
    body = load_fixture("send_template_missing_params_request.json")
    r = await send(rs, {**body, "to": USER})
    assert r.status_code == 400
    err = r.json()["error"]
    expected = load_fixture("error_132000_response.json")["error"]
    assert set(err) == set(expected)
    assert err["code"] == 132000
    assert err["message"] == expected["message"]
    assert err["error_data"]["details"] == expected["error_data"]["details"]


def _long(n: int) -> str:
    return "x" * n


def _buttons(n: int, title_len: int = 5) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "¿Qué prefieres?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": _long(title_len)[: title_len - 1] + str(i)}}
                    for i in range(n)
                ]
            },
        },
    }


def _list(rows: int) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Elige"},
            "action": {
                "button": "Ver",
                "sections": [{"title": "S", "rows": [{"id": f"r{i}", "title": f"Row {i}"} for i in range(rows)]}],
            },
        },
    }


INVALID: list[tuple[str, dict[str, Any], int]] = [
    ("no messaging_product", {"to": USER, "type": "text", "text": {"body": "x"}}, 100),
    ("no recipient", {"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, 100),
    ("unknown type", {"messaging_product": "whatsapp", "to": USER, "type": "hologram", "hologram": {}}, 100),
    ("text missing", {"messaging_product": "whatsapp", "to": USER, "type": "text"}, 100),
    ("text too long", {"messaging_product": "whatsapp", "to": USER, "text": {"body": _long(4097)}}, 100),
    ("media without id or link", {"messaging_product": "whatsapp", "to": USER, "type": "image", "image": {}}, 100),
    ("unknown media id", {"messaging_product": "whatsapp", "to": USER, "type": "image", "image": {"id": "999"}}, 100),
    (
        "caption too long",
        {
            "messaging_product": "whatsapp",
            "to": USER,
            "type": "image",
            "image": {"link": "https://example.com/a.jpg", "caption": _long(1025)},
        },
        131009,
    ),
    ("four buttons", {"messaging_product": "whatsapp", "to": USER, **_buttons(4)}, 131009),
    ("button title too long", {"messaging_product": "whatsapp", "to": USER, **_buttons(2, title_len=21)}, 131009),
    ("eleven list rows", {"messaging_product": "whatsapp", "to": USER, **_list(11)}, 131009),
    (
        "latitude out of range",
        {"messaging_product": "whatsapp", "to": USER, "type": "location", "location": {"latitude": 91, "longitude": 0}},
        131009,
    ),
    (
        "unknown template",
        {
            "messaging_product": "whatsapp",
            "to": USER,
            "type": "template",
            "template": {"name": "nope", "language": {"code": "en_US"}},
        },
        132001,
    ),
    (
        "template wrong language",
        {
            "messaging_product": "whatsapp",
            "to": USER,
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "es"}},
        },
        132001,
    ),
    (
        "template extra params",
        {
            "messaging_product": "whatsapp",
            "to": USER,
            "type": "template",
            "template": {
                "name": "hello_world",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}],
            },
        },
        132000,
    ),
]


@pytest.mark.parametrize(("case", "body", "code"), INVALID, ids=[c[0] for c in INVALID])
async def test_invalid_requests_get_meta_errors(
    rs: RunningSimulator, case: str, body: dict[str, Any], code: int
) -> None:
    await inbound(rs, USER)
    r = await send(rs, body)
    assert r.status_code == 400, (case, r.text)
    err = r.json()["error"]
    assert err["code"] == code, err
    assert err["type"] == "OAuthException"
    assert err["message"].startswith(f"(#{code})")
    assert err["error_data"]["messaging_product"] == "whatsapp"
    assert err["error_data"]["details"]
    assert err["fbtrace_id"]
    assert (await rs.client.get("/_sim/messages", params={"to": USER})).json() == []


async def test_wrong_token_is_190_with_401(rs: RunningSimulator) -> None:
    r = await send(rs, {"messaging_product": "whatsapp", "to": USER, "text": {"body": "x"}}, token="nope")
    assert r.status_code == 401
    err = r.json()["error"]
    assert err["code"] == 190
    assert err["type"] == "OAuthException"
    assert "access token" in err["message"]


async def test_missing_token_is_rejected(rs: RunningSimulator) -> None:
    r = await send(rs, {"messaging_product": "whatsapp", "to": USER, "text": {"body": "x"}}, token=None)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 2500


async def test_unknown_phone_number_id(rs: RunningSimulator) -> None:
    r = await send(rs, {"messaging_product": "whatsapp", "to": USER, "text": {"body": "x"}}, pid="123")
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["code"], err["error_subcode"]) == (100, 33)


async def test_any_graph_version_is_accepted_and_garbage_is_not(rs: RunningSimulator) -> None:
    await inbound(rs, USER)
    body = {"messaging_product": "whatsapp", "to": USER, "text": {"body": "x"}}
    assert (await rs.client.post(f"/v21.0/{PID}/messages", json=body)).status_code == 200
    r = await rs.client.post(f"/latest/{PID}/messages", json=body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 2500


async def test_throughput_limit_is_130429(rs: RunningSimulator) -> None:
    await rs.client.post("/_sim/config", json={"throughput_mps": 3})
    codes = []
    for i in range(5):
        wa = f"54911555500{i:02d}"
        await inbound(rs, wa)
        r = await send(rs, {"messaging_product": "whatsapp", "to": wa, "text": {"body": "x"}})
        codes.append(r.status_code if r.status_code == 200 else r.json()["error"]["code"])
    assert codes[:3] == [200, 200, 200]
    assert 130429 in codes[3:]
    rs.sim.advance_clock(2)  # a second later the number has capacity again
    r = await send(rs, {"messaging_product": "whatsapp", "to": "5491155550000", "text": {"body": "x"}})
    assert r.status_code == 200


async def test_pair_rate_limit_is_131056(rs: RunningSimulator) -> None:
    await rs.client.post("/_sim/config", json={"pair_rate_burst": 2, "pair_rate_per_s": 1 / 6})
    await inbound(rs, USER)
    body = {"messaging_product": "whatsapp", "to": USER, "text": {"body": "x"}}
    assert (await send(rs, body)).status_code == 200
    assert (await send(rs, body)).status_code == 200
    r = await send(rs, body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 131056
    # another user is not affected
    await inbound(rs, "5491155550001")
    assert (await send(rs, {**body, "to": "5491155550001"})).status_code == 200
    rs.sim.advance_clock(6.5)  # one token back after ~6 s
    assert (await send(rs, body)).status_code == 200


async def test_send_to_bsuid(rs: RunningSimulator, receiver: Any) -> None:
    r = await rs.client.post("/_sim/inbound", json={"phone_number_id": PID, "from": USER, "text": "hola"})
    user_id = r.json()["user_id"]
    assert user_id.startswith("AR.")
    r = await send(rs, {"messaging_product": "whatsapp", "recipient": user_id, "text": {"body": "x"}})
    assert r.status_code == 200
    assert r.json()["contacts"] == [{"input": user_id, "wa_id": "", "user_id": user_id}]
    await rs.drain()
    st = receiver.statuses(r.json()["messages"][0]["id"])[0]
    assert st["recipient_id"] == "" and st["recipient_user_id"] == user_id


async def test_mark_as_read_and_typing(rs: RunningSimulator) -> None:
    first = await inbound(rs, USER, text="uno")
    second = await inbound(rs, USER, text="dos")
    body = {**load_fixture("mark_as_read_request.json"), "message_id": second, "typing_indicator": {"type": "text"}}
    r = await send(rs, body)
    assert r.status_code == 200
    assert r.json() == load_fixture("mark_as_read_response.json")
    thread = (await rs.client.get("/_sim/thread", params={"wa_id": USER, "phone_number_id": PID})).json()
    statuses = {i["wamid"]: i["status"] for i in thread["items"]}
    assert statuses[first] == statuses[second] == "read"
    assert thread["typing"] is True
    r = await send(rs, {**body, "message_id": "wamid.unknown"})
    assert r.status_code == 400 and r.json()["error"]["code"] == 100


async def test_reply_context_and_tracker_are_echoed(rs: RunningSimulator, receiver: Any) -> None:
    wamid_in = await inbound(rs, USER)
    r = await send(
        rs,
        {
            "messaging_product": "whatsapp",
            "to": f"+{USER}",
            "context": {"message_id": wamid_in},
            "biz_opaque_callback_data": "ticket-42",
            "text": {"body": "respuesta"},
        },
    )
    assert r.status_code == 200
    assert r.json()["contacts"] == [{"input": f"+{USER}", "wa_id": USER}]
    await rs.drain()
    statuses = receiver.statuses(r.json()["messages"][0]["id"])
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"ticket-42"}
    assert WABA  # same WABA as the number
