from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
from webhelpers import signed_in_csrf

from factories import World

PAGES = [
    "/",
    "/?view=unassigned&status=pending",
    "/settings/agents",
    "/settings/teams",
    "/settings/inboxes",
    "/settings/inboxes/new",
    "/settings/labels",
    "/settings/canned-responses",
]


class InlineCodeFinder(HTMLParser):
    """Collects anything a strict CSP would block: inline scripts, <style>, style= and on*= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
            self._in_script_without_src = True
        if tag == "style":
            self.problems.append("<style>")
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        self.problems.extend(f"{name}= on <{tag}>" for name in names if name.startswith("on"))
        self.problems.extend(
            f"javascript: URL on <{tag}>"
            for _, value in attrs
            if value and value.strip().lower().startswith("javascript:")
        )


def assert_csp_clean(html: str) -> None:
    finder = InlineCodeFinder()
    finder.feed(html)
    assert finder.problems == []
    assert "<script" in html  # the checker did see the page's (external) scripts


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


class TestSecurityHeaders:
    async def test_login_page(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.get("/login")
        assert_security_headers(response)
        assert_csp_clean(response.text)

    async def test_every_app_page(self, admin_client: httpx.AsyncClient, world: World) -> None:
        for path in [*PAGES, f"/settings/inboxes/{world.inbox.id}?created=1"]:
            response = await admin_client.get(path)
            assert response.status_code == 200, path
            assert_security_headers(response)
            assert_csp_clean(response.text)

    async def test_pages_with_errors_and_toasts(self, admin_client: httpx.AsyncClient) -> None:
        token = await signed_in_csrf(admin_client)
        invalid = await admin_client.post("/settings/labels", data={"name": "", "color": "red", "csrf_token": token})
        assert invalid.status_code == 422
        assert_csp_clean(invalid.text)
        not_found = await admin_client.get("/settings/inboxes/999999")
        assert not_found.status_code == 404
        assert_security_headers(not_found)
        assert_csp_clean(not_found.text)

    async def test_htmx_config_keeps_htmx_from_injecting_styles(self, client: httpx.AsyncClient, world: World) -> None:
        html = (await client.get("/login")).text
        config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
        assert config is not None
        assert '"includeIndicatorStyles": false' in config.group(1)
        assert '"allowEval": false' in config.group(1)

    async def test_json_api_keeps_nosniff_without_html_csp(self, client: httpx.AsyncClient, world: World) -> None:
        response = await client.get("/api/v1/inboxes", headers=world.auth)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"

    async def test_static_assets_are_served(self, client: httpx.AsyncClient) -> None:
        for path in (
            "/static/css/app.css",
            "/static/js/app.js",
            "/static/js/keys.js",
            "/static/vendor/htmx.min.js",
            "/static/vendor/sse.min.js",
        ):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.headers["x-content-type-options"] == "nosniff"

    async def test_own_javascript_stays_small(self, client: httpx.AsyncClient) -> None:
        sizes = [len((await client.get(p)).content) for p in ("/static/js/app.js", "/static/js/keys.js")]
        assert all(sizes) and sum(sizes) < 30_000
