"""Meta's policies: 24 h window (131047), marketing opt-out (131050), messaging limit, undeliverable, pricing."""

from __future__ import annotations

from typing import Any

from simhelpers import PID, Receiver, create_template, inbound, load_fixture, send

from mostrador.simulator import RunningSimulator

USER = "5215512345678"
TEXT = {"messaging_product": "whatsapp", "to": USER, "type": "text", "text": {"body": "¿Sigues ahí?"}}
HELLO = {
    "messaging_product": "whatsapp",
    "to": USER,
    "type": "template",
    "template": {"name": "hello_world", "language": {"code": "en_US"}},
}
PROMO = {
    "name": "promo_semana",
    "language": "es",
    "category": "MARKETING",
    "components": [
        {
            "type": "BODY",
            "text": "Esta semana tenemos descuentos en toda la tienda, {{1}}. ¡Te esperamos!",
            "example": {"body_text": [["Ana"]]},
        }
    ],
}
PROMO_SEND = {
    "messaging_product": "whatsapp",
    "to": USER,
    "type": "template",
    "template": {
        "name": "promo_semana",
        "language": {"code": "es"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
    },
}


def _failed_errors(receiver: Receiver, wamid: str) -> list[dict[str, Any]]:
    failed = [s for s in receiver.statuses(wamid) if s["status"] == "failed"]
    assert len(failed) == 1, receiver.statuses(wamid)
    return list(failed[0]["errors"])


async def test_free_form_outside_window_is_accepted_then_fails_131047(rs: RunningSimulator, receiver: Receiver) -> None:
    r = await send(rs, TEXT)
    assert r.status_code == 200  # Meta accepts, then reports the failure
    wamid = r.json()["messages"][0]["id"]
    await rs.drain()
    assert [s["status"] for s in receiver.statuses(wamid)] == ["failed"]
    errors = _failed_errors(receiver, wamid)
    expected = load_fixture("error_131047_reengagement_object.json")
    assert errors[0] == expected
    assert "pricing" not in receiver.statuses(wamid)[0]


async def test_window_closes_after_24h_of_simulated_time(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    r = await send(rs, TEXT)
    await rs.drain()
    assert [s["status"] for s in receiver.statuses(r.json()["messages"][0]["id"])] == ["sent", "delivered", "read"]
    adv = await rs.client.post("/_sim/clock/advance", json={"hours": 25})
    assert adv.status_code == 200 and adv.json()["offset"] == 25 * 3600
    r = await send(rs, TEXT)
    await rs.drain()
    assert _failed_errors(receiver, r.json()["messages"][0]["id"])[0]["code"] == 131047
    # a template still goes through outside the window, billed as a regular utility message
    r = await send(rs, HELLO)
    await rs.drain()
    statuses = receiver.statuses(r.json()["messages"][0]["id"])
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[1]["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "utility",
    }


async def test_pricing_inside_window_is_free_customer_service(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    r = await send(rs, TEXT)
    r2 = await send(rs, HELLO)
    await rs.drain()
    text_st = receiver.statuses(r.json()["messages"][0]["id"])
    assert text_st[0]["pricing"] == load_fixture("status_pricing_pmp_free_customer_service.json")["pricing"]
    tpl_st = receiver.statuses(r2.json()["messages"][0]["id"])
    assert tpl_st[0]["pricing"] == load_fixture("status_pricing_pmp_free_utility_in_window.json")["pricing"]


async def test_marketing_opt_out_fails_131050_and_sends_user_preferences(
    rs: RunningSimulator, receiver: Receiver, parse_update: Any
) -> None:
    await create_template(rs, PROMO)
    await inbound(rs, USER)
    await rs.drain()
    r = await send(rs, PROMO_SEND)
    await rs.drain()
    assert [s["status"] for s in receiver.statuses(r.json()["messages"][0]["id"])][-1] == "read"

    r = await rs.client.post(f"/_sim/users/{USER}/stop-marketing")
    assert r.status_code == 200 and r.json()["marketing_opt_out"] is True
    await rs.drain()
    prefs = receiver.of_field("user_preferences")
    assert len(prefs) == 1
    value = prefs[0]["entry"][0]["changes"][0]["value"]
    assert value["user_preferences"][0]["value"] == "stop"
    update = parse_update(receiver.bodies[-1])
    assert type(update).__name__ == "UserMarketingPreferences"
    assert update.value == "stop" and update.from_user.wa_id == USER

    r = await send(rs, PROMO_SEND)
    assert r.status_code == 200
    await rs.drain()
    assert _failed_errors(receiver, r.json()["messages"][0]["id"])[0]["code"] == 131050
    # utility templates and service messages are not affected
    r = await send(rs, HELLO)
    await rs.drain()
    assert receiver.statuses(r.json()["messages"][0]["id"])[-1]["status"] == "read"
    # resume
    await rs.client.post(f"/_sim/users/{USER}/resume-marketing")
    r = await send(rs, PROMO_SEND)
    await rs.drain()
    assert receiver.statuses(r.json()["messages"][0]["id"])[-1]["status"] == "read"


async def test_messaging_limit_counts_unique_users_outside_the_window(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"messaging_limit": 2})
    results = []
    for wa in ("5215500000001", "5215500000002", "5215500000001", "5215500000003"):
        r = await send(rs, {**HELLO, "to": wa})
        assert r.status_code == 200
        results.append(r.json()["messages"][0]["id"])
    await rs.drain()
    last = [receiver.statuses(w)[-1] for w in results]
    assert [s["status"] for s in last] == ["read", "read", "read", "failed"]
    assert last[3]["errors"][0]["code"] == 131048
    # inside the window the limit does not apply
    await inbound(rs, "5215500000004")
    r = await send(rs, {**HELLO, "to": "5215500000004"})
    await rs.drain()
    assert receiver.statuses(r.json()["messages"][0]["id"])[-1]["status"] == "read"
    # 24 h later the portfolio can reach new users again
    rs.sim.advance_clock(24 * 3600 + 1)
    r = await send(rs, {**HELLO, "to": "5215500000005"})
    await rs.drain()
    assert receiver.statuses(r.json()["messages"][0]["id"])[-1]["status"] == "read"


async def test_undeliverable_numbers_fail_131026(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"undeliverable_numbers": [USER]})
    r = await send(rs, HELLO)
    await rs.drain()
    assert _failed_errors(receiver, r.json()["messages"][0]["id"])[0]["code"] == 131026


async def test_failure_rate_fails_after_sent(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"failure_rate": 1.0, "failure_code": 131000})
    await inbound(rs, USER)
    r = await send(rs, TEXT)
    await rs.drain()
    statuses = receiver.statuses(r.json()["messages"][0]["id"])
    assert [s["status"] for s in statuses] == ["sent", "failed"]
    assert statuses[1]["errors"][0]["code"] == 131000


async def test_media_link_that_cannot_be_fetched_fails_131053(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    r = await send(
        rs,
        {
            "messaging_product": "whatsapp",
            "to": USER,
            "type": "image",
            "image": {"link": "https://missing.invalid/a.jpg"},
        },
    )
    await rs.drain()
    assert _failed_errors(receiver, r.json()["messages"][0]["id"])[0]["code"] == 131053


async def test_sync_transient_errors_can_be_injected(rs: RunningSimulator) -> None:
    await rs.client.post("/_sim/config", json={"send_error_rate": 1.0, "send_error_code": 131000})
    r = await send(rs, TEXT)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == 131000
    assert PID
