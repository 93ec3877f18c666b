"""UI test helpers: sign in through the real login form, read CSRF tokens out of pages."""

from __future__ import annotations

import re

import httpx

PASSWORD = "correct horse"  # what tests/factories.make_user sets
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text), "next": "/"}
    )


async def signed_in_csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text[:500]
    return csrf_from(page.text)
