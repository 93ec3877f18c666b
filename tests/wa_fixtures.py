"""The shared Cloud API fixtures (``<repo>/../shared/wa-contract/fixtures``); a missing folder fails the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES_DIR = (Path(__file__).resolve().parents[1] / ".." / "shared" / "wa-contract" / "fixtures").resolve()


def fixture_names(prefix: str) -> list[str]:
    if not FIXTURES_DIR.is_dir():
        pytest.fail(f"wa-contract fixtures not found at {FIXTURES_DIR}", pytrace=False)
    return sorted(p.name for p in FIXTURES_DIR.glob(f"{prefix}*.json"))


def load(name: str) -> Any:
    return json.loads((FIXTURES_DIR / name).read_text(encoding="utf-8"))


def raw(name: str) -> bytes:
    return (FIXTURES_DIR / name).read_bytes()
