"""Mostrador and the simulator wired to each other in-process, both ways, through ASGI transports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from factories import World, make_world
from mostrador.runtime import Runtime
from mostrador.simulator import RunningSimulator, SimNumber, SimulatorConfig, running_simulator
from mostrador.worker.backends import InProcessJobBackend

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
CUSTOMER = "5215512345678"


@dataclass
class Wired:
    world: World
    sim: RunningSimulator
    runtime: Runtime
    api: httpx.AsyncClient

    async def settle(self, rounds: int = 4) -> None:
        """Let webhooks, jobs and status sequences run until nothing is left in flight."""
        jobs = self.runtime.jobs
        assert isinstance(jobs, InProcessJobBackend)
        for _ in range(rounds):
            await self.sim.drain()
            await jobs.drain()
            await asyncio.sleep(0)

    async def customer_says(self, text: str, wa_id: str = CUSTOMER, name: str = "Ana Martínez") -> str:
        response = await self.sim.client.post(
            "/_sim/inbound",
            json={"phone_number_id": PHONE_NUMBER_ID, "from": wa_id, "name": name, "type": "text", "text": text},
        )
        assert response.status_code == 200, response.text
        await self.settle()
        return str(response.json()["wamid"])


@asynccontextmanager
async def wired(
    runtime: Runtime, app: FastAPI, client: httpx.AsyncClient, **behaviours: object
) -> AsyncIterator[Wired]:
    config = SimulatorConfig(
        callback_url="http://mostrador.test/webhooks/whatsapp",
        app_secret=runtime.settings.wa_app_secret,
        access_token="test-access-token",
        numbers=[SimNumber(phone_number_id=PHONE_NUMBER_ID, display_phone_number="34910000000", waba_id=WABA_ID)],
        status_delays=0,
        read_probability=1.0,
        template_review_delay_s=0,
        **behaviours,
    )
    async with running_simulator(config, webhook_transport=httpx.ASGITransport(app=app)) as sim:
        runtime.graph_transport = sim.transport
        world = await make_world(
            runtime, phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID, graph_url="http://simulator"
        )
        yield Wired(world=world, sim=sim, runtime=runtime, api=client)
