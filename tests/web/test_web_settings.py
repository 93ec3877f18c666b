from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from webhelpers import PASSWORD, login, signed_in_csrf

from factories import World
from mostrador.inboxes.service import inbox as inbox_service
from mostrador.labels.schemas import LabelCreate
from mostrador.labels.service import label as label_service
from mostrador.models import Availability, Role, User
from mostrador.runtime import Runtime
from mostrador.users.repository import UserRepository

SETTINGS_PAGES = [
    "/settings/agents",
    "/settings/teams",
    "/settings/inboxes",
    "/settings/labels",
    "/settings/canned-responses",
]
ADMIN_ONLY_PAGES = ["/settings/inboxes/new"]


@asynccontextmanager
async def as_user(app: object, email: str, password: str = PASSWORD) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://mostrador.test") as client:
        assert (await login(client, email, password)).status_code == 303
        yield client


class TestAccess:
    async def test_admin_sees_every_page(self, admin_client: httpx.AsyncClient, world: World) -> None:
        for path in [*SETTINGS_PAGES, *ADMIN_ONLY_PAGES, f"/settings/inboxes/{world.inbox.id}"]:
            response = await admin_client.get(path)
            assert response.status_code == 200, path
        assert (await admin_client.get("/settings")).headers["location"] == "/settings/agents"

    async def test_agent_gets_403_everywhere(self, app: object, agent: User, world: World) -> None:
        async with as_user(app, agent.email) as client:
            for path in [*SETTINGS_PAGES, *ADMIN_ONLY_PAGES, f"/settings/inboxes/{world.inbox.id}", "/settings"]:
                response = await client.get(path)
                assert response.status_code == 403, path
                assert "Permiso denegado" in response.text
            token = await signed_in_csrf(client)
            response = await client.post("/settings/labels", data={"name": "x", "csrf_token": token})
            assert response.status_code == 403
            assert 'href="/settings/agents"' not in (await client.get("/")).text  # no settings link in the nav

    async def test_supervisor_may_look_but_not_change(self, app: object, supervisor: User, world: World) -> None:
        async with as_user(app, supervisor.email) as client:
            for path in SETTINGS_PAGES:
                response = await client.get(path)
                assert response.status_code == 200, path
                assert "solo los administradores pueden cambiarlos" in response.text
                main = response.text.split('id="settings-main"')[1]
                assert "hx-post=" not in main and 'method="post"' not in main
            assert (await client.get("/settings/inboxes/new")).status_code == 403
            token = await signed_in_csrf(client)
            response = await client.post("/settings/labels", data={"name": "VIP", "csrf_token": token})
            assert response.status_code == 403

    @pytest.mark.parametrize("path", ["/", *SETTINGS_PAGES, *ADMIN_ONLY_PAGES])
    async def test_anonymous_is_sent_to_login(self, client: httpx.AsyncClient, world: World, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


class TestAgents:
    async def test_create_agent_with_role(self, admin_client: httpx.AsyncClient, app: object) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        data = {
            "name": "Luis Hernández",
            "email": "luis@casaolivo.example",
            "password": "una clave larga",
            "role": "supervisor",
            "csrf_token": token,
        }
        response = await admin_client.post("/settings/agents", data=data)
        assert response.status_code == 303
        page = await admin_client.get("/settings/agents")
        assert "Luis Hernández" in page.text and "luis@casaolivo.example" in page.text
        async with as_user(app, "luis@casaolivo.example", "una clave larga") as luis:
            assert (await luis.get("/settings/agents")).status_code == 200  # a supervisor

    async def test_validation_errors_are_inline_and_in_spanish(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        data = {"name": "", "email": "no-es-un-correo", "password": "corta", "role": "emperor", "csrf_token": token}
        response = await admin_client.post("/settings/agents", data=data)
        assert response.status_code == 422
        assert "Este campo es obligatorio." in response.text
        assert "Escribe un correo electrónico válido." in response.text
        assert "Demasiado corto: al menos 8 caracteres." in response.text
        assert "Elige una de las opciones." in response.text
        assert 'value="no-es-un-correo"' in response.text
        assert "corta" not in response.text.split('id="agent-create"')[1].split("</form>")[0].replace(
            "Demasiado corto", ""
        )

    async def test_duplicate_email_is_a_friendly_message(self, admin_client: httpx.AsyncClient, world: World) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        data = {
            "name": "Otra",
            "email": world.admin.email.upper(),
            "password": "una clave larga",
            "role": "agent",
            "csrf_token": token,
        }
        response = await admin_client.post("/settings/agents", data=data)
        assert response.status_code == 422
        assert "Ya existe un usuario con este correo electrónico." in response.text

    async def test_change_role_and_capacity(
        self, admin_client: httpx.AsyncClient, agent: User, runtime: Runtime
    ) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        response = await admin_client.post(
            f"/settings/agents/{agent.id}",
            data={"name": agent.name, "role": "supervisor", "max_open_conversations": "25"},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )
        assert response.status_code == 200
        assert 'hx-swap-oob="beforeend:#toasts"' in response.text and "Cambios guardados." in response.text
        async with runtime.unit_of_work() as session:
            stored = await UserRepository.from_session(session).get(agent.account_id, agent.id)
        assert stored is not None and stored.role is Role.supervisor and stored.max_open_conversations == 25

    async def test_bad_capacity_is_inline(self, admin_client: httpx.AsyncClient, agent: User) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        response = await admin_client.post(
            f"/settings/agents/{agent.id}",
            data={"name": agent.name, "role": "agent", "max_open_conversations": "-3", "csrf_token": token},
        )
        assert response.status_code == 422
        assert "Debe ser al menos 0." in response.text

    async def test_last_admin_cannot_be_demoted_or_deactivate_self(
        self, admin_client: httpx.AsyncClient, world: World
    ) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        demote = await admin_client.post(
            f"/settings/agents/{world.admin.id}", data={"name": "admin", "role": "agent", "csrf_token": token}
        )
        assert demote.status_code == 422
        assert "La cuenta necesita al menos un administrador activo." in demote.text
        myself = await admin_client.post(f"/settings/agents/{world.admin.id}/deactivate", data={"csrf_token": token})
        assert myself.status_code == 422
        assert "No puedes desactivarte a ti mismo." in myself.text

    async def test_deactivate_and_reactivate(self, admin_client: httpx.AsyncClient, agent: User) -> None:
        token = await signed_in_csrf(admin_client, "/settings/agents")
        assert (
            await admin_client.post(f"/settings/agents/{agent.id}/deactivate", data={"csrf_token": token})
        ).status_code == 303
        assert "Desactivado" in (await admin_client.get("/settings/agents")).text
        assert (
            await admin_client.post(f"/settings/agents/{agent.id}/activate", data={"csrf_token": token})
        ).status_code == 303
        assert "Desactivado" not in (await admin_client.get("/settings/agents")).text


class TestTeams:
    async def test_create_rename_members_delete(self, admin_client: httpx.AsyncClient, agent: User) -> None:
        token = await signed_in_csrf(admin_client, "/settings/teams")
        assert (
            await admin_client.post("/settings/teams", data={"name": "Ventas", "csrf_token": token})
        ).status_code == 303
        page = await admin_client.get("/settings/teams")
        assert "Ventas" in page.text
        team_id = int(page.text.split('id="team-')[1].split('"')[0])
        duplicate = await admin_client.post("/settings/teams", data={"name": "ventas", "csrf_token": token})
        assert duplicate.status_code == 422 and "Ya existe un equipo con este nombre." in duplicate.text
        rename = await admin_client.post(f"/settings/teams/{team_id}", data={"name": "Postventa", "csrf_token": token})
        assert rename.status_code == 303
        add = await admin_client.post(
            f"/settings/teams/{team_id}/members", data={"user_id": str(agent.id), "csrf_token": token}
        )
        assert add.status_code == 303
        page = await admin_client.get("/settings/teams")
        assert "Postventa" in page.text and f"/settings/teams/{team_id}/members/{agent.id}/remove" in page.text
        remove = await admin_client.post(
            f"/settings/teams/{team_id}/members/{agent.id}/remove", data={"csrf_token": token}
        )
        assert remove.status_code == 303
        assert f"/members/{agent.id}/remove" not in (await admin_client.get("/settings/teams")).text
        assert (
            await admin_client.post(f"/settings/teams/{team_id}/delete", data={"csrf_token": token})
        ).status_code == 303
        assert "Postventa" not in (await admin_client.get("/settings/teams")).text

    async def test_empty_name_is_inline(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/teams")
        response = await admin_client.post("/settings/teams", data={"name": "   ", "csrf_token": token})
        assert response.status_code == 422 and "Este campo es obligatorio." in response.text


class TestLabels:
    async def test_crud_with_colour(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/labels")
        created = await admin_client.post(
            "/settings/labels",
            data={"name": "VIP", "color": "#FF8800", "description": "Buenos clientes", "csrf_token": token},
        )
        assert created.status_code == 303
        page = await admin_client.get("/settings/labels")
        assert 'value="#ff8800"' in page.text
        label_id = int(page.text.split('<li class="rows__item" id="label-')[1].split('"')[0])
        assert f'data-label="{label_id}"' in page.text  # also listed in the nav
        edited = await admin_client.post(
            f"/settings/labels/{label_id}", data={"name": "Cliente VIP", "color": "#00aa00", "csrf_token": token}
        )
        assert edited.status_code == 303
        assert "Cliente VIP" in (await admin_client.get("/settings/labels")).text
        bad = await admin_client.post(f"/settings/labels/{label_id}", data={"color": "red", "csrf_token": token})
        assert bad.status_code == 422 and "El formato no es válido." in bad.text
        deleted = await admin_client.post(f"/settings/labels/{label_id}/delete", data={"csrf_token": token})
        assert deleted.status_code == 303
        assert "Cliente VIP" not in (await admin_client.get("/settings/labels")).text

    async def test_duplicate_name(self, admin_client: httpx.AsyncClient, runtime: Runtime, world: World) -> None:
        async with runtime.unit_of_work() as session:
            await label_service.create(session, world.account.id, LabelCreate(name="Pedido"))
        token = await signed_in_csrf(admin_client, "/settings/labels")
        response = await admin_client.post("/settings/labels", data={"name": "pedido", "csrf_token": token})
        assert response.status_code == 422
        assert "Ya existe una etiqueta con este nombre." in response.text

    async def test_label_names_are_escaped(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/labels")
        await admin_client.post("/settings/labels", data={"name": "<script>x</script>", "csrf_token": token})
        page = await admin_client.get("/settings/labels")
        assert "<script>x</script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text


class TestCannedResponses:
    async def test_crud(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/canned-responses")
        data = {"short_code": "Horario", "content": "Abrimos de *9 a 14 h*.", "csrf_token": token}
        assert (await admin_client.post("/settings/canned-responses", data=data)).status_code == 303
        page = await admin_client.get("/settings/canned-responses")
        assert 'value="horario"' in page.text
        item_id = int(page.text.split('id="canned-')[2].split('"')[0])
        duplicate = await admin_client.post("/settings/canned-responses", data=data)
        assert duplicate.status_code == 422
        assert "Ya existe una respuesta rápida con este código corto." in duplicate.text
        bad = await admin_client.post(
            "/settings/canned-responses", data={"short_code": "con espacios", "content": "", "csrf_token": token}
        )
        assert bad.status_code == 422
        assert "El formato no es válido." in bad.text and "Este campo es obligatorio." in bad.text
        edit = await admin_client.post(
            f"/settings/canned-responses/{item_id}",
            data={"short_code": "horario", "content": "Abrimos de 10 a 14 h.", "csrf_token": token},
        )
        assert edit.status_code == 303
        assert "Abrimos de 10 a 14 h." in (await admin_client.get("/settings/canned-responses")).text
        gone = await admin_client.post(f"/settings/canned-responses/{item_id}/delete", data={"csrf_token": token})
        assert gone.status_code == 303
        assert 'value="horario"' not in (await admin_client.get("/settings/canned-responses")).text

    async def test_too_long_content(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/canned-responses")
        response = await admin_client.post(
            "/settings/canned-responses", data={"short_code": "largo", "content": "x" * 5000, "csrf_token": token}
        )
        assert response.status_code == 422 and "como máximo 4096 caracteres" in response.text


class TestInboxes:
    async def test_connect_whatsapp_shows_webhook_url_and_verify_token(
        self, admin_client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await signed_in_csrf(admin_client, "/settings/inboxes/new")
        data = {
            "name": "Tienda Centro",
            "phone_number_id": "555000111",
            "waba_id": "777000111",
            "access_token": "EAAG-secret-token",
            "display_phone_number": "+34 600 111 222",
            "csrf_token": token,
        }
        response = await admin_client.post("/settings/inboxes", data=data)
        assert response.status_code == 303
        detail = await admin_client.get(response.headers["location"])
        assert detail.status_code == 200
        settings = runtime.settings
        assert f'value="{settings.resolved_public_url}/webhooks/whatsapp"' in detail.text
        assert f'value="{settings.wa_verify_token}"' in detail.text
        assert 'data-copy="#webhook-url"' in detail.text and 'data-copy="#verify-token"' in detail.text
        assert "EAAG-secret-token" not in detail.text
        assert "Tienda Centro" in (await admin_client.get("/settings/inboxes")).text

    async def test_htmx_create_redirects_with_hx_redirect(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client, "/settings/inboxes/new")
        data = {"name": "Tienda", "phone_number_id": "555000222", "waba_id": "777", "access_token": "t"}
        response = await admin_client.post(
            "/settings/inboxes", data=data, headers={"HX-Request": "true", "X-CSRF-Token": token}
        )
        assert response.headers["hx-redirect"].endswith("?created=1")

    async def test_duplicate_number_and_validation(self, admin_client: httpx.AsyncClient, world: World) -> None:
        token = await signed_in_csrf(admin_client, "/settings/inboxes/new")
        data = {
            "name": "Otra",
            "phone_number_id": world.inbox.channel_key,
            "waba_id": "1",
            "access_token": "secret-1",
            "csrf_token": token,
        }
        response = await admin_client.post("/settings/inboxes", data=data)
        assert response.status_code == 422
        assert "Este número de WhatsApp ya está conectado a una bandeja." in response.text
        assert "secret-1" not in response.text
        bad = await admin_client.post(
            "/settings/inboxes", data={"name": "", "phone_number_id": "con espacios", "csrf_token": token}
        )
        assert bad.status_code == 422
        assert "Este campo es obligatorio." in bad.text and "El formato no es válido." in bad.text

    async def test_rename_and_switch_auto_assignment_off_and_on(
        self, app: object, admin_client: httpx.AsyncClient, runtime: Runtime, world: World, agent: User
    ) -> None:
        url = f"/settings/inboxes/{world.inbox.id}"
        page = await admin_client.get(url)
        assert 'name="auto_assign" value="on" checked' in page.text  # on by default
        token = await signed_in_csrf(admin_client, url)
        # an unticked checkbox is not sent: switching it off is a form without the field
        off = await admin_client.post(url, data={"name": "Tienda Norte", "csrf_token": token})
        assert off.status_code == 303 and off.headers["location"] == url
        async with runtime.unit_of_work() as session:
            stored = await inbox_service.get(session, world.account.id, world.inbox.id)
            assert stored.name == "Tienda Norte" and stored.auto_assign is False
        page = await admin_client.get(url)
        assert 'name="auto_assign" value="on">' in page.text and 'value="Tienda Norte"' in page.text
        on = await admin_client.post(
            url,
            data={"name": "Tienda Norte", "auto_assign": "on"},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )
        assert on.status_code == 200 and "Cambios guardados." in on.text
        async with runtime.unit_of_work() as session:
            assert (await inbox_service.get(session, world.account.id, world.inbox.id)).auto_assign is True

        async with runtime.unit_of_work() as session:
            assert (await inbox_service.get(session, world.account.id, world.inbox.id)).throughput_mps is None
        page = await admin_client.get(url)
        assert 'name="throughput_mps" type="number" value="" placeholder="80"' in page.text
        upgraded = await admin_client.post(
            url, data={"name": "Tienda Norte", "throughput_mps": "1000", "csrf_token": token}
        )
        assert upgraded.status_code == 303
        async with runtime.unit_of_work() as session:
            assert (await inbox_service.get(session, world.account.id, world.inbox.id)).throughput_mps == 1000
        assert 'name="throughput_mps" type="number" value="1000"' in (await admin_client.get(url)).text
        too_fast = await admin_client.post(
            url, data={"name": "Tienda Norte", "throughput_mps": "5000", "csrf_token": token}
        )
        assert (
            too_fast.status_code == 422 and 'aria-invalid="true" aria-describedby="e-f-throughput_mps"' in too_fast.text
        )
        cleared = await admin_client.post(url, data={"name": "Tienda Norte", "throughput_mps": "", "csrf_token": token})
        assert cleared.status_code == 303
        async with runtime.unit_of_work() as session:
            assert (await inbox_service.get(session, world.account.id, world.inbox.id)).throughput_mps is None

        empty = await admin_client.post(url, data={"name": " ", "csrf_token": token})
        assert empty.status_code == 422 and "Este campo es obligatorio." in empty.text
        async with as_user(app, agent.email) as client:
            agent_token = await signed_in_csrf(client)
            refused = await client.post(url, data={"name": "Mía", "csrf_token": agent_token})
            assert refused.status_code == 403
        async with runtime.unit_of_work() as session:
            assert (await inbox_service.get(session, world.account.id, world.inbox.id)).name == "Tienda Norte"


class TestAvailability:
    async def test_toggle_via_htmx(self, admin_client: httpx.AsyncClient, runtime: Runtime, world: World) -> None:
        token = await signed_in_csrf(admin_client)
        response = await admin_client.post(
            "/me/availability", data={"availability": "busy"}, headers={"HX-Request": "true", "X-CSRF-Token": token}
        )
        assert response.status_code == 200
        assert 'id="availability"' in response.text
        assert (
            'data-availability="busy"' in response.text
            and 'aria-pressed="true" data-availability="busy"' in response.text
        )
        assert "Disponibilidad actualizada." in response.text
        async with runtime.unit_of_work() as session:
            stored = await UserRepository.from_session(session).get(world.account.id, world.admin.id)
        assert stored is not None and stored.availability is Availability.busy

    async def test_plain_form_and_bad_value(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client)
        ok = await admin_client.post("/me/availability", data={"availability": "online", "csrf_token": token})
        assert ok.status_code == 303
        assert 'aria-pressed="true" data-availability="online"' in (await admin_client.get("/")).text
        bad = await admin_client.post("/me/availability", data={"availability": "away", "csrf_token": token})
        assert bad.status_code == 422
