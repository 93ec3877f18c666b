"""Fixtures for the UI tests (helpers live in webhelpers.py)."""

from __future__ import annotations

import httpx
import pytest
from webhelpers import login

from factories import World, make_user, make_world
from mostrador.models import Role, User
from mostrador.runtime import Runtime


@pytest.fixture
async def world(runtime: Runtime) -> World:
    return await make_world(runtime)


@pytest.fixture
async def agent(runtime: Runtime, world: World) -> User:
    return await make_user(runtime, world.account, "agente@casaolivo.example", Role.agent, name="Ana Agente")


@pytest.fixture
async def supervisor(runtime: Runtime, world: World) -> User:
    return await make_user(runtime, world.account, "super@casaolivo.example", Role.supervisor, name="Sara Super")


@pytest.fixture
async def admin_client(client: httpx.AsyncClient, world: World) -> httpx.AsyncClient:
    response = await login(client, world.admin.email)
    assert response.status_code == 303, response.text[:500]
    return client
