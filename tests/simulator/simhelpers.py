"""Helpers for the simulator tests: a signed-webhook receiver, config, request helpers, shape checks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mostrador.simulator import RunningSimulator, SimNumber, SimulatorConfig

SECRET = "test-app-secret"
TOKEN = "test-token"
VERIFY = "test-verify"
PID = "106540352242922"
WABA = "102290129340398"
DISPLAY = "15550783881"
PID2 = "106540352242923"
WABA2 = "102290129340399"


FIXTURES = (Path(__file__).resolve().parents[2] / ".." / "shared" / "wa-contract" / "fixtures").resolve()


def _require_fixtures() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"wa-contract fixtures not found at {FIXTURES}", pytrace=False)
    return FIXTURES


def load_fixture(name: str) -> Any:
    return json.loads((_require_fixtures() / name).read_text())


def fixture_names(prefix: str) -> list[str]:
    names = sorted(p.name for p in _require_fixtures().glob(f"{prefix}*.json"))
    if not names:
        pytest.fail(f"no {prefix}*.json fixtures in {FIXTURES}", pytrace=False)
    return names


class Receiver:
    """The business's webhook endpoint: checks the signature, records bodies, can fail or be slow on purpose."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.bodies: list[bytes] = []
        self.signatures: list[str] = []
        self.attempts = 0
        self.fail_next = 0
        self.fail_status = 500
        self.slow_next = 0
        self.slow_seconds = 0.0
        self.bad_signatures = 0
        self.app = Starlette(routes=[Route("/webhooks/whatsapp", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if request.query_params.get("hub.verify_token") == VERIFY:
                return PlainTextResponse(request.query_params.get("hub.challenge", ""))
            return PlainTextResponse("Forbidden", status_code=403)
        self.attempts += 1
        body = await request.body()
        sig = request.headers.get("x-hub-signature-256", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, expected):
            self.bad_signatures += 1
            return PlainTextResponse("bad signature", status_code=403)
        if self.slow_next > 0:
            self.slow_next -= 1
            await asyncio.sleep(self.slow_seconds)
        if self.fail_next > 0:
            self.fail_next -= 1
            return PlainTextResponse("boom", status_code=self.fail_status)
        self.bodies.append(body)
        self.signatures.append(sig)
        return PlainTextResponse("ok")

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(b) for b in self.bodies]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        out = []
        for p in self.payloads():
            for st in p["entry"][0]["changes"][0]["value"].get("statuses", []):
                if wamid is None or st["id"] == wamid:
                    out.append(st)
        return out

    def of_field(self, field: str) -> list[dict[str, Any]]:
        return [p for p in self.payloads() if p["entry"][0]["changes"][0]["field"] == field]


def make_config(**behaviours: Any) -> SimulatorConfig:
    base: dict[str, Any] = {
        "status_delays": 0,
        "read_probability": 1.0,
        "template_review_delay_s": 0,
        "retry_backoff_s": 0.01,
        "retry_max_backoff_s": 0.05,
    }
    base.update(behaviours)
    return SimulatorConfig(
        callback_url="http://app.test/webhooks/whatsapp",
        app_secret=SECRET,
        access_token=TOKEN,
        verify_token=VERIFY,
        numbers=[
            SimNumber(phone_number_id=PID, display_phone_number=DISPLAY, waba_id=WABA),
            SimNumber(phone_number_id=PID2, display_phone_number="15550783882", waba_id=WABA2),
        ],
        public_base_url="http://sim.test",
        seed=7,
        **base,
    )


async def inbound(rs: RunningSimulator, wa_id: str = "5491155550000", **fields: Any) -> str:
    body: dict[str, Any] = {"phone_number_id": PID, "from": wa_id, "name": "Ana María"}
    body.update(fields)
    if "type" not in body:
        body["type"] = "text"
        body.setdefault("text", "hola")
    r = await rs.client.post("/_sim/inbound", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["wamid"])


async def send(rs: RunningSimulator, body: dict[str, Any], pid: str = PID, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {"Authorization": ""}
    return await rs.client.post(f"/v26.0/{pid}/messages", json=body, headers=headers)


async def create_template(rs: RunningSimulator, body: dict[str, Any], waba: str = WABA) -> dict[str, Any]:
    r = await rs.client.post(f"/v26.0/{waba}/message_templates", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def skeleton(obj: Any) -> Any:
    """The shape of a JSON value: dict keys and value kinds (lists by their first item)."""
    if isinstance(obj, dict):
        return {k: skeleton(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [skeleton(obj[0])] if obj else []
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, int | float):
        return "number"
    return type(obj).__name__


def assert_shape_covers(ours: Any, theirs: Any, path: str = "$") -> None:
    """Every key of the fixture (``theirs``) exists in ours with the same kind of value."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected object"
        for k, v in theirs.items():
            assert k in ours, f"{path}.{k} missing (ours: {sorted(ours)})"
            assert_shape_covers(ours[k], v, f"{path}.{k}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: expected array"
        if theirs and ours:
            assert_shape_covers(ours[0], theirs[0], f"{path}[0]")
    elif isinstance(theirs, bool):
        assert isinstance(ours, bool), f"{path}: expected bool, got {ours!r}"
    elif isinstance(theirs, int | float):
        assert isinstance(ours, int | float) and not isinstance(ours, bool), f"{path}: expected number"
    elif isinstance(theirs, str):
        assert isinstance(ours, str), f"{path}: expected string, got {ours!r}"
