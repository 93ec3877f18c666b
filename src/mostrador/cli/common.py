"""Shared CLI plumbing: settings, a runtime for one command, clean errors instead of tracebacks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.exc import OperationalError

from mostrador.config import Settings, SettingsError, get_settings
from mostrador.exceptions import MostradorError
from mostrador.logging import configure_logging
from mostrador.migrate import upgrade
from mostrador.runtime import Runtime, build_runtime
from mostrador.tasks import import_all_tasks

T = TypeVar("T")


def settings() -> Settings:
    loaded = get_settings()
    configure_logging(loaded.log_level, json=loaded.log_json)
    return loaded


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run one command against the database, turning domain errors into one-line messages."""
    loaded = settings()
    import_all_tasks()

    async def runner() -> T:
        runtime = build_runtime(loaded)
        try:
            return await work(runtime)
        finally:
            await runtime.aclose()

    try:
        return asyncio.run(runner())
    except MostradorError as error:
        raise fail(error.message) from None
    except OperationalError as error:
        raise fail(f"database unavailable or not migrated ({error.orig}); run `mostrador migrate`") from None


def migrate_database(loaded: Settings) -> None:
    if loaded.is_sqlite:
        loaded.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(loaded.resolved_database_url)
    except OperationalError as error:
        raise fail(f"cannot migrate {loaded.resolved_database_url}: {error.orig}") from None


__all__ = ["SettingsError", "fail", "migrate_database", "run_with_runtime", "settings"]
