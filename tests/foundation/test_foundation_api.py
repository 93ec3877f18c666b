from __future__ import annotations

import httpx
import pytest

from factories import make_world
from mostrador.contacts.service import ChannelIdentity
from mostrador.contacts.service import contact as contact_service
from mostrador.db import Database, create_engine
from mostrador.runtime import Runtime


@pytest.fixture
async def world(runtime: Runtime):  # type: ignore[no-untyped-def]
    return await make_world(runtime)


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_checks_database(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok"}

    async def test_readyz_reports_unreachable_database(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        original = runtime.db
        bad = (
            "sqlite+aiosqlite:////nonexistent/dir/x.db"
            if original.is_sqlite
            else (str(original.engine.url.set(database="mostrador_no_such_db").render_as_string(hide_password=False)))
        )
        runtime.db = Database(create_engine(bad))
        try:
            response = await client.get("/readyz")
        finally:
            await runtime.db.dispose()
            runtime.db = original
        assert response.status_code == 503
        assert response.json()["checks"]["database"].startswith("error")


class TestApiAuth:
    async def test_missing_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/inboxes")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "missing_token"

    async def test_unknown_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/inboxes", headers={"Authorization": "Bearer mst_nope"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"

    async def test_lists_own_inboxes_only(self, client: httpx.AsyncClient, runtime: Runtime, world) -> None:  # type: ignore[no-untyped-def]
        other = await make_world(runtime, suffix="b", phone_number_id="999", waba_id="998")
        mine = await client.get("/api/v1/inboxes", headers=world.auth)
        assert [i["id"] for i in mine.json()] == [world.inbox.id]
        theirs = await client.get(f"/api/v1/inboxes/{world.inbox.id}", headers=other.auth)
        assert theirs.status_code == 404


class TestContacts:
    async def test_create_normalises_phone_and_finds_it(self, client: httpx.AsyncClient, world) -> None:  # type: ignore[no-untyped-def]
        created = await client.post(
            "/api/v1/contacts", json={"phone": "+34 612 34 56 78", "name": "Marta Ruiz"}, headers=world.auth
        )
        assert created.status_code == 201, created.text
        assert created.json()["phone_e164"] == "+34612345678"
        found = await client.get(
            "/api/v1/contacts", params={"phone": "0034612345678".replace("00", "+", 1)}, headers=world.auth
        )
        assert [c["id"] for c in found.json()] == [created.json()["id"]]

    async def test_patch_language_null_clears_it_and_omitting_keeps_it(self, client: httpx.AsyncClient, world) -> None:  # type: ignore[no-untyped-def]
        created = await client.post(
            "/api/v1/contacts", json={"phone": "+34612345678", "name": "Marta", "language": "pt"}, headers=world.auth
        )
        url = f"/api/v1/contacts/{created.json()['id']}"
        renamed = await client.patch(url, json={"name": "Marta Ruiz"}, headers=world.auth)
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["language"] == "pt" and renamed.json()["name"] == "Marta Ruiz"
        cleared = await client.patch(url, json={"language": None}, headers=world.auth)
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["language"] is None and cleared.json()["name"] == "Marta Ruiz"
        assert (await client.get(url, headers=world.auth)).json()["language"] is None
        bad = await client.patch(url, json={"language": "fr"}, headers=world.auth)
        assert bad.status_code == 422 and "error" in bad.json()

    async def test_legacy_mexican_wa_id_is_found_by_the_phone_the_api_shows(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        world,  # type: ignore[no-untyped-def]
    ) -> None:
        async with runtime.unit_of_work() as session:
            contact = await contact_service.resolve_identity(
                session, world.inbox, ChannelIdentity(wa_id="5215512345678", bsuid=None, name="Ana")
            )
        shown = (await client.get(f"/api/v1/contacts/{contact.id}", headers=world.auth)).json()["phone_e164"]
        assert shown == "+5215512345678"  # not valid E.164 today, kept as WhatsApp sent it
        found = await client.get("/api/v1/contacts", params={"phone": shown}, headers=world.auth)
        assert found.status_code == 200, found.text
        assert [c["id"] for c in found.json()] == [contact.id]
        unknown = await client.get("/api/v1/contacts", params={"phone": "+5215599999999"}, headers=world.auth)
        assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_phone"

    async def test_bad_phone_is_422_with_reason(self, client: httpx.AsyncClient, world) -> None:  # type: ignore[no-untyped-def]
        response = await client.post("/api/v1/contacts", json={"phone": "not a phone"}, headers=world.auth)
        assert response.status_code == 422
        body = response.json()["error"]
        assert body["code"] == "invalid_phone"
        assert "international" in body["message"]

    async def test_malformed_json_is_400(self, client: httpx.AsyncClient, world) -> None:  # type: ignore[no-untyped-def]
        response = await client.post(
            "/api/v1/contacts", content=b"{not json", headers={**world.auth, "content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_json"

    async def test_other_accounts_contact_is_404(self, client: httpx.AsyncClient, runtime: Runtime, world) -> None:  # type: ignore[no-untyped-def]
        other = await make_world(runtime, suffix="b", phone_number_id="999", waba_id="998")
        created = await client.post("/api/v1/contacts", json={"phone": "+5491122334455"}, headers=other.auth)
        response = await client.get(f"/api/v1/contacts/{created.json()['id']}", headers=world.auth)
        assert response.status_code == 404
        patch = await client.patch(f"/api/v1/contacts/{created.json()['id']}", json={"name": "x"}, headers=world.auth)
        assert patch.status_code == 404
