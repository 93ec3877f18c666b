"""The agent's web UI (server-rendered, HTMX + SSE)."""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    """Mount the UI's routes and static files on the app."""
