"""Property: random and mutated bodies never produce a 500 and never a half-applied event."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from factories import make_world
from graph_double import GraphDouble
from mostrador.channels.whatsapp.signature import sign
from mostrador.models import Message, WebhookEvent, WebhookEventState
from mostrador.runtime import Runtime
from mostrador.worker.backends import InProcessJobBackend
from wa_fixtures import fixture_names, load

FIXTURES = [load(name) for name in fixture_names("webhook_") if name.startswith("webhook_")]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    payload = copy.deepcopy(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(payload) if p]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return payload


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=mutated_bodies())
async def test_mutated_bodies_never_500_nor_partial(
    body: dict[str, Any], client: httpx.AsyncClient, runtime: Runtime, jobs: InProcessJobBackend
) -> None:
    runtime.graph_transport = GraphDouble().transport
    world_exists = getattr(runtime, "_property_world", None)
    if world_exists is None:
        runtime._property_world = await make_world(runtime, phone_number_id="1122334455667")  # type: ignore[attr-defined]
    raw = json.dumps(body).encode()
    async with runtime.unit_of_work() as session:
        before = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    response = await client.post(
        "/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": sign(raw, "test-app-secret")}
    )
    assert response.status_code == 200
    await jobs.drain()
    async with runtime.unit_of_work() as session:
        event = (await session.execute(select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(1))).scalar_one()
        after = (await session.execute(select(func.count()).select_from(Message))).scalar_one()
    assert event.state is not WebhookEventState.received
    if event.state is WebhookEventState.failed:
        assert after == before, "a failed event must not leave messages behind"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | json_values.map(lambda v: json.dumps(v).encode())
)
async def test_arbitrary_bytes_get_a_4xx_or_200_never_500(raw: bytes, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": sign(raw, "test-app-secret")}
    )
    assert response.status_code in (200, 400)
