"""Media: upload → get URL (pointing back at the simulator) → authenticated download → delete."""

from __future__ import annotations

import hashlib

from simhelpers import PID, TOKEN, load_fixture

from mostrador.simulator import RunningSimulator
from mostrador.simulator.media import tiny_png

PNG = tiny_png()


async def test_upload_get_download_delete(rs: RunningSimulator) -> None:
    r = await rs.client.post(
        f"/v26.0/{PID}/media",
        files={"file": ("foto.png", PNG, "image/png")},
        data={"messaging_product": "whatsapp", "type": "image/png"},
    )
    assert r.status_code == 200
    assert set(r.json()) == set(load_fixture("media_upload_response.json"))
    media_id = r.json()["id"]

    info = (await rs.client.get(f"/v26.0/{media_id}", params={"phone_number_id": PID})).json()
    assert set(info) == set(load_fixture("media_get_url_response.json"))
    assert info["id"] == media_id and info["mime_type"] == "image/png"
    assert info["file_size"] == str(len(PNG)) and info["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert info["url"].startswith("http://sim.test/whatsapp_business/attachments/?mid=")

    anonymous = await rs.client.get(info["url"], headers={"Authorization": ""})
    assert anonymous.status_code == 401
    wrong = await rs.client.get(info["url"], headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = await rs.client.get(info["url"], headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.content == PNG and ok.headers["content-type"] == "image/png"

    tampered = await rs.client.get(info["url"].replace("hash=", "hash=0"))
    assert tampered.status_code == 404

    r = await rs.client.delete(f"/v26.0/{media_id}")
    assert r.json() == load_fixture("media_delete_response.json")
    assert (await rs.client.get(f"/v26.0/{media_id}")).status_code == 400
    assert (await rs.client.get(info["url"])).status_code == 404
    assert (await rs.client.delete(f"/v26.0/{media_id}")).status_code == 400


async def test_media_urls_expire(rs: RunningSimulator) -> None:
    r = await rs.client.post(
        f"/v26.0/{PID}/media", files={"file": ("a.png", PNG, "image/png")}, data={"messaging_product": "whatsapp"}
    )
    url = (await rs.client.get(f"/v26.0/{r.json()['id']}")).json()["url"]
    rs.sim.advance_clock(301)
    assert (await rs.client.get(url)).status_code == 404


async def test_upload_rejects_unsupported_or_missing(rs: RunningSimulator) -> None:
    r = await rs.client.post(
        f"/v26.0/{PID}/media",
        files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
        data={"messaging_product": "whatsapp"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 131053
    r = await rs.client.post(
        f"/v26.0/{PID}/media",
        files={"file": ("big.png", b"x" * (5 * 1024 * 1024 + 1), "image/png")},
        data={"messaging_product": "whatsapp"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 131053
    r = await rs.client.post(
        f"/v26.0/{PID}/media", data={"messaging_product": "whatsapp"}, files={"other": ("a", b"a", "text/plain")}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == 100
    r = await rs.client.post(
        f"/v26.0/{PID}/media", files={"file": ("a.png", PNG, "image/png")}, headers={"Authorization": "Bearer nope"}
    )
    assert r.status_code == 401


async def test_inbound_media_can_be_downloaded_by_the_business(rs: RunningSimulator) -> None:
    r = await rs.client.post(
        "/_sim/inbound",
        json={"phone_number_id": PID, "from": "5491100000000", "type": "image", "image": {"caption": "mi foto"}},
    )
    msg = rs.sim.state.inbound[r.json()["wamid"]].message
    media_id = msg["image"]["id"]
    info = (await rs.client.get(f"/v26.0/{media_id}")).json()
    data = (await rs.client.get(info["url"])).content
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert hashlib.sha256(data).hexdigest() == msg["image"]["sha256"]
