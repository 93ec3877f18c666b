"""Fixtures for the inbox UI tests: the app and the simulator wired both ways, with a signed-in admin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from inboxhelpers import Desk, login

from mostrador.runtime import Runtime
from sim_wiring import wired


@pytest.fixture
async def desk(runtime: Runtime, app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[Desk]:
    async with wired(runtime, app, client) as w:
        token = await login(client, w.world.admin.email)
        yield Desk(w=w, client=client, token=token)
