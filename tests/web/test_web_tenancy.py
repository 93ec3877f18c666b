"""An admin of account A can neither see nor change account B's data through any page or form."""

from __future__ import annotations

import httpx
import pytest
from webhelpers import signed_in_csrf

from factories import World, make_user, make_world
from mostrador.canned_responses.schemas import CannedResponseCreate
from mostrador.canned_responses.service import canned_response as canned_service
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.labels.schemas import LabelCreate
from mostrador.labels.service import label as label_service
from mostrador.models import Role, User
from mostrador.runtime import Runtime
from mostrador.teams.schemas import TeamCreate
from mostrador.teams.service import team as team_service
from mostrador.users.repository import UserRepository


class Other:
    def __init__(self, world: World, agent: User, team_id: int, label_id: int, canned_id: int) -> None:
        self.world = world
        self.agent = agent
        self.team_id = team_id
        self.label_id = label_id
        self.canned_id = canned_id


@pytest.fixture
async def other(runtime: Runtime, world: World) -> Other:
    b = await make_world(runtime, suffix="b", phone_number_id="9990001", waba_id="9990002")
    agent = await make_user(runtime, b.account, "secreto-b@otra.example", Role.agent, name="Bernardo Secreto")
    async with runtime.unit_of_work() as session:
        team = await team_service.create(session, b.account.id, TeamCreate(name="EquipoSecretoB"))
        label = await label_service.create(session, b.account.id, LabelCreate(name="EtiquetaSecretaB"))
        canned = await canned_service.create(
            session, b.account.id, CannedResponseCreate(short_code="secretob", content="Contenido secreto B")
        )
        await team_service.add_member(session, b.account.id, team.id, agent.id)
    return Other(b, agent, team.id, label.id, canned.id)


SECRETS = (
    "Bernardo Secreto",
    "secreto-b@otra.example",
    "EquipoSecretoB",
    "EtiquetaSecretaB",
    "Contenido secreto B",
    "9990001",
    "Casa Olivo b",
)


class TestTenantIsolation:
    async def test_pages_show_nothing_from_the_other_account(
        self, admin_client: httpx.AsyncClient, other: Other
    ) -> None:
        for path in [
            "/",
            "/settings/agents",
            "/settings/teams",
            "/settings/inboxes",
            "/settings/labels",
            "/settings/canned-responses",
            f"/?inbox={other.world.inbox.id}",
        ]:
            text = (await admin_client.get(path)).text
            for secret in SECRETS:
                assert secret not in text, (path, secret)

    async def test_other_inbox_detail_is_404(self, admin_client: httpx.AsyncClient, other: Other) -> None:
        response = await admin_client.get(f"/settings/inboxes/{other.world.inbox.id}")
        assert response.status_code == 404
        assert "No existe o pertenece a otra cuenta." in response.text

    async def test_forms_cannot_touch_the_other_account(
        self, admin_client: httpx.AsyncClient, other: Other, runtime: Runtime, world: World
    ) -> None:
        token = await signed_in_csrf(admin_client)
        attempts = [
            (f"/settings/agents/{other.agent.id}", {"name": "hacked", "role": "admin", "max_open_conversations": "0"}),
            (f"/settings/agents/{other.agent.id}/deactivate", {}),
            (f"/settings/agents/{other.world.admin.id}/deactivate", {}),
            (f"/settings/agents/{other.agent.id}/activate", {}),
            (f"/settings/teams/{other.team_id}", {"name": "hacked"}),
            (f"/settings/teams/{other.team_id}/delete", {}),
            (f"/settings/teams/{other.team_id}/members", {"user_id": str(world.admin.id)}),
            (f"/settings/teams/{other.team_id}/members/{other.agent.id}/remove", {}),
            (f"/settings/labels/{other.label_id}", {"name": "hacked"}),
            (f"/settings/labels/{other.label_id}/delete", {}),
            (f"/settings/canned-responses/{other.canned_id}", {"content": "hacked"}),
            (f"/settings/canned-responses/{other.canned_id}/delete", {}),
            (f"/settings/inboxes/{other.world.inbox.id}", {"name": "hacked"}),
        ]
        for url, data in attempts:
            response = await admin_client.post(url, data={**data, "csrf_token": token})
            assert response.status_code == 404, (url, response.status_code)

        # nor can A pull B's agent into A's own team
        await admin_client.post("/settings/teams", data={"name": "Mio", "csrf_token": token})
        async with runtime.unit_of_work() as session:
            mine = await team_service.list(session, world.account.id)
        response = await admin_client.post(
            f"/settings/teams/{mine[0].id}/members", data={"user_id": str(other.agent.id), "csrf_token": token}
        )
        assert response.status_code == 404

        async with runtime.unit_of_work() as session:
            b_id = other.world.account.id
            agent = await UserRepository.from_session(session).get(b_id, other.agent.id)
            assert (
                agent is not None and agent.name == "Bernardo Secreto" and agent.is_active and agent.role is Role.agent
            )
            assert (await team_service.get(session, b_id, other.team_id)).name == "EquipoSecretoB"
            assert [u.id for u in await team_service.members(session, b_id, other.team_id)] == [other.agent.id]
            assert (await label_service.get(session, b_id, other.label_id)).name == "EtiquetaSecretaB"
            assert (await canned_service.get(session, b_id, other.canned_id)).content == "Contenido secreto B"
            b_inbox = await inbox_service.get(session, b_id, other.world.inbox.id)
            assert b_inbox.name == other.world.inbox.name and b_inbox.auto_assign is True
            assert await team_service.members(session, world.account.id, mine[0].id) == []
