"""Fault switches for reliability tests: duplicates, reordering, drops, retries with backoff, slow callbacks."""

from __future__ import annotations

from simhelpers import Receiver, inbound, send

from mostrador.simulator import RunningSimulator

USER = "5491155550000"
TEXT = {"messaging_product": "whatsapp", "to": USER, "text": {"body": "hola"}}


async def test_duplicates_are_identical_bodies(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"duplicate_rate": 1.0})
    await inbound(rs, USER)
    await rs.drain()
    assert len(receiver.bodies) == 2
    assert receiver.bodies[0] == receiver.bodies[1]
    assert receiver.signatures[0] == receiver.signatures[1]
    log = (await rs.client.get("/_sim/webhooks")).json()
    assert [d["duplicate_of"] for d in log] == [None, log[0]["id"]]


async def test_reorder_delivers_newest_status_first(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    await rs.client.post(
        "/_sim/config", json={"reorder_rate": 1.0, "status_delays": {"sent": 0, "delivered": 1, "read": 1}}
    )
    r = await send(rs, TEXT)
    await rs.drain()
    statuses = receiver.statuses(r.json()["messages"][0]["id"])
    assert [s["status"] for s in statuses] == ["read", "delivered", "sent"]
    stamps = [int(s["timestamp"]) for s in statuses]
    assert stamps[0] >= stamps[1] >= stamps[2] and stamps[0] > stamps[2]  # true times, wrong arrival order


async def test_drop_never_delivers_and_is_logged(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"drop_rate": 1.0})
    r = await rs.client.post("/_sim/inbound", json={"from": USER, "text": "hola"})
    assert r.status_code == 200
    await rs.drain()
    assert receiver.attempts == 0
    log = (await rs.client.get("/_sim/webhooks", params={"state": "dropped"})).json()
    assert len(log) == 1 and log[0]["attempts"] == []


async def test_callback_500_then_success_retries_with_backoff(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post(
        "/_sim/config", json={"retry_backoff_s": 0.02, "retry_backoff_factor": 2, "retry_max_backoff_s": 1}
    )
    receiver.fail_next = 3
    await inbound(rs, USER)
    await rs.drain()
    assert receiver.attempts == 4
    assert len(receiver.bodies) == 1
    d = (await rs.client.get("/_sim/webhooks")).json()[0]
    assert d["state"] == "delivered"
    assert [a["status_code"] for a in d["attempts"]] == [500, 500, 500, 200]
    gaps = [b["at"] - a["at"] for a, b in zip(d["attempts"], d["attempts"][1:], strict=False)]
    assert gaps[0] >= 0.02 and gaps[1] >= 0.04 and gaps[2] >= 0.08  # exponential backoff


async def test_gives_up_after_max_attempts(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"retry_max_attempts": 3, "retry_backoff_s": 0.001})
    receiver.fail_next = 100
    receiver.fail_status = 503
    await inbound(rs, USER)
    await rs.drain()
    d = (await rs.client.get("/_sim/webhooks")).json()[0]
    assert d["state"] == "failed" and len(d["attempts"]) == 3
    assert receiver.bodies == []


async def test_slow_callback_times_out_and_is_retried(rs: RunningSimulator, receiver: Receiver) -> None:
    await rs.client.post("/_sim/config", json={"callback_timeout_s": 0.05, "retry_backoff_s": 0.01})
    receiver.slow_next = 1
    receiver.slow_seconds = 0.5
    await inbound(rs, USER)
    await rs.drain()
    d = (await rs.client.get("/_sim/webhooks")).json()[0]
    assert d["state"] == "delivered"
    assert d["attempts"][0]["error"] == "timeout" and d["attempts"][1]["status_code"] == 200


async def test_ordering_is_kept_per_user_without_faults(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    ids = []
    for _ in range(5):
        r = await send(rs, TEXT)
        ids.append(r.json()["messages"][0]["id"])
    await rs.drain()
    for wamid in ids:
        assert [s["status"] for s in receiver.statuses(wamid)] == ["sent", "delivered", "read"]


async def test_status_delays_are_respected(rs: RunningSimulator, receiver: Receiver) -> None:
    await inbound(rs, USER)
    await rs.drain()
    await rs.client.post("/_sim/config", json={"status_delays": {"sent": 0.0, "delivered": 0.2, "read": 0.2}})
    r = await send(rs, TEXT)
    wamid = r.json()["messages"][0]["id"]
    await rs.drain()
    d = [x for x in (await rs.client.get("/_sim/webhooks")).json() if wamid in x["summary"]]
    times = [x["attempts"][0]["at"] for x in d]
    assert times[1] - times[0] >= 0.18 and times[2] - times[1] >= 0.18
