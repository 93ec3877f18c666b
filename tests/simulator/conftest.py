"""Fixtures for the simulator tests: a receiver, an in-process simulator, pywa's parser."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pywa import WhatsApp
from pywa.types.base_update import RawUpdate
from simhelpers import PID, SECRET, TOKEN, VERIFY, WABA, Receiver, make_config

from mostrador.simulator import RunningSimulator, SimulatorConfig, running_simulator


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def config() -> SimulatorConfig:
    return make_config()


@pytest.fixture
async def rs(receiver: Receiver, config: SimulatorConfig) -> AsyncIterator[RunningSimulator]:
    async with running_simulator(config, webhook_transport=httpx.ASGITransport(app=receiver.app)) as running:
        yield running


@pytest.fixture(scope="session")
def pywa_client() -> WhatsApp:
    return WhatsApp(phone_id=PID, token=TOKEN, server=None, verify_token=VERIFY, app_secret=SECRET, waba_id=WABA)


@pytest.fixture(scope="session")
def parse_update(pywa_client: WhatsApp) -> Callable[[bytes], Any]:
    """Turn raw webhook bytes into pywa's typed update, the way pywa's server does."""

    def parse(body: bytes) -> Any:
        raw = RawUpdate(body, hmac_header=None, update_hash=hashlib.sha256(body).hexdigest())
        handler = pywa_client._get_handler_type(raw)
        assert handler is not None, f"pywa found no handler for {body[:200]!r}"
        return pywa_client._handlers_to_updates[handler].from_update(client=pywa_client, update=raw)

    return parse
