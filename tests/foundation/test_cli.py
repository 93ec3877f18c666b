"""The CLI contract: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MOSTRADOR = str(Path(sys.executable).with_name("mostrador"))


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MOSTRADOR, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"MOSTRADOR_VAR_DIR": str(tmp_path / "var"), "MOSTRADOR_DATABASE_URL": "", "MOSTRADOR_REDIS_URL": ""}


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "worker", "migrate", "user", "token", "inbox", "sim", "webhooks"):
        assert command in result.stdout


def test_invalid_setting_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("migrate", env={"MOSTRADOR_PORT": "eighty"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "MOSTRADOR_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_names_the_variable(tmp_path: Path) -> None:
    result = run("migrate", env={"MOSTRADOR_DATABASE_URL": "mysql://x"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "MOSTRADOR_DATABASE_URL" in result.stderr


def test_user_token_inbox_lifecycle(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    assert run("migrate", env=sqlite_env, cwd=tmp_path).returncode == 0
    created = run(
        "user",
        "create",
        "--email",
        "ana@tienda.example",
        "--password",
        "segura123",
        "--role",
        "admin",
        env=sqlite_env,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    duplicate = run(
        "user", "create", "--email", "ANA@tienda.example", "--password", "segura123", env=sqlite_env, cwd=tmp_path
    )
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr and "Traceback" not in duplicate.stderr
    short = run("user", "create", "--email", "b@tienda.example", "--password", "x", env=sqlite_env, cwd=tmp_path)
    assert short.returncode == 2 and "--password" in short.stderr
    token = run("token", "create", "--email", "ana@tienda.example", "--name", "CRM", env=sqlite_env, cwd=tmp_path)
    assert token.returncode == 0 and token.stdout.startswith("mst_")
    unknown = run("token", "create", "--email", "nadie@tienda.example", "--name", "CRM", env=sqlite_env, cwd=tmp_path)
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    inbox = run(
        "inbox",
        "create-whatsapp",
        "--name",
        "Tiendas",
        "--phone-number-id",
        "1234",
        "--waba-id",
        "99",
        "--access-token",
        "EAAG",
        env=sqlite_env,
        cwd=tmp_path,
    )
    assert inbox.returncode == 0 and inbox.stdout.strip().isdigit()
    again = run(
        "inbox",
        "create-whatsapp",
        "--name",
        "Tiendas",
        "--phone-number-id",
        "1234",
        "--waba-id",
        "99",
        "--access-token",
        "EAAG",
        env=sqlite_env,
        cwd=tmp_path,
    )
    assert again.returncode == 1 and "already connected" in again.stderr
    bad_url = run(
        "inbox",
        "create-whatsapp",
        "--name",
        "T",
        "--phone-number-id",
        "5",
        "--waba-id",
        "9",
        "--access-token",
        "E",
        "--graph-url",
        "ftp://x",
        env=sqlite_env,
        cwd=tmp_path,
    )
    assert bad_url.returncode == 2 and "--graph-url" in bad_url.stderr


def test_webhooks_replay_reports_counts(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    assert run("migrate", env=sqlite_env, cwd=tmp_path).returncode == 0
    result = run("webhooks", "replay", "--state", "failed", env=sqlite_env, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("replayed 0 events")
    bad = run("webhooks", "replay", "--since", "yesterday", env=sqlite_env, cwd=tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_worker_without_redis_explains(sqlite_env: dict[str, str], tmp_path: Path) -> None:
    result = run("worker", env=sqlite_env, cwd=tmp_path)
    assert result.returncode == 2 and "MOSTRADOR_REDIS_URL" in result.stderr
