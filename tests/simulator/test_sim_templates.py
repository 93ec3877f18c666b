"""Template management: validation (CONTRACT §4), async review, status webhooks, list and delete."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from simhelpers import PID, WABA, WABA2, Receiver, assert_shape_covers, create_template, fixture_names, load_fixture

from mostrador.simulator import RunningSimulator


async def test_new_waba_has_hello_world_approved(rs: RunningSimulator) -> None:
    for waba in (WABA, WABA2):
        r = await rs.client.get(f"/v26.0/{waba}/message_templates", params={"name": "hello_world"})
        assert r.status_code == 200
        data = r.json()["data"]
        assert [(t["name"], t["language"], t["status"]) for t in data] == [("hello_world", "en_US", "APPROVED")]


@pytest.mark.parametrize(
    "name",
    fixture_names("template_create_")
    and [n for n in fixture_names("template_create_") if n != "template_create_response.json"],
)
async def test_template_fixtures_are_created_reviewed_and_announced(
    rs: RunningSimulator, receiver: Receiver, parse_update: Any, name: str
) -> None:
    body = load_fixture(name)
    r = await rs.client.post(f"/v26.0/{WABA}/message_templates", json=body)
    assert r.status_code == 200, r.text
    created = r.json()
    assert set(created) == set(load_fixture("template_create_response.json"))
    assert created["status"] == "PENDING" and created["category"] == body["category"]
    await rs.drain()
    updates = receiver.of_field("message_template_status_update")
    assert len(updates) == 1
    assert_shape_covers(updates[0], load_fixture("webhook_template_status_update_approved.json"))
    value = updates[0]["entry"][0]["changes"][0]["value"]
    assert value["event"] == "APPROVED" and value["message_template_id"] == int(created["id"])
    parsed = parse_update(receiver.bodies[-1])
    assert type(parsed).__name__ == "TemplateStatusUpdate"
    assert parsed.new_status == "APPROVED" and parsed.template_name == body["name"]
    r = await rs.client.get(f"/v26.0/{created['id']}")
    assert r.status_code == 200 and r.json()["status"] == "APPROVED"


async def test_review_rules_reject_with_reason(rs: RunningSimulator, receiver: Receiver, parse_update: Any) -> None:
    await rs.client.post(
        "/_sim/config",
        json={
            "template_review_rules": [
                {
                    "pattern": "(?i)gratis",
                    "field": "body",
                    "reason": "PROMOTIONAL",
                    "recommendation": "Use UTILITY wording.",
                }
            ]
        },
    )
    body = {
        "name": "aviso_gratis",
        "language": "es",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Envío gratis en todos tus pedidos de esta semana."}],
    }
    created = await create_template(rs, body)
    await rs.drain()
    value = receiver.of_field("message_template_status_update")[0]["entry"][0]["changes"][0]["value"]
    assert (value["event"], value["reason"]) == ("REJECTED", "PROMOTIONAL")
    assert value["rejection_info"]["recommendation"] == "Use UTILITY wording."
    assert_shape_covers(
        {"entry": [{"changes": [{"value": value}]}]},
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": load_fixture("webhook_template_status_update_rejected.json")["entry"][0][
                                "changes"
                            ][0]["value"]
                        }
                    ]
                }
            ]
        },
    )
    parsed = parse_update(receiver.bodies[-1])
    assert parsed.reason == "PROMOTIONAL"
    listed = (await rs.client.get(f"/v26.0/{WABA}/message_templates", params={"status": "REJECTED"})).json()["data"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert listed[0]["rejected_reason"] == "PROMOTIONAL"
    # a rejected template cannot be sent
    await rs.client.post("/_sim/inbound", json={"phone_number_id": PID, "from": "5491100000000", "text": "hola"})
    r = await rs.client.post(
        f"/v26.0/{PID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "5491100000000",
            "type": "template",
            "template": {"name": "aviso_gratis", "language": {"code": "es"}},
        },
    )
    assert r.json()["error"]["code"] == 132001


async def test_pending_template_cannot_be_sent_yet(rs: RunningSimulator) -> None:
    await rs.client.post("/_sim/config", json={"template_review_delay_s": 30})
    await create_template(
        rs,
        {
            "name": "lento",
            "language": "es",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Tu pedido está listo para retirar."}],
        },
    )
    r = await rs.client.post(
        f"/v26.0/{PID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "5491100000000",
            "type": "template",
            "template": {"name": "lento", "language": {"code": "es"}},
        },
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 132001


def _abandoned() -> dict[str, Any]:
    return copy.deepcopy(load_fixture("template_create_marketing_text_header_quick_replies.json"))


def _with_body(text: str) -> dict[str, Any]:
    t = _abandoned()
    t["components"][1] = {"type": "BODY", "text": text, "example": {"body_text": [["a", "b", "c"][: text.count("{{")]]}}
    return t


def _mutate(fn: Any) -> dict[str, Any]:
    t = _abandoned()
    fn(t)
    return t


INVALID_CREATES: list[tuple[str, dict[str, Any], int | None]] = [
    ("uppercase name", _mutate(lambda t: t.update(name="Promo")), None),
    ("bad category", _mutate(lambda t: t.update(category="PROMO")), None),
    ("bad language", _mutate(lambda t: t.update(language="Spanish")), None),
    ("no body", _mutate(lambda t: t.update(components=[t["components"][0]])), 2388047),
    ("leading variable", _with_body("{{1}} tenemos ofertas para vos esta semana en la tienda."), 2388299),
    ("trailing variable", _with_body("Tenemos ofertas para vos esta semana en la tienda {{1}}"), 2388299),
    ("adjacent variables", _with_body("Hola, tenemos {{1}}{{2}} ofertas para vos esta semana."), 2388293),
    ("too many variables", _with_body("Hola {{1}} y {{2}} y {{3}} ok."), 2388293),
    ("non sequential", _with_body("Hola {{1}}, tenemos {{3}} ofertas para vos esta semana."), 2388047),
    (
        "footer with variable",
        _mutate(lambda t: t["components"][2].update(text="Baja con {{1}} cuando quieras")),
        2388073,
    ),
    ("header too long", _mutate(lambda t: t["components"][0].update(text="x" * 61)), 2388040),
    (
        "eleven buttons",
        _mutate(
            lambda t: t["components"][3].update(buttons=[{"type": "QUICK_REPLY", "text": f"b{i}"} for i in range(11)])
        ),
        None,
    ),
    (
        "quick replies not grouped",
        _mutate(
            lambda t: t["components"][3].update(
                buttons=[
                    {"type": "QUICK_REPLY", "text": "a"},
                    {"type": "URL", "text": "web", "url": "https://example.com"},
                    {"type": "QUICK_REPLY", "text": "b"},
                ]
            )
        ),
        None,
    ),
    ("button text too long", _mutate(lambda t: t["components"][3]["buttons"][0].update(text="x" * 26)), 2388040),
]


@pytest.mark.parametrize(("case", "body", "subcode"), INVALID_CREATES, ids=[c[0] for c in INVALID_CREATES])
async def test_invalid_templates_are_refused(
    rs: RunningSimulator, case: str, body: dict[str, Any], subcode: int | None
) -> None:
    r = await rs.client.post(f"/v26.0/{WABA}/message_templates", json=body)
    assert r.status_code == 400, (case, r.text)
    err = r.json()["error"]
    assert err["code"] == 100
    if subcode is not None:
        assert err["error_subcode"] == subcode, err
    assert err["fbtrace_id"]


async def test_duplicate_name_and_language(rs: RunningSimulator) -> None:
    body = _abandoned()
    await create_template(rs, body)
    r = await rs.client.post(f"/v26.0/{WABA}/message_templates", json=body)
    assert r.status_code == 400 and r.json()["error"]["error_subcode"] == 2388024
    await create_template(rs, {**body, "language": "es"})  # another language is fine


async def test_delete_by_name_and_by_hsm_id(rs: RunningSimulator) -> None:
    body = _abandoned()
    en = await create_template(rs, body)
    es = await create_template(rs, {**body, "language": "es"})
    other = await create_template(rs, {**body, "name": "otra"})
    r = await rs.client.delete(f"/v26.0/{WABA}/message_templates", params={"name": "otra", "hsm_id": other["id"]})
    assert r.json() == {"success": True}
    r = await rs.client.delete(f"/v26.0/{WABA}/message_templates", params={"name": body["name"]})
    assert r.json() == {"success": True}
    names = {t["name"] for t in (await rs.client.get(f"/v26.0/{WABA}/message_templates")).json()["data"]}
    assert names == {"hello_world"}
    assert en["id"] != es["id"]
    r = await rs.client.delete(f"/v26.0/{WABA}/message_templates", params={"name": "nunca"})
    assert r.status_code == 400


async def test_list_paginates(rs: RunningSimulator) -> None:
    for i in range(5):
        await create_template(
            rs,
            {
                "name": f"aviso_{i}",
                "language": "es",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": f"Aviso número {i} para vos."}],
            },
        )
    page = (await rs.client.get(f"/v26.0/{WABA}/message_templates", params={"limit": 4})).json()
    assert len(page["data"]) == 4 and "next" in page["paging"]
    after = page["paging"]["cursors"]["after"]
    rest = (await rs.client.get(f"/v26.0/{WABA}/message_templates", params={"limit": 4, "after": after})).json()
    assert len(rest["data"]) == 2 and "next" not in rest["paging"]
    ids = [t["id"] for t in page["data"] + rest["data"]]
    assert len(set(ids)) == 6


async def test_unknown_waba(rs: RunningSimulator) -> None:
    r = await rs.client.post("/v26.0/999/message_templates", json=_abandoned())
    assert r.status_code == 400 and r.json()["error"]["error_subcode"] == 33


async def test_forced_pause_gives_132015_and_quality_webhook(
    rs: RunningSimulator, receiver: Receiver, parse_update: Any
) -> None:
    tpl = next(t for t in rs.sim.state.templates.values() if t.name == "hello_world" and t.waba_id == WABA)
    r = await rs.client.post(f"/_sim/templates/{tpl.id}/quality", json={"score": "RED"})
    assert r.status_code == 200
    await rs.client.post(f"/_sim/templates/{tpl.id}/status", json={"event": "PAUSED"})
    await rs.drain()
    quality = receiver.of_field("message_template_quality_update")
    assert_shape_covers(quality[0], load_fixture("webhook_template_quality_update.json"))
    assert parse_update(receiver.bodies[0]).new_quality_score == "RED"
    r = await rs.client.post(
        f"/v26.0/{PID}/messages",
        json={
            "messaging_product": "whatsapp",
            "to": "5491100000000",
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        },
    )
    assert r.json()["error"]["code"] == 132015
