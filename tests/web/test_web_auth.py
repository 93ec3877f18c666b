from __future__ import annotations

import httpx
from webhelpers import PASSWORD, csrf_from, login, signed_in_csrf

from factories import World
from mostrador.models import User
from mostrador.runtime import Runtime
from mostrador.users.repository import UserRepository
from mostrador.users.service import user as user_service
from mostrador.web.security import SESSION_COOKIE


class TestLogin:
    async def test_success_sets_a_hardened_cookie_and_redirects(self, client: httpx.AsyncClient, world: World) -> None:
        response = await login(client, world.admin.email)
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
        assert "Max-Age=" in cookie
        assert "Secure" not in cookie  # plain http in tests
        home = await client.get("/")
        assert home.status_code == 200
        assert "Casa Olivo" in home.text

    async def test_cookie_is_secure_over_https(self, app: object, world: World) -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://mostrador.test") as secure_client:
            response = await login(secure_client, world.admin.email)
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
        assert "Secure" in cookie

    async def test_wrong_password_and_unknown_email_get_the_same_generic_error(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        wrong = await login(client, world.admin.email, "not the password")
        unknown = await login(client, "nobody@example.com", PASSWORD)
        assert wrong.status_code == unknown.status_code == 400
        message = "Correo electrónico o contraseña incorrectos."
        assert message in wrong.text and message in unknown.text
        assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
        assert (await client.get("/")).status_code == 303

    async def test_failed_login_keeps_email_but_never_the_password(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await login(client, world.admin.email, "s3cret-attempt")
        assert f'value="{world.admin.email}"' in response.text
        assert "s3cret-attempt" not in response.text

    async def test_rate_limited_after_five_attempts(self, client: httpx.AsyncClient, world: World) -> None:
        for _ in range(5):
            assert (await login(client, world.admin.email, "wrong password")).status_code == 400
        blocked = await login(client, world.admin.email, PASSWORD)  # even the right password
        assert blocked.status_code == 429
        assert "Demasiados intentos" in blocked.text
        assert blocked.headers["retry-after"]
        # another e-mail from the same address is not blocked by this pair's count
        other = await login(client, "someone-else@example.com", "wrong password")
        assert other.status_code == 400

    async def test_success_resets_the_counter(self, client: httpx.AsyncClient, world: World) -> None:
        for _ in range(4):
            await login(client, world.admin.email, "wrong password")
        assert (await login(client, world.admin.email)).status_code == 303
        await client.post("/logout", data={"csrf_token": await signed_in_csrf(client)})
        for _ in range(4):
            assert (await login(client, world.admin.email, "wrong password")).status_code == 400

    async def test_next_is_kept_and_open_redirects_are_refused(self, client: httpx.AsyncClient, world: World) -> None:
        page = await client.get("/login?next=/settings/labels")
        assert 'value="/settings/labels"' in page.text
        response = await client.post(
            "/login",
            data={
                "email": world.admin.email,
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
                "next": "//evil.example/x",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"

    async def test_signed_in_user_visiting_login_goes_home(self, admin_client: httpx.AsyncClient) -> None:
        response = await admin_client.get("/login")
        assert response.status_code == 303


class TestAnonymous:
    async def test_redirected_to_login_with_next(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.get("/settings/labels?x=1")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fsettings%2Flabels%3Fx%3D1"

    async def test_htmx_request_gets_hx_redirect(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.get(
            "/", headers={"HX-Request": "true", "HX-Current-URL": "http://mostrador.test/?view=all"}
        )
        assert response.status_code == 200
        assert response.headers["hx-redirect"] == "/login?next=%2F%3Fview%3Dall"

    async def test_tampered_cookie_is_ignored(self, client: httpx.AsyncClient, world: World) -> None:
        client.cookies.set(SESSION_COOKIE, "eyJ1IjoxLCJ2IjoxLCJuIjoieCJ9.forged.sig")
        assert (await client.get("/")).status_code == 303


class TestLogout:
    async def test_logout_clears_the_session(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client)
        response = await admin_client.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert (await admin_client.get("/")).status_code == 303

    async def test_htmx_logout_uses_hx_redirect(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client)
        response = await admin_client.post("/logout", headers={"HX-Request": "true", "X-CSRF-Token": token})
        assert response.headers["hx-redirect"] == "/login"


class TestSessionInvalidation:
    async def test_deactivated_agent_is_signed_out(
        self, app: object, admin_client: httpx.AsyncClient, agent: User
    ) -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://mostrador.test") as agent_client:
            assert (await login(agent_client, agent.email)).status_code == 303
            assert (await agent_client.get("/")).status_code == 200
            token = await signed_in_csrf(admin_client, "/settings/agents")
            response = await admin_client.post(f"/settings/agents/{agent.id}/deactivate", data={"csrf_token": token})
            assert response.status_code == 303
            assert (await agent_client.get("/")).status_code == 303
            assert (await login(agent_client, agent.email)).status_code == 400

    async def test_password_change_invalidates_existing_sessions(
        self, runtime: Runtime, admin_client: httpx.AsyncClient, world: World
    ) -> None:
        assert (await admin_client.get("/")).status_code == 200
        async with runtime.unit_of_work() as session:
            admin = await UserRepository.from_session(session).get_active(world.admin.id)
            assert admin is not None
            await user_service.change_password(session, admin, "a brand new password")
        assert (await admin_client.get("/")).status_code == 303
