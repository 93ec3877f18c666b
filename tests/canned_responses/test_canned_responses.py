from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from factories import World, make_world
from mostrador.canned_responses.schemas import CannedResponseCreate, CannedResponseUpdate
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.exceptions import Conflict, NotFound
from mostrador.runtime import Runtime


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


class TestCannedResponseService:
    async def test_codes_are_lower_case_and_unique(self, runtime: Runtime, world: World) -> None:
        async with runtime.unit_of_work() as session:
            made = await canned_service.create(
                session, world.account.id, CannedResponseCreate(short_code="Horario", content=" Abrimos a las 9 ")
            )
            assert made.short_code == "horario" and made.content == "Abrimos a las 9"
            with pytest.raises(Conflict) as error:
                await canned_service.create(
                    session, world.account.id, CannedResponseCreate(short_code="HORARIO", content="x")
                )
            assert error.value.code == "short_code_taken"
            other = await canned_service.create(
                session, world.account.id, CannedResponseCreate(short_code="envio", content="y")
            )
            with pytest.raises(Conflict):
                await canned_service.update(
                    session, world.account.id, other.id, CannedResponseUpdate(short_code="horario")
                )

    async def test_search_by_prefix_or_content_escapes_wildcards(self, runtime: Runtime, world: World) -> None:
        async with runtime.unit_of_work() as session:
            for code, content in (("horario", "De 9 a 14"), ("envio", "Enviamos en 24 h"), ("devol", "100% reembolso")):
                await canned_service.create(
                    session, world.account.id, CannedResponseCreate(short_code=code, content=content)
                )
        async with runtime.unit_of_work() as session:
            assert [c.short_code for c in await canned_service.search(session, world.account.id, "ho")] == ["horario"]
            assert [c.short_code for c in await canned_service.search(session, world.account.id, "24 H")] == ["envio"]
            assert [c.short_code for c in await canned_service.search(session, world.account.id, "%")] == ["devol"]
            assert await canned_service.search(session, world.account.id, "_") == []

    async def test_isolated_per_account(self, runtime: Runtime, world: World) -> None:
        other = await make_world(runtime, suffix="b", phone_number_id="42", waba_id="43")
        async with runtime.unit_of_work() as session:
            theirs = await canned_service.create(
                session, other.account.id, CannedResponseCreate(short_code="x", content="y")
            )
            await canned_service.create(session, world.account.id, CannedResponseCreate(short_code="x", content="mine"))
        async with runtime.unit_of_work() as session:
            with pytest.raises(NotFound):
                await canned_service.update(session, world.account.id, theirs.id, CannedResponseUpdate(content="z"))
            with pytest.raises(NotFound):
                await canned_service.delete(session, world.account.id, theirs.id)
            assert [c.content for c in await canned_service.search(session, world.account.id, "x")] == ["mine"]


class TestCannedResponseEndpoints:
    async def test_crud_and_search(self, app: FastAPI, world: World) -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            made = await client.post(
                "/api/v1/canned-responses", json={"short_code": "hola", "content": "¡Hola!"}, headers=world.auth
            )
            assert made.status_code == 201
            bad = await client.post(
                "/api/v1/canned-responses", json={"short_code": "a b", "content": "x"}, headers=world.auth
            )
            assert bad.status_code == 422
            found = await client.get("/api/v1/canned-responses?q=ho", headers=world.auth)
            assert [c["short_code"] for c in found.json()] == ["hola"]
            rid = made.json()["id"]
            assert (
                await client.patch(f"/api/v1/canned-responses/{rid}", json={"content": "Buenas"}, headers=world.auth)
            ).json()["content"] == "Buenas"
            assert (await client.delete(f"/api/v1/canned-responses/{rid}", headers=world.auth)).status_code == 204
