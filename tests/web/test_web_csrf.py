from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from webhelpers import csrf_from, login, signed_in_csrf

from factories import World
from mostrador.web.deps import verify_csrf

NOT_UI = ("/api", "/webhooks", "/sim", "/static", "/healthz", "/readyz", "/openapi.json", "/docs", "/redoc")


def ui_state_changing_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every non-GET route outside the JSON API, webhooks and simulator."""
    routes = []
    for context in iter_route_contexts(app.routes):
        path = str(context.path)
        methods = set(getattr(context, "methods", None) or ())
        if path.startswith(NOT_UI):
            continue
        routes.extend((method, path) for method in methods - {"GET", "HEAD", "OPTIONS"})
    return routes


class TestCsrf:
    async def test_every_ui_form_route_depends_on_verify_csrf(self, app: FastAPI) -> None:
        checked = 0
        for context in iter_route_contexts(app.routes):
            if str(context.path).startswith(NOT_UI) or not getattr(context, "dependant", None):
                continue
            assert any(dep.call is verify_csrf for dep in context.dependant.dependencies), context.path
            checked += 1
        assert checked >= 20

    async def test_every_state_changing_ui_route_rejects_a_missing_token(
        self, app: FastAPI, admin_client: httpx.AsyncClient
    ) -> None:
        routes = ui_state_changing_routes(app)
        assert len(routes) >= 15
        for method, path in routes:
            url = path.replace("{user_id}", "1").replace("{team_id}", "1").replace("{label_id}", "1")
            url = url.replace("{response_id}", "1").replace("{inbox_id}", "1")
            response = await admin_client.request(method, url, data={"name": "x"})
            assert response.status_code == 403, (method, url, response.status_code)
            assert "CSRF" in response.text

    async def test_login_form_is_protected(self, client: httpx.AsyncClient, world: World) -> None:
        await client.get("/login")
        response = await client.post("/login", data={"email": world.admin.email, "password": "correct horse"})
        assert response.status_code == 403
        assert "Por tu seguridad se ha rechazado esta petición" in response.text

    async def test_a_forged_or_foreign_token_is_rejected(
        self, app: FastAPI, admin_client: httpx.AsyncClient, world: World
    ) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mostrador.test") as other:
            assert (await login(other, world.admin.email)).status_code == 303
            foreign = await signed_in_csrf(other)
        mine = await signed_in_csrf(admin_client)
        assert foreign != mine  # per-session tokens
        for token in (foreign, mine[:-2] + "xx", ""):
            response = await admin_client.post("/settings/labels", data={"name": "VIP", "csrf_token": token})
            assert response.status_code == 403

    @pytest.mark.parametrize("via", ["header", "field"])
    async def test_valid_token_is_accepted(self, admin_client: httpx.AsyncClient, via: str) -> None:
        token = await signed_in_csrf(admin_client)
        if via == "header":
            response = await admin_client.post(
                "/settings/labels", data={"name": "VIP"}, headers={"X-CSRF-Token": token, "HX-Request": "true"}
            )
            assert response.status_code == 200
        else:
            response = await admin_client.post("/settings/labels", data={"name": "VIP", "csrf_token": token})
            assert response.status_code == 303

    async def test_htmx_rejection_is_a_toast(self, admin_client: httpx.AsyncClient) -> None:
        response = await admin_client.post("/settings/labels", data={"name": "VIP"}, headers={"HX-Request": "true"})
        assert response.status_code == 403
        assert response.headers["hx-retarget"] == "#toasts"
        assert 'class="toast toast--error"' in response.text

    async def test_login_token_rotates_at_sign_in(self, client: httpx.AsyncClient, world: World) -> None:
        page = await client.get("/login")
        anonymous = csrf_from(page.text)
        await client.post(
            "/login", data={"email": world.admin.email, "password": "correct horse", "csrf_token": anonymous}
        )
        assert await signed_in_csrf(client) != anonymous
