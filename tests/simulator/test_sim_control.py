"""Control API, the phone page (also mounted under a prefix) and load mode."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from simhelpers import PID, Receiver, inbound, make_config, send

from mostrador.simulator import RunningSimulator, SimulatorConfig, create_simulator_app, running_simulator
from mostrador.simulator.load import LoadReport, run_inbound_load, status_storm

USER = "5491155550000"


async def test_users_config_reset_and_log(rs: RunningSimulator, receiver: Receiver) -> None:
    r = await rs.client.post("/_sim/users", json={"wa_id": "+54 9 11 5555-0001", "name": "Luis"})
    assert r.status_code == 200
    user = r.json()
    assert user["wa_id"] == "5491155550001" and user["user_id"].startswith("AR.") and user["window_open"] is False
    assert [u["wa_id"] for u in (await rs.client.get("/_sim/users")).json()] == ["5491155550001"]
    assert (await rs.client.post("/_sim/users", json={"wa_id": "abc"})).status_code == 400

    r = await rs.client.post("/_sim/config", json={"read_probability": 0.5, "status_delays": 0.1})
    assert r.json()["behaviours"]["read_probability"] == 0.5
    assert r.json()["behaviours"]["status_delays"] == {"sent": 0.1, "delivered": 0.1, "read": 0.1}
    assert (await rs.client.post("/_sim/config", json={"read_probability": 3})).status_code == 400
    assert (await rs.client.post("/_sim/config", json={"nope": 1})).status_code == 400

    await inbound(rs, USER)
    await rs.drain()
    log = (await rs.client.get("/_sim/webhooks", params={"with_body": "false"})).json()
    assert len(log) == 1 and "body" not in log[0] and log[0]["field"] == "messages"

    assert (await rs.client.post("/_sim/reset")).json() == {"success": True}
    assert (await rs.client.get("/_sim/users")).json() == []
    assert (await rs.client.get("/_sim/webhooks")).json() == []
    assert (await rs.client.get("/_sim/config")).json()["behaviours"]["read_probability"] == 1.0
    # still works after a reset (background work restarts lazily)
    await inbound(rs, USER)
    await rs.drain()
    assert len(receiver.bodies) == 2


async def test_messages_lists_what_the_business_sent_with_statuses(rs: RunningSimulator) -> None:
    await inbound(rs, USER)
    r = await send(rs, {"messaging_product": "whatsapp", "to": USER, "text": {"body": "hola"}})
    await rs.drain()
    msgs = (await rs.client.get("/_sim/messages", params={"to": f"+{USER}"})).json()
    assert len(msgs) == 1
    m = msgs[0]
    assert m["wamid"] == r.json()["messages"][0]["id"] and m["status"] == "read"
    assert m["render"] == {"kind": "text", "body": "hola"}
    assert [s["status"] for s in m["statuses"]] == ["sent", "delivered", "read"]
    assert (await rs.client.get("/_sim/messages", params={"to": "111111111"})).json() == []


async def test_status_storm_endpoint(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    r = await send(rs, {"messaging_product": "whatsapp", "to": USER, "text": {"body": "hola"}})
    wamid = r.json()["messages"][0]["id"]
    await rs.drain()
    before = len(receiver.statuses(wamid))
    r = await rs.client.post(
        "/_sim/statuses", json={"wamids": [wamid, "wamid.unknown"], "statuses": ["read"], "duplicates": 1}
    )
    assert r.json() == {"emitted": 2, "unknown": ["wamid.unknown"]}
    await rs.drain()
    assert len(receiver.statuses(wamid)) == before + 2


async def test_thread_long_poll_wakes_on_change(rs: RunningSimulator) -> None:
    import asyncio

    await inbound(rs, USER)
    await rs.drain()
    thread = (await rs.client.get("/_sim/thread", params={"wa_id": USER})).json()
    assert [i["dir"] for i in thread["items"]] == ["in"]

    async def later() -> None:
        await asyncio.sleep(0.05)
        await send(rs, {"messaging_product": "whatsapp", "to": USER, "text": {"body": "hola"}})

    task = asyncio.create_task(later())
    r = await rs.client.get("/_sim/thread", params={"wa_id": USER, "since": thread["version"], "wait": 5})
    await task
    assert r.json()["version"] > thread["version"]
    assert "out" in [i["dir"] for i in r.json()["items"]]


async def test_phone_page_renders_and_escapes(rs: RunningSimulator) -> None:
    r = await rs.client.get("/phone")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="es">' in html and "Teléfono simulado" in html
    assert 'src="/_sim/static/phone.js"' in html and 'href="/_sim/static/phone.css"' in html
    assert "http://" not in html.replace('"http://www.w3.org/2000/svg"', "")  # no CDN
    assert "Simulated phone" in (await rs.client.get("/phone", params={"lang": "en"})).text
    assert "Telefone simulado" in (await rs.client.get("/phone", params={"lang": "pt"})).text
    js = (await rs.client.get("/_sim/static/phone.js")).text
    assert "innerHTML" not in js and "textContent" in js
    assert (await rs.client.get("/_sim/static/phone.css")).status_code == 200
    # customer-controlled text only reaches the page through JSON + textContent
    await inbound(rs, USER, name="<img src=x onerror=alert(1)>", text="<script>alert(1)</script>")
    html = (await rs.client.get("/phone")).text
    assert "<script>alert(1)" not in html and "onerror=alert" not in html


async def test_mounted_under_a_prefix(receiver: Receiver) -> None:
    cfg = make_config()
    sim_app = create_simulator_app(cfg, webhook_transport=httpx.ASGITransport(app=receiver.app))
    host = FastAPI()
    host.mount("/sim", sim_app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://demo") as client:
        html = (await client.get("/sim/phone")).text
        assert 'src="/sim/_sim/static/phone.js"' in html and 'data-root="/sim"' in html
        assert (await client.get("/sim/_sim/static/phone.js")).status_code == 200
        # no lifespan ran: work starts lazily and webhooks still flow
        r = await client.post("/sim/_sim/inbound", json={"from": USER, "text": "hola"})
        assert r.status_code == 200
        r = await client.post(
            f"/sim/v26.0/{PID}/messages",
            headers={"Authorization": f"Bearer {cfg.access_token}"},
            json={"messaging_product": "whatsapp", "to": USER, "text": {"body": "hola"}},
        )
        assert r.status_code == 200
        await sim_app.state.simulator.drain()
        assert len(receiver.bodies) == 4
        await sim_app.state.simulator.aclose()


def _loopback_config() -> SimulatorConfig:
    cfg = make_config()
    return cfg.model_copy(update={"callback_url": "http://127.0.0.1:9/webhooks/whatsapp"})


async def test_inbound_load_is_bounded_and_reaches_the_callback(receiver: Receiver) -> None:
    async with running_simulator(
        _loopback_config(), webhook_transport=httpx.ASGITransport(app=receiver.app)
    ) as running:
        report = await run_inbound_load(running.transport, PID, customers=5, rate_per_s=200, duration_s=0.25)
        assert isinstance(report, LoadReport)
        assert report.requested == 50 and report.sent == 50 and report.errors == 0
        assert report.duration_s < 5 and report.summary()["p95_ms"] >= report.summary()["p50_ms"]
        await running.drain()
        assert len(receiver.bodies) == 50
        senders = {p["entry"][0]["changes"][0]["value"]["messages"][0]["from"] for p in receiver.payloads()}
        assert len(senders) == 5

        # statuses for messages the business sent
        wamids = []
        for wa in sorted(senders):
            r = await send(running, {"messaging_product": "whatsapp", "to": wa, "text": {"body": "ok"}})
            wamids.append(r.json()["messages"][0]["id"])
        await running.drain()
        n = len(receiver.bodies)
        storm = await status_storm(
            running.transport, wamids, statuses=("delivered", "read"), rate_per_s=1000, duplicates=1, batch_size=2
        )
        assert storm.sent == 5 * 2 * 2 and storm.errors == 0
        await running.drain()
        assert len(receiver.bodies) == n + 20


async def test_load_refuses_non_loopback_targets(rs: RunningSimulator) -> None:
    with pytest.raises(ValueError, match="loopback"):
        await run_inbound_load("http://example.com", PID, customers=1, rate_per_s=1, duration_s=1)
    with pytest.raises(ValueError, match="loopback"):  # the test config's callback is http://app.test
        await run_inbound_load(rs.transport, PID, customers=1, rate_per_s=1, duration_s=1)
    with pytest.raises(ValueError):
        await run_inbound_load(rs.transport, PID, customers=0, rate_per_s=1, duration_s=1)
    with pytest.raises(ValueError):
        await run_inbound_load(rs.transport, PID, customers=1, rate_per_s=1, duration_s=10_000)
