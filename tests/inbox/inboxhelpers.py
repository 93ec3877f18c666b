"""Helpers for the inbox UI tests: sign in, read CSRF tokens, drive customers through the simulator."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import httpx
from sse_starlette import ServerSentEvent

from mostrador.realtime.sse import event_batches
from sim_wiring import PHONE_NUMBER_ID, Wired


@dataclass
class Desk:
    """A wired world and an admin signed in on ``client`` (``token`` is the session's CSRF token)."""

    w: Wired
    client: httpx.AsyncClient
    token: str


PASSWORD = "correct horse"  # what tests/factories.make_user sets
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    page = await client.get("/login")
    response = await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text), "next": "/"}
    )
    assert response.status_code == 303, response.text[:300]
    home = await client.get("/")
    assert home.status_code == 200, home.text[:300]
    return csrf_from(home.text)


def htmx(token: str, target: str | None = None) -> dict[str, str]:
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    if target:
        headers["HX-Target"] = target
    return headers


async def inbound(
    w: Wired, kind: str, spec: Any = None, *, wa_id: str = "5215512345678", name: str = "Ana Martínez", **extra: Any
) -> str:
    body: dict[str, Any] = {"phone_number_id": PHONE_NUMBER_ID, "from": wa_id, "name": name, "type": kind, **extra}
    if spec is not None:
        body[kind] = spec
    response = await w.sim.client.post("/_sim/inbound", json=body)
    assert response.status_code == 200, response.text
    await w.settle()
    return str(response.json()["wamid"])


async def many_customers(w: Wired, count: int, *, prefix: str = "52155100", text: str = "Hola") -> list[str]:
    """``count`` customers write once each (one conversation each); returns their wa_ids."""
    wa_ids = [f"{prefix}{i:04d}" for i in range(count)]
    for i, wa_id in enumerate(wa_ids):
        response = await w.sim.client.post(
            "/_sim/inbound",
            json={
                "phone_number_id": PHONE_NUMBER_ID,
                "from": wa_id,
                "name": f"Cliente {i}",
                "type": "text",
                "text": f"{text} {i}",
            },
        )
        assert response.status_code == 200, response.text
    await w.settle(rounds=6)
    return wa_ids


async def event_stream(*args: Any, **kwargs: Any) -> AsyncGenerator[ServerSentEvent]:
    """/events one event at a time, as a browser reads them."""
    async with contextlib.aclosing(event_batches(*args, **kwargs)) as batches:
        async for batch in batches:
            for event in batch:
                yield event
