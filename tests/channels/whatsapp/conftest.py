"""Shared wa-contract fixtures: ``<repo>/../shared/wa-contract/fixtures``. Missing dir = failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES_DIR = (Path(__file__).resolve().parents[3] / ".." / "shared" / "wa-contract" / "fixtures").resolve()


def fixtures_dir() -> Path:
    if not FIXTURES_DIR.is_dir():
        pytest.fail(f"wa-contract fixtures not found at {FIXTURES_DIR}", pytrace=False)
    return FIXTURES_DIR


def fixture_names(prefix: str, suffix: str = ".json") -> list[str]:
    names = sorted(p.name for p in fixtures_dir().glob(f"{prefix}*{suffix}"))
    if not names:
        pytest.fail(f"no {prefix}*{suffix} fixtures in {FIXTURES_DIR}", pytrace=False)
    return names


def read_fixture(name: str) -> Any:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests asking for ``webhook_fixture`` / ``send_request_fixture`` run once per fixture file."""
    if "webhook_fixture" in metafunc.fixturenames:
        metafunc.parametrize("webhook_fixture", fixture_names("webhook_"))
    if "send_request_fixture" in metafunc.fixturenames:
        metafunc.parametrize("send_request_fixture", fixture_names("send_", "_request.json"))


@pytest.fixture
def load_fixture() -> Callable[[str], Any]:
    return read_fixture


@pytest.fixture(scope="session")
def webhook_payloads() -> dict[str, Any]:
    """Every ``webhook_*.json`` fixture, by file name."""
    return {name: read_fixture(name) for name in fixture_names("webhook_")}


@pytest.fixture(scope="session")
def send_request_names() -> list[str]:
    return fixture_names("send_", "_request.json")


@pytest.fixture(scope="session")
def wa_fixtures_dir() -> Path:
    return fixtures_dir()
