"""Property tests: on any JSON the parser returns events or raises WebhookShapeError, nothing else."""

from __future__ import annotations

import copy
import json
from datetime import UTC
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mostrador.channels.base import InboundMessage, StatusUpdate, WebhookShapeError
from mostrador.channels.whatsapp.parse import parse_webhook, parse_webhook_body

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

# Keys the parser looks at, so random objects actually reach the deeper code paths.
KEYS = st.sampled_from(
    [
        "object",
        "entry",
        "id",
        "time",
        "changes",
        "field",
        "value",
        "metadata",
        "phone_number_id",
        "contacts",
        "messages",
        "statuses",
        "errors",
        "from",
        "from_user_id",
        "type",
        "text",
        "body",
        "timestamp",
        "context",
        "status",
        "code",
        "interactive",
        "message_template_id",
        "user_preferences",
    ]
)
shaped_values = st.recursive(
    json_scalars | st.sampled_from(["messages", "whatsapp_business_account", "text", "1697043223"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


def check(payload: Any) -> None:
    try:
        events = parse_webhook(payload)
    except WebhookShapeError as exc:
        assert exc.reason
        assert exc.path.startswith("$")
        return
    assert isinstance(events, list)
    for event in events:
        if isinstance(event, InboundMessage):
            json.dumps(event.content)
            assert event.provider_message_id
            assert event.sender.wa_id or event.sender.user_id
        if isinstance(event, InboundMessage | StatusUpdate):
            assert event.timestamp is None or event.timestamp.tzinfo is UTC


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out.extend(paths(child, (*prefix, key)))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out.extend(paths(child, (*prefix, i)))
    return out


def mutate(root: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return root


@given(json_values)
@settings(max_examples=300)
def test_arbitrary_json(payload: Any) -> None:
    check(payload)


@given(shaped_values)
@settings(max_examples=300)
def test_webhook_shaped_json(payload: Any) -> None:
    check(payload)
    check({"object": "whatsapp_business_account", "entry": [payload]})


@given(st.binary(max_size=200))
def test_arbitrary_bytes(body: bytes) -> None:
    try:
        events = parse_webhook_body(body)
    except WebhookShapeError as exc:
        assert exc.reason
        return
    assert isinstance(events, list)


@given(data=st.data())
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_fixtures(webhook_payloads: dict[str, Any], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(webhook_payloads)))
    payload = copy.deepcopy(webhook_payloads[name])
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        candidates = paths(payload)
        path = data.draw(st.sampled_from(candidates))
        delete = bool(path) and data.draw(st.booleans())
        new = data.draw(json_values)
        payload = mutate(payload, path, new, delete)
    check(payload)
