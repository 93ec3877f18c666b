from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from factories import World, make_user, make_world
from mostrador.exceptions import Conflict, NotFound
from mostrador.models import Role
from mostrador.runtime import Runtime
from mostrador.teams.schemas import TeamCreate, TeamUpdate
from mostrador.teams.service import team as team_service


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


class TestTeamService:
    async def test_members_lifecycle(self, runtime: Runtime, world: World) -> None:
        ana = await make_user(runtime, world.account, "ana@x.example", Role.agent, name="Ana")
        bea = await make_user(runtime, world.account, "bea@x.example", Role.agent, name="Bea")
        async with runtime.unit_of_work() as session:
            ventas = await team_service.create(session, world.account.id, TeamCreate(name="Ventas"))
            soporte = await team_service.create(session, world.account.id, TeamCreate(name="Soporte"))
            await team_service.add_member(session, world.account.id, ventas.id, bea.id)
            await team_service.add_member(session, world.account.id, ventas.id, ana.id)
            await team_service.add_member(session, world.account.id, ventas.id, ana.id)  # idempotent
            await team_service.add_member(session, world.account.id, soporte.id, ana.id)
        async with runtime.unit_of_work() as session:
            assert [u.name for u in await team_service.members(session, world.account.id, ventas.id)] == ["Ana", "Bea"]
            grouped = await team_service.members_by_team(session, world.account.id)
            assert {k: [u.name for u in v] for k, v in grouped.items()} == {
                ventas.id: ["Ana", "Bea"],
                soporte.id: ["Ana"],
            }
            assert sorted(await team_service.team_ids_of(session, world.account.id, ana.id)) == sorted(
                [ventas.id, soporte.id]
            )
            await team_service.remove_member(session, world.account.id, ventas.id, ana.id)
            await team_service.remove_member(session, world.account.id, ventas.id, ana.id)  # idempotent
            assert [u.name for u in await team_service.members(session, world.account.id, ventas.id)] == ["Bea"]
            await team_service.delete(session, world.account.id, ventas.id)
        async with runtime.unit_of_work() as session:
            assert [t.name for t in await team_service.list(session, world.account.id)] == ["Soporte"]
            assert await team_service.team_ids_of(session, world.account.id, bea.id) == []

    async def test_unique_names_and_rename(self, runtime: Runtime, world: World) -> None:
        async with runtime.unit_of_work() as session:
            a = await team_service.create(session, world.account.id, TeamCreate(name="Ventas"))
            b = await team_service.create(session, world.account.id, TeamCreate(name="Soporte"))
            with pytest.raises(Conflict):
                await team_service.create(session, world.account.id, TeamCreate(name="VENTAS"))
            with pytest.raises(Conflict):
                await team_service.update(session, world.account.id, b.id, TeamUpdate(name="ventas"))
            renamed = await team_service.update(session, world.account.id, a.id, TeamUpdate(name="Ventas online"))
            assert renamed.name == "Ventas online"

    async def test_cross_account_members_and_teams_are_not_found(self, runtime: Runtime, world: World) -> None:
        other = await make_world(runtime, suffix="b", phone_number_id="42", waba_id="43")
        async with runtime.unit_of_work() as session:
            mine = await team_service.create(session, world.account.id, TeamCreate(name="Mío"))
            theirs = await team_service.create(session, other.account.id, TeamCreate(name="Suyo"))
            with pytest.raises(NotFound):
                await team_service.add_member(session, world.account.id, mine.id, other.admin.id)
            with pytest.raises(NotFound):
                await team_service.add_member(session, world.account.id, theirs.id, world.admin.id)
            with pytest.raises(NotFound):
                await team_service.members(session, world.account.id, theirs.id)
            assert await team_service.members(session, world.account.id, mine.id) == []


class TestTeamEndpoints:
    async def test_create_and_members(self, app: FastAPI, runtime: Runtime, world: World) -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            made = await client.post("/api/v1/teams", json={"name": "Ventas"}, headers=world.auth)
            assert made.status_code == 201
            tid = made.json()["id"]
            added = await client.post(
                f"/api/v1/teams/{tid}/members", json={"user_id": world.admin.id}, headers=world.auth
            )
            assert added.status_code == 204
            listed = (await client.get("/api/v1/teams", headers=world.auth)).json()
            assert listed == [{"id": tid, "name": "Ventas", "description": "", "member_ids": [world.admin.id]}]
            missing = await client.post(f"/api/v1/teams/{tid}/members", json={"user_id": 999999}, headers=world.auth)
            assert missing.status_code == 404
