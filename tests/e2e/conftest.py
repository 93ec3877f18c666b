"""Browser tests: Debian's chromium driven by pytest-playwright (sync API) against a real uvicorn server.

Never run ``playwright install``: the browser is /usr/bin/chromium. The app server runs in a background thread
with its own event loop (see e2ehelpers.live_server), so the app's Runtime is created and used inside that loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2ehelpers import RESULTS_DIR, LiveApp, e2e_settings, in_thread, live_server, seed_admin

from mostrador.app import create_app
from mostrador.config import Settings


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    tmp = tmp_path_factory.mktemp("e2e")
    settings: Settings = in_thread(lambda: e2e_settings(tmp))
    in_thread(lambda: seed_admin(settings))
    with live_server(lambda: create_app(settings)) as base_url:
        yield LiveApp(base_url=base_url, settings=settings)


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    return RESULTS_DIR
