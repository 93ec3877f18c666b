from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from factories import World, make_user, make_world
from mostrador.exceptions import Conflict, NotFound
from mostrador.labels.schemas import LabelCreate, LabelUpdate
from mostrador.labels.service import label as label_service
from mostrador.models import Role
from mostrador.runtime import Runtime


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


class TestLabelService:
    async def test_create_list_update_delete(self, runtime: Runtime, world: World) -> None:
        async with runtime.unit_of_work() as session:
            b = await label_service.create(
                session, world.account.id, LabelCreate(name="  Reclamación ", color="#AABBCC")
            )
            await label_service.create(session, world.account.id, LabelCreate(name="pedido"))
        assert b.name == "Reclamación" and b.color == "#aabbcc"
        async with runtime.unit_of_work() as session:
            assert [x.name for x in await label_service.list(session, world.account.id)] == ["pedido", "Reclamación"]
            updated = await label_service.update(session, world.account.id, b.id, LabelUpdate(description="quejas"))
            assert updated.name == "Reclamación" and updated.description == "quejas"
            await label_service.delete(session, world.account.id, b.id)
        async with runtime.unit_of_work() as session:
            with pytest.raises(NotFound):
                await label_service.get(session, world.account.id, b.id)

    async def test_names_are_unique_per_account_case_insensitively(self, runtime: Runtime, world: World) -> None:
        other = await make_world(runtime, suffix="b", phone_number_id="42", waba_id="43")
        async with runtime.unit_of_work() as session:
            first = await label_service.create(session, world.account.id, LabelCreate(name="VIP"))
            second = await label_service.create(session, world.account.id, LabelCreate(name="Normal"))
            await label_service.create(session, other.account.id, LabelCreate(name="VIP"))  # another account: fine
            with pytest.raises(Conflict) as error:
                await label_service.create(session, world.account.id, LabelCreate(name="vip"))
            assert error.value.code == "label_exists"
            with pytest.raises(Conflict):
                await label_service.update(session, world.account.id, second.id, LabelUpdate(name="Vip"))
            await label_service.update(session, world.account.id, first.id, LabelUpdate(name="vip"))  # itself: fine

    async def test_other_accounts_labels_are_not_found(self, runtime: Runtime, world: World) -> None:
        other = await make_world(runtime, suffix="b", phone_number_id="42", waba_id="43")
        async with runtime.unit_of_work() as session:
            theirs = await label_service.create(session, other.account.id, LabelCreate(name="Suyo"))
        async with runtime.unit_of_work() as session:
            for call in (
                label_service.get(session, world.account.id, theirs.id),
                label_service.update(session, world.account.id, theirs.id, LabelUpdate(name="x")),
                label_service.delete(session, world.account.id, theirs.id),
            ):
                with pytest.raises(NotFound):
                    await call
            assert await label_service.list(session, world.account.id) == []

    def test_colour_must_be_hex(self) -> None:
        for bad in ("red", "#fff", "#12345g", "javascript:x"):
            with pytest.raises(ValidationError):
                LabelCreate(name="x", color=bad)


class TestLabelEndpoints:
    async def test_admin_crud_and_agent_read_only(self, app: FastAPI, runtime: Runtime, world: World) -> None:
        agent = await make_user(runtime, world.account, "a@x.example", Role.agent)
        from factories import make_token

        agent_auth = {"Authorization": f"Bearer {await make_token(runtime, agent)}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            created = await client.post("/api/v1/labels", json={"name": "VIP", "color": "#112233"}, headers=world.auth)
            assert created.status_code == 201 and created.json()["color"] == "#112233"
            label_id = created.json()["id"]
            assert (await client.post("/api/v1/labels", json={"name": "vip"}, headers=world.auth)).status_code == 409
            assert (await client.post("/api/v1/labels", json={"name": "x"}, headers=agent_auth)).status_code == 403
            assert [x["name"] for x in (await client.get("/api/v1/labels", headers=agent_auth)).json()] == ["VIP"]
            patched = await client.patch(f"/api/v1/labels/{label_id}", json={"name": "Gold"}, headers=world.auth)
            assert patched.json()["name"] == "Gold"
            assert (await client.delete(f"/api/v1/labels/{label_id}", headers=world.auth)).status_code == 204
            assert (await client.delete(f"/api/v1/labels/{label_id}", headers=world.auth)).status_code == 404
